package secdesc

import "fmt"

// FormatError is a security descriptor, ACL, ACE or SID whose bytes are malformed: what
// is wrong and at which byte of the descriptor.
type FormatError struct {
	Off int    // offset in the descriptor's bytes
	Msg string // what is wrong
	Val any    // the offending value, or nil
}

func (e *FormatError) Error() string {
	if e.Val == nil {
		return fmt.Sprintf("secdesc: %s at byte %d", e.Msg, e.Off)
	}
	return fmt.Sprintf("secdesc: %s %v at byte %d", e.Msg, e.Val, e.Off)
}

// SDDLError is SDDL text that does not parse, or a descriptor that SDDL cannot
// express: what is wrong and where (the byte offset in the text, or -1 when the
// descriptor was being printed).
type SDDLError struct {
	Pos  int    // byte offset in the text; -1 when printing
	Text string // the text near Pos (at most 24 bytes), or the ACE being printed
	Msg  string
}

func (e *SDDLError) Error() string {
	if e.Pos < 0 {
		return fmt.Sprintf("sddl: %s (%s)", e.Msg, e.Text)
	}
	return fmt.Sprintf("sddl: %s at position %d (%q)", e.Msg, e.Pos, e.Text)
}

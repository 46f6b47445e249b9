package regfile

import "fmt"

// SyntaxError reports text that is not a valid .reg file.
// Line and Col are 1-based; Col counts UTF-16 code units of the line.
type SyntaxError struct {
	Line, Col int
	Msg       string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("regfile: line %d, column %d: %s", e.Line, e.Col, e.Msg)
}

// EncodeError reports a key or value that cannot be written in the requested
// format (a name with a line break, a value outside a key, a character that
// REGEDIT4 cannot hold when Writer.Strict is set).
type EncodeError struct {
	Path string // key path
	Name string // value name, when the value is at fault
	Msg  string
}

func (e *EncodeError) Error() string {
	if e.Name != "" {
		return fmt.Sprintf("regfile: key %q, value %q: %s", e.Path, e.Name, e.Msg)
	}
	return fmt.Sprintf("regfile: key %q: %s", e.Path, e.Msg)
}

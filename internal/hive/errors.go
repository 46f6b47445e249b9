package hive

import (
	"errors"
	"fmt"
)

// FormatError reports damage in a hive or a transaction log: what is wrong, the
// offending value and the file offset (from the start of the file) where it is.
type FormatError struct {
	Off int64  // file offset of the damaged structure or field
	Msg string // what is wrong
	Val any    // the offending value, or nil
}

func (e *FormatError) Error() string {
	msg := "hive: " + e.Msg
	if e.Val != nil {
		msg += fmt.Sprintf(" %#v", e.Val)
	}
	return msg + fmt.Sprintf(" at offset %#x", e.Off)
}

// ErrWrite is wrapped by every error Write and Marshal return for a tree that the
// format cannot hold (a name too long, a Security descriptor too large, ...).
var ErrWrite = errors.New("hive: cannot write")

// writeError reports a tree Write cannot encode.
func writeError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrWrite, fmt.Sprintf(format, args...))
}

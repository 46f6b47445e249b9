package wevtutilcmd

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"wolfpack/internal/api/wire"
	"wolfpack/internal/eventlog"
	"wolfpack/internal/nodestate"
	"wolfpack/internal/winerr"
)

// cmdError is a failure with its Windows error number and what to print.
type cmdError struct {
	code   winerr.Errno
	detail string
}

func (e *cmdError) Error() string { return e.detail }

// codeOf returns the Windows error number of err: from the API, from a typed error of
// the eventlog package, else a guess from the error's kind.
func codeOf(err error) uint32 {
	var ce *cmdError
	if errors.As(err, &ce) {
		return uint32(ce.code)
	}
	var ae *wire.Error
	if errors.As(err, &ae) && ae.Code != 0 {
		return ae.Code
	}
	var ne *nodestate.Error
	if errors.As(err, &ne) {
		return uint32(winerr.RPC_S_SERVER_UNAVAILABLE)
	}
	var c wire.Coder
	if errors.As(err, &c) {
		return c.ErrorCode()
	}
	var fe *eventlog.FormatError
	if errors.As(err, &fe) {
		return uint32(winerr.ERROR_INVALID_DATA)
	}
	return uint32(winerr.ERROR_INVALID_PARAMETER)
}

// windowsMessage is FormatMessage's text for code, or "Error N." for a code winerr lacks.
func windowsMessage(code uint32) string {
	if msg, ok := winerr.Lookup(code); ok {
		return msg
	}
	return fmt.Sprintf("Error %d.", code)
}

// report prints "what. <Windows message>" and, when err says more, that on the next
// line; it returns the exit status.
func report(w io.Writer, what string, err error) int {
	code := codeOf(err)
	msg := windowsMessage(code)
	fmt.Fprintf(w, "%s %s\n", what, msg)
	var qe *eventlog.QueryError
	switch {
	case errors.As(err, &qe):
		fmt.Fprintf(w, "%s\n%s^ position %d: %s\n", qe.Query, strings.Repeat(" ", qe.Pos), qe.Pos+1, qe.Msg)
	default:
		detail := err.Error()
		var ae *wire.Error
		if errors.As(err, &ae) {
			detail = ae.Message
		}
		if detail != "" && detail != msg {
			fmt.Fprintf(w, "%s\n", detail)
		}
	}
	return exitStatus(code)
}

// exitStatus is the low byte of a Windows error number, never 0 for a failure.
func exitStatus(code uint32) int {
	if s := int(code & 0xff); s != 0 {
		return s
	}
	return 1
}

package wevtutilcmd

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"wolfpack/internal/api/wire"
	"wolfpack/internal/eventlog"
	"wolfpack/internal/nodestate"
)

// Windows error numbers the commands answer with.
const (
	errFileNotFound     = 2
	errAccessDenied     = 5
	errInvalidData      = 13
	errFileExists       = 80
	errInvalidParameter = 87
	errLogFull          = 1502
	errRPCUnavailable   = 1722 // the node does not run (RPC_S_SERVER_UNAVAILABLE)
	errInvalidQuery     = 15001
	errChannelNotFound  = 15007
)

// windowsMessages are FormatMessage's texts for those numbers.
var windowsMessages = map[uint32]string{
	errFileNotFound:     "The system cannot find the file specified.",
	errAccessDenied:     "Access is denied.",
	errInvalidData:      "The data is invalid.",
	errFileExists:       "The file exists.",
	errInvalidParameter: "The parameter is incorrect.",
	errLogFull:          "The event log file is full.",
	errRPCUnavailable:   "The RPC server is unavailable.",
	errInvalidQuery:     "The specified query is invalid.",
	15005:               "The event data raised by the publisher is not compatible with the event template definition in the publisher's manifest.",
	errChannelNotFound:  "The specified channel could not be found.",
	5042:                "The cluster node was not found.",
}

// cmdError is a failure with its Windows error number and what to print.
type cmdError struct {
	code   uint32
	detail string
}

func (e *cmdError) Error() string { return e.detail }

// codeOf returns the Windows error number of err: from the API, from a typed error of
// the eventlog package, else a guess from the error's kind.
func codeOf(err error) uint32 {
	var ce *cmdError
	if errors.As(err, &ce) {
		return ce.code
	}
	var ae *wire.Error
	if errors.As(err, &ae) && ae.Code != 0 {
		return ae.Code
	}
	var ne *nodestate.Error
	if errors.As(err, &ne) {
		return errRPCUnavailable
	}
	var c wire.Coder
	if errors.As(err, &c) {
		return c.ErrorCode()
	}
	var fe *eventlog.FormatError
	if errors.As(err, &fe) {
		return errInvalidData
	}
	return errInvalidParameter
}

// report prints "what. <Windows message>" and, when err says more, that on the next
// line; it returns the exit status.
func report(w io.Writer, what string, err error) int {
	code := codeOf(err)
	msg, ok := windowsMessages[code]
	if !ok {
		msg = fmt.Sprintf("Error %d.", code)
	}
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

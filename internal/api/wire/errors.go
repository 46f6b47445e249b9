package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Error is an error as the API sends it: an HTTP status, a Windows error number where one
// fits (0 otherwise), and a message. The client returns *Error for every non-2xx answer.
type Error struct {
	Status  int    `json:"-"`
	Code    uint32 `json:"code,omitempty"`
	Message string `json:"error"`
	// Detail carries structured data about the failure, for example the holders of the
	// handles that blocked a registry restore.
	Detail json.RawMessage `json:"detail,omitempty"`
}

func (e *Error) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("%s (error %d)", e.Message, e.Code)
	}
	return e.Message
}

// Coder is implemented by errors that know their Windows error number.
type Coder interface{ ErrorCode() uint32 }

// StatusCoder is implemented by errors that know their HTTP status.
type StatusCoder interface{ HTTPStatus() int }

// Bounds on what an error reply repeats. A request's input is never echoed beyond a
// short prefix (Clip): a reply must not grow with the request, or a client could make a
// node hold (and send back) as much memory as it sends.
const (
	// MaxEcho is the most bytes of one input (a name, a path, a query) that an error
	// message quotes; Clip cuts the rest.
	MaxEcho = 64
	// MaxErrorMessage and MaxErrorDetail bound a whole error reply, as a last line of
	// defence for messages that quote more than they should.
	MaxErrorMessage = 1024
	MaxErrorDetail  = 64 << 10
)

// Clip returns s, or its first MaxEcho bytes (whole UTF-8 characters) and "…" when it is
// longer: what an error message may quote of a request's input.
func Clip(s string) string { return ClipTo(s, MaxEcho) }

// ClipTo returns s cut to n bytes (whole UTF-8 characters) and "…" when it is longer.
func ClipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// BadRequest is an *Error with status 400 and Windows' ERROR_INVALID_PARAMETER (87).
// Arguments that come from the request go through Clip.
func BadRequest(format string, args ...any) *Error {
	return &Error{Status: StatusBadRequest, Code: 87, Message: fmt.Sprintf(format, args...)}
}

// NotFound is an *Error with status 404 and the given Windows error number.
func NotFound(code uint32, format string, args ...any) *Error {
	return &Error{Status: StatusNotFound, Code: code, Message: fmt.Sprintf(format, args...)}
}

// IsCode reports whether err is an API error with the given Windows error number.
func IsCode(err error, code uint32) bool {
	var ae *Error
	return errors.As(err, &ae) && ae.Code == code
}

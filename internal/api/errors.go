package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
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

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// WriteError writes err as an API error. The status comes from err (StatusCoder, *Error),
// else 400 for errors that carry a Windows error number, else 500. The message is cut to
// MaxErrorMessage bytes, whatever the part that made it put in.
func WriteError(w http.ResponseWriter, err error) {
	var ae *Error
	if !errors.As(err, &ae) {
		ae = &Error{Status: http.StatusInternalServerError, Message: errorMessage(err)}
		var c Coder
		if errors.As(err, &c) {
			ae.Code = c.ErrorCode()
			ae.Status = http.StatusBadRequest
		}
		var sc StatusCoder
		if errors.As(err, &sc) {
			ae.Status = sc.HTTPStatus()
		}
	}
	if ae.Status == 0 {
		ae.Status = http.StatusInternalServerError
	}
	if len(ae.Message) > MaxErrorMessage || len(ae.Detail) > MaxErrorDetail {
		cp := *ae
		cp.Message = clipTo(cp.Message, MaxErrorMessage)
		if len(cp.Detail) > MaxErrorDetail {
			cp.Detail = nil
		}
		ae = &cp
	}
	WriteJSON(w, ae.Status, ae)
}

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
func Clip(s string) string { return clipTo(s, MaxEcho) }

func clipTo(s string, n int) string {
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
	return &Error{Status: http.StatusBadRequest, Code: 87, Message: fmt.Sprintf(format, args...)}
}

// NotFound is an *Error with status 404 and the given Windows error number.
func NotFound(code uint32, format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Code: code, Message: fmt.Sprintf(format, args...)}
}

// ReadJSON decodes the request body into v, refusing unknown fields. The body's size is
// bounded by its route (Server.Handle); over it, the answer is 413.
func ReadJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	return nil
}

// ReadBody reads the whole request body (bounded by its route), into a buffer of the
// announced size when there is one, so that a large upload is not copied as it grows.
func ReadBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > 0 {
		b := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(r.Body, b); err != nil {
			return nil, bodyError(err)
		}
		return b, nil
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, bodyError(err)
	}
	return b, nil
}

// bodyError describes a failure to read or decode a body without quoting it: JSON's
// messages name unknown fields and bad values, which come from the request.
func bodyError(err error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return bodyTooLarge(mb.Limit)
	}
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	return BadRequest("bad request body: %s", Clip(err.Error()))
}

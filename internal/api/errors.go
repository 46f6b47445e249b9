package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
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
// else 400 for errors that carry a Windows error number, else 500.
func WriteError(w http.ResponseWriter, err error) {
	var ae *Error
	if !errors.As(err, &ae) {
		ae = &Error{Status: http.StatusInternalServerError, Message: err.Error()}
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
	WriteJSON(w, ae.Status, ae)
}

// BadRequest is an *Error with status 400 and Windows' ERROR_INVALID_PARAMETER (87).
func BadRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: 87, Message: fmt.Sprintf(format, args...)}
}

// NotFound is an *Error with status 404 and the given Windows error number.
func NotFound(code uint32, format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Code: code, Message: fmt.Sprintf(format, args...)}
}

// ReadJSON decodes the request body into v, refusing unknown fields and bodies over 64 MiB.
func ReadJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return BadRequest("bad request body: %v", err)
	}
	return nil
}

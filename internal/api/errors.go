package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"wolfpack/internal/api/wire"
)

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
	var ae *wire.Error
	if !errors.As(err, &ae) {
		ae = &wire.Error{Status: http.StatusInternalServerError, Message: errorMessage(err)}
		var c wire.Coder
		if errors.As(err, &c) {
			ae.Code = c.ErrorCode()
			ae.Status = http.StatusBadRequest
		}
		var sc wire.StatusCoder
		if errors.As(err, &sc) {
			ae.Status = sc.HTTPStatus()
		}
	}
	if ae.Status == 0 {
		ae.Status = http.StatusInternalServerError
	}
	if len(ae.Message) > wire.MaxErrorMessage || len(ae.Detail) > wire.MaxErrorDetail {
		cp := *ae
		cp.Message = wire.ClipTo(cp.Message, wire.MaxErrorMessage)
		if len(cp.Detail) > wire.MaxErrorDetail {
			cp.Detail = nil
		}
		ae = &cp
	}
	WriteJSON(w, ae.Status, ae)
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
	var ae *wire.Error
	if errors.As(err, &ae) {
		return ae
	}
	return wire.BadRequest("bad request body: %s", wire.Clip(err.Error()))
}

package agent

import (
	"errors"
	"fmt"

	"wolfpack/internal/api/wire"
	"wolfpack/internal/clusterdb"
)

// Windows error numbers of the cluster API (winerror.h), with their messages.
const (
	ErrorInvalidParameter         = 87
	ErrorDirNotEmpty              = 145
	ErrorRetry                    = 1237 // the cluster cannot take the change now: try again
	ErrorDependentExists          = 5001
	ErrorDependencyNotFound       = 5002
	ErrorDependencyExists         = 5003
	ErrorHostNodeNotAvailable     = 5005
	ErrorResourceNotFound         = 5007
	ErrorObjectExists             = 5010
	ErrorGroupNotFound            = 5013
	ErrorResourceOnline           = 5019
	ErrorInvalidState             = 5023
	ErrorResourcePropertiesStored = 5024
	ErrorNodeNotFound             = 5042
	ErrorNodeDown                 = 5050
	ErrorCircularDependency       = 5044
	ErrorDependencyNotAllowed     = 5069
	ErrorNodeCantHost             = 5071
	ErrorResourceTypeNotFound     = 5078
)

var messages = map[uint32]string{
	ErrorInvalidParameter:         "The parameter is incorrect.",
	ErrorDirNotEmpty:              "The directory is not empty.",
	ErrorDependentExists:          "The cluster resource cannot be moved to another group because other resources are dependent on it.",
	ErrorDependencyNotFound:       "The cluster resource dependency cannot be found.",
	ErrorDependencyExists:         "The cluster resource cannot be made dependent on the specified resource because it is already dependent.",
	ErrorHostNodeNotAvailable:     "A cluster node is not available for this operation.",
	ErrorResourceNotFound:         "The cluster resource could not be found.",
	ErrorObjectExists:             "The object already exists.",
	ErrorGroupNotFound:            "The cluster group could not be found.",
	ErrorResourceOnline:           "The operation could not be completed because the cluster resource is online.",
	ErrorInvalidState:             "The group or resource is not in the correct state to perform the requested operation.",
	ErrorResourcePropertiesStored: "The properties were stored but not all changes will take effect until the next time the resource is brought online.",
	ErrorNodeNotFound:             "The cluster node was not found.",
	ErrorNodeDown:                 "The cluster node is down.",
	ErrorCircularDependency:       "A circular dependency cannot be made.",
	ErrorDependencyNotAllowed:     "The cluster resources must be in the same group.",
	ErrorNodeCantHost:             "The cluster node cannot host the resource.",
	ErrorResourceTypeNotFound:     "The specified resource type was not found.",
}

// Error is a cluster operation's failure with its Windows error number; the HTTP API
// sends Code and Message, and `cluster` prints them as cluster.exe does.
type Error struct {
	Code   uint32
	Status int
	Msg    string
	Detail string // what the error is about, for logs
}

func (e *Error) Error() string {
	if e.Detail != "" {
		return e.Msg + " (" + e.Detail + ")"
	}
	return e.Msg
}

// ErrorCode and HTTPStatus let internal/api send the error as it is.
func (e *Error) ErrorCode() uint32 { return e.Code }
func (e *Error) HTTPStatus() int   { return e.Status }

// errCode returns the error code with Windows' message; detail (an object's name, as the
// request gave it) is cut by wire.Clip, since the API sends it back to the caller.
func errCode(code uint32, detail string) *Error {
	st := wire.StatusBadRequest
	switch code {
	case ErrorResourceNotFound, ErrorGroupNotFound, ErrorNodeNotFound, ErrorResourceTypeNotFound, ErrorDependencyNotFound:
		st = wire.StatusNotFound
	case ErrorObjectExists, ErrorInvalidState, ErrorResourceOnline, ErrorDirNotEmpty, ErrorDependentExists, ErrorDependencyExists:
		st = wire.StatusConflict
	}
	return &Error{Code: code, Status: st, Msg: messages[code], Detail: wire.Clip(detail)}
}

// badParam is ERROR_INVALID_PARAMETER with a detail; string arguments (names and values
// from the request) are cut by wire.Clip.
func badParam(format string, args ...any) *Error {
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = wire.Clip(s)
		}
	}
	return &Error{Code: ErrorInvalidParameter, Status: wire.StatusBadRequest, Msg: messages[ErrorInvalidParameter],
		Detail: fmt.Sprintf(format, args...)}
}

// dbErr turns clusterdb's errors about an object into the Windows error for its kind.
func dbErr(err error) error {
	var oe *clusterdb.ObjectError
	if !errors.As(err, &oe) {
		return err
	}
	switch {
	case errors.Is(err, clusterdb.ErrNotFound):
		switch oe.Kind {
		case "group":
			return errCode(ErrorGroupNotFound, oe.Name)
		case "resource":
			return errCode(ErrorResourceNotFound, oe.Name)
		case "node":
			return errCode(ErrorNodeNotFound, oe.Name)
		}
	case errors.Is(err, clusterdb.ErrExists):
		return errCode(ErrorObjectExists, oe.Name)
	}
	return err
}

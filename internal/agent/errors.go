package agent

import (
	"errors"
	"fmt"

	"wolfpack/internal/api/wire"
	"wolfpack/internal/clusterdb"
	"wolfpack/internal/winerr"
)

// Windows error numbers of the cluster API (winerror.h): winerr's table, which also
// holds their messages.
const (
	ErrorInvalidParameter         = uint32(winerr.ERROR_INVALID_PARAMETER)
	ErrorDirNotEmpty              = uint32(winerr.ERROR_DIR_NOT_EMPTY)
	ErrorRetry                    = uint32(winerr.ERROR_RETRY) // the cluster cannot take the change now: try again
	ErrorDependentExists          = uint32(winerr.ERROR_DEPENDENT_RESOURCE_EXISTS)
	ErrorDependencyNotFound       = uint32(winerr.ERROR_DEPENDENCY_NOT_FOUND)
	ErrorDependencyExists         = uint32(winerr.ERROR_DEPENDENCY_ALREADY_EXISTS)
	ErrorHostNodeNotAvailable     = uint32(winerr.ERROR_HOST_NODE_NOT_AVAILABLE)
	ErrorResourceNotFound         = uint32(winerr.ERROR_RESOURCE_NOT_FOUND)
	ErrorObjectExists             = uint32(winerr.ERROR_OBJECT_ALREADY_EXISTS)
	ErrorGroupNotFound            = uint32(winerr.ERROR_GROUP_NOT_FOUND)
	ErrorResourceOnline           = uint32(winerr.ERROR_RESOURCE_ONLINE)
	ErrorInvalidState             = uint32(winerr.ERROR_INVALID_STATE)
	ErrorResourcePropertiesStored = uint32(winerr.ERROR_RESOURCE_PROPERTIES_STORED)
	ErrorNodeNotFound             = uint32(winerr.ERROR_CLUSTER_NODE_NOT_FOUND)
	ErrorNodeDown                 = uint32(winerr.ERROR_CLUSTER_NODE_DOWN)
	ErrorCircularDependency       = uint32(winerr.ERROR_CIRCULAR_DEPENDENCY)
	ErrorDependencyNotAllowed     = uint32(winerr.ERROR_DEPENDENCY_NOT_ALLOWED)
	ErrorNodeCantHost             = uint32(winerr.ERROR_CLUSTER_NODE_CANT_HOST_RESOURCE)
	ErrorResourceTypeNotFound     = uint32(winerr.ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND)
)

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
	return &Error{Code: code, Status: st, Msg: winerr.Message(code), Detail: wire.Clip(detail)}
}

// badParam is ERROR_INVALID_PARAMETER with a detail; string arguments (names and values
// from the request) are cut by wire.Clip.
func badParam(format string, args ...any) *Error {
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = wire.Clip(s)
		}
	}
	return &Error{Code: ErrorInvalidParameter, Status: wire.StatusBadRequest, Msg: winerr.Message(ErrorInvalidParameter),
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

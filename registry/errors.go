package registry

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"wolfpack/internal/winerr"
)

// Errno is a Win32 error code returned by the node, with Windows' message (Error) and
// symbolic name (Name).
type Errno = winerr.Errno

// Win32 error codes of the registry calls.
const (
	ERROR_FILE_NOT_FOUND         = winerr.ERROR_FILE_NOT_FOUND
	ERROR_ACCESS_DENIED          = winerr.ERROR_ACCESS_DENIED
	ERROR_INVALID_HANDLE         = winerr.ERROR_INVALID_HANDLE
	ERROR_GEN_FAILURE            = winerr.ERROR_GEN_FAILURE
	ERROR_INVALID_PARAMETER      = winerr.ERROR_INVALID_PARAMETER
	ERROR_BAD_PATHNAME           = winerr.ERROR_BAD_PATHNAME
	ERROR_ALREADY_EXISTS         = winerr.ERROR_ALREADY_EXISTS
	ERROR_MORE_DATA              = winerr.ERROR_MORE_DATA
	ERROR_NO_MORE_ITEMS          = winerr.ERROR_NO_MORE_ITEMS
	ERROR_BADDB                  = winerr.ERROR_BADDB
	ERROR_BADKEY                 = winerr.ERROR_BADKEY
	ERROR_CANTOPEN               = winerr.ERROR_CANTOPEN
	ERROR_CANTREAD               = winerr.ERROR_CANTREAD
	ERROR_CANTWRITE              = winerr.ERROR_CANTWRITE
	ERROR_NOT_REGISTRY_FILE      = winerr.ERROR_NOT_REGISTRY_FILE
	ERROR_KEY_DELETED            = winerr.ERROR_KEY_DELETED
	ERROR_KEY_HAS_CHILDREN       = winerr.ERROR_KEY_HAS_CHILDREN
	ERROR_CHILD_MUST_BE_VOLATILE = winerr.ERROR_CHILD_MUST_BE_VOLATILE
	ERROR_INVALID_OWNER          = winerr.ERROR_INVALID_OWNER
	ERROR_PRIVILEGE_NOT_HELD     = winerr.ERROR_PRIVILEGE_NOT_HELD
	ERROR_INVALID_SECURITY_DESCR = winerr.ERROR_INVALID_SECURITY_DESCR
	ERROR_BAD_NETPATH            = winerr.ERROR_BAD_NETPATH
)

// The errors of golang.org/x/sys/windows/registry.
var (
	// ErrShortBuffer is returned when the buffer was too short for the value.
	ErrShortBuffer error = ERROR_MORE_DATA
	// ErrNotExist is returned when a registry key or value does not exist.
	ErrNotExist error = ERROR_FILE_NOT_FOUND
	// ErrUnexpectedType is returned by Get*Value when the value's type was unexpected.
	ErrUnexpectedType = errors.New("unexpected key value type")
)

// KeysInUseError is a restore refused because other clients hold handles in the subtree.
type KeysInUseError struct {
	Key     string       // the key that was to be restored
	Holders []HandleInfo // the handles that block it
}

func (e *KeysInUseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d handle(s) open in the subtree of %s:", ERROR_ACCESS_DENIED.Error(), len(e.Holders), e.Key)
	for _, h := range e.Holders {
		fmt.Fprintf(&b, " pid %d (%s) %s;", h.PID, h.Exe, h.OpenedAs)
	}
	return strings.TrimSuffix(b.String(), ";")
}

// Is makes errors.Is(err, ERROR_ACCESS_DENIED) hold.
func (e *KeysInUseError) Is(target error) bool { return target == ERROR_ACCESS_DENIED }

// HandleInfo describes an open handle: who holds it and to which key.
type HandleInfo struct {
	ID       uint64
	PID      int
	UID      int
	Exe      string    // the holder's executable name
	OpenedAs string    // the path as the holder named it (through a link, perhaps)
	Resolved string    // the key's own path, links followed
	Access   uint32    // the access mask it was opened with
	Opened   time.Time // when it was opened
}

package registry

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"wolfpack/internal/winerr"
)

// Errno is a Win32 error code returned by the node, with Windows' message.
type Errno uint32

// Win32 error codes of the registry calls.
const (
	ERROR_FILE_NOT_FOUND         Errno = 2
	ERROR_ACCESS_DENIED          Errno = 5
	ERROR_INVALID_HANDLE         Errno = 6
	ERROR_GEN_FAILURE            Errno = 31
	ERROR_INVALID_PARAMETER      Errno = 87
	ERROR_BAD_PATHNAME           Errno = 161
	ERROR_ALREADY_EXISTS         Errno = 183
	ERROR_MORE_DATA              Errno = 234
	ERROR_NO_MORE_ITEMS          Errno = 259
	ERROR_BADDB                  Errno = 1009
	ERROR_BADKEY                 Errno = 1010
	ERROR_CANTOPEN               Errno = 1011
	ERROR_CANTREAD               Errno = 1012
	ERROR_CANTWRITE              Errno = 1013
	ERROR_NOT_REGISTRY_FILE      Errno = 1017
	ERROR_KEY_DELETED            Errno = 1018
	ERROR_KEY_HAS_CHILDREN       Errno = 1020
	ERROR_CHILD_MUST_BE_VOLATILE Errno = 1021
	ERROR_INVALID_OWNER          Errno = 1307
	ERROR_PRIVILEGE_NOT_HELD     Errno = 1314
	ERROR_INVALID_SECURITY_DESCR Errno = 1338
)

// Error returns Windows' message text for the code.
func (e Errno) Error() string { return winerr.Message(uint32(e)) }

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

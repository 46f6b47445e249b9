package registry

import (
	"fmt"
	"strings"

	"wolfpack/internal/winerr"
)

// Errno is a Win32 error code, with Windows' number and message (internal/winerr holds
// them). Every error the package returns is an Errno or wraps one, so
// errors.Is(err, ERROR_KEY_DELETED) and errors.As(err, &errno) work on anything it returns.
type Errno = winerr.Errno

// The Win32 error codes the registry calls return.
const (
	ERROR_SUCCESS                = winerr.ERROR_SUCCESS
	ERROR_FILE_NOT_FOUND         = winerr.ERROR_FILE_NOT_FOUND
	ERROR_ACCESS_DENIED          = winerr.ERROR_ACCESS_DENIED
	ERROR_INVALID_HANDLE         = winerr.ERROR_INVALID_HANDLE
	ERROR_NOT_ENOUGH_MEMORY      = winerr.ERROR_NOT_ENOUGH_MEMORY
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
	ERROR_REGISTRY_RECOVERED     = winerr.ERROR_REGISTRY_RECOVERED
	ERROR_REGISTRY_CORRUPT       = winerr.ERROR_REGISTRY_CORRUPT
	ERROR_REGISTRY_IO_FAILED     = winerr.ERROR_REGISTRY_IO_FAILED
	ERROR_NOT_REGISTRY_FILE      = winerr.ERROR_NOT_REGISTRY_FILE
	ERROR_KEY_DELETED            = winerr.ERROR_KEY_DELETED
	ERROR_KEY_HAS_CHILDREN       = winerr.ERROR_KEY_HAS_CHILDREN
	ERROR_CHILD_MUST_BE_VOLATILE = winerr.ERROR_CHILD_MUST_BE_VOLATILE
	ERROR_PRIVILEGE_NOT_HELD     = winerr.ERROR_PRIVILEGE_NOT_HELD
	ERROR_INVALID_OWNER          = winerr.ERROR_INVALID_OWNER
	ERROR_INVALID_SECURITY_DESCR = winerr.ERROR_INVALID_SECURITY_DESCR
	ERROR_NO_SYSTEM_RESOURCES    = winerr.ERROR_NO_SYSTEM_RESOURCES
	ERROR_CANT_RESOLVE_FILENAME  = winerr.ERROR_CANT_RESOLVE_FILENAME
)

// OpError records the call and the key it failed on, wrapping the Errno (or LimitError)
// that says why: "registry: open HKEY_LOCAL_MACHINE\SOFTWARE\X: The system cannot find the
// file specified."
type OpError struct {
	Op   string // "open", "create", "set value", …
	Key  string // the key as the caller named it, or resolved when there is no name
	Name string // the value name, for value calls
	Err  error
}

func (e *OpError) Error() string {
	var b strings.Builder
	b.WriteString("registry: ")
	b.WriteString(e.Op)
	if e.Key != "" {
		b.WriteByte(' ')
		b.WriteString(e.Key)
	}
	if e.Name != "" || e.Op == "query value" || e.Op == "set value" || e.Op == "delete value" {
		fmt.Fprintf(&b, " value %q", e.Name)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *OpError) Unwrap() error { return e.Err }

// LimitError reports a name or depth beyond Windows' limits. It wraps the Errno Windows
// returns for that case (ERROR_INVALID_PARAMETER or ERROR_BADKEY).
type LimitError struct {
	Limit string // "key name length", "value name length", "key depth", "key name"
	Max   int
	Got   int
	Err   Errno
}

func (e *LimitError) Error() string {
	if e.Max == 0 {
		return fmt.Sprintf("%s is invalid: %s", e.Limit, e.Err.Error())
	}
	return fmt.Sprintf("%s %d exceeds the limit of %d: %s", e.Limit, e.Got, e.Max, e.Err.Error())
}

func (e *LimitError) Unwrap() error { return e.Err }

// KeysInUseError is returned by Restore (without REG_FORCE_RESTORE) and Unload when other
// sessions hold handles to keys in the subtree, whichever name they opened them by. It is
// ERROR_ACCESS_DENIED for errors.Is, as RegRestoreKey's failure is on Windows, and carries
// who holds the keys, which Windows does not tell.
type KeysInUseError struct {
	Key     string       // resolved path of the subtree's root
	Holders []HandleInfo // the other sessions' handles, in handle order
}

func (e *KeysInUseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "registry: %d handle(s) of other processes are open in %s:", len(e.Holders), e.Key)
	for i, h := range e.Holders {
		if i == 8 {
			fmt.Fprintf(&b, " and %d more", len(e.Holders)-i)
			break
		}
		if i > 0 {
			b.WriteByte(';')
		}
		fmt.Fprintf(&b, " %s (pid %d) on %s", h.Owner.Exe, h.Owner.PID, h.OpenedAs)
	}
	b.WriteString(": ")
	b.WriteString(ERROR_ACCESS_DENIED.Error())
	return b.String()
}

// Is reports ERROR_ACCESS_DENIED, the Errno that RegRestoreKey returns on Windows.
func (e *KeysInUseError) Is(target error) bool { return target == ERROR_ACCESS_DENIED }

// Unwrap gives ERROR_ACCESS_DENIED, so errors.As finds the Errno too.
func (e *KeysInUseError) Unwrap() error { return ERROR_ACCESS_DENIED }

// CorruptError reports a damaged store found at Open: where and what.
type CorruptError struct {
	File   string
	Offset int64
	Msg    string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("registry: store %s corrupt at offset %d: %s: %s", e.File, e.Offset, e.Msg, ERROR_REGISTRY_CORRUPT.Error())
}

func (e *CorruptError) Unwrap() error { return ERROR_REGISTRY_CORRUPT }

// AccessDeniedError is ERROR_ACCESS_DENIED for a key below the one a call named: a subkey
// of a tree being deleted or walked whose security descriptor refuses the caller. Key
// says which, Need what was asked.
type AccessDeniedError struct {
	Key  string
	Need string
}

func (e *AccessDeniedError) Error() string {
	return fmt.Sprintf("registry: %s access to %s: %s", e.Need, e.Key, ERROR_ACCESS_DENIED.Error())
}

// Unwrap gives ERROR_ACCESS_DENIED.
func (e *AccessDeniedError) Unwrap() error { return ERROR_ACCESS_DENIED }

// SecurityDescriptorError is a security descriptor that does not parse — given to
// SetSecurity, or held by a key of a hive being restored or loaded — or that SDDL cannot
// express. Key names the key (as the hive names it, for a hive), Err says what is wrong
// and where (a *secdesc.FormatError with the byte of the descriptor, or a
// *secdesc.SDDLError). It is ERROR_INVALID_SECURITY_DESCR for errors.Is; nothing is
// changed when it is returned.
type SecurityDescriptorError struct {
	Key string
	Err error
}

func (e *SecurityDescriptorError) Error() string {
	return fmt.Sprintf("registry: security descriptor of %s: %v: %s", e.Key, e.Err, ERROR_INVALID_SECURITY_DESCR.Error())
}

// Unwrap gives the descriptor's error and ERROR_INVALID_SECURITY_DESCR.
func (e *SecurityDescriptorError) Unwrap() []error {
	return []error{e.Err, ERROR_INVALID_SECURITY_DESCR}
}

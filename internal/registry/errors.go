package registry

import (
	"fmt"
	"strings"

	"wolfpack/internal/winerr"
)

// Errno is a Win32 error code, with Windows' number and message. Every error the package
// returns is an Errno or wraps one, so errors.Is(err, ERROR_KEY_DELETED) and
// errors.As(err, &errno) work on anything it returns.
type Errno uint32

// The Win32 error codes the registry calls return.
const (
	ERROR_SUCCESS                Errno = 0
	ERROR_FILE_NOT_FOUND         Errno = 2
	ERROR_ACCESS_DENIED          Errno = 5
	ERROR_INVALID_HANDLE         Errno = 6
	ERROR_NOT_ENOUGH_MEMORY      Errno = 8
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
	ERROR_REGISTRY_RECOVERED     Errno = 1014
	ERROR_REGISTRY_CORRUPT       Errno = 1015
	ERROR_REGISTRY_IO_FAILED     Errno = 1016
	ERROR_NOT_REGISTRY_FILE      Errno = 1017
	ERROR_KEY_DELETED            Errno = 1018
	ERROR_KEY_HAS_CHILDREN       Errno = 1020
	ERROR_CHILD_MUST_BE_VOLATILE Errno = 1021
	ERROR_PRIVILEGE_NOT_HELD     Errno = 1314
	ERROR_INVALID_OWNER          Errno = 1307
	ERROR_INVALID_SECURITY_DESCR Errno = 1338
	ERROR_NO_SYSTEM_RESOURCES    Errno = 1450
	ERROR_CANT_RESOLVE_FILENAME  Errno = 1921
)

var errnoNames = map[Errno]string{
	ERROR_SUCCESS: "ERROR_SUCCESS", ERROR_FILE_NOT_FOUND: "ERROR_FILE_NOT_FOUND", ERROR_ACCESS_DENIED: "ERROR_ACCESS_DENIED",
	ERROR_INVALID_HANDLE: "ERROR_INVALID_HANDLE", ERROR_NOT_ENOUGH_MEMORY: "ERROR_NOT_ENOUGH_MEMORY",
	ERROR_INVALID_PARAMETER: "ERROR_INVALID_PARAMETER", ERROR_BAD_PATHNAME: "ERROR_BAD_PATHNAME",
	ERROR_ALREADY_EXISTS: "ERROR_ALREADY_EXISTS", ERROR_MORE_DATA: "ERROR_MORE_DATA", ERROR_NO_MORE_ITEMS: "ERROR_NO_MORE_ITEMS",
	ERROR_BADDB: "ERROR_BADDB", ERROR_BADKEY: "ERROR_BADKEY", ERROR_CANTOPEN: "ERROR_CANTOPEN", ERROR_CANTREAD: "ERROR_CANTREAD",
	ERROR_CANTWRITE: "ERROR_CANTWRITE", ERROR_REGISTRY_RECOVERED: "ERROR_REGISTRY_RECOVERED",
	ERROR_REGISTRY_CORRUPT: "ERROR_REGISTRY_CORRUPT", ERROR_REGISTRY_IO_FAILED: "ERROR_REGISTRY_IO_FAILED",
	ERROR_NOT_REGISTRY_FILE: "ERROR_NOT_REGISTRY_FILE", ERROR_KEY_DELETED: "ERROR_KEY_DELETED",
	ERROR_KEY_HAS_CHILDREN: "ERROR_KEY_HAS_CHILDREN", ERROR_CHILD_MUST_BE_VOLATILE: "ERROR_CHILD_MUST_BE_VOLATILE",
	ERROR_NO_SYSTEM_RESOURCES: "ERROR_NO_SYSTEM_RESOURCES", ERROR_CANT_RESOLVE_FILENAME: "ERROR_CANT_RESOLVE_FILENAME",
	ERROR_PRIVILEGE_NOT_HELD: "ERROR_PRIVILEGE_NOT_HELD", ERROR_INVALID_OWNER: "ERROR_INVALID_OWNER",
	ERROR_INVALID_SECURITY_DESCR: "ERROR_INVALID_SECURITY_DESCR",
}

// Name returns the code's symbolic name (ERROR_KEY_DELETED), or "" for a code this
// package does not name.
func (e Errno) Name() string { return errnoNames[e] }

// Error returns Windows' message text for the code.
func (e Errno) Error() string { return winerr.Message(uint32(e)) }

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

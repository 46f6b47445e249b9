package registry

import "wolfpack/internal/regtype"

// Value types (winnt.h), from internal/regtype. Any other uint32 is accepted and kept as is.
const (
	REG_NONE                       uint32 = regtype.REG_NONE
	REG_SZ                         uint32 = regtype.REG_SZ
	REG_EXPAND_SZ                  uint32 = regtype.REG_EXPAND_SZ
	REG_BINARY                     uint32 = regtype.REG_BINARY
	REG_DWORD                      uint32 = regtype.REG_DWORD
	REG_DWORD_BIG_ENDIAN           uint32 = regtype.REG_DWORD_BIG_ENDIAN
	REG_LINK                       uint32 = regtype.REG_LINK
	REG_MULTI_SZ                   uint32 = regtype.REG_MULTI_SZ
	REG_RESOURCE_LIST              uint32 = regtype.REG_RESOURCE_LIST
	REG_FULL_RESOURCE_DESCRIPTOR   uint32 = regtype.REG_FULL_RESOURCE_DESCRIPTOR
	REG_RESOURCE_REQUIREMENTS_LIST uint32 = regtype.REG_RESOURCE_REQUIREMENTS_LIST
	REG_QWORD                      uint32 = regtype.REG_QWORD
)

// Options of RegCreateKeyEx / RegOpenKeyEx (winnt.h).
const (
	REG_OPTION_NON_VOLATILE   uint32 = 0
	REG_OPTION_VOLATILE       uint32 = 1
	REG_OPTION_CREATE_LINK    uint32 = 2
	REG_OPTION_BACKUP_RESTORE uint32 = 4
	REG_OPTION_OPEN_LINK      uint32 = 8
)

// Flags of RegRestoreKey.
const (
	REG_WHOLE_HIVE_VOLATILE uint32 = 1
	REG_REFRESH_HIVE        uint32 = 2
	REG_NO_LAZY_FLUSH       uint32 = 4
	REG_FORCE_RESTORE       uint32 = 8
)

// Filters of RegNotifyChangeKeyValue.
const (
	REG_NOTIFY_CHANGE_NAME       uint32 = 0x1
	REG_NOTIFY_CHANGE_ATTRIBUTES uint32 = 0x2
	REG_NOTIFY_CHANGE_LAST_SET   uint32 = 0x4
	REG_NOTIFY_CHANGE_SECURITY   uint32 = 0x8
	REG_NOTIFY_THREAD_AGNOSTIC   uint32 = 0x10000000
	regNotifyAll                        = REG_NOTIFY_CHANGE_NAME | REG_NOTIFY_CHANGE_ATTRIBUTES | REG_NOTIFY_CHANGE_LAST_SET | REG_NOTIFY_CHANGE_SECURITY
)

// Access rights of a key handle (winnt.h).
const (
	KEY_QUERY_VALUE        uint32 = 0x0001
	KEY_SET_VALUE          uint32 = 0x0002
	KEY_CREATE_SUB_KEY     uint32 = 0x0004
	KEY_ENUMERATE_SUB_KEYS uint32 = 0x0008
	KEY_NOTIFY             uint32 = 0x0010
	KEY_CREATE_LINK        uint32 = 0x0020
	KEY_WOW64_64KEY        uint32 = 0x0100
	KEY_WOW64_32KEY        uint32 = 0x0200
	DELETE                 uint32 = 0x00010000
	READ_CONTROL           uint32 = 0x00020000
	WRITE_DAC              uint32 = 0x00040000
	WRITE_OWNER            uint32 = 0x00080000
	SYNCHRONIZE            uint32 = 0x00100000
	MAXIMUM_ALLOWED        uint32 = 0x02000000
	GENERIC_ALL            uint32 = 0x10000000
	GENERIC_EXECUTE        uint32 = 0x20000000
	GENERIC_WRITE          uint32 = 0x40000000
	GENERIC_READ           uint32 = 0x80000000

	KEY_READ       uint32 = 0x20019 // READ_CONTROL | KEY_QUERY_VALUE | KEY_ENUMERATE_SUB_KEYS | KEY_NOTIFY
	KEY_EXECUTE    uint32 = KEY_READ
	KEY_WRITE      uint32 = 0x20006 // READ_CONTROL | KEY_SET_VALUE | KEY_CREATE_SUB_KEY
	KEY_ALL_ACCESS uint32 = 0xF003F // STANDARD_RIGHTS_REQUIRED | every KEY_* right
)

// Windows' limits (Registry element size limits, MSDN).
const (
	MaxKeyNameLen   = 255   // characters (UTF-16 units) in one key name
	MaxValueNameLen = 16383 // characters in a value name
	MaxDepth        = 512   // levels below a root key
	MaxLinkHops     = 16    // symbolic links followed while opening one path
	// MaxValueData bounds one value's data. Windows' limit is "available memory"; this
	// keeps every journal record well inside its 32-bit length.
	MaxValueData = 1 << 30
	// MaxHandlesPerSession bounds the open handles of one session, so that a client that
	// leaks handles cannot exhaust the daemon (Windows' per-process limit is ~16 M).
	MaxHandlesPerSession = 1 << 20
)

// SymbolicLinkValue is the value of a link key that holds its target, REG_LINK, as a
// UTF-16LE kernel path without a terminating NUL (\REGISTRY\MACHINE\SYSTEM\ControlSet001).
const SymbolicLinkValue = "SymbolicLinkValue"

// effectiveAccess maps generic rights and MAXIMUM_ALLOWED onto the key rights they grant
// (the key object's generic mapping). A zero access mask — Go's zero value, which callers
// of CreateOptions leave unset — means KEY_ALL_ACCESS; on Windows it would grant nothing.
func effectiveAccess(a uint32) uint32 {
	if a&^(KEY_WOW64_32KEY|KEY_WOW64_64KEY) == 0 {
		return a | KEY_ALL_ACCESS
	}
	if a&GENERIC_READ != 0 {
		a |= KEY_READ
	}
	if a&GENERIC_WRITE != 0 {
		a |= KEY_WRITE
	}
	if a&GENERIC_EXECUTE != 0 {
		a |= KEY_EXECUTE
	}
	if a&(GENERIC_ALL|MAXIMUM_ALLOWED) != 0 {
		a |= KEY_ALL_ACCESS
	}
	return a
}

// Package regtype holds the registry's value types as winnt.h names them (REG_SZ,
// REG_DWORD, …) and their names, once for the hive and .reg codecs (internal/hive,
// internal/regfile), the registry engine (internal/registry), the public client
// (registry) and reg.exe (internal/cli/regcmd). A value's type is a uint32: any other
// number is allowed, and kept as it is. The package imports nothing from the project.
package regtype

import "strings"

// Value types (winnt.h).
const (
	REG_NONE                       = 0
	REG_SZ                         = 1
	REG_EXPAND_SZ                  = 2
	REG_BINARY                     = 3
	REG_DWORD                      = 4
	REG_DWORD_LITTLE_ENDIAN        = REG_DWORD
	REG_DWORD_BIG_ENDIAN           = 5
	REG_LINK                       = 6
	REG_MULTI_SZ                   = 7
	REG_RESOURCE_LIST              = 8
	REG_FULL_RESOURCE_DESCRIPTOR   = 9
	REG_RESOURCE_REQUIREMENTS_LIST = 10
	REG_QWORD                      = 11
)

var names = [...]string{
	REG_NONE:                       "REG_NONE",
	REG_SZ:                         "REG_SZ",
	REG_EXPAND_SZ:                  "REG_EXPAND_SZ",
	REG_BINARY:                     "REG_BINARY",
	REG_DWORD:                      "REG_DWORD",
	REG_DWORD_BIG_ENDIAN:           "REG_DWORD_BIG_ENDIAN",
	REG_LINK:                       "REG_LINK",
	REG_MULTI_SZ:                   "REG_MULTI_SZ",
	REG_RESOURCE_LIST:              "REG_RESOURCE_LIST",
	REG_FULL_RESOURCE_DESCRIPTOR:   "REG_FULL_RESOURCE_DESCRIPTOR",
	REG_RESOURCE_REQUIREMENTS_LIST: "REG_RESOURCE_REQUIREMENTS_LIST",
	REG_QWORD:                      "REG_QWORD",
}

// Name returns the REG_* name of t, or "" for a number winnt.h does not name.
func Name(t uint32) string {
	if t < uint32(len(names)) {
		return names[t]
	}
	return ""
}

// ByName returns the type a REG_* name stands for, in any case; REG_DWORD_LITTLE_ENDIAN
// is REG_DWORD, as in winnt.h.
func ByName(name string) (uint32, bool) {
	u := strings.ToUpper(name)
	if u == "REG_DWORD_LITTLE_ENDIAN" {
		return REG_DWORD, true
	}
	for t, n := range names {
		if n == u {
			return uint32(t), true
		}
	}
	return 0, false
}

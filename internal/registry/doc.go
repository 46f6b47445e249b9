// Package registry is one node's Windows-style registry: a tree of keys under the
// predefined roots HKEY_LOCAL_MACHINE and HKEY_USERS, each key holding typed values
// (raw bytes plus a REG_* type), reached through handles that belong to a client session.
//
// It reproduces the semantics of the Win32 registry calls (RegCreateKeyEx, RegOpenKeyEx,
// RegDeleteKey, RegDeleteTree, RegSetValueEx, RegQueryValueEx, RegEnumKeyEx, RegEnumValue,
// RegQueryInfoKey, RegNotifyChangeKeyValue, RegFlushKey, RegSaveKey, RegRestoreKey,
// RegLoadKey, RegUnLoadKey) as documented by Microsoft, including the parts that programs
// rely on without knowing: names are case-insensitive and case-preserving (compared by
// upper-casing each UTF-16 unit, as the kernel's RtlUpcaseUnicodeChar does), a handle
// refers to a key object rather than to a path (a deleted key answers
// ERROR_KEY_DELETED), symbolic link keys (REG_LINK value SymbolicLinkValue) are followed
// when a path is opened, volatile keys are never persisted, and Windows' size limits hold
// (key name 255 characters, value name 16,383, depth 512).
//
// Every key has a Windows security descriptor (owner, group, DACL, SACL; package
// secdesc), with Windows' defaults — users read HKLM\SOFTWARE and HKLM\SYSTEM,
// Administrators and SYSTEM write them, HKU\<SID> belongs to its user — inherited by new
// keys as Windows computes it, checked on every open and create with the access asked
// for (RegOpenKeyEx's samDesired, generic rights mapped, MAXIMUM_ALLOWED), and on every
// call through the access its handle was granted. A session's identity is its Owner:
// Unix users and groups are S-1-22-1-<uid> and S-1-22-2-<gid> as Samba maps them, root
// is an Administrator with the backup, restore, take-ownership and security privileges,
// the daemon is SYSTEM. GetSecurity and SetSecurity read and write descriptors
// (RegGetKeySecurity, RegSetKeySecurity with SetSecurityInfo's propagation); Save,
// Restore and Load carry them in the hive's sk cells, byte for byte.
//
// Layout of the package, one concept per file:
//
//	errors.go    Errno with Windows' numbers and messages, KeysInUseError, LimitError
//	consts.go    REG_* types, options, access rights, notify filters
//	names.go     name folding (upper-casing) and limits
//	tree.go      the key object and tree invariants
//	links.go     path resolution through symbolic links
//	session.go   sessions and handles
//	calls.go     the Win32-shaped calls on a session
//	notify.go    change notification
//	paths.go     root names and path helpers
//	registry.go  Open/OpenMemory/Close and the default keys
//	journal.go   the append-only journal with group commit
//	record.go    the journal's logical records and the subtree encoding
//	store.go     compaction of the journal into a bbolt file
//	hive.go      Save, Restore, Load and Unload through package hive
//	security.go  descriptors of keys (interned), defaults, tokens, the access checks
//	keysecurity.go GetSecurity, SetSecurity and the propagation of inherited ACEs
//
// Persistence: writes are applied in memory first, appended to a journal of logical
// records (length + CRC32C framed) and made durable by Flush (RegFlushKey), by a lazy flush
// within one second, or by Close. One writer goroutine gathers every pending record, writes
// and fsyncs once, then wakes every waiting Flush (group commit). The journal is compacted
// into a bbolt file periodically. See BENCHMARKS.md ("registry engine") for what that costs.
//
// Tests: semantics_test.go is the table of Windows behaviours, each case naming the
// behaviour and the Win32 error Windows gives; testdata/*.txt are scenario scripts (the
// KB Q316772 case among them) run by TestScripts, whose outputs go test -rewrite
// regenerates; TestCrashKill9 kills a writing child process with SIGKILL and checks every
// acknowledged write; TestWindowsHives restores and loads the hives Windows wrote in
// ../shared/testdata/hives; hive_test.go covers save, restore and loaded hives (written
// back on Flush, within LazyFlush and on Unload, always into the directory they were
// loaded from: TestLoadedHiveWritesStayInItsDirectory). testdata/acl.txt is the access
// check's scenario (defaults, users refused, inheritance, owner rights, links, notify,
// persistence); security_test.go covers stores written before descriptors, hives with
// malformed ones, save/restore of descriptors; TestWindowsHives also checks that Windows'
// own descriptors survive a restore, a load and a save byte for byte;
// TestSaveInteropSecurity has Samba's regshell decode the descriptors of a saved hive.
package registry

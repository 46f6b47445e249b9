// Package regcmd is the reg command: Windows' reg.exe grammar and output (reg query, add,
// delete, copy, compare, save, restore, load, unload, export, import) against a Wolfpack
// node's registry, plus three commands Windows lacks: reg handles (who holds handles to a
// key), reg watch (print a key's changes until interrupted) and reg acl (show or set a
// key's security descriptor in SDDL, acl.go).
//
// Keys are named as reg.exe names them: ROOT\Subkey with ROOT one of HKLM,
// HKEY_LOCAL_MACHINE, HKU, HKEY_USERS; a \\NODE\ prefix reaches another node of the
// cluster through its HTTP API (each call stateless), otherwise the local node's
// reg.sock is used (found through $WOLFPACK_DATA). Messages, prompts and exit codes are
// reg.exe's: 0 success, 1 failure; reg compare exits 0 when identical, 2 when different.
// Without /f a command that would overwrite or delete asks (Yes/No); when stdin is not a
// terminal the answer is No.
//
// The grammar is parsed by Parse into a Command (grammar.go, usage.go), run against a
// Store (store.go: the local socket; remote.go: another node's /v1/registry routes) by the
// command's file (query.go, edit.go, compare.go, handles.go, hivecmd.go), which prints in
// reg.exe's layout; types.go turns /d operands into value bytes and value bytes into text.
package regcmd

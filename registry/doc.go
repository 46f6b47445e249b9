// Package registry is the Go client of a Wolfpack node's registry. Its API mirrors
// golang.org/x/sys/windows/registry — the same Key type with the same methods, the same
// constants (LOCAL_MACHINE, QUERY_VALUE, ALL_ACCESS, SZ, DWORD, …) and the same errors
// (ErrNotExist, ErrShortBuffer, ErrUnexpectedType) — so that Go code written for Windows'
// registry runs against Wolfpack's by changing its import path:
//
//	import "golang.org/x/sys/windows/registry"   →   import "wolfpack/registry"
//
// With nothing else changed, the predefined keys LOCAL_MACHINE and USERS use a
// connection dialed on first use to the node of $WOLFPACK_DATA (its reg.sock). Code that
// wants to choose the node, or to hold several connections, dials one and binds the
// predefined keys to it:
//
//	conn, err := registry.Dial(ctx, "")            // "" = $WOLFPACK_DATA/reg.sock
//	k, err := registry.OpenKey(conn.LocalMachine(), `SOFTWARE\X`, registry.QUERY_VALUE)
//	k, err := conn.OpenKey(registry.LOCAL_MACHINE, `SOFTWARE\X`, registry.QUERY_VALUE)
//
// A Key carries its connection: every key opened from a key lives on the same
// connection, and every handle of a connection is closed by the node when the
// connection ends (Conn.Close, or the process exits).
//
// Errors are bare Errno values, as x/sys returns bare syscall.Errno values, so
// `err == registry.ErrNotExist` works as it does on Windows; a restore blocked by other
// processes' handles is a *KeysInUseError naming them (errors.Is(err,
// ERROR_ACCESS_DENIED) holds).
//
// Beyond x/sys: Key.Notify (RegNotifyChangeKeyValue as a channel of changes), Key.Handles
// (who holds handles to a key), Key.Flush, Key.Save/Restore (RegSaveKey, RegRestoreKey;
// the file is read and written by this process and its bytes travel over the socket),
// LoadKey/UnloadKey, DeleteTree, OpenKeyEx and CreateKeyEx, and Key.GetKeySecurity /
// Key.SetKeySecurity (RegGetKeySecurity, RegSetKeySecurity) with SecurityDescriptor,
// which SecurityDescriptorFromString makes from SDDL and String prints as SDDL.
//
// Security: any local user may connect; the node knows who by the socket's peer
// credentials and checks each key's security descriptor, as Windows does. An ordinary
// user reads HKLM\SOFTWARE and HKLM\SYSTEM and writes where a DACL lets it (its own
// HKU\S-1-22-1-<uid>, once root made it); a refused call is ERROR_ACCESS_DENIED, and a
// call that needs root's privileges (save, restore, load) ERROR_PRIVILEGE_NOT_HELD. Open
// keys with the access you need (READ, QUERY_VALUE, …): ALL_ACCESS asks for everything.
//
// The wire protocol is documented in wolfpack/internal/wire. A Conn is safe for
// concurrent use; concurrent calls are pipelined on the one socket.
package registry

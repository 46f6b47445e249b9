package registry

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"wolfpack/internal/regipc/wire"
)

// Restore flags (RegRestoreKey).
const (
	REG_FORCE_RESTORE = 0x8 // restore even when other clients hold handles in the subtree
)

// Handles lists the open handles to the key (with subtree, to it and every key below),
// whoever holds them.
func (k Key) Handles(subtree bool) ([]HandleInfo, error) {
	var hs []wire.HandleInfo
	err := k.call(&wire.Request{Op: wire.OpHandles, Access: boolU32(subtree)},
		func(d *wire.Decoder) { hs = d.HandleInfos() })
	if err != nil {
		return nil, err
	}
	return fromWireHandles(hs), nil
}

func fromWireHandles(hs []wire.HandleInfo) []HandleInfo {
	out := make([]HandleInfo, len(hs))
	for i, h := range hs {
		out[i] = HandleInfo{ID: h.ID, PID: int(h.PID), UID: int(h.UID), Exe: h.Exe,
			OpenedAs: h.OpenedAs, Resolved: h.Resolved, Access: h.Access, Opened: h.Opened}
	}
	return out
}

// Flush waits until every change to the key is durable (RegFlushKey).
func (k Key) Flush() error {
	return k.call(&wire.Request{Op: wire.OpFlush}, nil)
}

// SaveBytes returns the key's subtree as a regf hive image (RegSaveKey), non-volatile
// keys only.
func (k Key) SaveBytes() ([]byte, error) {
	var hive []byte
	err := k.call(&wire.Request{Op: wire.OpSave}, func(d *wire.Decoder) {
		hive = append([]byte(nil), d.Bytes()...)
	})
	return hive, err
}

// TreeKey is one key of a subtree as Walk delivers it.
type TreeKey struct {
	Depth  int    // 0 for the key Walk was called on
	Name   string // as stored, case preserved
	Link   bool   // a link key: Values hold its SymbolicLinkValue, its target is not included
	Values []Value
}

// Walk reads the key's whole subtree in one request, as enumeration sees it (volatile
// keys and hives loaded below it included), and calls f for every key, depth first, each
// key before its subkeys and subkeys in enumeration order. The TreeKey and its value data
// are reused and valid during the call only. An error from f stops the walk and is
// returned. A subtree too big for one reply is ERROR_MORE_DATA: read it key by key.
func (k Key) Walk(f func(*TreeKey) error) error {
	var tree []byte
	err := k.call(&wire.Request{Op: wire.OpSave, Flags: wire.SaveTree}, func(d *wire.Decoder) {
		tree = append([]byte(nil), d.Rest()...) // f may make calls on this connection
	})
	if err != nil {
		return err
	}
	d := wire.NewDecoder(tree)
	var wk wire.TreeKey
	var tk TreeKey
	prev := -1
	for d.More() {
		d.TreeKey(&wk, prev)
		if d.Err() != nil {
			break
		}
		prev = int(wk.Depth)
		tk.Depth, tk.Name, tk.Link = prev, wk.Name, wk.Flags&wire.TreeLink != 0
		tk.Values = tk.Values[:0]
		for _, v := range wk.Values {
			tk.Values = append(tk.Values, Value(v))
		}
		if err := f(&tk); err != nil {
			return err
		}
	}
	if err := d.End(); err != nil {
		return fmt.Errorf("registry: bad reply: %w", err)
	}
	return nil
}

// Save writes the key's subtree to the hive file path, which must not exist (RegSaveKey;
// ERROR_ALREADY_EXISTS otherwise). The file is written by this process.
func (k Key) Save(path string) error {
	hive, err := k.SaveBytes()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if os.IsExist(err) {
		return ERROR_ALREADY_EXISTS
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(hive); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// RestoreBytes replaces the key's subtree by the hive image (RegRestoreKey). Without
// REG_FORCE_RESTORE it fails with a *KeysInUseError when another client holds a handle
// anywhere in the subtree.
func (k Key) RestoreBytes(hive []byte, flags uint32) error {
	return k.call(&wire.Request{Op: wire.OpRestore, Flags: flags, Data: hive}, nil)
}

// Restore is RestoreBytes with the hive read from the file path by this process.
func (k Key) Restore(path string, flags uint32) error {
	hive, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("registry: restore: %w", err)
	}
	return k.RestoreBytes(hive, flags)
}

// LoadKeyBytes mounts the hive image as the new subkey subkey of k (RegLoadKey; k is
// LOCAL_MACHINE or USERS). The daemon keeps the image in a private file while it is
// mounted; use LoadKey to mount a file of the caller's in place.
func LoadKeyBytes(k Key, subkey string, hive []byte) error {
	return k.call(&wire.Request{Op: wire.OpLoad, Name: subkey, Data: hive}, nil)
}

// LoadKey mounts the hive file path as the new subkey subkey of k (RegLoadKey; k is
// LOCAL_MACHINE or USERS). The daemon mounts the file itself, read-write: changes are
// written back to that file on Flush, lazily and on UnloadKey. The calling process's uid
// must be allowed to read and write the file and to replace it in its directory
// (ERROR_ACCESS_DENIED otherwise); a relative path is taken from this process's working
// directory.
func LoadKey(k Key, subkey, path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("registry: load: %w", err)
	}
	return k.call(&wire.Request{Op: wire.OpLoad, Name: subkey, Flags: wire.LoadFromFile, Data: []byte(abs)}, nil)
}

// UnloadKey removes the subkey mounted by LoadKey (RegUnLoadKey).
func UnloadKey(k Key, subkey string) error {
	return k.call(&wire.Request{Op: wire.OpUnload, Name: subkey}, nil)
}

// The default connection, for code ported from x/sys that uses LOCAL_MACHINE without a
// Conn. It is dialed on first use and again after it broke.
var defaultConn struct {
	sync.Mutex
	c *Conn
}

// Default returns the connection the unbound predefined keys use: one to DefaultSocket,
// dialed on first use, and again after a failure or when $WOLFPACK_DATA names another
// node.
func Default() (*Conn, error) {
	defaultConn.Lock()
	defer defaultConn.Unlock()
	if c := defaultConn.c; c != nil {
		c.mu.Lock()
		dead := c.err != nil
		c.mu.Unlock()
		if !dead && c.path == DefaultSocket() {
			return c, nil
		}
		c.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, "")
	if err != nil {
		return nil, err
	}
	defaultConn.c = c
	return c, nil
}

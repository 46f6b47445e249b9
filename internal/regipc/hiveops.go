package regipc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"wolfpack/internal/regipc/wire"
	"wolfpack/internal/registry"
)

// hiveOp runs Save, Restore, Load and Unload.
func (c *conn) hiveOp(ctx context.Context, req *wire.Request, b []byte) ([]byte, error) {
	s := c.sess
	h := registry.Handle(req.Handle)
	switch req.Op {
	case wire.OpSave:
		if req.Flags&wire.SaveTree != 0 {
			return appendTree(s, h, b)
		}
		minor := req.Flags
		if minor == 0 {
			minor = 5
		}
		hive, err := s.Save(h, minor)
		if err != nil {
			return b, err
		}
		return wire.AppendBytes(b, hive), nil
	case wire.OpRestore:
		return b, s.Restore(ctx, h, bytes.Clone(req.Data), req.Flags)
	case wire.OpLoad:
		if req.Flags&wire.LoadFromFile != 0 {
			return b, LoadHiveFile(c.sess, h, req.Name, string(req.Data))
		}
		return b, LoadHive(c.sess, h, req.Name, req.Data, c.srv.LoadDir)
	case wire.OpUnload:
		return b, UnloadHive(c.sess, h, req.Name, c.srv.LoadDir)
	}
	return b, errUnknownOp
}

// appendTree appends h's subtree as tree records (wire.TreeKey). A subtree that does not
// fit in one frame is ERROR_MORE_DATA.
func appendTree(s *registry.Session, h registry.Handle, b []byte) ([]byte, error) {
	base := len(b)
	var vals []wire.Value
	err := s.Walk(h, func(tk *registry.TreeKey) error {
		vals = vals[:0]
		for _, v := range tk.Values {
			vals = append(vals, wire.Value(v))
		}
		var flags uint32
		if tk.Link {
			flags = wire.TreeLink
		}
		b = wire.AppendTreeKey(b, uint32(tk.Depth), flags, tk.Name, vals)
		if len(b)-base > wire.MaxFrame-1024 {
			return fmt.Errorf("%w (the subtree is over %d MiB)", registry.ERROR_MORE_DATA, wire.MaxFrame>>20)
		}
		return nil
	})
	return b, err
}

// mountFile is where the daemon keeps the hive mounted at parent\name: the client sent
// the file's bytes, and the registry writes a loaded hive back to its file.
func mountFile(dir string, parent registry.Handle, name string) (string, error) {
	if dir == "" {
		return "", errors.New("regipc: no directory for loaded hives")
	}
	root := registry.RootName(parent)
	if root == "" || name == "" || strings.ContainsAny(name, `\/`) || name == "." || name == ".." {
		return "", fmt.Errorf("%w (a hive is loaded as a direct subkey of HKLM or HKU)", registry.ERROR_INVALID_PARAMETER)
	}
	return filepath.Join(dir, root+"-"+strings.ToUpper(name)+".hiv"), nil
}

// LoadHive mounts hive as parent\name (RegLoadKey) from bytes a client sent: they are
// kept in dir while mounted. A key that exists already is ERROR_ALREADY_EXISTS.
func LoadHive(s *registry.Session, parent registry.Handle, name string, hive []byte, dir string) error {
	fail := func(err error) error {
		return &registry.OpError{Op: "load", Key: registry.RootName(parent) + `\` + name, Err: err}
	}
	file, err := mountFile(dir, parent, name)
	if err != nil {
		return fail(err)
	}
	// Before the file is touched: a client may not load there, or the key exists (a key it
	// may not open exists too: its file, if it is a loaded hive, must stay).
	if err := s.MayLoad(parent, name); err != nil {
		return fail(err)
	}
	if h, err := s.OpenKey(parent, name, 0, registry.KEY_QUERY_VALUE); err == nil || !errors.Is(err, registry.ERROR_FILE_NOT_FOUND) {
		if err == nil {
			s.CloseKey(h)
		}
		return fail(fmt.Errorf("%w (the key exists)", registry.ERROR_ALREADY_EXISTS))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fail(err)
	}
	if err := os.WriteFile(file, hive, 0o600); err != nil {
		return fail(err)
	}
	if err := s.Load(parent, name, file); err != nil {
		os.Remove(file)
		return err
	}
	return nil
}

// LoadHiveFile mounts the hive file at path (absolute, on this machine) as parent\name
// in place (RegLoadKey): the registry writes changes back to that file on flush, lazily
// and on unload. The session's owner must be allowed to read and write the file and to
// replace it in its directory (see checkHiveFile); ERROR_ACCESS_DENIED otherwise.
func LoadHiveFile(s *registry.Session, parent registry.Handle, name, path string) error {
	fail := func(err error) error {
		return &registry.OpError{Op: "load", Key: registry.RootName(parent) + `\` + name, Err: err}
	}
	real, err := checkHiveFile(s.Owner(), path)
	if err != nil {
		return fail(err)
	}
	return s.Load(parent, name, real)
}

// UnloadHive unmounts parent\name (RegUnLoadKey) and removes the daemon's copy of it.
func UnloadHive(s *registry.Session, parent registry.Handle, name, dir string) error {
	if err := s.Unload(parent, name); err != nil {
		return err
	}
	if file, err := mountFile(dir, parent, name); err == nil {
		os.Remove(file)
	}
	return nil
}

// SaveHive is RegSaveKey: the hive image (regf minor version 5) of h's subtree.
func SaveHive(s *registry.Session, h registry.Handle) ([]byte, error) {
	return s.Save(h, 5)
}

// RestoreHive is RegRestoreKey.
func RestoreHive(ctx context.Context, s *registry.Session, h registry.Handle, hive []byte, flags uint32) error {
	return s.Restore(ctx, h, hive, flags)
}

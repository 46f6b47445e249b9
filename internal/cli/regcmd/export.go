package regcmd

import (
	"bytes"
	"errors"
	"fmt"

	"wolfpack/internal/hive"
	"wolfpack/internal/regfile"
	"wolfpack/registry"
)

// snapshotter is a Store that can hand over a whole subtree in one call (the local node:
// registry Key.SnapshotBytes, a hive image that includes volatile keys and loaded hives).
// Export reads a big subtree that way instead of two requests per key.
type snapshotter interface {
	Snapshot(k KeyName) ([]byte, error)
}

// exportWriter writes the subtree it read, named k, to a .reg writer.
type exportWriter func(w *regfile.Writer, k KeyName) error

// readExport reads KEY's subtree for export: in one snapshot when the store offers it,
// else key by key.
func (r *runner) readExport(s Store, k KeyName) (exportWriter, error) {
	sn, ok := s.(snapshotter)
	if !ok {
		t, err := r.readTree(s, k, true, "")
		if err != nil {
			return nil, err
		}
		return func(w *regfile.Writer, k KeyName) error { return exportTree(w, k, t) }, nil
	}
	img, err := sn.Snapshot(k)
	if err != nil {
		return nil, err
	}
	hv, err := hive.Read(bytes.NewReader(img), int64(len(img)))
	if err != nil {
		return nil, fmt.Errorf("reading the node's snapshot of %s: %w", k, err)
	}
	return func(w *regfile.Writer, name KeyName) error { return r.exportHive(w, s, k, name, hv.Root, true) }, nil
}

// exportHive writes hk (the key k of store s, written as name) and its subtree. A link
// key below the top is followed through the store, as enumeration follows it.
func (r *runner) exportHive(w *regfile.Writer, s Store, k, name KeyName, hk *hive.Key, top bool) error {
	if !top && hk.Flags&hive.KEY_SYM_LINK != 0 {
		t, err := r.readTree(s, k, true, "")
		if errors.Is(err, registry.ErrNotExist) {
			return nil // a link to nothing: enumeration skips it too
		}
		if err != nil {
			return err
		}
		return exportTree(w, name, t)
	}
	return writeHiveKey(w, name, hk, func(sub *hive.Key) error {
		return r.exportHive(w, s, k.Child(sub.Name), name.Child(sub.Name), sub, false)
	})
}

// writeHiveKey writes one key's section and values, then calls sub for each subkey.
func writeHiveKey(w *regfile.Writer, name KeyName, hk *hive.Key, sub func(*hive.Key) error) error {
	if err := w.WriteKey(name.String()); err != nil {
		return err
	}
	for _, v := range hk.Values {
		if err := w.WriteValue(v.Name, v.Type, v.Data); err != nil {
			return err
		}
	}
	for _, c := range hk.Subkeys {
		if err := sub(c); err != nil {
			return err
		}
	}
	return nil
}

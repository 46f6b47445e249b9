package regcmd

import (
	"errors"

	"wolfpack/internal/regfile"
	"wolfpack/registry"
)

// walker is a Store that hands over a whole subtree in one request (the local node:
// registry Key.Walk). Export reads a big subtree that way instead of two requests per
// key.
type walker interface {
	Walk(k KeyName, f func(*registry.TreeKey) error) error
}

// exportWriter reads the subtree and writes it, named name, to a .reg writer, counting
// keys in p.
type exportWriter func(w *regfile.Writer, name KeyName, p *keyProgress) error

// readExport prepares the export of KEY: in one walk when the store offers it (KEY must
// exist now; a subtree too big for one reply is read key by key), else key by key, read
// before anything is written.
func (r *runner) readExport(s Store, k KeyName) (exportWriter, error) {
	keyByKey := func() (exportWriter, error) {
		t, err := r.readTree(s, k, true, "")
		if err != nil {
			return nil, err
		}
		return func(w *regfile.Writer, name KeyName, p *keyProgress) error { return exportTree(w, name, t, p) }, nil
	}
	wk, ok := s.(walker)
	if !ok {
		return keyByKey()
	}
	if _, err := s.ReadKey(k); err != nil {
		return nil, err
	}
	return func(w *regfile.Writer, name KeyName, p *keyProgress) error {
		err := r.exportWalk(w, s, wk, k, name, p)
		if errors.Is(err, registry.ERROR_MORE_DATA) {
			write, err := keyByKey()
			if err != nil {
				return err
			}
			return write(w, name, p)
		}
		return err
	}, nil
}

// exportWalk writes the subtree of k (store s), named name, from one walk. A link key
// below the top is followed through the store, as enumeration follows it.
func (r *runner) exportWalk(w *regfile.Writer, s Store, wk walker, k, name KeyName, p *keyProgress) error {
	var srcs, names []KeyName // by depth
	return wk.Walk(k, func(tk *registry.TreeKey) error {
		src, dst := k, name
		if tk.Depth > 0 {
			src, dst = srcs[tk.Depth-1].Child(tk.Name), names[tk.Depth-1].Child(tk.Name)
		}
		srcs, names = append(srcs[:tk.Depth], src), append(names[:tk.Depth], dst)
		if tk.Link && tk.Depth > 0 {
			t, err := r.readTree(s, src, true, "")
			if errors.Is(err, registry.ErrNotExist) {
				return nil // a link to nothing: enumeration skips it too
			}
			if err != nil {
				return err
			}
			return exportTree(w, dst, t, p)
		}
		p.add()
		return writeSection(w, dst, tk.Values)
	})
}

// writeSection writes one key's section and its values.
func writeSection(w *regfile.Writer, name KeyName, values []registry.Value) error {
	if err := w.WriteKey(name.String()); err != nil {
		return err
	}
	for _, v := range values {
		if err := w.WriteValue(v.Name, v.Type, v.Data); err != nil {
			return err
		}
	}
	return nil
}

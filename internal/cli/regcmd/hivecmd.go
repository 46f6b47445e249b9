package regcmd

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"wolfpack/internal/regfile"
	"wolfpack/registry"
)

// The file of save, restore, load, export and import is read and written by this
// process; its bytes travel to the node, which may run as another user.

// mayWrite asks before replacing an existing file, unless /y.
func (r *runner) mayWrite(file string) bool {
	if _, err := os.Stat(file); err != nil || r.cmd.Force {
		return true
	}
	return r.confirm("File " + file + " already exists, overwrite(Yes/No)? ")
}

// writeFile replaces file with data through a temporary file and a rename.
func writeFile(file string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), file)
}

func (r *runner) readFile(file string) ([]byte, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("The system cannot find the file specified: %s", file)
	}
	if err != nil {
		return nil, err
	}
	r.progress("Read", file, len(data))
	return data, nil
}

// progress tells a user at a terminal about big transfers.
func (r *runner) progress(verb, file string, n int) {
	if r.env.Progress && n >= 4<<20 {
		fmt.Fprintf(r.env.Stderr, "%s %.1f MiB (%s)\n", verb, float64(n)/(1<<20), file)
	}
}

func (r *runner) save() (int, error) {
	c := r.cmd
	s, err := r.store(c.Key)
	if err != nil {
		return 1, err
	}
	if !r.mayWrite(c.File) {
		return r.cancelled()
	}
	hive, err := s.Save(c.Key)
	if err != nil {
		return 1, err
	}
	if err := writeFile(c.File, hive); err != nil {
		return 1, err
	}
	r.progress("Wrote", c.File, len(hive))
	return r.success()
}

func (r *runner) restore() (int, error) {
	c := r.cmd
	s, err := r.store(c.Key)
	if err != nil {
		return 1, err
	}
	hive, err := r.readFile(c.File)
	if err != nil {
		return 1, err
	}
	if err := s.Restore(c.Key, hive, c.Force); err != nil {
		return 1, err
	}
	return r.success()
}

// mountPoint checks that a load/unload key is ROOT\Name.
func mountPoint(op Op, k KeyName) error {
	if k.Path == "" || strings.Contains(k.Path, `\`) {
		return badKey(op)
	}
	return nil
}

func (r *runner) load() (int, error) {
	c := r.cmd
	if err := mountPoint(OpLoad, c.Key); err != nil {
		return 1, err
	}
	s, err := r.store(c.Key)
	if err != nil {
		return 1, err
	}
	hive, err := r.readFile(c.File)
	if err != nil {
		return 1, err
	}
	if err := s.Load(c.Key, hive); err != nil {
		return 1, err
	}
	return r.success()
}

func (r *runner) unload() (int, error) {
	c := r.cmd
	if err := mountPoint(OpUnload, c.Key); err != nil {
		return 1, err
	}
	s, err := r.store(c.Key)
	if err != nil {
		return 1, err
	}
	if err := s.Unload(c.Key); err != nil {
		return 1, err
	}
	return r.success()
}

// export writes KEY and everything below it as a .reg file (Windows Registry Editor
// Version 5.00, UTF-16LE), as regedit and reg export do.
func (r *runner) export() (int, error) {
	c := r.cmd
	s, err := r.store(c.Key)
	if err != nil {
		return 1, err
	}
	t, err := r.readTree(s, c.Key, true, "")
	if err != nil {
		return 1, err
	}
	if !r.mayWrite(c.File) {
		return r.cancelled()
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.File), "."+filepath.Base(c.File)+".*")
	if err != nil {
		return 1, err
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriter(tmp)
	w := regfile.NewWriter(bw, regfile.Regedit5)
	local := c.Key
	local.Node = ""
	if err := exportTree(w, local, t); err != nil {
		tmp.Close()
		return 1, err
	}
	if err := w.Close(); err != nil {
		tmp.Close()
		return 1, err
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return 1, err
	}
	if err := tmp.Close(); err != nil {
		return 1, err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return 1, err
	}
	if err := os.Rename(tmp.Name(), c.File); err != nil {
		return 1, err
	}
	return r.success()
}

func exportTree(w *regfile.Writer, k KeyName, t *tree) error {
	if err := w.WriteKey(k.String()); err != nil {
		return err
	}
	for _, v := range t.values {
		if err := w.WriteValue(v.Name, v.Type, v.Data); err != nil {
			return err
		}
	}
	for _, st := range t.subkeys {
		if err := exportTree(w, k.Child(st.name), st); err != nil {
			return err
		}
	}
	return nil
}

// importFile applies a .reg file (either format) to the local node.
func (r *runner) importFile() (int, error) {
	data, err := r.readFile(r.cmd.File)
	if err != nil {
		return 1, err
	}
	f, err := regfile.Parse(data)
	if err != nil {
		return 1, fmt.Errorf("Error accessing the registry: %v", err)
	}
	for _, fk := range f.Keys {
		k, ok := ParseKey(fk.Path)
		if !ok || k.Node != "" {
			return 1, fmt.Errorf("Invalid key name %s in %s.", fk.Path, r.cmd.File)
		}
		s, err := r.store(k)
		if err != nil {
			return 1, err
		}
		if fk.Delete {
			if err := s.DeleteKey(k); err != nil && !errors.Is(err, registry.ErrNotExist) {
				return 1, err
			}
			continue
		}
		if _, err := s.CreateKey(k); err != nil {
			return 1, err
		}
		for _, v := range fk.Values {
			if v.Delete {
				err = s.DeleteValue(k, v.Name)
				if errors.Is(err, registry.ErrNotExist) {
					err = nil
				}
			} else {
				err = s.SetValue(k, v.Name, v.Type, v.Data)
			}
			if err != nil {
				return 1, err
			}
		}
	}
	return r.success()
}

package regcmd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"wolfpack/internal/hive"
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

// createBeside creates the temporary file that will replace file, in its directory. Its
// errors name file, as Windows' messages do, not the temporary name.
func createBeside(file string) (*os.File, error) {
	f, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("The system cannot find the path specified: %s", file)
	case errors.Is(err, os.ErrPermission):
		return nil, fmt.Errorf("Access is denied: %s", file)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return f, nil
}

// writeFile replaces file with data through a temporary file and a rename.
func (r *runner) writeFile(file string, data []byte) error {
	f, err := createBeside(file)
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	p := r.startProgress("Writing "+file, len(data))
	for off := 0; off < len(data); {
		n, err := f.Write(data[off:min(len(data), off+1<<20)])
		if err != nil {
			f.Close()
			return err
		}
		off += n
		p.update(off)
	}
	p.done()
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), file)
}

func (r *runner) readFile(file string) ([]byte, error) {
	f, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("The system cannot find the file specified: %s", file)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := int(fi.Size())
	data := make([]byte, 0, size+1)
	p := r.startProgress("Reading "+file, size)
	for {
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		p.update(len(data))
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)] // the file grew
		}
	}
	p.done()
	return data, nil
}

// progressBar shows a transfer's progress on a terminal (stderr), for files of 4 MiB
// and more; elsewhere it does nothing.
type progressBar struct {
	w     io.Writer
	what  string
	total int
	shown int // percent last shown, -1 before the first
}

func (r *runner) startProgress(what string, total int) *progressBar {
	if !r.env.Progress || total < 4<<20 {
		return &progressBar{}
	}
	return &progressBar{w: r.env.Stderr, what: what, total: total, shown: -1}
}

func (p *progressBar) update(n int) {
	if p.w == nil {
		return
	}
	pct := min(100, n*100/p.total)
	if pct != p.shown {
		p.shown = pct
		fmt.Fprintf(p.w, "\r%s: %3d%% of %.1f MiB", p.what, pct, float64(p.total)/(1<<20))
	}
}

func (p *progressBar) done() {
	if p.w != nil {
		p.update(p.total)
		fmt.Fprintln(p.w)
	}
}

// keyProgress counts the keys an export or import has handled, on a terminal: a line
// from the 1000th key on, updated every 1000 keys. Its methods do nothing on a nil or
// silent keyProgress.
type keyProgress struct {
	w    io.Writer
	what string
	n    int
}

func (r *runner) startKeyProgress(what string) *keyProgress {
	if !r.env.Progress {
		return &keyProgress{}
	}
	return &keyProgress{w: r.env.Stderr, what: what}
}

func (p *keyProgress) add() {
	if p == nil {
		return
	}
	p.n++
	if p.w != nil && p.n%1000 == 0 {
		fmt.Fprintf(p.w, "\r%s: %d keys", p.what, p.n)
	}
}

func (p *keyProgress) done() {
	if p != nil && p.w != nil && p.n >= 1000 {
		fmt.Fprintf(p.w, "\r%s: %d keys, done.\n", p.what, p.n)
		p.w = nil
	}
}

// transfer runs f (a call that sends or receives size bytes to or from the node) with a
// note on a terminal while it runs.
func (r *runner) transfer(what string, size int, f func() error) error {
	if !r.env.Progress || size < 4<<20 {
		return f()
	}
	fmt.Fprintf(r.env.Stderr, "%s %.1f MiB...", what, float64(size)/(1<<20))
	err := f()
	if err == nil {
		fmt.Fprintln(r.env.Stderr, " done.")
	} else {
		fmt.Fprintln(r.env.Stderr)
	}
	return err
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
	if err := r.writeFile(c.File, hive); err != nil {
		return 1, err
	}
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
	if err := r.transfer("Restoring", len(hive), func() error { return s.Restore(c.Key, hive, c.Force) }); err != nil {
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
	// The local daemon mounts FILE itself, read-write, and writes changes back to it; a
	// remote node gets a copy of its bytes (read with progress on a terminal).
	file, err := filepath.Abs(c.File)
	if err != nil {
		return 1, err
	}
	fi, err := os.Stat(file)
	if errors.Is(err, os.ErrNotExist) {
		return 1, fmt.Errorf("The system cannot find the file specified: %s", c.File)
	}
	if err != nil {
		return 1, err
	}
	if err := r.transfer("Loading", int(fi.Size()), func() error { return s.Load(c.Key, file, r.readFile) }); err != nil {
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
	var write exportWriter
	if c.Hive != "" {
		var err error
		if write, err = r.readHiveExport(c.Hive); err != nil {
			return 1, err
		}
	} else {
		s, err := r.store(c.Key)
		if err != nil {
			return 1, err
		}
		if write, err = r.readExport(s, c.Key); err != nil {
			return 1, err
		}
	}
	if !r.mayWrite(c.File) {
		return r.cancelled()
	}
	tmp, err := createBeside(c.File)
	if err != nil {
		return 1, err
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriter(tmp)
	w := regfile.NewWriter(bw, regfile.Regedit5)
	local := c.Key
	local.Node = ""
	p := r.startKeyProgress("Exporting " + c.Key.String())
	if err := write(w, local, p); err != nil {
		tmp.Close()
		return 1, err
	}
	p.done()
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

// readHiveExport prepares the export of a regf hive file (with its transaction logs when
// the hive is dirty) read here, without a node: its root is written under the command's
// key name.
func (r *runner) readHiveExport(file string) (exportWriter, error) {
	data, err := r.readFile(file)
	if err != nil {
		return nil, err
	}
	var logs [][]byte
	for _, ext := range []string{".LOG1", ".LOG2"} {
		if b, err := os.ReadFile(file + ext); err == nil {
			logs = append(logs, b)
		}
	}
	h, err := hive.ReadWithLogs(data, logs...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return func(w *regfile.Writer, name KeyName, p *keyProgress) error {
		return exportHiveKey(w, name, h.Root, p)
	}, nil
}

func exportHiveKey(w *regfile.Writer, k KeyName, hk *hive.Key, p *keyProgress) error {
	p.add()
	if err := w.WriteKey(k.String()); err != nil {
		return err
	}
	for _, v := range hk.Values {
		if err := w.WriteValue(v.Name, v.Type, v.Data); err != nil {
			return err
		}
	}
	for _, sk := range hk.Subkeys {
		if err := exportHiveKey(w, k.Child(sk.Name), sk, p); err != nil {
			return err
		}
	}
	return nil
}

func exportTree(w *regfile.Writer, k KeyName, t *tree, p *keyProgress) error {
	p.add()
	if err := w.WriteKey(k.String()); err != nil {
		return err
	}
	for _, v := range t.values {
		if err := w.WriteValue(v.Name, v.Type, v.Data); err != nil {
			return err
		}
	}
	for _, st := range t.subkeys {
		if err := exportTree(w, k.Child(st.name), st, p); err != nil {
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
	p := r.startKeyProgress("Importing " + r.cmd.File)
	for _, fk := range f.Keys {
		p.add()
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
	p.done()
	return r.success()
}

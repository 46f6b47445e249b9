package eventlog

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// syncFunc makes what was written to f durable: fdatasync(2) when dataOnly (the file's
// size did not change, so its metadata need not be committed), else fsync(2). Every sync
// of a segment goes through the log's syncFile, which is fileSync except in the test
// that records syncs to prove that no Report returns before its sync
// (durability_test.go).
type syncFunc func(f *os.File, dataOnly bool) error

// fileSync is the syncFunc of production.
func fileSync(f *os.File, dataOnly bool) error {
	if dataOnly {
		return unix.Fdatasync(int(f.Fd()))
	}
	return f.Sync()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("eventlog: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("eventlog: sync %s: %w", dir, err)
	}
	return nil
}

// writeFileAtomic writes data to path through a temporary file, fsync and rename.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("eventlog: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("eventlog: %w", err)
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("eventlog: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("eventlog: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("eventlog: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("eventlog: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

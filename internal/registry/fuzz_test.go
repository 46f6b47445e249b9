package registry

import (
	"context"
	"testing"

	"wolfpack/internal/secdesc"
)

// FuzzApply feeds arbitrary journal records to replay: a damaged record (one that passed
// its CRC, so written by a buggy or hostile writer) must give an error, never a panic.
func FuzzApply(f *testing.F) {
	// Seeds: the records a real session writes.
	dir := f.TempDir()
	r, err := Open(context.Background(), dir, Options{})
	if err != nil {
		f.Fatal(err)
	}
	s := r.NewSession(Owner{Exe: "fuzz"})
	h, _, _ := s.CreatePath(`HKLM\SOFTWARE\Seed\Sub`, CreateOptions{Class: "c"})
	s.SetValue(h, "v", REG_SZ, sz("x"))
	s.DeleteValue(h, "v")
	p, _ := s.OpenPath(`HKLM\SOFTWARE\Seed`)
	saved, _ := s.Save(p, 5)
	s.Restore(context.Background(), p, saved, REG_FORCE_RESTORE)
	if sd, err := secdesc.ParseSDDL("D:(A;CI;KR;;;S-1-22-1-1000)"); err == nil {
		s.SetSecurity(p, DACL_SECURITY_INFORMATION, sd.Bytes())
	}
	s.DeleteTree(HKEY_LOCAL_MACHINE, `SOFTWARE\Seed`)
	r.mu.Lock()
	r.j.mu.Lock()
	buf := append([]byte(nil), r.j.buf...)
	r.j.mu.Unlock()
	r.mu.Unlock()
	r.Close()
	for len(buf) > frameHeaderLen {
		n := int(buf[0]) | int(buf[1])<<8 | int(buf[2])<<16 | int(buf[3])<<24
		f.Add(buf[frameHeaderLen : frameHeaderLen+n])
		buf = buf[frameHeaderLen+n:]
	}
	f.Add([]byte{opRestore, 4, 'H', 'K', 'L', 'M', 0, 1, 0})
	f.Fuzz(func(t *testing.T, rec []byte) {
		r := OpenMemory(Options{})
		r.mu.Lock()
		r.apply(rec)
		r.mu.Unlock()
		s := r.NewSession(Owner{Exe: "fuzz"})
		if h, err := s.OpenPath(`HKLM\SOFTWARE`); err == nil {
			s.Save(h, 5)
		}
	})
}

// FuzzRestore restores arbitrary bytes: an error or a consistent subtree, never a panic,
// and a failed restore leaves the key as it was.
func FuzzRestore(f *testing.F) {
	r := OpenMemory(Options{})
	s := r.NewSession(Owner{Exe: "fuzz"})
	h, _, _ := s.CreatePath(`HKLM\SOFTWARE\Seed\A\B`, CreateOptions{})
	s.SetValue(h, "v", REG_BINARY, make([]byte, 100))
	p, _ := s.OpenPath(`HKLM\SOFTWARE\Seed`)
	saved, _ := s.Save(p, 5)
	saved3, _ := s.Save(p, 3)
	f.Add(saved)
	f.Add(saved3)
	f.Fuzz(func(t *testing.T, data []byte) {
		r := OpenMemory(Options{})
		s := r.NewSession(Owner{Exe: "fuzz"})
		h, _, _ := s.CreatePath(`HKLM\SOFTWARE\Dst`, CreateOptions{})
		s.SetValue(h, "marker", REG_DWORD, dword(1))
		if err := s.Restore(context.Background(), h, data, 0); err != nil {
			if _, _, err := s.QueryValue(h, "marker"); err != nil {
				t.Fatalf("failed restore changed the key: %v", err)
			}
			return
		}
		if _, err := s.Save(h, 5); err != nil {
			t.Fatalf("restored subtree does not save: %v", err)
		}
	})
}

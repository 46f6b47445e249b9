package registry

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"wolfpack/internal/hive"
)

func fillApp(t *testing.T, s *Session, base string) {
	t.Helper()
	h := mustCreate(t, s, base)
	s.SetValue(h, "", REG_SZ, sz("default"))
	s.SetValue(h, "Port", REG_DWORD, dword(25))
	p := mustCreate(t, s, base+`\Parameters`)
	s.SetValue(p, "Big", REG_BINARY, bytes.Repeat([]byte{7}, 40000))
	mustCreate(t, s, base+`\Parameters\Deep\Deeper`)
	if _, _, err := s.CreatePath(base+`\Volatile`, CreateOptions{Options: REG_OPTION_VOLATILE}); err != nil {
		t.Fatal(err)
	}
}

func TestSave(t *testing.T) {
	_, s := newTestSession(t)
	fillApp(t, s, `HKLM\SOFTWARE\App`)
	h, _ := s.OpenPath(`HKLM\SOFTWARE\App`)
	for _, minor := range []uint32{0, 3, 5} {
		b, err := s.Save(h, minor)
		if err != nil {
			t.Fatal(err)
		}
		hv, err := hive.Read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("minor %d: saved hive does not read back: %v", minor, err)
		}
		root := hv.Root
		if root.Name != "App" || len(root.Values) != 2 || root.Values[1].Name != "Port" {
			t.Errorf("root = %+v", root)
		}
		if len(root.Subkeys) != 1 || root.Subkeys[0].Name != "Parameters" {
			t.Fatalf("subkeys %+v: the volatile key must be left out", root.Subkeys)
		}
		if v := root.Subkeys[0].Values[0]; len(v.Data) != 40000 {
			t.Errorf("big value %d bytes", len(v.Data))
		}
	}
	// SYSTEM saved: the volatile CurrentControlSet is left out.
	sys, _ := s.OpenPath(`HKLM\SYSTEM`)
	b, err := s.Save(sys, 5)
	if err != nil {
		t.Fatal(err)
	}
	hv, _ := hive.Read(bytes.NewReader(b), int64(len(b)))
	for _, k := range hv.Root.Subkeys {
		if k.Name == "CurrentControlSet" {
			t.Error("volatile CurrentControlSet saved")
		}
	}
	// A stable link is saved as KEY_SYM_LINK with its target.
	l, _, _ := s.CreatePath(`HKLM\SOFTWARE\App2\Link`, CreateOptions{Options: REG_OPTION_CREATE_LINK})
	tb, _ := EncodeLinkTarget(`HKLM\SOFTWARE\App`)
	s.SetValue(l, SymbolicLinkValue, REG_LINK, tb)
	a2, _ := s.OpenPath(`HKLM\SOFTWARE\App2`)
	b, _ = s.Save(a2, 5)
	hv, _ = hive.Read(bytes.NewReader(b), int64(len(b)))
	lk := hv.Root.Subkeys[0]
	if lk.Flags&hive.KEY_SYM_LINK == 0 || lk.Values[0].Type != REG_LINK || !bytes.Equal(lk.Values[0].Data, tb) {
		t.Errorf("link saved as %+v", lk)
	}
}

func TestRestore(t *testing.T) {
	ctx := context.Background()
	r, s := newTestSession(t)
	fillApp(t, s, `HKLM\SOFTWARE\Src`)
	src, _ := s.OpenPath(`HKLM\SOFTWARE\Src`)
	saved, err := s.Save(src, 5)
	if err != nil {
		t.Fatal(err)
	}
	base := `HKLM\SYSTEM\CurrentControlSet\Services\MSExchangeIMC`
	dst := mustCreate(t, s, base)
	s.SetValue(dst, "Old", REG_DWORD, dword(1))
	mustCreate(t, s, base+`\OldKey`)

	t.Run("replaces values and subkeys, keeps the key", func(t *testing.T) {
		watch, _ := s.Notify(ctx, dst, true, REG_NOTIFY_CHANGE_NAME|REG_NOTIFY_CHANGE_LAST_SET)
		if err := s.Restore(ctx, dst, saved, 0); err != nil {
			t.Fatal(err)
		}
		recv(t, watch)
		vs, err := s.EnumValues(dst)
		if err != nil || len(vs) != 2 || vs[1].Name != "Port" {
			t.Fatalf("values %+v %v", vs, err)
		}
		names, _ := s.EnumKeys(dst)
		if len(names) != 1 || names[0] != "Parameters" {
			t.Errorf("subkeys %q", names)
		}
		in, _ := s.HandleInfo(dst)
		if in.Resolved != `HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\MSExchangeIMC` {
			t.Errorf("key moved: %s", in.Resolved)
		}
	})

	t.Run("a handle opened via ControlSet001 blocks a restore via CurrentControlSet", func(t *testing.T) {
		winlogon := r.NewSession(Owner{PID: 612, Exe: "winlogon.exe"})
		defer winlogon.Close()
		leak, err := winlogon.OpenKey(HKEY_LOCAL_MACHINE, `SYSTEM\ControlSet001\Services\MSExchangeIMC\Parameters`, 0, KEY_READ)
		if err != nil {
			t.Fatal(err)
		}
		own, _ := s.OpenPath(base + `\Parameters`) // the caller's own handles do not block
		err = s.Restore(ctx, dst, saved, 0)
		var kiu *KeysInUseError
		if !errors.As(err, &kiu) || !errors.Is(err, ERROR_ACCESS_DENIED) {
			t.Fatalf("restore with a foreign handle open: %v", err)
		}
		if len(kiu.Holders) != 1 || kiu.Holders[0].Owner.Exe != "winlogon.exe" || kiu.Holders[0].ID != leak ||
			kiu.Key != `HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\MSExchangeIMC` {
			t.Errorf("KeysInUseError = %+v", kiu)
		}
		// And the other way round: opened via CurrentControlSet, restored via ControlSet001.
		winlogon.CloseKey(leak)
		leak, _ = winlogon.OpenKey(HKEY_LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Services\MSExchangeIMC\Parameters\Deep`, 0, KEY_READ)
		viaTarget, _ := s.OpenPath(`HKLM\SYSTEM\ControlSet001\Services\MSExchangeIMC`)
		if err := s.Restore(ctx, viaTarget, saved, 0); !errors.As(err, &kiu) {
			t.Fatalf("restore via the target name: %v", err)
		}

		// Forced: the restore happens and the holders' handles are stale.
		if err := s.Restore(ctx, dst, saved, REG_FORCE_RESTORE); err != nil {
			t.Fatal(err)
		}
		if _, err := winlogon.EnumValues(leak); !errors.Is(err, ERROR_KEY_DELETED) {
			t.Errorf("holder's handle after forced restore: %v", err)
		}
		if _, err := s.EnumValues(own); !errors.Is(err, ERROR_KEY_DELETED) {
			t.Errorf("own handle below after forced restore: %v", err)
		}
		if _, err := s.EnumValues(dst); err != nil {
			t.Errorf("the restored key's own handle: %v", err)
		}
	})

	t.Run("a bad hive leaves the subtree untouched", func(t *testing.T) {
		s.SetValue(dst, "Marker", REG_DWORD, dword(9))
		bad := bytes.Clone(saved)
		copy(bad, "nope")
		err := s.Restore(ctx, dst, bad, REG_FORCE_RESTORE)
		if !errors.Is(err, ERROR_NOT_REGISTRY_FILE) {
			t.Fatalf("bad hive: %v", err)
		}
		if _, _, err := s.QueryValue(dst, "Marker"); err != nil {
			t.Errorf("subtree changed by a failed restore: %v", err)
		}
		truncated := saved[:len(saved)/2]
		if err := s.Restore(ctx, dst, truncated, REG_FORCE_RESTORE); err == nil {
			t.Error("truncated hive accepted")
		}
		if _, _, err := s.QueryValue(dst, "Marker"); err != nil {
			t.Errorf("subtree changed by a failed restore: %v", err)
		}
	})
}

func TestRestorePersists(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r := openDir(t, dir, Options{})
	s := r.NewSession(Owner{PID: 1, Exe: "test"})
	fillApp(t, s, `HKLM\SOFTWARE\Src`)
	src, _ := s.OpenPath(`HKLM\SOFTWARE\Src`)
	saved, _ := s.Save(src, 5)
	dst := mustCreate(t, s, `HKLM\SOFTWARE\Dst\Old`)
	dst, _ = s.OpenPath(`HKLM\SOFTWARE\Dst`)
	if err := s.Restore(ctx, dst, saved, REG_NO_LAZY_FLUSH); err != nil {
		t.Fatal(err)
	}
	// Simulate a crash: do not Close; reopen reads the journal.
	crash(r)
	r = openDir(t, dir, Options{})
	defer r.Close()
	s = r.NewSession(Owner{PID: 1, Exe: "test"})
	if _, err := s.OpenPath(`HKLM\SOFTWARE\Dst\Old`); !errors.Is(err, ERROR_FILE_NOT_FOUND) {
		t.Errorf("old subkey after restore+reopen: %v", err)
	}
	p, err := s.OpenPath(`HKLM\SOFTWARE\Dst\Parameters`)
	if err != nil {
		t.Fatal(err)
	}
	if _, data, _ := s.QueryValue(p, "Big"); len(data) != 40000 {
		t.Errorf("Big is %d bytes", len(data))
	}
}

func TestLoadUnload(t *testing.T) {
	_, s := newTestSession(t)
	file := filepath.Join(t.TempDir(), "NTUSER.DAT")
	b, err := hive.Marshal(&hive.Key{Name: "ROOT", Values: []hive.Value{{Name: "a", Type: REG_DWORD, Data: dword(1)}},
		Subkeys: []*hive.Key{{Name: "Environment"}}}, hive.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(file, b, 0o600)
	if err := s.Load(HKEY_USERS, "S-1-5-21-1", file); err != nil {
		t.Fatal(err)
	}
	if err := s.Load(HKEY_USERS, "Again", file); !errors.Is(err, ERROR_ACCESS_DENIED) {
		t.Errorf("loading the same file twice: %v", err)
	}
	env, err := s.OpenPath(`HKU\S-1-5-21-1\Environment`)
	if err != nil {
		t.Fatal(err)
	}
	s.SetValue(env, "TEMP", REG_EXPAND_SZ, sz(`%USERPROFILE%\Temp`))
	if err := s.Flush(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(file)
	hv, err := hive.Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if e := hv.Root.Subkeys[0]; len(e.Values) != 1 || e.Values[0].Name != "TEMP" {
		t.Errorf("file after flush: %+v", e)
	}

	// Flushing the root it is loaded under (HKU) writes the hive too.
	mustCreate(t, s, `HKU\S-1-5-21-1\ByRootFlush`)
	if err := s.Flush(context.Background(), HKEY_USERS); err != nil {
		t.Fatal(err)
	}
	if hv, err := hive.ReadFile(file); err != nil || len(hv.Root.Subkeys) != 2 || hv.Root.Subkeys[0].Name != "ByRootFlush" {
		t.Fatalf("file after Flush(HKU): %v %v", hv, err)
	}

	other := s.r.NewSession(Owner{PID: 9, Exe: "explorer.exe"})
	oh, _ := other.OpenPath(`HKU\S-1-5-21-1\Environment`)
	if err := s.Unload(HKEY_USERS, "S-1-5-21-1"); !errors.Is(err, ERROR_ACCESS_DENIED) {
		t.Errorf("unload with a foreign handle open: %v", err)
	}
	other.CloseKey(oh)
	mustCreate(t, s, `HKU\S-1-5-21-1\New`)
	if err := s.Unload(HKEY_USERS, "S-1-5-21-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnumValues(env); !errors.Is(err, ERROR_KEY_DELETED) {
		t.Errorf("handle after unload: %v", err)
	}
	data, _ = os.ReadFile(file)
	hv, _ = hive.Read(bytes.NewReader(data), int64(len(data)))
	if len(hv.Root.Subkeys) != 3 { // Environment, ByRootFlush, New
		t.Errorf("file after unload has %d subkeys", len(hv.Root.Subkeys))
	}
	if err := s.Load(HKEY_LOCAL_MACHINE, "X", filepath.Join(t.TempDir(), "missing")); !errors.Is(err, ERROR_FILE_NOT_FOUND) {
		t.Errorf("missing file: %v", err)
	}
	if err := s.Load(HKEY_LOCAL_MACHINE, "SOFTWARE", file); !errors.Is(err, ERROR_ALREADY_EXISTS) {
		t.Errorf("over an existing key: %v", err)
	}
}

// TestLoadedHiveLazyWrite: a change to a loaded hive reaches its file within
// Options.LazyFlush without a flush, as the main store's writes become durable.
func TestLoadedHiveLazyWrite(t *testing.T) {
	r := OpenMemory(Options{LazyFlush: 20 * time.Millisecond})
	t.Cleanup(func() { r.Close() })
	s := r.NewSession(Owner{PID: 1, Exe: "test"})
	file := filepath.Join(t.TempDir(), "lazy.hiv")
	b, err := hive.Marshal(&hive.Key{Name: "ROOT"}, hive.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Load(HKEY_LOCAL_MACHINE, "Lazy", file); err != nil {
		t.Fatal(err)
	}
	h := mustCreate(t, s, `HKLM\Lazy\Written`)
	if err := s.SetValue(h, "V", REG_DWORD, dword(7)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		hv, err := hive.ReadFile(file)
		if err == nil && len(hv.Root.Subkeys) == 1 && len(hv.Root.Subkeys[0].Values) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the change did not reach the file within 5 s (LazyFlush 20 ms): %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.CloseKey(h)
	if err := s.Unload(HKEY_LOCAL_MACHINE, "Lazy"); err != nil {
		t.Fatal(err)
	}
}

// TestLoadedHiveWritesStayInItsDirectory: the daemon (root) writes a user's loaded hive
// back into the directory it was loaded from, even when the user has since replaced that
// directory's path with a symbolic link elsewhere.
func TestLoadedHiveWritesStayInItsDirectory(t *testing.T) {
	_, s := newTestSession(t)
	base := t.TempDir()
	sub, other := filepath.Join(base, "sub"), filepath.Join(base, "other")
	for _, d := range []string{sub, other} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b, err := hive.Marshal(&hive.Key{Name: "ROOT"}, hive.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "h.hiv"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Load(HKEY_LOCAL_MACHINE, "Pinned", filepath.Join(sub, "h.hiv")); err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(base, "moved")
	if err := os.Rename(sub, moved); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(other, sub); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, `HKLM\Pinned\Changed`)
	if err := s.Unload(HKEY_LOCAL_MACHINE, "Pinned"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(other, "h.hiv")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the hive was written through the symbolic link: %v", err)
	}
	hv, err := hive.ReadFile(filepath.Join(moved, "h.hiv"))
	if err != nil || len(hv.Root.Subkeys) != 1 {
		t.Errorf("the hive in its own directory: %v, %v", hv, err)
	}
	if es, _ := os.ReadDir(moved); len(es) != 1 {
		t.Errorf("temporary files left: %v", es)
	}
}

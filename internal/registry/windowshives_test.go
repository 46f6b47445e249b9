package registry

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"wolfpack/internal/hive"
)

// sharedHives is the folder of hives written by Windows (../shared/testdata/hives from the
// repository root).
const sharedHives = "../../../shared/testdata/hives"

// TestWindowsHives restores and loads every hive Windows wrote in the shared test data:
// each one either goes in whole — and then saves back to a hive with the same keys and
// every key's security descriptor byte for byte — or is refused with a registry error,
// leaving the target as it was. Never a panic, never a half-restored key, and never a
// refusal of a descriptor Windows wrote.
func TestWindowsHives(t *testing.T) {
	var files []string
	err := filepath.WalkDir(sharedHives, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && filepath.Ext(p) == "" && filepath.Base(p) != "README" {
			files = append(files, p)
		}
		return nil
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("the shared test hives are missing at %s: %v", sharedHives, err)
	}
	ctx := context.Background()
	restored := 0
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			_, s := newTestSession(t)
			h := mustCreate(t, s, `HKLM\SOFTWARE\Restored`)
			s.SetValue(h, "marker", REG_DWORD, dword(1))
			err = s.Restore(ctx, h, data, 0)
			if err != nil {
				var en Errno
				if !errors.As(err, &en) {
					t.Fatalf("restore error without an Errno: %v", err)
				}
				var sde *SecurityDescriptorError
				if errors.As(err, &sde) {
					t.Fatalf("a descriptor Windows wrote is refused: %v", err)
				}
				if _, _, qerr := s.QueryValue(h, "marker"); qerr != nil {
					t.Fatalf("refused restore (%v) changed the key: %v", err, qerr)
				}
				t.Logf("refused: %v", err)
				return
			}
			restored++
			want, err := hive.Read(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatalf("Restore accepted what hive.Read refuses: %v", err)
			}
			saved, err := s.Save(h, 5)
			if err != nil {
				t.Fatalf("save after restore: %v", err)
			}
			got, err := hive.Read(bytes.NewReader(saved), int64(len(saved)))
			if err != nil {
				t.Fatal(err)
			}
			if g, w := got.Root.CountKeys(), want.Root.CountKeys(); g != w {
				t.Errorf("saved %d keys, the hive has %d", g, w)
			}
			if g, w := got.Root.CountValues(), want.Root.CountValues(); g != w {
				t.Errorf("saved %d values, the hive has %d", g, w)
			}
			sameSecurity(t, "restore and save", want.Root, got.Root)

			// Loaded from a copy of the file (its logs too), unloaded unchanged.
			dir := t.TempDir()
			copyFile(t, file, filepath.Join(dir, "hive"))
			for _, ext := range []string{".LOG1", ".LOG2", ".LOG"} {
				if _, err := os.Stat(file + ext); err == nil {
					copyFile(t, file+ext, filepath.Join(dir, "hive"+ext))
				}
			}
			if err := s.Load(HKEY_USERS, "Mounted", filepath.Join(dir, "hive")); err != nil {
				t.Logf("load: %v", err)
				return
			}
			// Through a load, a change (so that the file is written back) and a save. A
			// dirty hive is loaded with its logs applied: that is the state to compare with.
			if want, err = hive.ReadFile(filepath.Join(dir, "hive")); err != nil {
				t.Fatal(err)
			}
			mh, err := s.OpenKey(HKEY_USERS, "Mounted", 0, KEY_ALL_ACCESS)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.SetValue(mh, "wolfpack-marker", REG_DWORD, dword(1)); err != nil {
				t.Fatal(err)
			}
			saved, err = s.Save(mh, 5)
			if err != nil {
				t.Fatal(err)
			}
			s.CloseKey(mh)
			if got, err = hive.Read(bytes.NewReader(saved), int64(len(saved))); err != nil {
				t.Fatal(err)
			}
			sameSecurity(t, "load and save", want.Root, got.Root)
			if err := s.Unload(HKEY_USERS, "Mounted"); err != nil {
				t.Errorf("unload: %v", err)
			}
			back, err := hive.ReadFile(filepath.Join(dir, "hive"))
			if err != nil {
				t.Fatal(err)
			}
			sameSecurity(t, "load, unload and write back", want.Root, back.Root)
		})
	}
	if restored == 0 {
		t.Error("no Windows hive restored")
	}
}

// sameSecurity checks that every key of want that has a descriptor has the same bytes in
// got, keys matched by path.
func sameSecurity(t *testing.T, what string, want, got *hive.Key) {
	t.Helper()
	byPath := map[string][]byte{}
	var collect func(k *hive.Key, path string)
	collect = func(k *hive.Key, path string) {
		byPath[path] = k.Security
		for _, c := range k.Subkeys {
			collect(c, path+`\`+fold(c.Name))
		}
	}
	collect(got, "")
	n := 0
	var check func(k *hive.Key, path string)
	check = func(k *hive.Key, path string) {
		if k.Security != nil {
			n++
			if g, ok := byPath[path]; !ok || !bytes.Equal(g, k.Security) {
				t.Errorf("%s: the descriptor of %q changed:\nwant % x\n got % x", what, path, k.Security, g)
			}
		}
		for _, c := range k.Subkeys {
			check(c, path+`\`+fold(c.Name))
		}
	}
	check(want, "")
	if n == 0 {
		t.Errorf("%s: the hive has no descriptor to compare", what)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

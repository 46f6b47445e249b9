package registry

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"wolfpack/internal/hive"
)

// sharedHives is the folder of hives written by Windows (../shared/testdata/hives from the
// repository root).
const sharedHives = "../../../shared/testdata/hives"

// hiveOutcome is what TestWindowsHives makes of one hive file.
type hiveOutcome struct {
	// restore is "" when RegRestoreKey took the hive, else a part of its refusal (the
	// hive reader's reason).
	restore string
	// keys and values are those of the restored subtree as Save writes it back (its
	// top key included): the primary file alone, logs not applied.
	keys, values int
	// load is "" when RegLoadKey mounted a copy of the file with its logs, else a part of
	// its refusal; loadKeys and loadValues count the mounted hive (logs applied).
	load                 string
	loadKeys, loadValues int
}

// windowsHives is the expected outcome for every hive of the shared test data (paths
// relative to it). Keys and values agree with the README's hivexml counts wherever hivex
// reads the file. Where the readers disagree:
//
//   - BadListHive and BadSubkeyHive are refused, as hivexml refuses them (regfexport
//     prints them): a subkey list, or a key node, is referenced twice, so the file is
//     not a tree, and restoring it would make one key appear at two places, or loop.
//   - EffectiveSizeHive and GarbageHive fail the base block checksum, TruncatedHive
//     declares more hive bins than the file holds, TruncatedNameHive has a key name past
//     its cell: every reader refuses them.
//
// The dirty hives (NewDirtyHive, OldDirtyHive) restore to their primary file's state;
// loaded with their .LOG1/.LOG2 files they give the state Windows recovered
// (RecoveredHive_Windows10, RecoveredHive_Windows7).
var windowsHives = map[string]hiveOutcome{
	"BadListHive":                           {restore: "subkeys list referenced twice (cycle) at offset 0x12d4", load: "subkeys list referenced twice"},
	"BadSubkeyHive":                         {restore: "key node referenced twice (cycle) at offset 0x1474", load: "key node referenced twice"},
	"BigDataHive":                           {keys: 2, values: 2, loadKeys: 2, loadValues: 2},
	"BogusKeyNamesHive":                     {keys: 3, values: 0, loadKeys: 3, loadValues: 0},
	"CompHive":                              {keys: 4, values: 0, loadKeys: 4, loadValues: 0},
	"DeletedDataHive":                       {keys: 2, values: 1, loadKeys: 2, loadValues: 1},
	"DupNameHive":                           {keys: 2, values: 0, loadKeys: 2, loadValues: 0},
	"EffectiveSizeHive":                     {restore: "base block checksum mismatch", load: "base block checksum mismatch"},
	"EmptyHive":                             {keys: 1, values: 0, loadKeys: 1, loadValues: 0},
	"ExtendedASCIIHive":                     {keys: 2, values: 1, loadKeys: 2, loadValues: 1},
	"GarbageHive":                           {restore: "base block checksum mismatch", load: "base block checksum mismatch"},
	"InvalidParentHive":                     {keys: 5003, values: 0, loadKeys: 5003, loadValues: 0},
	"ManySubkeysHive":                       {keys: 5003, values: 0, loadKeys: 5003, loadValues: 0},
	"MultiSzHive":                           {keys: 2, values: 2, loadKeys: 2, loadValues: 2},
	"NewDirtyHive1/NewDirtyHive":            {keys: 5, values: 2, loadKeys: 5, loadValues: 1},
	"NewDirtyHive1/RecoveredHive_Windows10": {keys: 5, values: 1, loadKeys: 5, loadValues: 1},
	"NewFlagsHive":                          {keys: 3, values: 0, loadKeys: 3, loadValues: 0},
	"OffHive":                               {keys: 1, values: 0, loadKeys: 1, loadValues: 0},
	"OldDirtyHive/OldDirtyHive":             {keys: 5003, values: 0, loadKeys: 5003, loadValues: 1},
	"OldDirtyHive/RecoveredHive_Windows7":   {keys: 5003, values: 1, loadKeys: 5003, loadValues: 1},
	"SlackHive":                             {keys: 5003, values: 0, loadKeys: 5003, loadValues: 0},
	"StringValuesHive":                      {keys: 2, values: 4, loadKeys: 2, loadValues: 4},
	"TruncatedHive":                         {restore: "hive bins data size beyond end of file", load: "hive bins data size beyond end of file"},
	"TruncatedNameHive":                     {restore: "key name beyond its cell", load: "key name beyond its cell"},
	"UnicodeHive":                           {keys: 3, values: 0, loadKeys: 3, loadValues: 0},
	"UpcaseHive":                            {keys: 4, values: 0, loadKeys: 4, loadValues: 0},
	"ValuesOrderHive":                       {keys: 1, values: 3, loadKeys: 1, loadValues: 3},
	"WrongOrderHive":                        {keys: 11, values: 0, loadKeys: 11, loadValues: 0},
}

// TestWindowsHives restores and loads every hive of the shared test data and compares
// the outcome with windowsHives: a hive the table says goes in must go in whole — and
// then save back to a hive with the same keys, values and every key's security
// descriptor byte for byte — and one it says is refused must be refused with a registry
// error naming the reason, leaving the target as it was. A file missing from the table,
// or a table entry without its file, fails the test. Never a panic, never a
// half-restored key, and never a refusal of a descriptor Windows wrote.
func TestWindowsHives(t *testing.T) {
	files := map[string]string{} // relative path → path
	err := filepath.WalkDir(sharedHives, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && filepath.Ext(p) == "" && filepath.Base(p) != "README" {
			rel, err := filepath.Rel(sharedHives, p)
			if err != nil {
				return err
			}
			files[filepath.ToSlash(rel)] = p
		}
		return nil
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("the shared test hives are missing at %s: %v", sharedHives, err)
	}
	for rel := range windowsHives {
		if _, ok := files[rel]; !ok {
			t.Errorf("%s: in the table, not in %s", rel, sharedHives)
		}
	}
	for _, rel := range slices.Sorted(maps.Keys(files)) {
		t.Run(rel, func(t *testing.T) {
			want, ok := windowsHives[rel]
			if !ok {
				t.Fatalf("no expected outcome for %s: add it to windowsHives", rel)
			}
			got := windowsHiveOutcome(t, files[rel])
			t.Logf("%+v", got)
			// A refusal matches when its message contains the expected reason.
			if want.restore != "" && strings.Contains(got.restore, want.restore) {
				got.restore = want.restore
			}
			if want.load != "" && strings.Contains(got.load, want.load) {
				got.load = want.load
			}
			if got != want {
				t.Errorf("outcome\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// windowsHiveOutcome restores the hive file into a new registry, saves it back, loads a
// copy of the file (with its logs) and saves that, checking the descriptors on the way.
func windowsHiveOutcome(t *testing.T, file string) hiveOutcome {
	t.Helper()
	var out hiveOutcome
	ctx := context.Background()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, s := newTestSession(t)
	h := mustCreate(t, s, `HKLM\SOFTWARE\Restored`)
	s.SetValue(h, "marker", REG_DWORD, dword(1))
	if err := s.Restore(ctx, h, data, 0); err != nil {
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
		out.restore = err.Error()
	} else {
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
		out.keys, out.values = got.Root.CountKeys(), got.Root.CountValues()
		if w := want.Root.CountKeys(); out.keys != w {
			t.Errorf("saved %d keys, the hive has %d", out.keys, w)
		}
		if w := want.Root.CountValues(); out.values != w {
			t.Errorf("saved %d values, the hive has %d", out.values, w)
		}
		sameSecurity(t, "restore and save", want.Root, got.Root)
	}

	// Loaded from a copy of the file (its logs too), unloaded unchanged.
	dir := t.TempDir()
	copyFile(t, file, filepath.Join(dir, "hive"))
	for _, ext := range []string{".LOG1", ".LOG2", ".LOG"} {
		if _, err := os.Stat(file + ext); err == nil {
			copyFile(t, file+ext, filepath.Join(dir, "hive"+ext))
		}
	}
	if err := s.Load(HKEY_USERS, "Mounted", filepath.Join(dir, "hive")); err != nil {
		var en Errno
		if !errors.As(err, &en) {
			t.Fatalf("load error without an Errno: %v", err)
		}
		if _, oerr := s.OpenKey(HKEY_USERS, "Mounted", 0, KEY_READ); oerr == nil {
			t.Errorf(`refused load (%v) left HKU\Mounted`, err)
		}
		out.load = err.Error()
		return out
	}
	// Through a load, a change (so that the file is written back) and a save. A dirty
	// hive is loaded with its logs applied: that is the state to compare with.
	want, err := hive.ReadFile(filepath.Join(dir, "hive"))
	if err != nil {
		t.Fatal(err)
	}
	mh, err := s.OpenKey(HKEY_USERS, "Mounted", 0, KEY_ALL_ACCESS)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := s.Save(mh, 5)
	if err != nil {
		t.Fatal(err)
	}
	lh, err := hive.Read(bytes.NewReader(loaded), int64(len(loaded)))
	if err != nil {
		t.Fatal(err)
	}
	out.loadKeys, out.loadValues = lh.Root.CountKeys(), lh.Root.CountValues()
	if err := s.SetValue(mh, "wolfpack-marker", REG_DWORD, dword(1)); err != nil {
		t.Fatal(err)
	}
	saved, err := s.Save(mh, 5)
	if err != nil {
		t.Fatal(err)
	}
	s.CloseKey(mh)
	got, err := hive.Read(bytes.NewReader(saved), int64(len(saved)))
	if err != nil {
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
	return out
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

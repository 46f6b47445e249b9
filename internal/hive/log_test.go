package hive

import (
	"os"
	"path/filepath"
	"testing"
)

// A dirty hive read with its logs must give what Windows recovered from them;
// read alone, it gives the primary file's older state.
func TestDirtyHives(t *testing.T) {
	dir := sharedHives(t)
	for _, c := range []struct {
		primary, recovered string
	}{
		{"NewDirtyHive1/NewDirtyHive", "NewDirtyHive1/RecoveredHive_Windows10"},
		{"OldDirtyHive/OldDirtyHive", "OldDirtyHive/RecoveredHive_Windows7"},
	} {
		want, err := readHiveFile(t, filepath.Join(dir, c.recovered))
		if err != nil {
			t.Fatalf("%s: %v", c.recovered, err)
		}
		got, err := ReadFile(filepath.Join(dir, c.primary))
		if err != nil {
			t.Fatalf("ReadFile(%s): %v", c.primary, err)
		}
		if !got.Recovered || got.Dirty {
			t.Errorf("%s: Recovered=%v Dirty=%v, want true false", c.primary, got.Recovered, got.Dirty)
		}
		if d := diffTrees(want.Root, got.Root, "", true); d != "" {
			t.Errorf("%s with logs differs from %s: %s", c.primary, c.recovered, d)
		}

		old, err := readHiveFile(t, filepath.Join(dir, c.primary))
		if err != nil {
			t.Fatalf("Read(%s): %v", c.primary, err)
		}
		if !old.Dirty || old.Recovered {
			t.Errorf("%s alone: Dirty=%v Recovered=%v, want true false", c.primary, old.Dirty, old.Recovered)
		}
		if d := diffTrees(want.Root, old.Root, "", true); d == "" {
			t.Errorf("%s alone equals the recovered hive; the logs should matter", c.primary)
		}

		// ReadWithLogs with the same files gives the same tree.
		primary, _ := os.ReadFile(filepath.Join(dir, c.primary))
		log1, _ := os.ReadFile(filepath.Join(dir, c.primary+".LOG1"))
		log2, _ := os.ReadFile(filepath.Join(dir, c.primary+".LOG2"))
		h, err := ReadWithLogs(primary, log1, log2)
		if err != nil || !h.Recovered {
			t.Fatalf("ReadWithLogs(%s): %v", c.primary, err)
		}
		if d := diffTrees(want.Root, h.Root, "", true); d != "" {
			t.Errorf("ReadWithLogs(%s): %s", c.primary, d)
		}
	}
}

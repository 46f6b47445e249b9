package hive

import (
	"bytes"
	"errors"
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

// readDirty returns the primary file and logs of a shared dirty hive.
func readDirty(t *testing.T, name string) (primary, log1, log2 []byte) {
	t.Helper()
	dir := sharedHives(t)
	var err error
	if primary, err = os.ReadFile(filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
	log1, _ = os.ReadFile(filepath.Join(dir, name+".LOG1"))
	log2, _ = os.ReadFile(filepath.Join(dir, name+".LOG2"))
	return primary, log1, log2
}

func TestLogEdgeCases(t *testing.T) {
	primary, log1, log2 := readDirty(t, "NewDirtyHive1/NewDirtyHive")
	full, err := ReadWithLogs(primary, log1, log2)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("no logs", func(t *testing.T) {
		h, err := ReadWithLogs(primary)
		if err != nil || !h.Dirty || h.Recovered {
			t.Fatalf("err %v, Dirty %v Recovered %v", err, h != nil && h.Dirty, h != nil && h.Recovered)
		}
	})
	t.Run("clean hive ignores logs", func(t *testing.T) {
		clean, _, _ := readDirty(t, "NewDirtyHive1/RecoveredHive_Windows10")
		h, err := ReadWithLogs(clean, log1, log2)
		if err != nil || h.Dirty || h.Recovered {
			t.Fatalf("err %v, %+v", err, h)
		}
	})
	t.Run("logs in either order", func(t *testing.T) {
		h, err := ReadWithLogs(primary, log2, log1)
		if err != nil || !h.Recovered {
			t.Fatal(err)
		}
		if d := diffTrees(full.Root, h.Root, "", true); d != "" {
			t.Error(d)
		}
	})
	t.Run("bad hash stops recovery", func(t *testing.T) {
		// LOG2 holds entries 3 to 5; spoil entry 3: only LOG1's entry 2 applies.
		bad := append([]byte(nil), log2...)
		bad[LogSectorSize+leHeaderSize+8+100] ^= 0xFF
		h, err := ReadWithLogs(primary, log1, bad)
		if err != nil || !h.Recovered {
			t.Fatalf("err %v", err)
		}
		only1, err := ReadWithLogs(primary, log1)
		if err != nil || !only1.Recovered {
			t.Fatal(err)
		}
		if d := diffTrees(only1.Root, h.Root, "", true); d != "" {
			t.Errorf("recovery did not stop after LOG1: %s", d)
		}
		if diffTrees(full.Root, only1.Root, "", true) == "" {
			t.Error("LOG2's entries change nothing; the test proves nothing")
		}
	})
	t.Run("invalid primary base block", func(t *testing.T) {
		// The base block is recovered from the log with the latest entries.
		bad := append([]byte(nil), primary...)
		bad[bbChecksum] ^= 0xFF
		if _, err := Read(bytes.NewReader(bad), int64(len(bad))); err == nil {
			t.Fatal("Read accepted a base block with a wrong checksum")
		}
		h, err := ReadWithLogs(bad, log1, log2)
		if err != nil || !h.Recovered || h.Dirty {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("damaged old log keeps the primary state", func(t *testing.T) {
		oldPrimary, oldLog, _ := readDirty(t, "OldDirtyHive/OldDirtyHive")
		h, err := ReadWithLogs(oldPrimary, oldLog[:LogSectorSize+600])
		if err != nil || !h.Dirty || h.Recovered || len(h.Damage) != 1 {
			t.Fatalf("err %v, %+v", err, h)
		}
		var fe *FormatError
		if !errors.As(h.Damage[0], &fe) {
			t.Errorf("damage %v is not a FormatError", h.Damage[0])
		}
	})
}

// With the single-log scheme, ReadFile finds path.LOG when there is no .LOG1/.LOG2.
func TestReadFileSingleLog(t *testing.T) {
	primary, log1, _ := readDirty(t, "OldDirtyHive/OldDirtyHive")
	dir := t.TempDir()
	path := filepath.Join(dir, "SYSTEM")
	if err := os.WriteFile(path, primary, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".LOG", log1, 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := ReadFile(path)
	if err != nil || !h.Recovered {
		t.Fatalf("ReadFile: %v (recovered %v)", err, h != nil && h.Recovered)
	}
	want, err := readHiveFile(t, filepath.Join(sharedHives(t), "OldDirtyHive", "RecoveredHive_Windows7"))
	if err != nil {
		t.Fatal(err)
	}
	if d := diffTrees(want.Root, h.Root, "", true); d != "" {
		t.Error(d)
	}

	// Without any log the primary's older state comes back, marked dirty.
	os.Remove(path + ".LOG")
	if h, err := ReadFile(path); err != nil || !h.Dirty || h.Recovered {
		t.Fatalf("without logs: %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("ReadFile of a missing file succeeded")
	}
}

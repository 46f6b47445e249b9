package hive

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds returns the shared hives and a few written ones, cut to their hive
// bins data size and to at most 64 KiB so that the fuzzer mutates them quickly.
func fuzzSeeds(f *testing.F) [][]byte {
	const maxSeed = 64 << 10
	dir := sharedHives(f)
	var seeds [][]byte
	for _, pattern := range []string{"*Hive*", "*/*Hive*"} {
		files, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil || len(b) < BaseBlockSize {
				continue
			}
			if end := BaseBlockSize + int(le32(b, bbHiveBinsDataSize)); end < len(b) {
				b = b[:end]
			}
			if len(b) <= maxSeed {
				seeds = append(seeds, b)
			}
		}
	}
	for _, minor := range []uint32{3, 5} {
		tree := testTree(600) // an index root over two leaves
		tree.Subkeys[0].Values = tree.Subkeys[0].Values[:15]
		tree.Subkeys[0].Values = append(tree.Subkeys[0].Values, Value{Name: "db", Data: make([]byte, BigDataSegment+100)})
		b, err := Marshal(tree, WriteOptions{Minor: minor})
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
		small, err := Marshal(&Key{Name: "r", Subkeys: []*Key{{Name: "k", Class: "c", Values: []Value{{Name: "v", Type: 1, Data: []byte("data data")}}}}}, WriteOptions{Minor: minor})
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, small)
	}
	return seeds
}

// FuzzRead feeds damaged hives to the reader: it must return a tree or a
// *FormatError, never panic or run away; a tree it returns must survive
// Write → Read unchanged.
func FuzzRead(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// ReadWithLogs (and ReadFile) decode a primary without logs on their own path.
		if _, err := ReadWithLogs(b); err != nil {
			if _, ok := err.(*FormatError); !ok {
				t.Fatalf("ReadWithLogs: error is %T, not *FormatError: %v", err, err)
			}
		}
		h, err := Read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if _, ok := err.(*FormatError); !ok {
				t.Fatalf("error is %T, not *FormatError: %v", err, err)
			}
			return
		}
		out, err := Marshal(h.Root, WriteOptions{})
		if err != nil {
			return // e.g. two subkeys whose names differ only in case
		}
		h2, err := Read(bytes.NewReader(out), int64(len(out)))
		if err != nil {
			t.Fatalf("re-reading a written hive: %v", err)
		}
		if d := diffTrees(sortedCopy(h.Root), h2.Root, "", false); d != "" {
			t.Fatalf("write/read changed the tree: %s", d)
		}
	})
}

// FuzzRecovery feeds damaged transaction logs to the recovery of the shared
// dirty hives. (Its name must not start with FuzzRead: -fuzz=FuzzRead has to
// match exactly one target.)
func FuzzRecovery(f *testing.F) {
	dir := sharedHives(f)
	primaries := map[bool][]byte{}
	for _, c := range []struct {
		newFormat bool
		path      string
	}{{true, "NewDirtyHive1/NewDirtyHive"}, {false, "OldDirtyHive/OldDirtyHive"}} {
		b, err := os.ReadFile(filepath.Join(dir, c.path))
		if err != nil {
			f.Fatal(err)
		}
		primaries[c.newFormat] = b
		for _, ext := range []string{".LOG1", ".LOG2"} {
			if l, err := os.ReadFile(filepath.Join(dir, c.path+ext)); err == nil && len(l) > 0 {
				f.Add(c.newFormat, l)
			}
		}
	}
	f.Fuzz(func(t *testing.T, newFormat bool, log []byte) {
		_, err := ReadWithLogs(primaries[newFormat], log)
		if err != nil {
			if _, ok := err.(*FormatError); !ok {
				t.Fatalf("error is %T, not *FormatError: %v", err, err)
			}
		}
	})
}

package hive

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"wolfpack/internal/utf16le"
)

// TestSharedHives reads every hive of the shared folder. The counts are those
// of hivexml in the folder's README.md.
func TestSharedHives(t *testing.T) {
	dir := sharedHives(t)
	for _, c := range []struct {
		file           string
		keys, values   int
		minor          uint32
		dirty          bool
		refuse         string // part of the FormatError text when the file is refused
		someKey, value string // a key path below the root and one of its value names
	}{
		{file: "BigDataHive", keys: 2, values: 2, minor: 5},
		{file: "BogusKeyNamesHive", keys: 3, minor: 3},
		{file: "CompHive", keys: 4, minor: 3},
		{file: "DeletedDataHive", keys: 2, values: 1, minor: 3},
		{file: "DupNameHive", keys: 2, minor: 3},
		{file: "EmptyHive", keys: 1, minor: 3},
		{file: "ExtendedASCIIHive", keys: 2, values: 1, minor: 3},
		{file: "InvalidParentHive", keys: 5003, minor: 3},
		{file: "ManySubkeysHive", keys: 5003, minor: 3},
		{file: "MultiSzHive", keys: 2, values: 2, minor: 3},
		{file: "NewDirtyHive1/NewDirtyHive", keys: 5, values: 2, minor: 3, dirty: true},
		{file: "NewDirtyHive1/RecoveredHive_Windows10", keys: 5, values: 1, minor: 3},
		{file: "NewFlagsHive", keys: 3, minor: 3},
		{file: "OffHive", keys: 1, minor: 5},
		{file: "OldDirtyHive/OldDirtyHive", keys: 5003, minor: 3, dirty: true},
		{file: "OldDirtyHive/RecoveredHive_Windows7", keys: 5003, values: 1, minor: 3},
		{file: "SlackHive", keys: 5003, minor: 3},
		{file: "StringValuesHive", keys: 2, values: 4, minor: 3},
		{file: "UnicodeHive", keys: 3, minor: 3},
		{file: "UpcaseHive", keys: 4, minor: 3},
		{file: "ValuesOrderHive", keys: 1, values: 3, minor: 3},
		{file: "WrongOrderHive", keys: 11, minor: 3},

		// Both peers refuse these.
		{file: "EffectiveSizeHive", refuse: "base block checksum mismatch"}, // made-up base block; its lists lie past the declared hive bins data size
		{file: "GarbageHive", refuse: "base block checksum mismatch"},       // a fragment behind a made-up base block
		{file: "TruncatedHive", refuse: "hive bins data size beyond end of file"},
		{file: "TruncatedNameHive", refuse: "key name beyond its cell"},

		// hivexml refuses these, regfexport lists them. Keys 2 and 3 share one
		// subkeys list (BadListHive) or one subkey (BadSubkeyHive): the file is a
		// graph, not a tree. We refuse on purpose, as hivex and Windows' own
		// checker do: the shared subkey's Parent field can name only one of its
		// two parents, and a tree built from it would make a change to one key
		// silently change the other when the hive is written back.
		{file: "BadListHive", refuse: "subkeys list referenced twice"},
		{file: "BadSubkeyHive", refuse: "key node referenced twice"},
	} {
		h, err := readHiveFile(t, filepath.Join(dir, c.file))
		if c.refuse != "" {
			var fe *FormatError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.refuse) || !strings.Contains(err.Error(), "at offset 0x") {
				t.Errorf("%s: err = %v, want a FormatError about %q", c.file, err, c.refuse)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		if k, v := h.Root.CountKeys(), h.Root.CountValues(); k != c.keys || v != c.values {
			t.Errorf("%s: %d keys %d values, want %d %d", c.file, k, v, c.keys, c.values)
		}
		if h.Major != 1 || h.Minor != c.minor || h.Dirty != c.dirty || h.Recovered || len(h.Damage) != 0 {
			t.Errorf("%s: version %d.%d dirty %v recovered %v damage %v", c.file, h.Major, h.Minor, h.Dirty, h.Recovered, h.Damage)
		}
	}
}

// TestSharedHiveContents checks decoded names and data against what the
// files are known to hold.
func TestSharedHiveContents(t *testing.T) {
	dir := sharedHives(t)
	read := func(name string) *Key {
		h, err := readHiveFile(t, filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return h.Root
	}

	// BigDataHive holds db values; they must come back whole.
	for _, v := range read("BigDataHive").Subkeys[0].Values {
		if len(v.Data) <= BigDataSegment {
			t.Errorf("BigDataHive: value %q has %d bytes, want big data", v.Name, len(v.Data))
		}
	}

	// Subkeys come in stored order, which is Windows' upper-case order.
	for _, name := range []string{"ManySubkeysHive", "UpcaseHive", "UnicodeHive", "CompHive"} {
		var walk func(k *Key)
		walk = func(k *Key) {
			sorted := append([]*Key(nil), k.Subkeys...)
			sortKeys(sorted)
			for i := range sorted {
				if sorted[i] != k.Subkeys[i] {
					t.Errorf("%s: subkeys of %q not in Windows order at %d: %q", name, k.Name, i, k.Subkeys[i].Name)
					return
				}
			}
			for _, s := range k.Subkeys {
				walk(s)
			}
		}
		walk(read(name))
	}

	// Latin-1 (compressed) and UTF-16 names, as hivexml decodes them.
	ext := read("ExtendedASCIIHive").Subkeys[0]
	if ext.Name != "ëigenaardig" || len(ext.Values) != 1 || ext.Values[0].Name != "ëigenaardig" ||
		string(ext.Values[0].Data) != string(utf16le.EncodeZ("ëigenaardig")) {
		t.Errorf("ExtendedASCIIHive: key %q values %+v", ext.Name, ext.Values)
	}
	uni := read("UnicodeHive")
	if len(uni.Subkeys) != 1 || uni.Subkeys[0].Name != "Привет" || len(uni.Subkeys[0].Subkeys) != 1 || uni.Subkeys[0].Subkeys[0].Name != "Ключ" {
		t.Errorf("UnicodeHive: %+v", uni.Subkeys)
	}

	// Security descriptors are self-relative (revision 1, SE_SELF_RELATIVE).
	root := read("EmptyHive")
	if len(root.Security) < 20 || root.Security[0] != 1 || le16(root.Security, 2)&0x8000 == 0 {
		t.Errorf("EmptyHive: root security descriptor % x", root.Security)
	}
	if root.Flags&KEY_HIVE_ENTRY == 0 {
		t.Errorf("EmptyHive: root flags %#x lack KEY_HIVE_ENTRY", root.Flags)
	}
}

// eofReaderAt returns io.EOF with the last bytes, as io.ReaderAt allows.
type eofReaderAt struct{ b []byte }

func (r eofReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n := copy(p, r.b[off:])
	if off+int64(n) == int64(len(r.b)) {
		return n, io.EOF
	}
	return n, nil
}

func TestReadAtEOF(t *testing.T) {
	b, err := Marshal(goldenTree(), WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Read(eofReaderAt{b}, int64(len(b))); err != nil {
		t.Fatalf("Read with io.EOF at the end: %v", err)
	}
	// A size larger than the data: the hive bins end inside the data, fine.
	if _, err := Read(bytes.NewReader(b), int64(len(b))+100); err != nil {
		t.Fatalf("Read with a larger size: %v", err)
	}
	// A file shorter than its size says: an I/O error, not a panic.
	if _, err := Read(bytes.NewReader(b[:5000]), int64(len(b))); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short file: %v", err)
	}
}

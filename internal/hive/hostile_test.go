package hive

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wolfpack/internal/regtype"
)

// Hand-damaged hives: each must be refused with a FormatError naming the
// damage, never a panic, a loop or a runaway allocation.

// cellOf returns the hive-bins offset of the cell at off of key path under
// the root of a written hive b (nk of the key, or its value vk for value != "").
func nkOf(t *testing.T, b []byte, path ...string) uint32 {
	t.Helper()
	r := &reader{b: b[BaseBlockSize:]}
	off := le32(b, bbRootCellOffset)
	for _, name := range path {
		c, _ := r.cell(off, "nk")
		list, _ := r.cell(le32(c, nkSubkeysList), "list")
		found := false
		for i := range int(le16(list, listNumElements)) {
			sub := le32(list, listElements+8*i)
			sc, _ := r.cell(sub, "nk")
			if string(sc[nkKeyName:nkKeyName+int(le16(sc, nkKeyNameLen))]) == name {
				off, found = sub, true
				break
			}
		}
		if !found {
			t.Fatalf("no key %q", name)
		}
	}
	return off
}

// vkOf returns the offset of value i of the key at nk.
func vkOf(b []byte, nk uint32, i int) uint32 {
	r := &reader{b: b[BaseBlockSize:]}
	c, _ := r.cell(nk, "nk")
	list, _ := r.cell(le32(c, nkValuesList), "values")
	return le32(list, 4*i)
}

// field returns the file position of a field of the cell at off.
func field(off uint32, f int) int { return BaseBlockSize + int(off) + 4 + f }

func hostileBase(t *testing.T) []byte {
	t.Helper()
	tree := &Key{Name: "root", Subkeys: []*Key{
		{Name: "a", Values: []Value{
			{Name: "small", Type: regtype.REG_BINARY, Data: []byte("0123456789")},
			{Name: "big", Type: regtype.REG_BINARY, Data: bytes.Repeat([]byte{7}, BigDataSegment+10)},
			{Name: "list", Type: regtype.REG_BINARY, Data: make([]byte, 16000)},
		}, Subkeys: []*Key{{Name: "child"}}},
		{Name: "b"},
	}}
	b, err := Marshal(tree, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHostileHives(t *testing.T) {
	for _, c := range []struct {
		name   string
		damage func(b []byte)
		want   string
	}{
		{"subkey is an ancestor (cycle)", func(b []byte) {
			child := nkOf(t, b, "a")
			c := &reader{b: b[BaseBlockSize:]}
			nk, _ := c.cell(child, "nk")
			list := le32(nk, nkSubkeysList)
			put32(b, field(list, listElements), le32(b, bbRootCellOffset)) // a\child -> root
		}, "key node referenced twice"},
		{"subkeys list points to itself through an index root", func(b []byte) {
			a := nkOf(t, b, "a")
			c := &reader{b: b[BaseBlockSize:]}
			nk, _ := c.cell(a, "nk")
			list := le32(nk, nkSubkeysList)
			put16(b, field(list, listSignature), sigRI)
			put32(b, field(list, listElements), list)
		}, "subkeys list referenced twice"},
		{"value count past its list", func(b []byte) {
			put32(b, field(nkOf(t, b, "a"), nkNumValues), 0xFFFFFFFF)
		}, "key values list shorter than the value count"},
		{"subkey count past its list", func(b []byte) {
			a := nkOf(t, b, "a")
			c := &reader{b: b[BaseBlockSize:]}
			nk, _ := c.cell(a, "nk")
			put16(b, field(le32(nk, nkSubkeysList), listNumElements), 0xFFFF)
		}, "subkeys list elements beyond its cell"},
		{"inline data longer than 4 bytes", func(b []byte) {
			put32(b, field(vkOf(b, nkOf(t, b, "a"), 0), vkDataSize), DataSizeInline|5)
		}, "inline value data longer than 4 bytes"},
		{"data size past its cell", func(b []byte) {
			put32(b, field(vkOf(b, nkOf(t, b, "a"), 0), vkDataSize), 1000)
		}, "value data beyond its cell"},
		{"offset outside the hive bins", func(b []byte) {
			put32(b, field(vkOf(b, nkOf(t, b, "a"), 0), vkDataOffset), 0x7FFFFFF0)
		}, "bad value data cell offset"},
		{"misaligned offset", func(b []byte) {
			put32(b, field(nkOf(t, b, "a"), nkValuesList), 0x23)
		}, "bad key values list cell offset"},
		{"key name past its cell", func(b []byte) {
			put16(b, field(nkOf(t, b, "b"), nkKeyNameLen), 0x7FFF)
		}, "key name beyond its cell"},
		{"free cell referenced", func(b []byte) {
			off := nkOf(t, b, "b")
			put32(b, BaseBlockSize+int(off), -le32(b, BaseBlockSize+int(off)))
		}, "cell is not allocated"},
		{"big data claims more than the file holds", func(b []byte) {
			// Point the db of "big" at a list of 4,000 copies of its first
			// segment: 65 MB from a 60 KB file.
			a := nkOf(t, b, "a")
			big, list := vkOf(b, a, 1), vkOf(b, a, 2)
			r := &reader{b: b[BaseBlockSize:]}
			vk, _ := r.cell(big, "vk")
			db := le32(vk, vkDataOffset)
			dbc, _ := r.cell(db, "db")
			segs, _ := r.cell(le32(dbc, dbSegmentsList), "segs")
			lvk, _ := r.cell(list, "vk")
			data := le32(lvk, vkDataOffset)
			for i := range 4000 {
				put32(b, field(data, 4*i), le32(segs, 0))
			}
			put16(b, field(db, dbNumSegments), 4000)
			put32(b, field(db, dbSegmentsList), data)
			put32(b, field(big, vkDataSize), 4000*BigDataSegment)
		}, "hive references more data than it holds"},
		{"bad hbin", func(b []byte) { copy(b[BaseBlockSize:], "hbim") }, "bad hive bin signature"},
		{"hbin size", func(b []byte) { put32(b, BaseBlockSize+hbinSize, 12345) }, "bad hive bin size"},
		{"version", func(b []byte) { put32(b, bbMinorVersion, 9) }, "unsupported minor version"},
		{"root is not a key", func(b []byte) { put32(b, bbRootCellOffset, vkOf(b, nkOf(t, b, "a"), 0)) }, "bad key node signature"},
	} {
		b := hostileBase(t)
		if _, err := Read(bytes.NewReader(b), int64(len(b))); err != nil {
			t.Fatalf("undamaged hive: %v", err)
		}
		c.damage(b)
		if c.name == "version" || c.name == "root is not a key" {
			put32(b, bbChecksum, baseBlockChecksum(b))
		}
		_, err := Read(bytes.NewReader(b), int64(len(b)))
		var fe *FormatError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "hive: ") {
			t.Errorf("%s: err = %v, want a FormatError about %q", c.name, err, c.want)
		}
	}
}

func TestWriteRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		tree *Key
	}{
		{"names equal but for case", &Key{Name: "r", Subkeys: []*Key{{Name: "Abc"}, {Name: "aBC"}}}},
		{"nil subkey", &Key{Name: "r", Subkeys: []*Key{nil}}},
		{"key name too long", &Key{Name: "r", Subkeys: []*Key{{Name: strings.Repeat("ж", 40000)}}}},
		{"too deep", deepTree(600)},
		{"cycle", cyclicTree()},
	} {
		if _, err := Marshal(c.tree, WriteOptions{}); !errors.Is(err, ErrWrite) {
			t.Errorf("%s: err = %v, want ErrWrite", c.name, err)
		}
	}
	for _, minor := range []uint32{2, 7} {
		if _, err := Marshal(&Key{Name: "r"}, WriteOptions{Minor: minor}); !errors.Is(err, ErrWrite) {
			t.Errorf("minor %d: err = %v", minor, err)
		}
	}
	if _, err := Marshal(nil, WriteOptions{}); !errors.Is(err, ErrWrite) {
		t.Errorf("nil root: err = %v", err)
	}
}

func deepTree(n int) *Key {
	root := &Key{Name: "r"}
	k := root
	for range n {
		s := &Key{Name: "d"}
		k.Subkeys = []*Key{s}
		k = s
	}
	return root
}

// cyclicTree has two keys that are each other's and their own subkeys: naive
// recursion would take 2^512 steps before any depth limit.
func cyclicTree() *Key {
	x, y := &Key{Name: "x"}, &Key{Name: "y"}
	x.Subkeys = []*Key{x, y}
	y.Subkeys = []*Key{x, y}
	return x
}

// A file shorter than a base block (reg load of a text file) is a FormatError at
// offset 0 on every read path, never a panic.
func TestShortFile(t *testing.T) {
	for _, n := range []int{0, 1, 19, BaseBlockSize - 1} {
		b := bytes.Repeat([]byte("x"), n)
		path := filepath.Join(t.TempDir(), "short.hiv")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		for name, read := range map[string]func() (*Hive, error){
			"ReadFile":     func() (*Hive, error) { return ReadFile(path) },
			"ReadWithLogs": func() (*Hive, error) { return ReadWithLogs(b, b) },
			"Read":         func() (*Hive, error) { return Read(bytes.NewReader(b), int64(n)) },
		} {
			_, err := read()
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Off != 0 || !strings.Contains(err.Error(), "smaller than a base block") {
				t.Errorf("%s of %d bytes: %v, want a FormatError at offset 0 naming the base block", name, n, err)
			}
		}
	}
}

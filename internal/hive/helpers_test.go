package hive

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wolfpack/internal/regtype"
	"wolfpack/internal/utf16le"
)

// sharedHives returns the shared folder of test hives (read-only: tests that need
// to write copy files into t.TempDir()).
func sharedHives(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "testdata", "hives")
	if out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output(); err == nil {
		dir = filepath.Join(strings.TrimSpace(string(out)), "..", "shared", "testdata", "hives")
	}
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		t.Fatalf("shared test hives missing (want ../shared/testdata/hives next to the repository): %v", err)
	}
	return dir
}

// readHiveFile reads a hive with Read (no logs).
func readHiveFile(t testing.TB, path string) (*Hive, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return Read(f, st.Size())
}

// diffTrees describes the first difference between two trees ("" when equal):
// names, classes, value names, types and data, subkeys in order. With flags,
// nk flags and security descriptors are compared too.
func diffTrees(a, b *Key, path string, flags bool) string {
	if a.Name != b.Name {
		return fmt.Sprintf("%s: name %q != %q", path, a.Name, b.Name)
	}
	path += `\` + a.Name
	if a.Class != b.Class {
		return fmt.Sprintf("%s: class %q != %q", path, a.Class, b.Class)
	}
	if !a.LastWrite.Equal(b.LastWrite) {
		return fmt.Sprintf("%s: last write %v != %v", path, a.LastWrite, b.LastWrite)
	}
	if flags && a.Flags != b.Flags {
		return fmt.Sprintf("%s: flags %#x != %#x", path, a.Flags, b.Flags)
	}
	if flags && !bytes.Equal(a.Security, b.Security) {
		return fmt.Sprintf("%s: security differs", path)
	}
	if len(a.Values) != len(b.Values) {
		return fmt.Sprintf("%s: %d values != %d", path, len(a.Values), len(b.Values))
	}
	for i := range a.Values {
		va, vb := a.Values[i], b.Values[i]
		if va.Name != vb.Name || va.Type != vb.Type || !bytes.Equal(va.Data, vb.Data) {
			return fmt.Sprintf("%s: value %d: %q type %d (%d bytes) != %q type %d (%d bytes)",
				path, i, va.Name, va.Type, len(va.Data), vb.Name, vb.Type, len(vb.Data))
		}
	}
	if len(a.Subkeys) != len(b.Subkeys) {
		return fmt.Sprintf("%s: %d subkeys != %d", path, len(a.Subkeys), len(b.Subkeys))
	}
	for i := range a.Subkeys {
		if d := diffTrees(a.Subkeys[i], b.Subkeys[i], path, flags); d != "" {
			return d
		}
	}
	return ""
}

// testTree builds the round-trip tree: every value type 0–11 and an odd type,
// Unicode and Latin-1 names, a default value, class names, 5,000 subkeys under
// one key, a 100 KB value (db in 1.5) and a symbolic link.
func testTree(manySubkeys int) *Key {
	ts := time.Date(2024, 3, 1, 12, 30, 45, 123456700, time.UTC)
	big := make([]byte, 100*1024)
	for i := range big {
		big[i] = byte(i*7 + i/251)
	}
	types := &Key{Name: "Types", LastWrite: ts, Class: "TypesClass", Values: []Value{
		{Name: "", Type: regtype.REG_SZ, Data: utf16le.EncodeZ("default value")},
		{Name: "none", Type: regtype.REG_NONE, Data: []byte{}},
		{Name: "sz", Type: regtype.REG_SZ, Data: utf16le.EncodeZ("hello, world")},
		{Name: "expand", Type: regtype.REG_EXPAND_SZ, Data: utf16le.EncodeZ(`%SystemRoot%\system32`)},
		{Name: "binary", Type: regtype.REG_BINARY, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{Name: "dword", Type: regtype.REG_DWORD, Data: []byte{0x78, 0x56, 0x34, 0x12}},
		{Name: "dwordbe", Type: regtype.REG_DWORD_BIG_ENDIAN, Data: []byte{0x12, 0x34, 0x56, 0x78}},
		{Name: "link", Type: regtype.REG_LINK, Data: utf16le.EncodeZ(`\Registry\Machine\Software`)[:50]},
		{Name: "multi", Type: regtype.REG_MULTI_SZ, Data: append(utf16le.EncodeZ("one"), utf16le.EncodeZ("two\x00")...)},
		{Name: "reslist", Type: regtype.REG_RESOURCE_LIST, Data: bytes.Repeat([]byte{0xAB}, 40)},
		{Name: "fullres", Type: regtype.REG_FULL_RESOURCE_DESCRIPTOR, Data: bytes.Repeat([]byte{0xCD}, 33)},
		{Name: "resreq", Type: regtype.REG_RESOURCE_REQUIREMENTS_LIST, Data: bytes.Repeat([]byte{0xEF}, 64)},
		{Name: "qword", Type: regtype.REG_QWORD, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
		{Name: "odd type", Type: 0x12345, Data: []byte{9, 8, 7}},
		{Name: "short", Type: regtype.REG_BINARY, Data: []byte{0xFF}},
		{Name: "big", Type: regtype.REG_BINARY, Data: big},
		{Name: "exactly16344", Type: regtype.REG_BINARY, Data: big[:BigDataSegment]},
		{Name: "16345", Type: regtype.REG_BINARY, Data: big[:BigDataSegment+1]},
	}}
	names := &Key{Name: "Names", LastWrite: ts, Subkeys: []*Key{
		{Name: "Ünïcödé Ŝtråñgé", LastWrite: ts, Values: []Value{{Name: "Ω значение 値", Type: regtype.REG_SZ, Data: utf16le.EncodeZ("ünicode ✓")}}},
		{Name: "Latin-1 ÀÉÎÕÜ ßÿ", LastWrite: ts, Class: "Klasse ñ", Values: []Value{{Name: "café", Type: regtype.REG_DWORD, Data: []byte{1, 0, 0, 0}}}},
		{Name: "日本語キー", LastWrite: ts},
		{Name: "emoji 😀", LastWrite: ts},
		{Name: "abc", LastWrite: ts},
		{Name: "ABD", LastWrite: ts},
		{Name: "_under", LastWrite: ts},
		{Name: "Zed", LastWrite: ts},
	}}
	many := &Key{Name: "Many", LastWrite: ts}
	for i := range manySubkeys {
		many.Subkeys = append(many.Subkeys, &Key{Name: fmt.Sprintf("Sub%05d", (i*7919)%manySubkeys), LastWrite: ts})
	}
	link := &Key{Name: "Link", LastWrite: ts, Flags: KEY_SYM_LINK, Values: []Value{
		{Name: "SymbolicLinkValue", Type: regtype.REG_LINK, Data: utf16le.EncodeZ(`\Registry\Machine\Software\Types`)[:62]},
	}}
	return &Key{Name: "ROOT", LastWrite: ts, Subkeys: []*Key{types, names, many, link}}
}

// sortedCopy returns the tree as Read will give it back: subkeys in Windows order.
func sortedCopy(k *Key) *Key {
	c := *k
	c.Subkeys = nil
	for _, s := range k.Subkeys {
		c.Subkeys = append(c.Subkeys, sortedCopy(s))
	}
	sortKeys(c.Subkeys)
	return &c
}

package hive

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"wolfpack/internal/regtype"
	"wolfpack/internal/utf16le"
)

// The benchmark hive: 100 keys of 1,000 subkeys each (100,101 keys with the
// root) and 5 values on every leaf key (500,000 values) of the usual types.
var benchTree = sync.OnceValue(func() *Key {
	ts := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	root := &Key{Name: "BENCH", LastWrite: ts}
	for i := range 100 {
		group := &Key{Name: fmt.Sprintf("Group %03d", i), LastWrite: ts, Subkeys: make([]*Key, 1000)}
		for j := range group.Subkeys {
			n := i*1000 + j
			q := make([]byte, 8)
			binary.LittleEndian.PutUint64(q, uint64(n)*0x9E3779B97F4A7C15)
			group.Subkeys[j] = &Key{Name: fmt.Sprintf("Key %06d", n), LastWrite: ts, Values: []Value{
				{Name: "", Type: regtype.REG_SZ, Data: utf16le.EncodeZ(fmt.Sprintf("default value of key %d", n))},
				{Name: "DisplayName", Type: regtype.REG_SZ, Data: utf16le.EncodeZ(fmt.Sprintf("Component number %d", n))},
				{Name: "Start", Type: regtype.REG_DWORD, Data: []byte{byte(n), byte(n >> 8), 0, 0}},
				{Name: "ImagePath", Type: regtype.REG_EXPAND_SZ, Data: utf16le.EncodeZ(fmt.Sprintf(`%%SystemRoot%%\system32\drivers\d%d.sys`, n))},
				{Name: "Stamp", Type: regtype.REG_QWORD, Data: q},
			}}
		}
		root.Subkeys = append(root.Subkeys, group)
	}
	return root
})

var benchHive = sync.OnceValues(func() ([]byte, error) {
	return Marshal(benchTree(), WriteOptions{})
})

// benchFile writes the benchmark hive into the benchmark's temporary directory.
func benchFile(b *testing.B) (string, []byte) {
	b.Helper()
	data, err := benchHive()
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "bench.hive")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	return path, data
}

// BenchmarkRead parses the whole tree: every key, value name and value data.
func BenchmarkRead(b *testing.B) {
	_, data := benchFile(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		h, err := Read(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		if h.Root.CountValues() != 500_000 {
			b.Fatal("wrong value count")
		}
	}
}

// BenchmarkWrite encodes the tree (target: under a second).
func BenchmarkWrite(b *testing.B) {
	tree := benchTree()
	b.ReportAllocs()
	for b.Loop() {
		data, err := Marshal(tree, WriteOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(data)))
	}
}

// benchPeer times an external tool that reads the same file and prints all of it (output
// discarded). These are not Read's like-for-like peers: Read only decodes the tree into
// memory, while hivexml and regfexport decode it and print every key and value as text.
// They are kept as a reference for reading; the like-for-like comparison, a hive file
// printed as .reg text by Wolfpack, is internal/cli/regcmd's BenchmarkExportHive and
// BenchmarkRegExportHiveFile beside the same two tools.
func benchPeer(b *testing.B, name string) {
	path, data := benchFile(b)
	if _, err := exec.LookPath(name); err != nil {
		b.Fatalf("%s not installed: %v", name, err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		cmd := exec.Command(name, path)
		cmd.Stdout, cmd.Stderr = nil, nil // to /dev/null
		if err := cmd.Run(); err != nil {
			b.Fatalf("%s: %v", name, err)
		}
	}
}

// BenchmarkPeerHivexml runs hivex's hivexml (XML dump of the whole hive: decode and
// print, not decode only; see benchPeer).
func BenchmarkPeerHivexml(b *testing.B) { benchPeer(b, "hivexml") }

// BenchmarkPeerRegfexport runs libregf's regfexport (text dump of the whole hive: decode
// and print, not decode only; see benchPeer).
func BenchmarkPeerRegfexport(b *testing.B) { benchPeer(b, "regfexport") }

package regcmd

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"wolfpack/internal/hive"
	"wolfpack/internal/regfile"
	"wolfpack/internal/regtype"
	"wolfpack/registry"
)

// Issue 3's export benchmark: a hive of 100,000 keys and 500,000 values read and written
// out as .reg text, by Go code (BenchmarkExportHive), by the reg command end to end
// (BenchmarkRegLoadExport; BenchmarkRegExport without the load) and by the peers regfexport and hivexml on the same file, in
// one run:
//
//	go test -run '^$' -bench . -benchtime=3x ./internal/cli/regcmd

// benchHive is internal/hive's benchmark hive: 100 keys of 1,000 subkeys each (100,101
// keys with the root) and 5 values on every leaf key (500,000 values), version 1.5.
var benchHive = sync.OnceValues(func() ([]byte, error) {
	ts := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	sz := func(s string) []byte {
		u := utf16.Encode([]rune(s + "\x00"))
		b := make([]byte, 2*len(u))
		for i, c := range u {
			binary.LittleEndian.PutUint16(b[2*i:], c)
		}
		return b
	}
	root := &hive.Key{Name: "BENCH", LastWrite: ts}
	for i := range 100 {
		group := &hive.Key{Name: fmt.Sprintf("Group %03d", i), LastWrite: ts, Subkeys: make([]*hive.Key, 1000)}
		for j := range group.Subkeys {
			n := i*1000 + j
			q := binary.LittleEndian.AppendUint64(nil, uint64(n)*0x9E3779B97F4A7C15)
			group.Subkeys[j] = &hive.Key{Name: fmt.Sprintf("Key %06d", n), LastWrite: ts, Values: []hive.Value{
				{Name: "", Type: regtype.REG_SZ, Data: sz(fmt.Sprintf("default value of key %d", n))},
				{Name: "DisplayName", Type: regtype.REG_SZ, Data: sz(fmt.Sprintf("Component number %d", n))},
				{Name: "Start", Type: regtype.REG_DWORD, Data: []byte{byte(n), byte(n >> 8), 0, 0}},
				{Name: "ImagePath", Type: regtype.REG_EXPAND_SZ, Data: sz(fmt.Sprintf(`%%SystemRoot%%\system32\drivers\d%d.sys`, n))},
				{Name: "Stamp", Type: regtype.REG_QWORD, Data: q},
			}}
		}
		root.Subkeys = append(root.Subkeys, group)
	}
	return hive.Marshal(root, hive.WriteOptions{})
})

// benchHiveFile writes the benchmark hive into dir.
func benchHiveFile(b *testing.B, dir string) (string, int64) {
	b.Helper()
	data, err := benchHive()
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "bench.hiv")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	return path, int64(len(data))
}

// BenchmarkExportHive reads the hive file and writes the whole tree as a regedit 5.00
// .reg file (UTF-16LE) to io.Discard: hive.ReadFile, then the section writer reg export
// uses.
func BenchmarkExportHive(b *testing.B) {
	path, size := benchHiveFile(b, b.TempDir())
	b.SetBytes(size)
	b.ReportAllocs()
	top := KeyName{Root: HKLM, Path: "BENCH"}
	for b.Loop() {
		hv, err := hive.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		bw := bufio.NewWriterSize(io.Discard, 64<<10)
		w := regfile.NewWriter(bw, regfile.Regedit5)
		var vals []registry.Value
		var walk func(KeyName, *hive.Key) error
		walk = func(k KeyName, hk *hive.Key) error {
			vals = vals[:0]
			for _, v := range hk.Values {
				vals = append(vals, registry.Value(v))
			}
			if err := writeSection(w, k, vals); err != nil {
				return err
			}
			for _, sub := range hk.Subkeys {
				if err := walk(k.Child(sub.Name), sub); err != nil {
					return err
				}
			}
			return nil
		}
		if err := walk(top, hv.Root); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		if err := bw.Flush(); err != nil {
			b.Fatal(err)
		}
	}
}

// regChildEnv makes the test binary the reg command (its arguments follow), so that the
// benchmarks run reg as its own process against the registry served by the benchmark.
const regChildEnv = "WOLFPACK_BENCH_REG"

func TestMain(m *testing.M) {
	if os.Getenv(regChildEnv) != "" {
		os.Exit(Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// reg runs the reg command as a child process against h's registry.
func (h *harness) reg(b *testing.B, args ...string) {
	b.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), regChildEnv+"=1", "WOLFPACK_DATA="+h.dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("reg %v: %v\n%s", args, err, out)
	}
}

// BenchmarkRegLoadExport is the reg command end to end, each step its own reg process
// against a registry served on a socket by the benchmark's process (the daemon's part):
// reg load HKLM\Bench FILE, reg export HKLM\Bench OUT /y, reg unload HKLM\Bench. The
// daemon reads the hive file; reg receives the subtree and writes the .reg file.
func BenchmarkRegLoadExport(b *testing.B) {
	h := newHarness(b)
	path, size := benchHiveFile(b, h.dir)
	out := filepath.Join(h.dir, "bench.reg")
	b.SetBytes(size)
	for b.Loop() {
		h.reg(b, "load", `HKLM\Bench`, path)
		h.reg(b, "export", `HKLM\Bench`, out, "/y")
		h.reg(b, "unload", `HKLM\Bench`)
	}
	b.StopTimer()
	fi, err := os.Stat(out)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(fi.Size())/(1<<20), "MiB-of-.reg")
}

// BenchmarkRegExport is reg export alone, of the hive loaded once before: the daemon's
// snapshot of the subtree, its transfer, and the .reg file written by reg.
func BenchmarkRegExport(b *testing.B) {
	h := newHarness(b)
	path, size := benchHiveFile(b, h.dir)
	out := filepath.Join(h.dir, "bench.reg")
	b.SetBytes(size)
	h.ok(`load HKLM\Bench ` + path)
	for b.Loop() {
		h.reg(b, "export", `HKLM\Bench`, out, "/y")
	}
}

// BenchmarkRegExportHiveFile is `reg export KEY OUT /hive:FILE`, end to end as its own
// process: reg reads the hive file (no node involved) and writes the .reg file — the
// same job as hivexml and regfexport.
func BenchmarkRegExportHiveFile(b *testing.B) {
	h := newHarness(b)
	path, size := benchHiveFile(b, h.dir)
	out := filepath.Join(h.dir, "bench.reg")
	b.SetBytes(size)
	for b.Loop() {
		h.reg(b, "export", `HKLM\Bench`, out, "/y", "/hive:"+path)
	}
}

// benchPeer times an external reader of the same file, output discarded.
func benchPeer(b *testing.B, name string) {
	path, size := benchHiveFile(b, b.TempDir())
	if _, err := exec.LookPath(name); err != nil {
		b.Fatalf("%s not installed (the test command installs it): %v", name, err)
	}
	b.SetBytes(size)
	for b.Loop() {
		cmd := exec.Command(name, path)
		cmd.Stdout, cmd.Stderr = nil, nil // to /dev/null
		if err := cmd.Run(); err != nil {
			b.Fatalf("%s: %v", name, err)
		}
	}
}

// BenchmarkPeerRegfexport runs libregf's regfexport (text dump of the whole hive).
func BenchmarkPeerRegfexport(b *testing.B) { benchPeer(b, "regfexport") }

// BenchmarkPeerHivexml runs hivex's hivexml (XML dump of the whole hive).
func BenchmarkPeerHivexml(b *testing.B) { benchPeer(b, "hivexml") }

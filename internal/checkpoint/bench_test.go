package checkpoint

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"wolfpack/internal/clusterdb"
	"wolfpack/internal/registry"
)

// benchNode is a node for benchmarks: a registry, a program session that writes to it,
// and a Manager on a real etcd store.
type benchNode struct {
	reg       *registry.Registry
	prog      *registry.Session
	m         *Manager
	committed chan clusterdb.CheckpointVersion
}

func newBenchNode(tb testing.TB, name string, store Store) *benchNode {
	tb.Helper()
	reg := registry.OpenMemory(registry.Options{})
	tb.Cleanup(func() { reg.Close() })
	s := reg.NewSession(registry.Owner{PID: 1, Exe: "wolfpackd"})
	prog := reg.NewSession(registry.Owner{PID: 2, Exe: "program"})
	n := &benchNode{reg: reg, prog: prog, committed: make(chan clusterdb.CheckpointVersion, 1024)}
	n.m = New(Config{Node: name, Registry: NewSessionRegistry(s), Store: store,
		Committed: func(_, _ string, v clusterdb.CheckpointVersion) { n.committed <- v }})
	tb.Cleanup(func() { n.m.Close(); s.Close(); prog.Close() })
	return n
}

func (n *benchNode) create(tb testing.TB, path string) registry.Handle {
	tb.Helper()
	h, _, err := n.prog.CreatePath(path, registry.CreateOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// fill makes keys subkeys under HKLM\key, each with two values, and returns the count.
func (n *benchNode) fill(tb testing.TB, key string, keys, valueSize int) {
	tb.Helper()
	per := 100
	for i := 0; i < keys; i++ {
		path := fmt.Sprintf(`HKLM\%s\Group%03d\Key%05d`, key, i/per, i)
		h := n.create(tb, path)
		if err := n.prog.SetValue(h, "Name", registry.REG_SZ, utf16z(path)); err != nil {
			tb.Fatal(err)
		}
		data := randomBytes(valueSize, uint64(i))
		if err := n.prog.SetValue(h, "Data", registry.REG_BINARY, data); err != nil {
			tb.Fatal(err)
		}
		n.prog.CloseKey(h)
	}
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// BenchmarkChangeToCommit measures the time from a registry change in a checkpointed
// subtree (50 keys) to the commit of the new version in etcd (save, digest, fenced
// transaction). Busy: changes come as fast as commits allow, so each waits out the
// 100 ms debounce. Quiet: each change follows 150 ms without one, so it is captured at
// once (the leading edge). The peer is BenchmarkFencedPut.
func BenchmarkChangeToCommit(b *testing.B) {
	for _, quiet := range []bool{false, true} {
		name := "busy"
		if quiet {
			name = "quiet"
		}
		b.Run(name, func(b *testing.B) { benchChangeToCommit(b, quiet) })
	}
}

func benchChangeToCommit(b *testing.B, quiet bool) {
	cli := startEtcd(b)
	store := clusterdb.NewCheckpointStore(cli)
	f := takeOwnership(b, cli, "G", "N1")
	n := newBenchNode(b, "N1", store)
	n.fill(b, imcKey, 50, 64)
	res := Resource{Name: "R", Group: "G", Keys: []string{imcKey}}
	ctx := context.Background()
	n.m.Online(ctx, res, f)
	<-n.committed // the first capture
	h := n.create(b, `HKLM\`+imcKey+`\Parameters`)
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if quiet {
			b.StopTimer()
			time.Sleep(150 * time.Millisecond)
			b.StartTimer()
		}
		start := time.Now()
		if err := n.prog.SetValue(h, "Counter", registry.REG_DWORD, []byte{byte(i), byte(i >> 8), 0, 1}); err != nil {
			b.Fatal(err)
		}
		// The first commit of a capture that started after the change.
		for v := range n.committed {
			if !v.Time.Before(start) {
				break
			}
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(float64(percentile(lat, 0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99-ms")
}

// BenchmarkFencedPut is the peer of BenchmarkChangeToCommit: committing the same hive
// bytes straight to the store, without the registry, the digest or the debounce.
func BenchmarkFencedPut(b *testing.B) {
	cli := startEtcd(b)
	store := clusterdb.NewCheckpointStore(cli)
	f := takeOwnership(b, cli, "G", "N1")
	n := newBenchNode(b, "N1", store)
	n.fill(b, imcKey, 50, 64)
	data, err := n.m.cfg.Registry.Save(context.Background(), imcKey)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := store.Put(ctx, f, "R", imcKey, data, clusterdb.CheckpointVersion{Node: "N1"}, 10); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(float64(percentile(lat, 0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99-ms")
}

// BenchmarkRestore10k measures BeforeOnline for a 10,000-key subtree: reading the newest
// version from etcd and restoring it into the registry. The peer,
// BenchmarkRegistryRestore10k, is the registry's restore of the same bytes alone.
func BenchmarkRestore10k(b *testing.B) {
	cli := startEtcd(b)
	store := clusterdb.NewCheckpointStore(cli)
	f := takeOwnership(b, cli, "G", "N1")
	src := newBenchNode(b, "N1", store)
	src.fill(b, `SOFTWARE\Big`, 10000, 16)
	res := Resource{Name: "R", Group: "G", Keys: []string{`SOFTWARE\Big`}}
	ctx := context.Background()
	src.m.Online(ctx, res, f)
	v := <-src.committed
	b.Logf("10,000-key checkpoint: %d bytes in %d chunks", v.Size, v.Chunks)
	dst := newBenchNode(b, "N2", store)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := dst.m.BeforeOnline(ctx, res, f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRegistryRestore10k(b *testing.B) {
	src := newBenchNode(b, "N1", newFakeStore())
	src.fill(b, `SOFTWARE\Big`, 10000, 16)
	data, err := src.m.cfg.Registry.Save(context.Background(), `SOFTWARE\Big`)
	if err != nil {
		b.Fatal(err)
	}
	dst := newBenchNode(b, "N2", newFakeStore())
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := dst.m.cfg.Registry.Restore(ctx, `SOFTWARE\Big`, data, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCapture64MiB and BenchmarkRestore64MiB move a 64 MiB subtree (64 keys of
// 1 MiB values) through etcd in 1 MiB chunks.
func BenchmarkCapture64MiB(b *testing.B) {
	cli := startEtcd(b)
	store := clusterdb.NewCheckpointStore(cli)
	f := takeOwnership(b, cli, "G", "N1")
	src := newBenchNode(b, "N1", store)
	src.fill(b, `SOFTWARE\Huge`, 64, 1<<20)
	ctx := context.Background()
	res := Resource{Name: "R", Group: "G", Keys: []string{`SOFTWARE\Huge`}}
	data, err := src.m.cfg.Registry.Save(ctx, `SOFTWARE\Huge`)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// A capture: save, digest, chunked fenced commit.
		rr := &runningResource{res: res, fence: f, policy: Policy{History: 2}, keys: map[string]*keyState{}, live: true}
		k := newKeyState(`SOFTWARE\Huge`)
		if err := src.m.captureKey(ctx, rr, k); err != nil {
			b.Fatal(err)
		}
		<-src.committed
	}
}

func BenchmarkRestore64MiB(b *testing.B) {
	cli := startEtcd(b)
	store := clusterdb.NewCheckpointStore(cli)
	f := takeOwnership(b, cli, "G", "N1")
	src := newBenchNode(b, "N1", store)
	src.fill(b, `SOFTWARE\Huge`, 64, 1<<20)
	ctx := context.Background()
	res := Resource{Name: "R", Group: "G", Keys: []string{`SOFTWARE\Huge`}}
	src.m.Online(ctx, res, f)
	v := <-src.committed
	src.m.Offline(ctx, res, f)
	dst := newBenchNode(b, "N2", store)
	b.SetBytes(v.Size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := dst.m.BeforeOnline(ctx, res, f); err != nil {
			b.Fatal(err)
		}
	}
}

package registry

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BenchmarkGetValue: QueryValue in-process, all cores (b.RunParallel), each goroutine its
// own session and handle, as the socket server's per-connection goroutines do.
func BenchmarkGetValue(b *testing.B) {
	r := OpenMemory(Options{})
	defer r.Close()
	setup := r.NewSession(Owner{Exe: "bench"})
	h, _, _ := setup.CreatePath(`HKLM\SOFTWARE\Bench`, CreateOptions{})
	for i := range 16 {
		setup.SetValue(h, "Value"+strconv.Itoa(i), REG_DWORD, dword(uint32(i)))
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		s := r.NewSession(Owner{Exe: "bench"})
		h, err := s.OpenPath(`HKLM\SOFTWARE\Bench`)
		if err != nil {
			b.Error(err)
			return
		}
		i := 0
		for pb.Next() {
			if _, _, err := s.QueryValue(h, "Value7"); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkPeerRWMutexMap is the floor GetValue is compared with: a read-locked map
// lookup plus a copy of the data, nothing else.
func BenchmarkPeerRWMutexMap(b *testing.B) {
	var mu sync.RWMutex
	m := map[string][]byte{}
	for i := range 16 {
		m["VALUE"+strconv.Itoa(i)] = dword(uint32(i))
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.RLock()
			v := m["VALUE7"]
			mu.RUnlock()
			_ = append([]byte(nil), v...)
		}
	})
}

// BenchmarkSetValue: SetValue in-process on a persistent registry (journal record
// appended, made durable lazily), all cores.
func BenchmarkSetValue(b *testing.B) {
	r, err := Open(context.Background(), b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		s := r.NewSession(Owner{Exe: "bench"})
		h, _, err := s.CreatePath(fmt.Sprintf(`HKLM\SOFTWARE\Bench\%d`, n.Add(1)), CreateOptions{})
		if err != nil {
			b.Error(err)
			return
		}
		data := dword(1)
		for pb.Next() {
			if err := s.SetValue(h, "Value", REG_DWORD, data); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkOpenClose: OpenKey of a 4-level path through the CurrentControlSet link, then
// CloseKey, all cores.
func BenchmarkOpenClose(b *testing.B) {
	r := OpenMemory(Options{})
	defer r.Close()
	setup := r.NewSession(Owner{Exe: "bench"})
	setup.CreatePath(`HKLM\SYSTEM\CurrentControlSet\Services\Bench\Parameters`, CreateOptions{})
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		s := r.NewSession(Owner{Exe: "bench"})
		for pb.Next() {
			h, err := s.OpenKey(HKEY_LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Services\Bench\Parameters`, 0, KEY_READ)
			if err != nil {
				b.Error(err)
				return
			}
			s.CloseKey(h)
		}
	})
}

// BenchmarkOpenCloseAccessCheck is BenchmarkOpenClose for an unprivileged user (uid
// 65534: the check walks the key's inherited DACL) with the access checks on and, as the
// peer, off (Options.NoAccessChecks): the difference is the check's cost in the engine.
func BenchmarkOpenCloseAccessCheck(b *testing.B) {
	for _, checks := range []string{"on", "off"} {
		b.Run("checks="+checks, func(b *testing.B) {
			r := OpenMemory(Options{NoAccessChecks: checks == "off"})
			defer r.Close()
			setup := r.NewSession(Owner{Exe: "bench"})
			setup.CreatePath(`HKLM\SYSTEM\CurrentControlSet\Services\Bench\Parameters`, CreateOptions{})
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				s := r.NewSession(Owner{UID: 65534, GIDs: []int{65534}, Exe: "bench"})
				for pb.Next() {
					h, err := s.OpenKey(HKEY_LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Services\Bench\Parameters`, 0, KEY_READ)
					if err != nil {
						b.Error(err)
						return
					}
					s.CloseKey(h)
				}
			})
		})
	}
}

// flushedWrites runs b.N SetValue+Flush pairs spread over clients goroutines, each with
// its own session and key.
func flushedWrites(b *testing.B, clients int, flush bool, opts Options) {
	r, err := Open(context.Background(), b.TempDir(), opts)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for c := range clients {
		wg.Go(func() {
			s := r.NewSession(Owner{PID: c, Exe: "bench"})
			h, _, err := s.CreatePath(fmt.Sprintf(`HKLM\SOFTWARE\Bench\C%d`, c), CreateOptions{})
			if err != nil {
				b.Error(err)
				return
			}
			data := make([]byte, 64)
			for next.Add(1) <= int64(b.N) {
				if err := s.SetValue(h, "Value", REG_BINARY, data); err != nil {
					b.Error(err)
					return
				}
				if flush {
					if err := s.Flush(ctx, h); err != nil {
						b.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
}

// BenchmarkFlushedWrites32: 32 concurrent clients, each SetValue then Flush (durable on
// return). Target ≥ 20,000 writes/s.
func BenchmarkFlushedWrites32(b *testing.B) { flushedWrites(b, 32, true, Options{}) }

// BenchmarkFlushedWrites32NoGather is the same with the writer committing as soon as a
// Flush asks, without yielding first to let the other clients join the batch.
func BenchmarkFlushedWrites32NoGather(b *testing.B) {
	flushedWrites(b, 32, true, Options{noGather: true})
}

// BenchmarkFlushedWrites32Depth2 is the same with up to two fdatasyncs at a time.
func BenchmarkFlushedWrites32Depth2(b *testing.B) {
	flushedWrites(b, 32, true, Options{syncDepth: 2})
}

// BenchmarkFlushedWrites32Append is the same with the journal appended to (the file grows
// at every commit) instead of written into zero-filled space.
func BenchmarkFlushedWrites32Append(b *testing.B) {
	flushedWrites(b, 32, true, Options{noPrealloc: true})
}

// BenchmarkFlushedWrites1: one client, SetValue+Flush: one fsync per write.
func BenchmarkFlushedWrites1(b *testing.B) { flushedWrites(b, 1, true, Options{}) }

// BenchmarkUnflushedWrites32: the same 32 clients without Flush (lazy durability).
func BenchmarkUnflushedWrites32(b *testing.B) { flushedWrites(b, 32, false, Options{}) }

// BenchmarkPeerBboltBatch32 is the peer: bbolt alone, 32 clients each doing one
// db.Batch put (durable on return). bbolt starts a batch's commit when MaxBatchSize
// (1,000) calls have joined it or MaxBatchDelay after its first call; with 32 clients the
// size is never reached, so the delay decides. Its default, 10 ms, would measure that
// timer rather than bbolt's commit, so the peer runs with the delays a user who tuned
// bbolt for latency would set: none (each batch starts at once), 10 µs and 100 µs. bbolt's
// default (10 ms) is measured last, for reference.
func BenchmarkPeerBboltBatch32(b *testing.B) {
	for _, delay := range []time.Duration{0, 10 * time.Microsecond, 100 * time.Microsecond, 10 * time.Millisecond} {
		b.Run(fmt.Sprintf("delay=%dus", delay.Microseconds()), func(b *testing.B) { bboltBatch(b, 32, delay) })
	}
}

func bboltBatch(b *testing.B, clients int, delay time.Duration) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "peer.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.MaxBatchDelay = delay
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for c := range clients {
		wg.Go(func() {
			k := []byte(fmt.Sprintf("C%d", c))
			data := make([]byte, 64)
			for next.Add(1) <= int64(b.N) {
				if err := db.Batch(func(tx *bolt.Tx) error { return tx.Bucket([]byte("b")).Put(k, data) }); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
}

// tenK builds HKLM\SOFTWARE\Src with 10,000 keys (100 × 100, two values each) and
// returns its saved hive.
func tenK(b *testing.B, s *Session) []byte {
	for i := range 100 {
		for j := range 99 {
			h, _, err := s.CreatePath(fmt.Sprintf(`HKLM\SOFTWARE\Src\Group%03d\Key%03d`, i, j), CreateOptions{})
			if err != nil {
				b.Fatal(err)
			}
			s.SetValue(h, "Name", REG_SZ, sz(fmt.Sprintf("key %d/%d", i, j)))
			s.SetValue(h, "Number", REG_DWORD, dword(uint32(i*100+j)))
			s.CloseKey(h)
		}
	}
	src, _ := s.OpenPath(`HKLM\SOFTWARE\Src`)
	saved, err := s.Save(src, 5)
	if err != nil {
		b.Fatal(err)
	}
	return saved
}

// BenchmarkRestore10k: RegRestoreKey of a 10,000-key subtree over an existing one on a
// persistent registry (parse, build, swap, one journal record). Target ≤ 100 ms.
func BenchmarkRestore10k(b *testing.B) {
	r, err := Open(context.Background(), b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	s := r.NewSession(Owner{Exe: "bench"})
	saved := tenK(b, s)
	dst, _, _ := s.CreatePath(`HKLM\SOFTWARE\Dst`, CreateOptions{})
	b.ResetTimer()
	for range b.N {
		if err := s.Restore(context.Background(), dst, saved, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSave10k is the peer of Restore10k: RegSaveKey of the same subtree.
func BenchmarkSave10k(b *testing.B) {
	r := OpenMemory(Options{})
	defer r.Close()
	s := r.NewSession(Owner{Exe: "bench"})
	tenK(b, s)
	src, _ := s.OpenPath(`HKLM\SOFTWARE\Src`)
	b.ResetTimer()
	for range b.N {
		if _, err := s.Save(src, 5); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen100k: Open of a store holding 100,000 keys (200,000 values) compacted in
// bbolt — the registry's part of a daemon start.
func BenchmarkOpen100k(b *testing.B) {
	dir := b.TempDir()
	r, err := Open(context.Background(), dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	s := r.NewSession(Owner{Exe: "bench"})
	for i := range 1000 {
		for j := range 100 {
			h, _, err := s.CreatePath(fmt.Sprintf(`HKLM\SOFTWARE\Big\G%04d\K%03d`, i, j), CreateOptions{})
			if err != nil {
				b.Fatal(err)
			}
			s.SetValue(h, "Name", REG_SZ, sz("value"))
			s.SetValue(h, "Number", REG_DWORD, dword(uint32(j)))
			s.CloseKey(h)
		}
	}
	if err := r.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		r, err := Open(context.Background(), dir, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		r.Close()
		b.StartTimer()
	}
}

// BenchmarkCompact100k: one compaction of a 100,000-key store (snapshot under the read
// lock, bbolt transaction, journal switch), after one small write (a compaction with
// nothing new to write returns at once). ms-locked/op is the time the compaction itself
// held the tree's read lock, the writers' only pause, as Compact measured it.
func BenchmarkCompact100k(b *testing.B) {
	r, err := Open(context.Background(), b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	s := r.NewSession(Owner{Exe: "bench"})
	for i := range 1000 {
		for j := range 100 {
			h, _, err := s.CreatePath(fmt.Sprintf(`HKLM\SOFTWARE\Big\G%04d\K%03d`, i, j), CreateOptions{})
			if err != nil {
				b.Fatal(err)
			}
			s.SetValue(h, "Name", REG_SZ, sz("value"))
			s.SetValue(h, "Number", REG_DWORD, dword(uint32(j)))
			s.CloseKey(h)
		}
	}
	h, _ := s.OpenPath(`HKLM\SOFTWARE\Big`)
	var held time.Duration
	b.ResetTimer()
	for i := range b.N {
		s.SetValue(h, "Tick", REG_DWORD, dword(uint32(i)))
		if err := r.Compact(context.Background()); err != nil {
			b.Fatal(err)
		}
		held += r.j.held // written by the journal's writer before Compact returned
	}
	b.ReportMetric(float64(held.Microseconds())/float64(b.N)/1000, "ms-locked/op")
}

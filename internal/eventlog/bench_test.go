package eventlog

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var benchEvent = Event{Source: SourceCluster, EventID: EventCheckpointRestoreFailed,
	Strings: []string{"Microsoft Exchange Internet Mail Service", `SYSTEM\CurrentControlSet\Services\MSExchangeIMC`}}

// BenchmarkReport measures durable appends: every Report returns after its record is
// written and fsynced. With 32 reporters, concurrent Reports share an fsync.
func BenchmarkReport(b *testing.B) {
	for _, reporters := range []int{1, 32, 128} {
		b.Run(fmt.Sprintf("reporters=%d", reporters), func(b *testing.B) {
			s, err := Open(b.TempDir(), Options{Computer: "N1", MaxSize: 1 << 30})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			b.SetParallelism((reporters + 1) / 2) // × GOMAXPROCS (2) goroutines
			if reporters == 1 {
				b.SetParallelism(1)
			}
			b.ResetTimer()
			start := time.Now()
			if reporters == 1 {
				for range b.N {
					if _, err := s.Report(ctx, benchEvent); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := s.Report(ctx, benchEvent); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
			l, _ := s.logFile(LogSystem)
			b.ReportMetric(float64(l.committed.Load())/float64(max(l.commits.Load(), 1)), "records/fsync")
		})
	}
}

// BenchmarkReportPeer is the same durability without group commit: each record is
// written and fdatasynced on its own, reporters taking turns on one file.
func BenchmarkReportPeer(b *testing.B) {
	for _, reporters := range []int{1, 32} {
		b.Run(fmt.Sprintf("fsync-per-record/reporters=%d", reporters), func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "peer.log"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			rec := Record{TimeCreated: time.Now(), Event: benchEvent}
			frame := appendFrame(nil, &rec)
			var mu sync.Mutex
			write := func() {
				mu.Lock()
				defer mu.Unlock()
				if _, err := f.Write(frame); err != nil {
					b.Error(err)
				}
				if err := unix.Fdatasync(int(f.Fd())); err != nil {
					b.Error(err)
				}
			}
			b.SetParallelism(max(reporters/2, 1))
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					write()
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
		})
	}
}

// A log of one million records, built once for the query benchmarks: 100 event IDs
// in a skewed mix, 4 sources, 3 levels.
const benchRecords = 1_000_000

var (
	benchOnce sync.Once
	benchDir  string
	benchErr  error
)

func benchEventID(i int) uint32 {
	switch {
	case i%1000 == 7:
		return 1024 // 0.1 % of the records
	case i%100 == 3:
		return 1069 // 1 %
	}
	return uint32(2000 + i%97)
}

func millionRecordLog(b *testing.B) *Service {
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "eventlog-bench-")
		if benchErr != nil {
			return
		}
		s, err := Open(benchDir, Options{Computer: "N1", MaxSize: 4 << 30})
		if err != nil {
			benchErr = err
			return
		}
		defer s.Close()
		l, _ := s.logFile(LogSystem)
		sources := []string{"ClusSvc", "MyApp", "Disk", "Service Control Manager"}
		t0 := time.Now().Add(-48 * time.Hour)
		const batchSize = 10000
		for start := 0; start < benchRecords; start += batchSize {
			bt := &batch{done: make(chan struct{})}
			for i := start; i < start+batchSize; i++ {
				e := Event{Source: sources[i%4], EventID: benchEventID(i), Strings: []string{fmt.Sprintf("resource %d", i%50), `SYSTEM\CurrentControlSet\Services\X`}}
				e.Type = []EventType{TypeError, TypeWarning, TypeInformation}[i%3]
				e.normalize(s.catalog, "N1")
				e.Log = LogSystem
				bt.recs = append(bt.recs, Record{TimeCreated: t0.Add(time.Duration(i) * 100 * time.Millisecond), Event: e})
			}
			l.commit(bt)
			if bt.err != nil {
				benchErr = bt.err
				return
			}
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	s, err := Open(benchDir, Options{Computer: "N1", MaxSize: 4 << 30})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func cleanupBench() {
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
}

// BenchmarkQuery1M queries a log of one million records through the index.
func BenchmarkQuery1M(b *testing.B) {
	s := millionRecordLog(b)
	ctx := context.Background()
	cases := []struct {
		name, q string
		opts    QueryOptions
		want    int
	}{
		{"EventID=1024(1000-matches)", "*[System[(EventID=1024)]]", QueryOptions{}, 1000},
		{"EventID=1069(10000-matches)", "*[System[(EventID=1069)]]", QueryOptions{}, 10000},
		{"EventID=1024,c=50,rd", "*[System[(EventID=1024)]]", QueryOptions{Count: 50, Reverse: true}, 50},
		{"Provider+Level+EventID", "*[System[Provider[@Name='Disk'] and Level=2 and (EventID=1024 or EventID=1069)]]", QueryOptions{}, -1},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			n := 0
			for range b.N {
				recs, err := s.Query(ctx, LogSystem, c.q, c.opts)
				if err != nil {
					b.Fatal(err)
				}
				n = len(recs)
			}
			if c.want >= 0 && n != c.want {
				b.Fatalf("%d records, want %d", n, c.want)
			}
		})
	}
}

// BenchmarkQuery1MPeer is the same event-ID query without the index, as a user who has
// only the segment files would write it: each segment read front to back through a 1 MiB
// buffer, every frame's checksum checked, and then
//
//   - stream,decode-all: every record decoded and the query evaluated on it (what a
//     general query needs without an index);
//   - stream,decode-matches: only the event ID read in place, and only the 1,000
//     matching records decoded — the floor of any scan, which reads every byte once.
func BenchmarkQuery1MPeer(b *testing.B) {
	s := millionRecordLog(b)
	l, _ := s.logFile(LogSystem)
	q, _ := ParseQuery("*[System[(EventID=1024)]]")
	for _, all := range []bool{true, false} {
		name := "stream,decode-matches,EventID=1024"
		if all {
			name = "stream,decode-all,EventID=1024"
		}
		b.Run(name, func(b *testing.B) {
			br := bufio.NewReaderSize(nil, 1<<20)
			var payload []byte
			for range b.N {
				now := time.Now().UnixNano()
				n := 0
				l.mu.RLock()
				for _, seg := range l.segs {
					br.Reset(io.NewSectionReader(seg.f, int64(len(segmentMagic)), seg.size-int64(len(segmentMagic))))
					var hdr [frameHeaderSize]byte
					for {
						if _, err := io.ReadFull(br, hdr[:]); err == io.EOF {
							break
						} else if err != nil {
							b.Fatal(err)
						}
						size := binary.LittleEndian.Uint32(hdr[:])
						if cap(payload) < int(size) {
							payload = make([]byte, size)
						}
						payload = payload[:size]
						if _, err := io.ReadFull(br, payload); err != nil {
							b.Fatal(err)
						}
						if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(hdr[4:]) {
							b.Fatalf("segment %x: checksum mismatch", seg.seq)
						}
						if !all && binary.LittleEndian.Uint32(payload[16:]) != 1024 {
							continue
						}
						var r Record
						if err := decodePayload(payload, &r); err != nil {
							b.Fatal(err)
						}
						if q.root.evalRecord(&r, now) {
							n++
						}
					}
				}
				l.mu.RUnlock()
				if n != 1000 {
					b.Fatalf("%d matches", n)
				}
			}
		})
	}
}

// BenchmarkOpen1M measures opening the million-record log: scanning its segments and
// rebuilding the index.
func BenchmarkOpen1M(b *testing.B) {
	millionRecordLog(b)
	for range b.N {
		s, err := Open(benchDir, Options{Computer: "N1", MaxSize: 4 << 30})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

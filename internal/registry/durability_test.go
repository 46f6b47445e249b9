package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// syncRecorder stands for the disk under the journal: it keeps, per file, only the bytes
// that a completed sync covered — what a power loss would leave — and nothing written
// since. A kill -9 test cannot tell a synced write from one left in the page cache (the
// kernel keeps both); this can, so deleting the fdatasync before an acknowledgement
// makes TestAcknowledgedWritesAreSynced fail.
//
// The bytes a sync covers are read as the sync starts. A write that races with that read
// may be counted as covered although a real fdatasync would not promise it; the journal
// acknowledges only records written before it started the sync, which this does check.
type syncRecorder struct {
	mu      sync.Mutex
	durable map[string][]byte // file path → its bytes as of the start of its last completed sync
	syncs   int
	// onSync is called, with mu held, after each completed sync with the file's
	// durable bytes.
	onSync func(path string, image []byte)
}

func newSyncRecorder(onSync func(path string, image []byte)) *syncRecorder {
	return &syncRecorder{durable: map[string][]byte{}, onSync: onSync}
}

// sync is the journal's syncFunc in the test.
func (s *syncRecorder) sync(f *os.File, dataOnly bool) error {
	image, err := fileImage(f)
	if err != nil {
		return err
	}
	if err := fileSync(f, dataOnly); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.durable[f.Name()] = image
	s.syncs++
	if s.onSync != nil {
		s.onSync(f.Name(), image)
	}
	return nil
}

// fileImage reads f up to the zero-filled space ahead of its data: it stops at the first
// 64 KiB block of zeros past the start (no record of these tests holds that many zeros,
// and a reader stops at a zero frame length anyway).
func fileImage(f *os.File) ([]byte, error) {
	var out []byte
	block := make([]byte, 64<<10)
	for off := int64(0); ; off += int64(len(block)) {
		n, err := f.ReadAt(block, off)
		if off > 0 && n > 0 && !bytes.ContainsFunc(block[:n], func(r rune) bool { return r != 0 }) {
			return out, nil
		}
		out = append(out, block[:n]...)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// ackToken is the data of client c's n-th write: found in a journal record, it says that
// the record is there whole (frames are checksummed).
func ackToken(c, n int) []byte {
	return []byte(fmt.Sprintf("ack:%02d:%06d;", c, n))
}

const ackTokenLen = len("ack:00:000000;")

// TestAcknowledgedWritesAreSynced: clients write and flush concurrently, with the
// journal's syncs going through a syncRecorder; every Flush that returns must find its
// record in a journal file's bytes as of a sync that completed before it returned.
// Then the files as a power loss would leave them (only synced bytes) must open to a
// registry holding every acknowledged write. With compaction the journal switches files
// often (new files, bbolt snapshots) and the first check still holds.
func TestAcknowledgedWritesAreSynced(t *testing.T) {
	for _, tc := range []struct {
		name         string
		compactBytes int64
	}{{"group-commit", 0}, {"compacting", 16 << 10}} {
		t.Run(tc.name, func(t *testing.T) {
			const clients, writes = 8, 150
			covered := map[string]bool{} // tokens in the durable bytes, guarded by rec.mu
			rec := newSyncRecorder(func(path string, image []byte) {
				gen, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "journal-"), ".wal"), 16, 64)
				if err != nil {
					t.Errorf("sync of %s, not a journal file", path)
					return
				}
				recs, _, _, err := parseJournal(image, path, gen)
				if err != nil {
					t.Errorf("durable bytes of %s: %v", path, err)
					return
				}
				for _, r := range recs {
					for i := bytes.Index(r, []byte("ack:")); i >= 0 && i+ackTokenLen <= len(r); {
						covered[string(r[i:i+ackTokenLen])] = true
						next := bytes.Index(r[i+1:], []byte("ack:"))
						if next < 0 {
							break
						}
						i += 1 + next
					}
				}
			})
			dir := t.TempDir()
			ctx := context.Background()
			r, err := Open(ctx, dir, Options{CompactBytes: tc.compactBytes, syncFile: rec.sync})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var acked atomic.Int64
			var wg sync.WaitGroup
			for c := range clients {
				wg.Go(func() {
					s := r.NewSession(Owner{PID: c, Exe: "durability"})
					defer s.Close()
					h, _, err := s.CreatePath(fmt.Sprintf(`HKLM\SOFTWARE\Durable\C%02d`, c), CreateOptions{})
					if err != nil {
						t.Error(err)
						return
					}
					for n := range writes {
						tok := ackToken(c, n)
						if err := s.SetValue(h, "V", REG_BINARY, tok); err != nil {
							t.Error(err)
							return
						}
						if err := s.Flush(ctx, h); err != nil {
							t.Error(err)
							return
						}
						rec.mu.Lock()
						ok := covered[string(tok)]
						rec.mu.Unlock()
						if !ok {
							t.Errorf("client %d: write %d acknowledged by Flush before a completed sync covered its record", c, n)
							return
						}
						acked.Add(1)
					}
				})
			}
			wg.Wait()
			rec.mu.Lock()
			syncs := rec.syncs
			files := len(rec.durable)
			rec.mu.Unlock()
			t.Logf("%d writes acknowledged after their sync, %d syncs of %d journal files", acked.Load(), syncs, files)
			if t.Failed() || tc.compactBytes != 0 {
				return
			}

			// The power loss: only what the syncs covered, and the bbolt file (which syncs
			// itself; no compaction ran).
			lost := t.TempDir()
			gens, err := journalFiles(dir)
			if err != nil {
				t.Fatal(err)
			}
			rec.mu.Lock()
			for _, g := range gens {
				img, ok := rec.durable[filepath.Join(dir, journalName(g))]
				if !ok {
					t.Errorf("journal %d was never synced", g)
				}
				if err := os.WriteFile(filepath.Join(lost, journalName(g)), img, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			rec.mu.Unlock()
			copyFile(t, filepath.Join(dir, "registry.db"), filepath.Join(lost, "registry.db"))
			after, err := Open(ctx, lost, Options{})
			if err != nil {
				t.Fatalf("open after the power loss: %v", err)
			}
			defer after.Close()
			s := after.NewSession(Owner{Exe: "check"})
			defer s.Close()
			for c := range clients {
				h, err := s.OpenPath(fmt.Sprintf(`HKLM\SOFTWARE\Durable\C%02d`, c))
				if err != nil {
					t.Fatalf("client %d's key lost: %v", c, err)
				}
				_, data, err := s.QueryValue(h, "V")
				if want := ackToken(c, writes-1); err != nil || !bytes.Equal(data, want) {
					t.Errorf("client %d: after the power loss V = %q (%v), want its last acknowledged write %q", c, data, err, want)
				}
			}
		})
	}
}

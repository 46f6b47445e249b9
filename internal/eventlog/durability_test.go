package eventlog

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// syncRecorder stands for the disk under the segments: it keeps, per file, only the
// bytes that a completed sync covered — what a power loss would leave — and nothing
// written since. A kill -9 test cannot tell a synced record from one left in the page
// cache (the kernel keeps both); this can, so deleting the fdatasync before Report
// returns makes TestReportedRecordsAreSynced fail.
//
// The bytes a sync covers are read as the sync starts; the committer writes nothing
// while it syncs, so they are exactly what the sync makes durable.
type syncRecorder struct {
	mu      sync.Mutex
	durable map[string][]byte // file path → its bytes as of the start of its last completed sync
	covered map[uint64]bool   // record IDs in some file's durable bytes
	syncs   int
	err     error // a durable file that does not parse
}

func newSyncRecorder() *syncRecorder {
	return &syncRecorder{durable: map[string][]byte{}, covered: map[uint64]bool{}}
}

// sync is the log's syncFunc in the test.
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
	ids, err := segmentRecordIDs(image)
	if err != nil && s.err == nil {
		s.err = fmt.Errorf("durable bytes of %s: %w", f.Name(), err)
	}
	for _, id := range ids {
		s.covered[id] = true
	}
	return nil
}

// fileImage reads f up to the zero-filled space ahead of its data: it stops at the first
// 64 KiB block of zeros past the start (no record holds that many).
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

// segmentRecordIDs returns the IDs of the whole, checksummed records in a segment's
// bytes, stopping where a reader would (zero length, short or damaged frame).
func segmentRecordIDs(data []byte) ([]uint64, error) {
	if len(data) < len(segmentMagic) {
		return nil, nil // created, header not yet synced
	}
	if string(data[:len(segmentMagic)]) != segmentMagic {
		return nil, errors.New("bad segment magic")
	}
	var ids []uint64
	for off := len(segmentMagic); off+frameHeaderSize <= len(data); {
		n := int(binary.LittleEndian.Uint32(data[off:]))
		if n == 0 || off+frameHeaderSize+n > len(data) {
			break
		}
		payload := data[off+frameHeaderSize : off+frameHeaderSize+n]
		if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(data[off+4:]) {
			break
		}
		var r Record
		if err := decodePayload(payload, &r); err != nil {
			return ids, err
		}
		ids = append(ids, r.RecordID)
		off += frameHeaderSize + n
	}
	return ids, nil
}

// TestReportedRecordsAreSynced: reporters write to the System log concurrently, with the
// segments' syncs going through a syncRecorder; every Report that returns must find its
// record in a segment's bytes as of a sync that completed before it returned. The log is
// small enough (128 KiB segments) that new segments start during the run. Then the
// segments as a power loss would leave them (only synced bytes) must open to a log
// holding every reported record.
func TestReportedRecordsAreSynced(t *testing.T) {
	const reporters, reports = 16, 100
	rec := newSyncRecorder()
	dir := t.TempDir()
	s := openTest(t, dir, Options{MaxSize: 1 << 20, Logs: []string{LogSystem}, syncFile: rec.sync})
	ctx := context.Background()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		reported = map[uint64]string{} // record ID → its insertion string
		acked    atomic.Int64
	)
	for p := range reporters {
		wg.Go(func() {
			for n := range reports {
				msg := fmt.Sprintf("reporter %02d record %03d", p, n)
				id, err := s.Report(ctx, Event{Log: LogSystem, Source: "Durability", EventID: 7, Strings: []string{msg}})
				if err != nil {
					t.Error(err)
					return
				}
				rec.mu.Lock()
				ok := rec.covered[id]
				rec.mu.Unlock()
				if !ok {
					t.Errorf("reporter %d: record %d (%s) returned by Report before a completed sync covered it", p, id, msg)
					return
				}
				acked.Add(1)
				mu.Lock()
				reported[id] = msg
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	rec.mu.Lock()
	syncs, files, perr := rec.syncs, len(rec.durable), rec.err
	rec.mu.Unlock()
	if perr != nil {
		t.Fatal(perr)
	}
	t.Logf("%d records returned after their sync, %d syncs of %d segments", acked.Load(), syncs, files)
	if t.Failed() {
		return
	}
	if files < 2 {
		t.Errorf("the run wrote %d segment(s); it should start new ones", files)
	}

	// The power loss: only what the syncs covered.
	lost := filepath.Join(t.TempDir(), "logs")
	ents, err := os.ReadDir(filepath.Join(dir, LogSystem))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(lost, LogSystem), 0o700); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), segmentExt) {
			continue
		}
		img, ok := rec.durable[filepath.Join(dir, LogSystem, e.Name())]
		if !ok {
			t.Errorf("segment %s was never synced", e.Name())
		}
		if err := os.WriteFile(filepath.Join(lost, LogSystem, e.Name()), img, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rec.mu.Unlock()
	after := openTest(t, lost, Options{MaxSize: 1 << 20, Logs: []string{LogSystem}})
	got := map[uint64]string{}
	for _, r := range query(t, after, LogSystem, "", QueryOptions{}) {
		if len(r.Strings) == 1 {
			got[r.RecordID] = r.Strings[0]
		}
	}
	for id, msg := range reported {
		if got[id] != msg {
			t.Errorf("after the power loss record %d is %q, want %q", id, got[id], msg)
		}
	}
}

package eventlog

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Size limits of a log.
const (
	DefaultMaxSize = 20 << 20 // Windows' default for the System log
	MinMaxSize     = 64 << 10 // maxSize is rounded up to a multiple of this, as Windows does
	minSegmentSize = 4 << 10
	segmentExt     = ".evl"
	configFile     = "config.json"
)

// LogConfig is a log's persistent configuration (wevtutil sl).
type LogConfig struct {
	MaxSize int64 `json:"maxSize"`
	// Retention true is Windows' "do not overwrite events": a full log refuses new
	// records instead of deleting old ones.
	Retention bool `json:"retention"`
	// ClearedBefore makes a clear atomic: segments with a lower sequence number are
	// leftovers of an interrupted clear and are deleted at open.
	ClearedBefore uint64 `json:"clearedBefore,omitempty"`
}

// LogInfo describes a log (wevtutil gl and gli).
type LogInfo struct {
	Name               string    `json:"name"`
	Enabled            bool      `json:"enabled"`
	Type               string    `json:"type"`
	LogFileName        string    `json:"logFileName"`
	Retention          bool      `json:"retention"`
	AutoBackup         bool      `json:"autoBackup"`
	MaxSize            int64     `json:"maxSize"`
	FileSize           int64     `json:"fileSize"`
	NumberOfLogRecords int       `json:"numberOfLogRecords"`
	OldestRecordNumber uint64    `json:"oldestRecordNumber"`
	LastWriteTime      time.Time `json:"lastWriteTime"`
}

// QueryOptions are wevtutil qe's /c and /rd.
type QueryOptions struct {
	Count   int    // at most this many records; 0 for all
	Reverse bool   // newest first
	After   uint64 // only records with a higher record number (a bookmark); 0 for all
}

// LogFullError is a report refused because the log is full and set to retain events.
type LogFullError struct{ Log string }

func (e *LogFullError) Error() string { return fmt.Sprintf("The event log file is full: %s.", e.Log) }

// ErrorCode is Windows' ERROR_LOG_FILE_FULL.
func (e *LogFullError) ErrorCode() uint32 { return 1502 }

// HTTPStatus is 507 Insufficient Storage.
func (e *LogFullError) HTTPStatus() int { return 507 }

// segment is one file of a log. The active (newest) segment is zero-filled ahead of
// its data (alloc > size), so that appending a record does not change the file's size
// and fdatasync need not commit file-system metadata; a zero frame length marks the
// end of the data.
type segment struct {
	seq   uint64
	path  string
	f     *os.File
	size  int64 // bytes of header and frames
	alloc int64 // bytes in the file, zeros past size
}

// preallocChunk is how far ahead of its data the active segment is zero-filled.
const preallocChunk = 1 << 20

var zeros = make([]byte, preallocChunk)

// batch is a group of records committed with one write and one fsync.
type batch struct {
	recs []Record
	err  error
	done chan struct{}
}

// logFile is one log: its segments, index, writer and subscribers.
//
// mu guards cfg, segs, x, nextID, size and lastWrite: queries hold it shared, the
// committer holds it exclusively while it writes. qmu guards the pending batch only, so
// reporters never wait for a write to queue their record.
type logFile struct {
	name string
	dir  string
	log  *slog.Logger

	mu        sync.RWMutex
	cfg       LogConfig
	segs      []*segment
	x         *index
	nextID    uint64
	size      int64
	lastWrite time.Time
	gen       uint64 // changes when the log is cleared
	buf       []byte

	qmu     sync.Mutex
	pending *batch
	closed  bool
	wake    chan struct{}
	stopped chan struct{}

	subs *hub

	commits, committed atomic.Uint64 // batches and records written, for metrics

	syncFile syncFunc // fileSync; a recorder in durability_test.go
}

// syncFunc makes what was written to f durable: fdatasync(2) when dataOnly (the file's
// size did not change, so its metadata need not be committed), else fsync(2). Every sync
// of a segment goes through the log's syncFile, which is fileSync except in the test
// that records syncs to prove that no Report returns before its sync
// (durability_test.go).
type syncFunc func(f *os.File, dataOnly bool) error

// fileSync is the syncFunc of production.
func fileSync(f *os.File, dataOnly bool) error {
	if dataOnly {
		return unix.Fdatasync(int(f.Fd()))
	}
	return f.Sync()
}

func openLog(dir, name string, defaultMax int64, log *slog.Logger, subs *hub, sync syncFunc) (*logFile, error) {
	if sync == nil {
		sync = fileSync
	}
	l := &logFile{name: name, dir: dir, log: log.With("log", name), x: newIndex(name),
		wake: make(chan struct{}, 1), stopped: make(chan struct{}), subs: subs, syncFile: sync}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	l.cfg = LogConfig{MaxSize: defaultMax}
	if b, err := os.ReadFile(filepath.Join(dir, configFile)); err == nil {
		if err := json.Unmarshal(b, &l.cfg); err != nil {
			return nil, &FormatError{File: filepath.Join(dir, configFile), Msg: err.Error()}
		}
		if l.cfg.MaxSize < MinMaxSize {
			l.cfg.MaxSize = defaultMax
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	if err := l.load(); err != nil {
		l.closeFiles()
		return nil, err
	}
	go l.commitLoop()
	return l, nil
}

// load opens the segments, drops damage and rebuilds the index.
func (l *logFile) load() error {
	ents, err := os.ReadDir(l.dir)
	if err != nil {
		return fmt.Errorf("eventlog: %w", err)
	}
	var seqs []uint64
	for _, e := range ents {
		base, ok := strings.CutSuffix(e.Name(), segmentExt)
		if !ok || e.IsDir() {
			continue
		}
		seq, err := strconv.ParseUint(base, 16, 64)
		if err != nil {
			continue
		}
		if seq < l.cfg.ClearedBefore {
			os.Remove(filepath.Join(l.dir, e.Name()))
			continue
		}
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	l.nextID = 1
	for i, seq := range seqs {
		s, err := l.loadSegment(seq, i == len(seqs)-1)
		if err != nil {
			return err
		}
		if s != nil {
			l.segs = append(l.segs, s)
			l.size += s.size
		}
	}
	if len(l.segs) == 0 {
		next := l.cfg.ClearedBefore
		if len(seqs) > 0 {
			next = seqs[len(seqs)-1] + 1
		}
		if err := l.newSegment(max(next, 1)); err != nil {
			return err
		}
	}
	if n := len(l.x.recs); n > 0 {
		l.nextID = l.x.recs[n-1].id + 1
		l.lastWrite = time.Unix(0, l.x.recs[n-1].time)
	}
	return nil
}

// loadSegment scans one segment into the index. A frame that is short, fails its CRC
// or goes backwards in record IDs ends the segment: the file is truncated there (a torn
// write in the last segment; damage elsewhere is logged).
func (l *logFile) loadSegment(seq uint64, last bool) (*segment, error) {
	path := filepath.Join(l.dir, fmt.Sprintf("%016x%s", seq, segmentExt))
	f, err := os.OpenFile(path, os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	s := &segment{seq: seq, path: path, f: f}
	br := bufio.NewReaderSize(f, 1<<20)
	magic := make([]byte, len(segmentMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != segmentMagic {
		if err == nil || !last {
			l.log.Warn("segment has no header; ignored", "file", path)
			f.Close()
			return nil, nil
		}
		// Created but its header never reached the disk: start it again.
		err := f.Truncate(0)
		if err == nil {
			_, err = f.WriteAt([]byte(segmentMagic), 0)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("eventlog: repair %s: %w", path, err)
		}
		s.size = int64(len(segmentMagic))
		s.alloc = s.size
		return s, l.syncFile(f, false)
	}
	off := int64(len(segmentMagic))
	hdr := make([]byte, frameHeaderSize)
	var payload []byte
	var damage string
	for {
		if _, err := io.ReadFull(br, hdr); err != nil {
			if err != io.EOF {
				damage = "frame header cut short"
			}
			break
		}
		n := binary.LittleEndian.Uint32(hdr)
		if n == 0 {
			break // the zero-filled space after the data
		}
		if n > MaxRecordSize*4 || n < fixedPayload {
			damage = fmt.Sprintf("bad frame length %d", n)
			break
		}
		if cap(payload) < int(n) {
			payload = make([]byte, n)
		}
		payload = payload[:n]
		if _, err := io.ReadFull(br, payload); err != nil {
			damage = "frame cut short"
			break
		}
		if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(hdr[4:]) {
			damage = "frame checksum mismatch"
			break
		}
		id, t, eventID, level, category, src, ok := peekMeta(payload)
		if !ok || id < l.nextID {
			damage = "bad record"
			break
		}
		l.x.add(recMeta{id: id, time: t, seg: seq, off: off, size: frameHeaderSize + n,
			eventID: eventID, category: category, level: level, provider: l.x.provider(src)})
		l.nextID = id + 1
		off += frameHeaderSize + int64(n)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	s.size, s.alloc = off, st.Size()
	if damage == "" && !last && s.alloc > off {
		damage = "zero-filled space left by a crash" // harmless: cut it off
	}
	if damage != "" {
		s.alloc = off
		if strings.HasPrefix(damage, "zero-filled") {
			l.log.Debug("cutting zero-filled space off a sealed segment", "file", path, "offset", off)
		} else if !last {
			l.log.Warn("damaged segment: records after the damage are lost", "file", path, "offset", off, "problem", damage)
		} else {
			l.log.Info("dropping a torn write at the end of the log", "file", path, "offset", off, "problem", damage)
		}
		if err := f.Truncate(off); err != nil {
			f.Close()
			return nil, fmt.Errorf("eventlog: truncate %s: %w", path, err)
		}
		if err := l.syncFile(f, false); err != nil {
			f.Close()
			return nil, fmt.Errorf("eventlog: %w", err)
		}
	}
	return s, nil
}

// newSegment creates segment seq, durable with its directory entry, and makes it the
// active one.
func (l *logFile) newSegment(seq uint64) error {
	path := filepath.Join(l.dir, fmt.Sprintf("%016x%s", seq, segmentExt))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("eventlog: %w", err)
	}
	if _, err := f.Write([]byte(segmentMagic)); err != nil {
		f.Close()
		return fmt.Errorf("eventlog: %w", err)
	}
	if err := l.syncFile(f, false); err != nil {
		f.Close()
		return fmt.Errorf("eventlog: %w", err)
	}
	if err := syncDir(l.dir); err != nil {
		f.Close()
		return err
	}
	s := &segment{seq: seq, path: path, f: f, size: int64(len(segmentMagic)), alloc: int64(len(segmentMagic))}
	if err := l.extend(s, s.size); err != nil {
		f.Close()
		return err
	}
	if err := l.syncFile(f, true); err != nil {
		f.Close()
		return fmt.Errorf("eventlog: sync %s: %w", path, err)
	}
	l.segs = append(l.segs, s)
	l.size += s.size
	return nil
}

// extend zero-fills s up to at least end, a chunk at a time, within the segment limit
// (past it only as far as end). The caller syncs.
func (l *logFile) extend(s *segment, end int64) error {
	limit := l.segmentLimit()
	for s.alloc < end || s.alloc < limit && s.alloc-s.size < preallocChunk/4 {
		n := min(int64(preallocChunk), max(limit, end)-s.alloc)
		if n <= 0 {
			break
		}
		if _, err := s.f.WriteAt(zeros[:n], s.alloc); err != nil {
			return fmt.Errorf("eventlog: extend %s: %w", s.path, err)
		}
		s.alloc += n
	}
	return nil
}

// padding is the zero-filled space of the active segment.
func (l *logFile) padding() int64 {
	if len(l.segs) == 0 {
		return 0
	}
	a := l.segs[len(l.segs)-1]
	return max(a.alloc-a.size, 0)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("eventlog: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("eventlog: sync %s: %w", dir, err)
	}
	return nil
}

func (l *logFile) segmentLimit() int64 { return max(l.cfg.MaxSize/8, minSegmentSize) }

// dropOldest deletes the oldest segment and its records from the index.
func (l *logFile) dropOldest() {
	s := l.segs[0]
	l.segs = l.segs[1:]
	l.size -= s.size
	s.f.Close()
	if err := os.Remove(s.path); err != nil {
		l.log.Warn("cannot delete old segment", "file", s.path, "err", err)
	}
	first := l.nextID
	if len(l.segs) > 0 {
		// The first record left is the first one whose segment survives.
		for i := range l.x.recs {
			if l.x.recs[i].seg != s.seq {
				first = l.x.recs[i].id
				break
			}
		}
	}
	l.x.trimBefore(first)
}

// enqueue queues r for the next commit and returns its batch and position in it.
func (l *logFile) enqueue(r Record) (*batch, int, error) {
	l.qmu.Lock()
	defer l.qmu.Unlock()
	if l.closed {
		return nil, 0, ErrClosed
	}
	b := l.pending
	if b == nil {
		b = &batch{done: make(chan struct{})}
		l.pending = b
	}
	b.recs = append(b.recs, r)
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return b, len(b.recs) - 1, nil
}

// append writes r durably and returns its record ID.
func (l *logFile) append(ctx context.Context, r Record) (uint64, error) {
	b, i, err := l.enqueue(r)
	if err != nil {
		return 0, err
	}
	select {
	case <-b.done:
		if b.err != nil {
			return 0, b.err
		}
		return b.recs[i].RecordID, nil
	case <-ctx.Done():
		return 0, fmt.Errorf("eventlog: report to %s: %w (the record may still be written)", l.name, ctx.Err())
	}
}

// commitLoop takes the pending batch whenever there is one and commits it; reporters
// that arrive during a commit form the next batch, so they share its fsync.
func (l *logFile) commitLoop() {
	defer close(l.stopped)
	last := 0 // size of the previous batch
	for range l.wake {
		l.gather(last)
		l.qmu.Lock()
		b := l.pending
		l.pending = nil
		closed := l.closed
		l.qmu.Unlock()
		last = 0
		if b != nil {
			last = len(b.recs)
			l.commit(b)
		}
		if closed {
			return
		}
	}
}

// gather lets reporters that the previous commit released queue their next records
// before the batch is taken: without it, the first one back would get an fsync of its
// own while the others wait for the next. It yields the processor while the pending
// batch is smaller than the previous one and still growing, for a few microseconds.
func (l *logFile) gather(last int) {
	if last <= 1 {
		return
	}
	prev, still := -1, 0
	for range 64 {
		l.qmu.Lock()
		n := 0
		if l.pending != nil {
			n = len(l.pending.recs)
		}
		l.qmu.Unlock()
		if n >= last {
			return
		}
		if n == prev {
			if still++; still >= 4 {
				return
			}
		} else {
			prev, still = n, 0
		}
		runtime.Gosched()
	}
}

// commit writes a batch as one write and one fdatasync.
func (l *logFile) commit(b *batch) {
	defer close(b.done)
	l.mu.Lock()
	b.err = l.commitLocked(b.recs)
	l.mu.Unlock()
	if b.err == nil {
		l.commits.Add(1)
		l.committed.Add(uint64(len(b.recs)))
	}
	if b.err == nil {
		l.subs.publish(b.recs)
	}
}

func (l *logFile) commitLocked(recs []Record) error {
	buf := l.buf[:0]
	id := l.nextID
	for i := range recs {
		recs[i].RecordID = id
		id++
		n := len(buf)
		buf = appendFrame(buf, &recs[i])
		if len(buf)-n > MaxRecordSize+frameHeaderSize {
			// Caught at Report; kept here so a bad record never reaches the disk.
			l.buf = buf[:0]
			return &EventError{Msg: "record larger than 64 KiB"}
		}
	}
	l.buf = buf[:0]
	need := int64(len(buf))
	active := l.segs[len(l.segs)-1]
	if active.size > int64(len(segmentMagic)) && active.size+need > l.segmentLimit() {
		// Seal the active segment: cut its zero-filled space, then start the next.
		if err := active.f.Truncate(active.size); err != nil {
			return fmt.Errorf("eventlog: seal %s: %w", active.path, err)
		}
		active.alloc = active.size
		if err := l.newSegment(active.seq + 1); err != nil {
			return err
		}
		active = l.segs[len(l.segs)-1]
	}
	// What the files will hold after this write, zero-filled space included.
	after := func() int64 { return l.size + max(active.alloc, active.size+need) - active.size }
	for after() > l.cfg.MaxSize && len(l.segs) > 1 {
		if l.cfg.Retention {
			return &LogFullError{Log: l.name}
		}
		l.dropOldest()
	}
	if l.cfg.Retention && after() > l.cfg.MaxSize {
		return &LogFullError{Log: l.name}
	}
	fail := func(what string, err error) error {
		active.f.Truncate(active.size)
		active.alloc = active.size
		return fmt.Errorf("eventlog: %s %s: %w", what, active.path, err)
	}
	if err := l.extend(active, active.size+need); err != nil {
		return fail("extend", err)
	}
	if _, err := active.f.WriteAt(buf, active.size); err != nil {
		return fail("write", err)
	}
	if err := l.syncFile(active.f, true); err != nil {
		return fail("sync", err)
	}
	off := active.size
	for i := range recs {
		r := &recs[i]
		size := uint32(binary.LittleEndian.Uint32(buf[off-active.size:])) + frameHeaderSize
		l.x.add(recMeta{id: r.RecordID, time: r.TimeCreated.UnixNano(), seg: active.seq, off: off, size: size,
			eventID: r.EventID, category: r.Category, level: r.Level, provider: l.x.provider([]byte(r.Source))})
		off += int64(size)
	}
	active.size = off
	l.size += need
	l.nextID = id
	l.lastWrite = recs[len(recs)-1].TimeCreated
	return nil
}

// segmentOf returns the segment with sequence number seq.
func (l *logFile) segmentOf(seq uint64) *segment {
	if len(l.segs) == 0 {
		return nil
	}
	if d := seq - l.segs[0].seq; seq >= l.segs[0].seq && d < uint64(len(l.segs)) && l.segs[d].seq == seq {
		return l.segs[d]
	}
	i, ok := slices.BinarySearchFunc(l.segs, seq, func(s *segment, seq uint64) int {
		switch {
		case s.seq < seq:
			return -1
		case s.seq > seq:
			return 1
		}
		return 0
	})
	if !ok {
		return nil
	}
	return l.segs[i]
}

// read reads and decodes the record m points to. Callers hold mu.
func (l *logFile) read(m *recMeta, buf *[]byte, r *Record) error {
	s := l.segmentOf(m.seg)
	if s == nil {
		return fmt.Errorf("eventlog: %s: segment %x of record %d is gone", l.name, m.seg, m.id)
	}
	if cap(*buf) < int(m.size) {
		*buf = make([]byte, m.size)
	}
	b := (*buf)[:m.size]
	if _, err := s.f.ReadAt(b, m.off); err != nil {
		return fmt.Errorf("eventlog: read %s: %w", s.path, err)
	}
	if crc32.Checksum(b[frameHeaderSize:], castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		return &FormatError{File: s.path, Off: m.off, Msg: "frame checksum mismatch"}
	}
	if err := decodePayload(b[frameHeaderSize:], r); err != nil {
		return &FormatError{File: s.path, Off: m.off, Msg: err.Error()}
	}
	r.Log = l.name
	return nil
}

// scanPage is how many index entries a scan visits before it lets writers in: a long
// query never holds a commit back for more than a few milliseconds.
const scanPage = 4096

// scan calls fn for each record q selects, in order, until fn returns false. It holds
// mu shared one page at a time, on the records that existed when it started; a clear
// in between ends it.
func (l *logFile) scan(ctx context.Context, q *Query, reverse bool, fn func(*Record) bool) error {
	l.mu.RLock()
	limit, gen := l.nextID-1, l.gen
	from := uint64(0) // forward: visit ids above from
	if reverse {
		from = limit + 1 // reverse: visit ids below from
	}
	for {
		last, more, err := l.scanRange(ctx, q, reverse, from, limit, scanPage, fn)
		l.mu.RUnlock()
		if err != nil || !more {
			return err
		}
		from = last
		l.mu.RLock()
		if l.gen != gen {
			l.mu.RUnlock()
			return nil
		}
	}
}

// scanLocked is scan in one go, for callers that hold mu.
func (l *logFile) scanLocked(ctx context.Context, q *Query, reverse bool, fn func(*Record) bool) error {
	limit := l.nextID - 1
	from := uint64(0)
	if reverse {
		from = limit + 1
	}
	_, _, err := l.scanRange(ctx, q, reverse, from, limit, -1, fn)
	return err
}

// scanRange visits, in order, the index entries of records numbered above from
// (forward) or below from (reverse) and at most limit, at most maxVisits of them (-1
// for all), and calls fn for those q selects. It returns the last record number visited
// and whether entries are left. Callers hold mu.
func (l *logFile) scanRange(ctx context.Context, q *Query, reverse bool, from, limit uint64, maxVisits int,
	fn func(*Record) bool) (last uint64, more bool, err error) {
	x := l.x
	now := time.Now().UnixNano()
	cs := allCandidates
	if q != nil && q.root != nil {
		cs = q.root.candidates(x)
	}
	var buf []byte
	visits := 0
	stop := false
	// visit returns false to stop: fn said so, an error, or the page is full.
	visit := func(pos int) bool {
		if maxVisits >= 0 && visits >= maxVisits {
			more = true
			return false
		}
		if visits++; visits&1023 == 0 && ctx.Err() != nil {
			err = ctx.Err()
			return false
		}
		m := &x.recs[pos]
		last = m.id
		t := triTrue
		if q != nil && q.root != nil {
			t = q.root.evalMeta(m, x, now)
		}
		if t == triFalse {
			return true
		}
		var r Record
		if err = l.read(m, &buf, &r); err != nil {
			return false
		}
		if t == triUnknown && !q.root.evalRecord(&r, now) {
			return true
		}
		if !fn(&r) {
			stop = true
			return false
		}
		return true
	}
	// The ids to visit: (from, limit] forward, [1, from) ∩ [1, limit] reverse.
	lo, hi := from+1, limit
	if reverse {
		lo, hi = 1, min(from-1, limit)
		if from == 0 {
			return 0, false, nil
		}
	}
	switch {
	case cs.all || cs.isRange:
		if cs.isRange {
			lo, hi = max(lo, cs.lo), min(hi, cs.hi)
		}
		if hi < lo {
			return last, false, nil
		}
		pl, ph := x.lowerBound(lo), x.lowerBound(hi+1) // hi < max uint64: it is at most limit
		if reverse {
			for p := ph - 1; p >= pl && visit(p); p-- {
			}
		} else {
			for p := pl; p < ph && visit(p); p++ {
			}
		}
	default:
		ids := cs.ids
		i := sort.Search(len(ids), func(i int) bool { return ids[i] >= lo })
		j := sort.Search(len(ids), func(i int) bool { return ids[i] > hi })
		ids = ids[i:j]
		for k := range ids {
			id := ids[k]
			if reverse {
				id = ids[len(ids)-1-k]
			}
			p, ok := x.pos(id)
			if !ok {
				continue
			}
			if !visit(p) {
				break
			}
		}
	}
	if stop || err != nil {
		more = false
	}
	return last, more, err
}

func (l *logFile) info() LogInfo {
	l.mu.RLock()
	defer l.mu.RUnlock()
	in := LogInfo{Name: l.name, Enabled: true, Type: "Admin", LogFileName: l.dir,
		Retention: l.cfg.Retention, MaxSize: l.cfg.MaxSize, FileSize: l.size + l.padding(),
		NumberOfLogRecords: len(l.x.recs), LastWriteTime: l.lastWrite}
	if len(l.x.recs) > 0 {
		in.OldestRecordNumber = l.x.recs[0].id
	}
	return in
}

// setConfig stores a new configuration; a smaller maximum takes effect at once.
func (l *logFile) setConfig(cfg LogConfig) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	cfg.ClearedBefore = l.cfg.ClearedBefore
	if err := l.writeConfig(cfg); err != nil {
		return err
	}
	l.cfg = cfg
	// The zero-filled space of the active segment shrinks with the segment limit.
	if a := l.segs[len(l.segs)-1]; a.alloc > max(a.size, l.segmentLimit()) {
		keep := max(a.size, l.segmentLimit())
		if err := a.f.Truncate(keep); err != nil {
			return fmt.Errorf("eventlog: %w", err)
		}
		a.alloc = keep
	}
	for !cfg.Retention && l.size > cfg.MaxSize && len(l.segs) > 1 {
		l.dropOldest()
	}
	return nil
}

func (l *logFile) writeConfig(cfg LogConfig) error {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(l.dir, configFile), append(b, '\n'), 0o600)
}

// clear deletes every record; with backup non-nil it first writes them to it as an
// export file, and clears only when that succeeded. Record numbers start again at 1.
func (l *logFile) clear(ctx context.Context, backup io.Writer, computer string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if backup != nil {
		if err := l.exportLocked(ctx, backup, nil, computer); err != nil {
			return err
		}
	}
	next := l.segs[len(l.segs)-1].seq + 1
	cfg := l.cfg
	cfg.ClearedBefore = next
	// Once the configuration says so, the old segments are gone even if we crash now.
	if err := l.writeConfig(cfg); err != nil {
		return err
	}
	l.cfg = cfg
	for _, s := range l.segs {
		s.f.Close()
		os.Remove(s.path)
	}
	l.segs, l.size = nil, 0
	l.x.reset()
	l.nextID = 1
	l.gen++
	return l.newSegment(next)
}

func (l *logFile) closeFiles() {
	for _, s := range l.segs {
		s.f.Close()
	}
	l.segs = nil
}

// close stops the committer after it has written what is pending.
func (l *logFile) close() {
	l.qmu.Lock()
	if l.closed {
		l.qmu.Unlock()
		return
	}
	l.closed = true
	l.qmu.Unlock()
	l.wake <- struct{}{}
	<-l.stopped
	l.mu.Lock()
	l.closeFiles()
	l.mu.Unlock()
}

// writeFileAtomic writes data to path through a temporary file, fsync and rename.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("eventlog: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("eventlog: %w", err)
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("eventlog: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("eventlog: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("eventlog: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("eventlog: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

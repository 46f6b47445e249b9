package registry

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The journal is a sequence of files journal-<gen>.wal in the store's directory. Each
// starts with a 16-byte header (magic, generation) followed by frames:
//
//	frame = length:uint32le crc32c(payload):uint32le payload
//
// A frame is written whole or not at all as far as a reader can tell: replay stops at the
// first frame whose length runs past the file or whose checksum fails (a torn tail after a
// crash) and cuts the file there.
//
// Group commit: callers append records to an in-memory buffer (under Registry.mu, so the
// journal's order is the order the changes were applied in). One writer goroutine takes
// the whole buffer, writes it, fdatasyncs once, and then wakes every Flush that was
// waiting for it. Flushes that arrive while it syncs wait for the next round, which picks
// up everything appended meanwhile: with N clients each syncing, one fsync serves up to N.
// Without a Flush, the writer writes the buffer within Options.LazyFlush (1 s).
//
// Compaction: when a journal file grows past Options.CompactBytes (and at Close and after
// a replay at Open) the writer takes a snapshot of every persisted key under the read
// lock, finishes the current file, starts generation gen+1 and goes on committing into
// it, while another goroutine writes the snapshot into bbolt in one transaction that
// records gen+1 and then deletes the older files. A crash
// at any point leaves bbolt at gen g with every journal file ≥ g present and complete
// except perhaps the last one's tail.
const (
	journalMagic     = "WPREGJ01"
	journalHeaderLen = 16
	frameHeaderLen   = 8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type generation struct {
	done chan struct{}
	err  error
}

// takenBatch is a batch the writer has taken: the Flushes of g return once every record
// up to last is durable.
type takenBatch struct {
	last uint64
	g    *generation
}

// syncDepth is how many fdatasyncs may run at once. With more than one, a flush that
// arrives while one runs starts its own at once (an fdatasync makes durable everything
// written before it, so whichever finishes acknowledges every batch up to its own, and
// this disk serves two overlapping flushes nearly in parallel). Measured
// (BenchmarkFlushedWrites32Depth2), it is worse: the batches fragment into ones of a
// few records, and 32 clients get 20–30 k writes/s instead of 40–120 k with one
// fdatasync at a time, during which the next batch gathers.
const syncDepth = 1

// gatherYields bounds how often the writer yields to let more Flushes join a batch.
const gatherYields = 4

type journal struct {
	dir          string
	log          *slog.Logger
	lazy         time.Duration
	compactBytes int64
	st           *store
	// snapshot encodes every persisted key; called by the writer with Registry.mu
	// held for reading (via lockTree/unlockTree).
	snapshot   func() [2][][]byte
	lockTree   func()
	unlockTree func()

	// Owned by the writer goroutine (and Open before it starts).
	f     *os.File
	gen   uint64
	size  int64 // end of the last record
	alloc int64 // the file is zero-filled up to here
	// noPrealloc appends instead of writing into zero-filled space (benchmark peer).
	noPrealloc bool
	syncFile   syncFunc // fileSync; a recorder in durability_test.go

	mu          sync.Mutex
	buf         []byte
	spare       []byte
	appended    uint64 // records appended
	durable     uint64 // records known durable
	waiters     int    // Flushes waiting on cur
	lastWaiters int    // Flushes the last batch served
	cur         *generation
	taken       []takenBatch // taken from buf, not yet known durable, in order
	inflight    int          // fdatasyncs running
	err         error        // sticky write error
	stopped     bool

	// held is how long the last compaction's snapshot held the tree's read lock (the
	// writers' pause; writer only, read by BenchmarkCompact100k after compact returns).
	held time.Duration

	lazyDue bool       // writer only: the lazy flush timer fired
	saving  chan error // writer only: the running snapshot save, nil when none
	depth   int        // fdatasyncs allowed at once (syncDepth)
	gather  int        // yields to gather a batch (gatherYields)

	flushReq   chan struct{}
	syncDone   chan struct{}
	kick       chan struct{}
	compactReq chan chan error
	quit       chan struct{}
	abandon    chan struct{} // tests: stop as a crash would, without a last write
	done       chan struct{}
}

func journalName(gen uint64) string { return fmt.Sprintf("journal-%016x.wal", gen) }

// journalFiles lists the generations of the journal files in dir, ascending.
func journalFiles(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var gens []uint64
	for _, e := range ents {
		n := e.Name()
		if !strings.HasPrefix(n, "journal-") || !strings.HasSuffix(n, ".wal") {
			continue
		}
		g, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(n, "journal-"), ".wal"), 16, 64)
		if err != nil {
			continue
		}
		gens = append(gens, g)
	}
	sort.Slice(gens, func(i, j int) bool { return gens[i] < gens[j] })
	return gens, nil
}

// readJournal returns the records of one journal file and the length of its good part.
// A missing or short header counts as an empty file (a crash while it was created).
// torn tells whether anything but zero-filled space follows the good part.
func readJournal(path string, gen uint64) (recs [][]byte, good int64, torn bool, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, false, err
	}
	return parseJournal(data, path, gen)
}

// parseJournal is readJournal of the file path's bytes data.
func parseJournal(data []byte, path string, gen uint64) (recs [][]byte, good int64, torn bool, err error) {
	if len(data) < journalHeaderLen {
		return nil, 0, len(data) > 0, nil
	}
	if string(data[:8]) != journalMagic {
		return nil, 0, false, &CorruptError{File: path, Offset: 0, Msg: "bad journal magic"}
	}
	if g := binary.LittleEndian.Uint64(data[8:16]); g != gen {
		return nil, 0, false, &CorruptError{File: path, Offset: 8, Msg: fmt.Sprintf("journal header says generation %d", g)}
	}
	off := journalHeaderLen
	for off+frameHeaderLen <= len(data) {
		n := int(binary.LittleEndian.Uint32(data[off:]))
		sum := binary.LittleEndian.Uint32(data[off+4:])
		if n == 0 || off+frameHeaderLen+n > len(data) {
			break
		}
		payload := data[off+frameHeaderLen : off+frameHeaderLen+n]
		if crc32.Checksum(payload, castagnoli) != sum {
			break
		}
		recs = append(recs, payload)
		off += frameHeaderLen + n
	}
	for _, c := range data[off:] {
		if c != 0 {
			torn = true
			break
		}
	}
	return recs, int64(off), torn, nil
}

// syncFunc makes what was written to f durable: fdatasync(2) when dataOnly (the file's
// size did not change, so its metadata need not be committed), else fsync(2). Every sync
// of a journal file goes through the journal's syncFile, which is fileSync except in
// the test that records syncs to prove that no acknowledgement comes before its sync
// (durability_test.go).
type syncFunc func(f *os.File, dataOnly bool) error

// fileSync is the syncFunc of production.
func fileSync(f *os.File, dataOnly bool) error {
	if dataOnly {
		return unix.Fdatasync(int(f.Fd()))
	}
	return f.Sync()
}

// createJournal makes a new, empty journal file and makes its existence durable.
func createJournal(dir string, gen uint64, sync syncFunc) (*os.File, error) {
	path := filepath.Join(dir, journalName(gen))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	var h [journalHeaderLen]byte
	copy(h[:], journalMagic)
	binary.LittleEndian.PutUint64(h[8:], gen)
	if _, err := f.Write(h[:]); err != nil {
		f.Close()
		return nil, err
	}
	if err := sync(f, false); err != nil {
		f.Close()
		return nil, err
	}
	if err := syncDir(dir); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// openJournalAt opens an existing journal file for appending after its good part,
// cutting a torn tail, or recreates it when its header was torn.
func openJournalAt(dir string, gen uint64, good int64, sync syncFunc) (*os.File, int64, error) {
	if good < journalHeaderLen {
		f, err := createJournal(dir, gen, sync)
		return f, journalHeaderLen, err
	}
	f, err := os.OpenFile(filepath.Join(dir, journalName(gen)), os.O_RDWR, 0o600)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if st.Size() != good {
		if err := f.Truncate(good); err != nil {
			f.Close()
			return nil, 0, err
		}
		if err := sync(f, false); err != nil {
			f.Close()
			return nil, 0, err
		}
	}
	if _, err := f.Seek(good, 0); err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, good, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (j *journal) start() {
	j.cur = &generation{done: make(chan struct{})}
	j.flushReq = make(chan struct{}, 1)
	j.syncDone = make(chan struct{}, 1)
	j.kick = make(chan struct{}, 1)
	j.compactReq = make(chan chan error)
	j.quit = make(chan struct{})
	j.abandon = make(chan struct{})
	j.done = make(chan struct{})
	go j.run()
}

// append adds one record, encoded by fill. The caller holds Registry.mu for writing.
func (j *journal) append(fill func(*enc)) {
	j.mu.Lock()
	if j.stopped {
		j.mu.Unlock()
		return
	}
	start := len(j.buf)
	e := enc{b: append(j.buf, make([]byte, frameHeaderLen)...)}
	fill(&e)
	j.buf = e.b
	payload := j.buf[start+frameHeaderLen:]
	binary.LittleEndian.PutUint32(j.buf[start:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(j.buf[start+4:], crc32.Checksum(payload, castagnoli))
	j.appended++
	j.mu.Unlock()
	if start == 0 {
		select {
		case j.kick <- struct{}{}:
		default:
		}
	}
}

// sync waits until every record appended so far is durable.
func (j *journal) sync(ctx context.Context) error {
	j.mu.Lock()
	if j.err != nil {
		err := j.err
		j.mu.Unlock()
		return err
	}
	if j.durable >= j.appended {
		j.mu.Unlock()
		return nil
	}
	if j.stopped {
		j.mu.Unlock()
		return ERROR_REGISTRY_IO_FAILED
	}
	g := j.cur
	j.waiters++
	j.mu.Unlock()
	select {
	case j.flushReq <- struct{}{}:
	default:
	}
	select {
	case <-g.done:
		return g.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// compact asks the writer for a compaction and waits for it.
func (j *journal) compact(ctx context.Context) error {
	res := make(chan error, 1)
	select {
	case j.compactReq <- res:
	case <-j.done:
		return ERROR_REGISTRY_IO_FAILED
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop makes everything durable, compacts, and ends the writer.
func (j *journal) stop() error {
	close(j.quit)
	<-j.done
	j.mu.Lock()
	err := j.err
	j.mu.Unlock()
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (j *journal) run() {
	defer close(j.done)
	var lazy <-chan time.Time
	for {
		select {
		case <-j.flushReq:
		case <-j.syncDone:
		case <-j.kick:
			if lazy == nil {
				lazy = time.After(j.lazy)
			}
			continue
		case <-lazy:
			lazy = nil
			j.lazyDue = true
		case res := <-j.compactReq:
			res <- j.rotate(true)
			continue
		case <-j.abandon:
			j.drain()
			j.waitSave()
			j.mu.Lock()
			j.stopped = true
			j.mu.Unlock()
			return
		case <-j.quit:
			err := j.rotate(true)
			j.mu.Lock()
			j.stopped = true
			if err != nil && j.err == nil {
				j.err = err
			}
			g := j.cur
			j.mu.Unlock()
			g.err = ERROR_REGISTRY_IO_FAILED
			close(g.done)
			return
		}
		j.pump()
		if j.size > j.compactBytes {
			if err := j.rotate(false); err != nil {
				j.log.Error("registry: journal compaction failed", "err", err)
			}
		}
	}
}

// pump starts commits while Flushes wait (or the lazy timer fired) and fewer than
// syncDepth fdatasyncs run.
func (j *journal) pump() {
	for {
		j.mu.Lock()
		want := j.waiters > 0 || (j.lazyDue && len(j.buf) > 0)
		can := j.inflight < j.depth && j.err == nil
		fewer := j.waiters < j.lastWaiters
		j.mu.Unlock()
		if !want || !can {
			return
		}
		// Fewer Flushes wait than the last batch served: the others are most likely
		// runnable, on their way from the last acknowledgement to their next Flush.
		// Yielding a few times lets them join this batch instead of the next.
		for i := 0; fewer && i < j.gather; i++ {
			runtime.Gosched()
			j.mu.Lock()
			fewer = j.waiters < j.lastWaiters
			j.mu.Unlock()
		}
		j.lazyDue = false
		j.commit(nil)
	}
}

// commit takes what is buffered, writes it and starts its fdatasync; the Flushes waiting
// for it return when that (or a later) fdatasync ends. When snap is not nil it is
// called, with the tree read-locked, at the very point where the buffer is taken, so that
// the snapshot it makes covers exactly the records taken.
func (j *journal) commit(snap func()) {
	var locked time.Time
	if snap != nil {
		j.lockTree()
		locked = time.Now()
	}
	j.mu.Lock()
	buf := j.buf
	j.buf = j.spare[:0]
	j.spare = nil
	last := j.appended
	j.taken = append(j.taken, takenBatch{last: last, g: j.cur})
	j.cur = &generation{done: make(chan struct{})}
	j.lastWaiters = j.waiters
	j.waiters = 0
	j.mu.Unlock()
	if snap != nil {
		snap()
		j.unlockTree()
		j.held = time.Since(locked)
	}
	if len(buf) == 0 {
		// Everything the waiters appended is in batches already taken.
		j.mu.Lock()
		j.advance(j.durable, nil)
		j.mu.Unlock()
		return
	}
	err := j.write(buf)
	j.size += int64(len(buf))
	j.mu.Lock()
	if cap(buf) <= 1<<20 {
		j.spare = buf[:0]
	}
	if err != nil {
		j.advance(0, err)
		j.mu.Unlock()
		return
	}
	j.inflight++
	j.mu.Unlock()
	f := j.f
	go func() {
		err := j.syncFile(f, true)
		j.mu.Lock()
		j.inflight--
		j.advance(last, err)
		j.mu.Unlock()
		select {
		case j.syncDone <- struct{}{}:
		default:
		}
	}()
}

// advance records that every record up to durable is durable (or that the journal
// failed with err) and releases the Flushes that waited for them. The caller holds j.mu.
func (j *journal) advance(durable uint64, err error) {
	if err != nil {
		err = fmt.Errorf("registry: journal %s: %w: %w", j.f.Name(), err, ERROR_REGISTRY_IO_FAILED)
		if j.err == nil {
			j.err = err
			j.log.Error("registry: journal write failed; further flushes fail", "err", err)
		}
		for _, t := range j.taken {
			t.g.err = j.err
			close(t.g.done)
		}
		j.taken = nil
		// Flushes already waiting for the next batch fail too; later ones see j.err.
		j.cur.err = j.err
		close(j.cur.done)
		j.cur = &generation{done: make(chan struct{})}
		j.waiters = 0
		return
	}
	if durable > j.durable {
		j.durable = durable
	}
	n := 0
	for _, t := range j.taken {
		if t.last > j.durable {
			break
		}
		t.g.err = j.err
		close(t.g.done)
		n++
	}
	j.taken = j.taken[n:]
}

// drain waits until no fdatasync runs.
func (j *journal) drain() {
	for {
		j.mu.Lock()
		n := j.inflight
		j.mu.Unlock()
		if n == 0 {
			return
		}
		<-j.syncDone
	}
}

// journalChunk is how much zero-filled space the journal file gains at a time. Records
// are written into space that is already allocated and written, so fdatasync flushes
// only the data: appending would change the file size, and ext4 then commits its own
// journal on every fdatasync, which costs twice as much and queues behind every other
// process's fsync on the same file system. The zeros cost one fsync per chunk; a reader
// stops at a zero length, as at any torn tail.
const journalChunk = 4 << 20

// write puts buf at the end of the records.
func (j *journal) write(buf []byte) error {
	end := j.size + int64(len(buf))
	if j.noPrealloc {
		_, err := j.f.WriteAt(buf, j.size)
		return err
	}
	if end > j.alloc {
		next := (end + journalChunk) / journalChunk * journalChunk
		zeros := make([]byte, 1<<20)
		for off := j.alloc; off < next; {
			n := min(int64(len(zeros)), next-off)
			if _, err := j.f.WriteAt(zeros[:n], off); err != nil {
				return err
			}
			off += n
		}
		if err := j.syncFile(j.f, false); err != nil {
			return err
		}
		j.alloc = next
	}
	_, err := j.f.WriteAt(buf, j.size)
	return err
}

// rotate compacts: snapshot + finish the current file, start the next generation; then
// the snapshot is written to bbolt and the older files deleted, by a goroutine of its own
// so that flushes go on meanwhile (into the new file). One save runs at a time: a rotate
// waits for the previous one first. With wait set, rotate also waits for its own save.
func (j *journal) rotate(wait bool) error {
	if err := j.waitSave(); err != nil {
		j.log.Error("registry: previous compaction failed; compacting again", "err", err)
	}
	j.mu.Lock()
	empty := len(j.buf) == 0 && j.size <= journalHeaderLen && j.durable == j.appended
	j.mu.Unlock()
	if empty {
		return nil // nothing since the last compaction
	}
	var snap [2][][]byte
	j.commit(func() { snap = j.snapshot() })
	j.drain()
	j.mu.Lock()
	err := j.err
	j.mu.Unlock()
	if err != nil {
		return err
	}
	next := j.gen + 1
	nf, err := createJournal(j.dir, next, j.syncFile)
	if err != nil {
		return fmt.Errorf("registry: start journal %d: %w", next, err)
	}
	old := j.f
	j.f, j.gen, j.size, j.alloc = nf, next, journalHeaderLen, journalHeaderLen
	old.Close()
	done := make(chan error, 1)
	j.saving = done
	go func() { done <- j.save(snap, next) }()
	if wait {
		return j.waitSave()
	}
	return nil
}

// waitSave waits for the running snapshot save, if any, and returns its error.
func (j *journal) waitSave() error {
	if j.saving == nil {
		return nil
	}
	err := <-j.saving
	j.saving = nil
	return err
}

// save writes a snapshot that journal generation next continues, then deletes the
// older journal files.
func (j *journal) save(snap [2][][]byte, next uint64) error {
	if err := j.st.save(snap, next); err != nil {
		return err
	}
	gens, err := journalFiles(j.dir)
	if err != nil {
		return err
	}
	for _, g := range gens {
		if g < next {
			if err := os.Remove(filepath.Join(j.dir, journalName(g))); err != nil {
				j.log.Warn("registry: remove old journal", "err", err)
			}
		}
	}
	return nil
}

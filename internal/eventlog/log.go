package eventlog

import (
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Size limits of a log.
const (
	DefaultMaxSize = 20 << 20 // Windows' default for the System log
	MinMaxSize     = 64 << 10 // maxSize is rounded up to a multiple of this, as Windows does
	minSegmentSize = 4 << 10
	segmentExt     = ".evl"
	configFile     = "config.json"
)

// QueryOptions are wevtutil qe's /c and /rd.
type QueryOptions struct {
	Count   int    // at most this many records; 0 for all
	Reverse bool   // newest first
	After   uint64 // only records with a higher record number (a bookmark); 0 for all
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

// openLog opens the log in dir, creating it when it does not exist, and starts its
// committer.
func openLog(dir, name string, defaultMax int64, log *slog.Logger, subs *hub, sync syncFunc) (*logFile, error) {
	if sync == nil {
		sync = fileSync
	}
	l := &logFile{name: name, dir: dir, log: log.With("log", name), x: newIndex(name),
		wake: make(chan struct{}, 1), stopped: make(chan struct{}), subs: subs, syncFile: sync}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	var err error
	if l.cfg, err = readConfig(dir, defaultMax); err != nil {
		return nil, err
	}
	if err := l.load(); err != nil {
		l.closeFiles()
		return nil, err
	}
	go l.commitLoop()
	return l, nil
}

// closeFiles closes the segments' files.
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

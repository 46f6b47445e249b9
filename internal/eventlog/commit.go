package eventlog

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
)

// batch is a group of records committed with one write and one fsync.
type batch struct {
	recs []Record
	err  error
	done chan struct{}
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

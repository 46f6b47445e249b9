package eventlog

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

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

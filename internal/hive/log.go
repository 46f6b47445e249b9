package hive

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ReadFile reads the hive at path. When its base block says it is dirty (the
// sequence numbers differ or the checksum is wrong), the transaction logs next to
// it — path.LOG1 and path.LOG2 (dual logging), else path.LOG — are applied as
// Windows would (see ReadWithLogs).
func ReadFile(path string) (*Hive, error) {
	primary, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hive: %w", err)
	}
	if !needsRecovery(primary) {
		return decode(primary)
	}
	var logs [][]byte
	for _, ext := range []string{".LOG1", ".LOG2"} {
		b, err := os.ReadFile(path + ext)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("hive: %w", err)
		}
		logs = append(logs, b)
	}
	if len(logs[0]) == 0 && len(logs[1]) == 0 {
		b, err := os.ReadFile(path + ".LOG")
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("hive: %w", err)
		}
		logs = [][]byte{b}
	}
	return ReadWithLogs(primary, logs...)
}

// needsRecovery reports whether a primary file's base block is dirty: a wrong
// checksum, or differing sequence numbers.
func needsRecovery(primary []byte) bool {
	if len(primary) < BaseBlockSize {
		return false // decode reports it
	}
	bb := parseBaseBlock(primary)
	return bb.Checksum != baseBlockChecksum(primary) || bb.PrimarySequenceNumber != bb.SecondarySequenceNumber
}

// ReadWithLogs decodes a primary file and, when it is dirty, applies its
// transaction logs first. Pass the logs in the order .LOG1, .LOG2 (or the single
// .LOG); empty or invalid ones are skipped. Neither primary nor the logs are
// modified.
//
// New-format logs (Windows 8.1+) are preferred. With a valid primary base block,
// the log holding the earlier entries is applied first and the other continues
// from the next sequence number; with an invalid one, only the log with the
// latest entries is used and the base block is recovered from it. Application of
// a log stops at the first entry with a wrong hash, sequence number or size.
// Old-format logs (Windows XP to 7) apply when their base block is valid and not
// older than the primary's; of two, .LOG1 is preferred unless .LOG2 is newer.
//
// Hive.Recovered tells whether a log was applied; a dirty hive without a usable
// log is decoded as it is, with Hive.Dirty set (and, when a log was damaged,
// the damage in Hive.Damage).
func ReadWithLogs(primary []byte, logs ...[]byte) (*Hive, error) {
	if !needsRecovery(primary) {
		return decode(append([]byte(nil), primary...))
	}
	buf := append([]byte(nil), primary...)
	rec := &recovery{buf: buf, limit: len(primary)}
	for _, l := range logs {
		rec.limit += len(l)
	}
	var newLogs, oldLogs []*txLog
	for i, l := range logs {
		lg := parseLog(l, i)
		switch {
		case lg == nil:
		case lg.bb.FileType == FileTypeLogNew:
			newLogs = append(newLogs, lg)
		default:
			oldLogs = append(oldLogs, lg)
		}
	}
	var applied bool
	var err error
	switch {
	case len(newLogs) > 0:
		applied, err = rec.applyNew(newLogs)
	case len(oldLogs) > 0:
		applied, err = rec.applyOld(oldLogs)
	}
	if err != nil {
		// A damaged log: keep the primary file's consistent older state.
		h, derr := decode(append([]byte(nil), primary...))
		if derr != nil {
			return nil, derr
		}
		h.Damage = append(h.Damage, err)
		return h, nil
	}
	h, err := decode(rec.buf)
	if err != nil {
		return nil, err
	}
	if applied {
		h.Recovered, h.Dirty = true, false
	}
	return h, nil
}

// txLog is a transaction log file whose base block is valid.
type txLog struct {
	b     []byte
	bb    BaseBlock
	index int // position among the logs given (0 = .LOG1)
}

// parseLog returns the log if its base block is usable, else nil.
func parseLog(b []byte, index int) *txLog {
	if len(b) < LogBaseBlockSize {
		return nil
	}
	bb := parseBaseBlock(b)
	if string(bb.Signature[:]) != sigRegf || bb.Checksum != baseBlockChecksum(b) || bb.MajorVersion != 1 ||
		bb.HiveBinsDataSize%HbinAlignment != 0 {
		return nil
	}
	switch bb.FileType {
	case FileTypeLogNew:
	case FileTypeLog, FileTypeLogNT2000:
		if bb.PrimarySequenceNumber != bb.SecondarySequenceNumber {
			return nil // a log write was interrupted
		}
	default:
		return nil
	}
	return &txLog{b: b, bb: bb, index: index}
}

// recovery applies logs to a copy of the primary file.
type recovery struct {
	buf   []byte
	limit int // the hive may not grow past the primary's and the logs' sizes together
}

// primaryValid reports whether the primary base block's checksum is right.
func (r *recovery) primaryValid() bool {
	return len(r.buf) >= BaseBlockSize && le32(r.buf, bbChecksum) == baseBlockChecksum(r.buf)
}

// grow makes the file hold the base block plus size bytes of hive bins.
func (r *recovery) grow(size uint32) bool {
	end := BaseBlockSize + int(size)
	if end > r.limit+BaseBlockSize {
		return false
	}
	if end > len(r.buf) {
		r.buf = append(r.buf, make([]byte, end-len(r.buf))...)
	}
	return true
}

// finish rewrites the base block after recovery: equal sequence numbers, the
// hive bins data size reached, primary file type, a fresh checksum.
func (r *recovery) finish(seq, hbins uint32, flags *uint32) {
	if len(r.buf) < BaseBlockSize {
		r.buf = append(r.buf, make([]byte, BaseBlockSize-len(r.buf))...)
	}
	bb := parseBaseBlock(r.buf)
	bb.PrimarySequenceNumber, bb.SecondarySequenceNumber = seq, seq
	bb.HiveBinsDataSize = hbins
	bb.FileType = FileTypePrimary
	if flags != nil {
		bb.Flags = bb.Flags&^1 | *flags&1
	}
	bb.put(r.buf)
}

// isEarlier reports whether sequence number a comes before b, allowing for
// wrap-around.
func isEarlier(a, b uint32) bool { return int32(a-b) < 0 }

// applyNew applies new-format logs.
func (r *recovery) applyNew(logs []*txLog) (bool, error) {
	if len(logs) > 2 {
		logs = logs[:2]
	}
	first := logs[0]
	var second *txLog
	if len(logs) == 2 {
		second = logs[1]
		if isEarlier(second.bb.PrimarySequenceNumber, first.bb.PrimarySequenceNumber) {
			first, second = second, first
		}
	}
	if !r.primaryValid() {
		// Only the log with the latest entries; the base block comes from it.
		latest := first
		if second != nil {
			latest = second
		}
		copy(r.buf, latest.b[:LogBaseBlockSize])
		last, ok := r.applyEntries(latest, latest.bb.PrimarySequenceNumber)
		if !ok {
			return false, nil
		}
		r.finish(last.seq, last.hbins, &last.flags)
		return true, nil
	}
	primarySecondary := le32(r.buf, bbSecondarySequence)
	if isEarlier(first.bb.PrimarySequenceNumber, primarySecondary) {
		// The first log holds only entries already in the primary file.
		if second == nil || isEarlier(second.bb.PrimarySequenceNumber, primarySecondary) {
			return false, nil
		}
		first, second = second, nil
	}
	copyLogFields(r.buf, first.b)
	last, ok := r.applyEntries(first, first.bb.PrimarySequenceNumber)
	if !ok {
		return false, nil
	}
	if second != nil && second.bb.PrimarySequenceNumber == last.seq+1 {
		copyLogFields(r.buf, second.b)
		if more, ok := r.applyEntries(second, last.seq+1); ok {
			last = more
		}
	}
	r.finish(last.seq, last.hbins, &last.flags)
	return true, nil
}

// copyLogFields takes from a log's base block the fields Windows restores from
// it: root cell offset, version and last written timestamp.
func copyLogFields(primary, log []byte) {
	copy(primary[bbLastWritten:bbLastWritten+8], log[bbLastWritten:])
	copy(primary[bbMajorVersion:bbMajorVersion+8], log[bbMajorVersion:])
	copy(primary[bbRootCellOffset:bbRootCellOffset+4], log[bbRootCellOffset:])
}

// entryState is what the last applied log entry leaves in the base block.
type entryState struct {
	seq, hbins, flags uint32
}

// applyEntries applies the log entries of lg from the first one, which must
// carry sequence number want, until one is missing or bogus. It reports false
// when not even the first entry applied.
func (r *recovery) applyEntries(lg *txLog, want uint32) (entryState, bool) {
	var last entryState
	applied := false
	b := lg.b
	for pos := LogSectorSize; pos+leHeaderSize <= len(b); {
		e := b[pos:]
		if string(e[:4]) != sigHvLE {
			break
		}
		size := int(le32(e, leSize))
		if size < leHeaderSize || size%LogSectorSize != 0 || size > len(e) {
			break
		}
		e = e[:size]
		seq := le32(e, leSequenceNumber)
		hbins := le32(e, leHiveBinsDataSize)
		if seq != want || hbins == 0 || hbins%HbinAlignment != 0 {
			break
		}
		if marvin32(e[leHeaderSize:], marvinSeed) != leUint64(e, leHash1) || marvin32(e[:32], marvinSeed) != leUint64(e, leHash2) {
			break
		}
		pages, ok := dirtyPages(e, hbins)
		if !ok || !r.grow(hbins) {
			break
		}
		for _, p := range pages {
			copy(r.buf[BaseBlockSize+int(p.off):], p.data)
		}
		last = entryState{seq: seq, hbins: hbins, flags: le32(e, leFlags)}
		applied = true
		want = seq + 1
		pos += size
	}
	return last, applied
}

type dirtyPage struct {
	off  uint32
	data []byte
}

// dirtyPages decodes the page references and pages of a log entry e, checking
// that each page lies inside the entry and inside hbins bytes of hive bins.
func dirtyPages(e []byte, hbins uint32) ([]dirtyPage, bool) {
	n := le32(e, leDirtyPagesCount)
	refs := uint64(leHeaderSize) + 8*uint64(n)
	if refs > uint64(len(e)) {
		return nil, false
	}
	pages := make([]dirtyPage, n)
	pos := int(refs)
	for i := range pages {
		off := le32(e, leHeaderSize+8*i)
		size := le32(e, leHeaderSize+8*i+4)
		if uint64(off)+uint64(size) > uint64(hbins) || uint64(pos)+uint64(size) > uint64(len(e)) {
			return nil, false
		}
		pages[i] = dirtyPage{off: off, data: e[pos : pos+int(size)]}
		pos += int(size)
	}
	return pages, true
}

// applyOld applies one old-format log: the first log whose timestamp is not
// older than the primary's, unless the second one is newer still.
func (r *recovery) applyOld(logs []*txLog) (bool, error) {
	valid := r.primaryValid()
	var primaryTS uint64
	if valid {
		primaryTS = leUint64(r.buf, bbLastWritten)
	} else if len(r.buf) >= BaseBlockSize+HbinHeaderSize {
		// The first hive bin keeps a copy of the timestamp.
		primaryTS = leUint64(r.buf, BaseBlockSize+hbinTimestamp)
	}
	var use *txLog
	for _, lg := range logs {
		if lg.bb.LastWrittenTimestamp < primaryTS {
			continue
		}
		if use == nil || lg.bb.LastWrittenTimestamp > use.bb.LastWrittenTimestamp {
			use = lg
		}
	}
	if use == nil {
		return false, nil
	}
	b := use.b
	sector := LogSectorSize * int(max(1, min(use.bb.ClusteringFactor, 8)))
	hbins := use.bb.HiveBinsDataSize
	bitmap := int(hbins / LogSectorSize / 8)
	if sector+4+bitmap > len(b) || string(b[sector:sector+4]) != sigDirt {
		return false, &FormatError{int64(sector), "old-format log: bad dirty vector signature", nil}
	}
	if !r.grow(hbins) {
		return false, &FormatError{bbHiveBinsDataSize, "old-format log: hive bins data size too large", hbins}
	}
	vector := b[sector+4 : sector+4+bitmap]
	pos := (sector + 4 + bitmap + sector - 1) / sector * sector
	for i, byt := range vector {
		for bit := range 8 {
			if byt&(1<<bit) == 0 {
				continue
			}
			if pos+LogSectorSize > len(b) {
				return false, &FormatError{int64(pos), "old-format log: dirty page beyond end of log", nil}
			}
			page := (i*8 + bit) * LogSectorSize
			copy(r.buf[BaseBlockSize+page:], b[pos:pos+LogSectorSize])
			pos += LogSectorSize
		}
	}
	if !valid {
		copy(r.buf, b[:LogBaseBlockSize])
	} else {
		copyLogFields(r.buf, b)
	}
	r.finish(use.bb.PrimarySequenceNumber, hbins, nil)
	return true, nil
}

package eventlog

import (
	"context"
	"sort"
	"time"
)

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

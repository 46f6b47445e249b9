package eventlog

import (
	"slices"
	"strings"
)

// A compiled query is a tree of qnodes whose leaves compare one field of a record.

type nodeKind int

const (
	nTrue nodeKind = iota
	nAnd
	nOr
	nNot
	nCond
)

type field int

const (
	fEventID field = iota
	fLevel
	fTask
	fKeywords
	fKeywordsBand
	fRecordID
	fQualifiers
	fProvider
	fComputer
	fChannel
	fTime     // ns since the epoch
	fTimeDiff // ms before now
	fPID
	fTID
	fUser
	fDataAny
	fDataNamed
)

type cond struct {
	f    field
	op   tokKind // tEQ … tGE; 0 for "exists" (fDataNamed)
	num  uint64
	str  string
	name string // data item name
}

type qnode struct {
	kind nodeKind
	kids []*qnode
	c    cond
}

func cmpNum(op tokKind, a, b uint64) bool {
	switch op {
	case tEQ:
		return a == b
	case tNE:
		return a != b
	case tLT:
		return a < b
	case tLE:
		return a <= b
	case tGT:
		return a > b
	case tGE:
		return a >= b
	}
	return false
}

func cmpStr(op tokKind, a, b string, fold bool) bool {
	eq := a == b
	if fold {
		eq = strings.EqualFold(a, b)
	}
	if op == tNE {
		return !eq
	}
	return eq
}

// evalRecord evaluates n on a full record; now is in ns since the epoch.
func (n *qnode) evalRecord(r *Record, now int64) bool {
	switch n.kind {
	case nTrue:
		return true
	case nAnd:
		for _, k := range n.kids {
			if !k.evalRecord(r, now) {
				return false
			}
		}
		return true
	case nOr:
		for _, k := range n.kids {
			if k.evalRecord(r, now) {
				return true
			}
		}
		return false
	case nNot:
		return !n.kids[0].evalRecord(r, now)
	}
	c := &n.c
	switch c.f {
	case fEventID:
		return cmpNum(c.op, uint64(r.EventID), c.num)
	case fLevel:
		return cmpNum(c.op, uint64(r.Level), c.num)
	case fTask:
		return cmpNum(c.op, uint64(r.Category), c.num)
	case fKeywords:
		return cmpNum(c.op, uint64(r.Keywords), c.num)
	case fKeywordsBand:
		return uint64(r.Keywords)&c.num != 0
	case fRecordID:
		return cmpNum(c.op, r.RecordID, c.num)
	case fQualifiers:
		return cmpNum(c.op, uint64(r.Qualifiers), c.num)
	case fProvider:
		return cmpStr(c.op, r.Source, c.str, true)
	case fComputer:
		return cmpStr(c.op, r.Computer, c.str, true)
	case fChannel:
		return cmpStr(c.op, r.Log, c.str, true)
	case fTime:
		return cmpNum(c.op, uint64(r.TimeCreated.UnixNano()), c.num)
	case fTimeDiff:
		return cmpTimeDiff(c, r.TimeCreated.UnixNano(), now)
	case fPID:
		return cmpNum(c.op, uint64(r.PID), c.num)
	case fTID:
		return cmpNum(c.op, uint64(r.TID), c.num)
	case fUser:
		return cmpStr(c.op, r.User, c.str, true)
	case fDataAny:
		found := slices.Contains(r.Strings, c.str) || slices.ContainsFunc(r.Data, func(d DataItem) bool { return d.Value == c.str })
		return found == (c.op == tEQ)
	case fDataNamed:
		v, ok := r.DataValue(c.name)
		if c.op == 0 {
			return ok
		}
		return ok && cmpStr(c.op, v, c.str, false)
	}
	return false
}

func cmpTimeDiff(c *cond, t, now int64) bool {
	diff := now - t
	if diff < 0 {
		diff = 0
	}
	return cmpNum(c.op, uint64(diff/1e6), c.num)
}

// tri is a three-valued truth for evaluating on the index alone.
type tri int8

const (
	triFalse tri = iota
	triTrue
	triUnknown
)

func triOf(b bool) tri {
	if b {
		return triTrue
	}
	return triFalse
}

// evalMeta evaluates n on the indexed fields of a record; triUnknown means the full
// record is needed.
func (n *qnode) evalMeta(m *recMeta, x *index, now int64) tri {
	switch n.kind {
	case nTrue:
		return triTrue
	case nAnd:
		res := triTrue
		for _, k := range n.kids {
			switch k.evalMeta(m, x, now) {
			case triFalse:
				return triFalse
			case triUnknown:
				res = triUnknown
			}
		}
		return res
	case nOr:
		res := triFalse
		for _, k := range n.kids {
			switch k.evalMeta(m, x, now) {
			case triTrue:
				return triTrue
			case triUnknown:
				res = triUnknown
			}
		}
		return res
	case nNot:
		switch n.kids[0].evalMeta(m, x, now) {
		case triTrue:
			return triFalse
		case triFalse:
			return triTrue
		}
		return triUnknown
	}
	c := &n.c
	switch c.f {
	case fEventID:
		return triOf(cmpNum(c.op, uint64(m.eventID), c.num))
	case fLevel:
		return triOf(cmpNum(c.op, uint64(m.level), c.num))
	case fTask:
		return triOf(cmpNum(c.op, uint64(m.category), c.num))
	case fRecordID:
		return triOf(cmpNum(c.op, m.id, c.num))
	case fProvider:
		return triOf(cmpStr(c.op, x.providers[m.provider], c.str, true))
	case fChannel:
		return triOf(cmpStr(c.op, x.log, c.str, true))
	case fTime:
		return triOf(cmpNum(c.op, uint64(m.time), c.num))
	case fTimeDiff:
		return triOf(cmpTimeDiff(c, m.time, now))
	}
	return triUnknown
}

// candidates is the set of records a query can select, as the index knows it: every
// record, a sorted list of record IDs, or a range of record IDs.
type candidates struct {
	all     bool
	ids     []uint64
	isRange bool
	lo, hi  uint64
}

var allCandidates = candidates{all: true}

// size estimates how many records the set holds.
func (c candidates) size(x *index) int {
	switch {
	case c.all:
		return len(x.recs)
	case c.isRange:
		if len(x.recs) == 0 || c.hi < c.lo {
			return 0
		}
		lo, hi := max(c.lo, x.recs[0].id), min(c.hi, x.recs[len(x.recs)-1].id)
		if hi < lo {
			return 0
		}
		return int(hi - lo + 1)
	}
	return len(c.ids)
}

// candidates narrows the records n can select using the posting lists: equality on
// event ID, source or level, and ranges of record IDs.
func (n *qnode) candidates(x *index) candidates {
	switch n.kind {
	case nAnd:
		best := allCandidates
		for _, k := range n.kids {
			if c := k.candidates(x); !c.all && (best.all || c.size(x) < best.size(x)) {
				best = c
			}
		}
		return best
	case nOr:
		var lists [][]uint64
		lo, hi := ^uint64(0), uint64(0)
		ranged := false
		for _, k := range n.kids {
			c := k.candidates(x)
			switch {
			case c.all:
				return allCandidates
			case c.isRange:
				ranged = true
				lo, hi = min(lo, c.lo), max(hi, c.hi)
			case len(c.ids) > 0:
				lists = append(lists, c.ids)
				lo, hi = min(lo, c.ids[0]), max(hi, c.ids[len(c.ids)-1])
			}
		}
		if ranged {
			return candidates{isRange: true, lo: lo, hi: hi}
		}
		return candidates{ids: mergeIDs(lists)}
	case nCond:
	default:
		return allCandidates
	}
	c := &n.c
	switch c.f {
	case fEventID:
		if c.op == tEQ {
			return candidates{ids: x.byEventID[uint32(c.num)]}
		}
	case fLevel:
		if c.op == tEQ {
			return candidates{ids: x.byLevel[Level(c.num)]}
		}
	case fProvider:
		if c.op == tEQ {
			p, ok := x.provByLower[strings.ToLower(c.str)]
			if !ok {
				return candidates{}
			}
			return candidates{ids: x.byProvider[p]}
		}
	case fRecordID:
		switch c.op {
		case tEQ:
			return candidates{isRange: true, lo: c.num, hi: c.num}
		case tLT:
			if c.num == 0 {
				return candidates{}
			}
			return candidates{isRange: true, lo: 0, hi: c.num - 1}
		case tLE:
			return candidates{isRange: true, lo: 0, hi: c.num}
		case tGT:
			if c.num == ^uint64(0) {
				return candidates{}
			}
			return candidates{isRange: true, lo: c.num + 1, hi: ^uint64(0)}
		case tGE:
			return candidates{isRange: true, lo: c.num, hi: ^uint64(0)}
		}
	}
	return allCandidates
}

// mergeIDs returns the sorted union of sorted lists.
func mergeIDs(lists [][]uint64) []uint64 {
	switch len(lists) {
	case 0:
		return nil
	case 1:
		return lists[0]
	}
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	out := make([]uint64, 0, n)
	for _, l := range lists {
		out = append(out, l...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

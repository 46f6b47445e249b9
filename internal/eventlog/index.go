package eventlog

import (
	"sort"
	"strings"
)

// recMeta is what the index keeps of each record: where its frame is and the fields
// that queries most often test.
type recMeta struct {
	id       uint64
	time     int64 // ns since the epoch
	seg      uint64
	off      int64
	size     uint32 // frame size, header included
	eventID  uint32
	category uint16
	level    Level
	provider uint32 // index into index.providers
}

// index is one log's in-memory index, rebuilt when the log is opened.
//
// Invariants: recs is sorted by id; every posting list is sorted and holds only ids of
// records in recs (trimBefore cuts them together).
type index struct {
	log         string
	recs        []recMeta
	providers   []string          // source names as first seen
	provByLower map[string]uint32 // lower-case name → providers index
	byEventID   map[uint32][]uint64
	byProvider  map[uint32][]uint64
	byLevel     map[Level][]uint64
}

func newIndex(log string) *index {
	x := &index{log: log}
	x.reset()
	return x
}

func (x *index) reset() {
	x.recs = nil
	x.providers = nil
	x.provByLower = map[string]uint32{}
	x.byEventID = map[uint32][]uint64{}
	x.byProvider = map[uint32][]uint64{}
	x.byLevel = map[Level][]uint64{}
}

// provider interns a source name.
func (x *index) provider(name []byte) uint32 {
	if p, ok := x.provByLower[string(name)]; ok { // common case: already lower or seen as is
		return p
	}
	lower := strings.ToLower(string(name))
	if p, ok := x.provByLower[lower]; ok {
		x.provByLower[string(name)] = p
		return p
	}
	p := uint32(len(x.providers))
	x.providers = append(x.providers, string(name))
	x.provByLower[lower] = p
	if lower != string(name) {
		x.provByLower[string(name)] = p
	}
	return p
}

func (x *index) add(m recMeta) {
	x.recs = append(x.recs, m)
	x.byEventID[m.eventID] = append(x.byEventID[m.eventID], m.id)
	x.byProvider[m.provider] = append(x.byProvider[m.provider], m.id)
	x.byLevel[m.level] = append(x.byLevel[m.level], m.id)
}

// pos returns the position in recs of the record with id.
func (x *index) pos(id uint64) (int, bool) {
	if len(x.recs) == 0 {
		return 0, false
	}
	// Record IDs are consecutive unless a damaged segment was skipped: try the direct
	// position first.
	if first := x.recs[0].id; id >= first && id-first < uint64(len(x.recs)) && x.recs[id-first].id == id {
		return int(id - first), true
	}
	i := sort.Search(len(x.recs), func(i int) bool { return x.recs[i].id >= id })
	return i, i < len(x.recs) && x.recs[i].id == id
}

// lowerBound returns the first position whose id is >= id.
func (x *index) lowerBound(id uint64) int {
	if len(x.recs) == 0 {
		return 0
	}
	if first := x.recs[0].id; id <= first {
		return 0
	} else if id-first < uint64(len(x.recs)) && x.recs[id-first].id == id {
		return int(id - first)
	}
	return sort.Search(len(x.recs), func(i int) bool { return x.recs[i].id >= id })
}

// trimBefore drops the records whose id is below id (their segment was deleted).
func (x *index) trimBefore(id uint64) {
	x.recs = x.recs[x.lowerBound(id):]
	cut := func(l []uint64) []uint64 {
		return l[sort.Search(len(l), func(i int) bool { return l[i] >= id }):]
	}
	for k, l := range x.byEventID {
		if l = cut(l); len(l) == 0 {
			delete(x.byEventID, k)
		} else {
			x.byEventID[k] = l
		}
	}
	for k, l := range x.byProvider {
		if l = cut(l); len(l) == 0 {
			delete(x.byProvider, k)
		} else {
			x.byProvider[k] = l
		}
	}
	for k, l := range x.byLevel {
		if l = cut(l); len(l) == 0 {
			delete(x.byLevel, k)
		} else {
			x.byLevel[k] = l
		}
	}
}

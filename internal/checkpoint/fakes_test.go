package checkpoint

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"wolfpack/internal/clusterdb"
	"wolfpack/internal/eventlog"
)

// fakeRegistry is an in-memory registry: each key holds opaque "hive" bytes, handles
// held by other processes, and watchers.
type fakeRegistry struct {
	mu       sync.Mutex
	content  map[string][]byte
	holders  map[string][]Holder
	watchers map[string][]chan struct{}
	saveErr  error
	restErr  error
	saves    int
	restores []string // "key force?"
}

func newFakeRegistry() *fakeRegistry {
	return &fakeRegistry{content: map[string][]byte{}, holders: map[string][]Holder{}, watchers: map[string][]chan struct{}{}}
}

func (r *fakeRegistry) Save(ctx context.Context, key string) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.saves++
	if r.saveErr != nil {
		return nil, r.saveErr
	}
	return slices.Clone(r.content[fold(key)]), nil
}

func (r *fakeRegistry) Restore(ctx context.Context, key string, hive []byte, force bool) error {
	r.mu.Lock()
	r.restores = append(r.restores, fmt.Sprintf("%s force=%v", key, force))
	if r.restErr != nil {
		r.mu.Unlock()
		return r.restErr
	}
	if hs := r.holders[fold(key)]; len(hs) > 0 && !force {
		r.mu.Unlock()
		return &KeysInUseError{Key: key, Holders: slices.Clone(hs)}
	}
	if force {
		delete(r.holders, fold(key))
	}
	r.content[fold(key)] = slices.Clone(hive)
	r.mu.Unlock()
	r.notify(key)
	return nil
}

func (r *fakeRegistry) Watch(ctx context.Context, key string) (<-chan struct{}, error) {
	in := make(chan struct{}, 1)
	out := make(chan struct{})
	r.mu.Lock()
	r.watchers[fold(key)] = append(r.watchers[fold(key)], in)
	r.mu.Unlock()
	go func() {
		defer close(out)
		defer func() {
			r.mu.Lock()
			ws := r.watchers[fold(key)]
			if i := slices.Index(ws, in); i >= 0 {
				r.watchers[fold(key)] = slices.Delete(ws, i, i+1)
			}
			r.mu.Unlock()
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case <-in:
				select {
				case out <- struct{}{}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

func (r *fakeRegistry) notify(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range r.watchers[fold(key)] {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// set changes the key's content as a program writing to the registry would.
func (r *fakeRegistry) set(key, content string) {
	r.mu.Lock()
	r.content[fold(key)] = []byte(content)
	r.mu.Unlock()
	r.notify(key)
}

func (r *fakeRegistry) get(key string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return string(r.content[fold(key)])
}

func (r *fakeRegistry) hold(key string, hs ...Holder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if hs == nil {
		delete(r.holders, fold(key))
		return
	}
	r.holders[fold(key)] = hs
}

// fakeStore keeps versions in memory and checks fences against owners.
type fakeStore struct {
	mu        sync.Mutex
	owners    map[string]Fence // group → current ownership
	versions  map[string][]storedVersion
	puts      int
	latestErr error // Latest fails with it (the cluster database out of reach)
	latests   int   // calls of Latest
}

type storedVersion struct {
	v    clusterdb.CheckpointVersion
	data []byte
}

func newFakeStore() *fakeStore {
	return &fakeStore{owners: map[string]Fence{}, versions: map[string][]storedVersion{}}
}

func (s *fakeStore) own(f Fence) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.owners[f.Group] = f
}

func (s *fakeStore) Put(ctx context.Context, f Fence, resource, key string, data []byte, v clusterdb.CheckpointVersion, keep int) (clusterdb.CheckpointVersion, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.owners[f.Group]; o != f {
		return v, fmt.Errorf("fake: %w", clusterdb.ErrFenced)
	}
	s.puts++
	k := fold(resource) + "|" + fold(key)
	vs := s.versions[k]
	v.Number = 1
	if len(vs) > 0 {
		v.Number = vs[len(vs)-1].v.Number + 1
	}
	v.Size = int64(len(data))
	vs = append(vs, storedVersion{v, slices.Clone(data)})
	if len(vs) > keep {
		vs = vs[len(vs)-keep:]
	}
	s.versions[k] = vs
	return v, nil
}

func (s *fakeStore) Latest(ctx context.Context, resource, key string) (clusterdb.CheckpointVersion, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latests++
	if s.latestErr != nil {
		return clusterdb.CheckpointVersion{}, nil, s.latestErr
	}
	vs := s.versions[fold(resource)+"|"+fold(key)]
	if len(vs) == 0 {
		return clusterdb.CheckpointVersion{}, nil, clusterdb.ErrNoCheckpoint
	}
	last := vs[len(vs)-1]
	return last.v, slices.Clone(last.data), nil
}

// seed stores a version as another node would have captured it.
func (s *fakeStore) seed(resource, key, content string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := fold(resource) + "|" + fold(key)
	n := len(s.versions[k]) + 1
	s.versions[k] = append(s.versions[k], storedVersion{
		clusterdb.CheckpointVersion{Number: n, Node: "N1", Digest: ContentDigest([]byte(content))}, []byte(content)})
}

func (s *fakeStore) latest(resource, key string) (int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	vs := s.versions[fold(resource)+"|"+fold(key)]
	if len(vs) == 0 {
		return 0, ""
	}
	return vs[len(vs)-1].v.Number, string(vs[len(vs)-1].data)
}

func (s *fakeStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.puts
}

// fakeEvents records reported events.
type fakeEvents struct {
	mu     sync.Mutex
	events []eventlog.Event
}

func (e *fakeEvents) Report(ctx context.Context, ev eventlog.Event) (uint64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, ev)
	return uint64(len(e.events)), nil
}

func (e *fakeEvents) ids() []uint32 {
	e.mu.Lock()
	defer e.mu.Unlock()
	var ids []uint32
	for _, ev := range e.events {
		ids = append(ids, ev.EventID)
	}
	return ids
}

// count is how many events id were reported.
func (e *fakeEvents) count(id uint32) int {
	n := 0
	for _, x := range e.ids() {
		if x == id {
			n++
		}
	}
	return n
}

func (e *fakeEvents) find(id uint32) (eventlog.Event, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.events {
		if ev.EventID == id {
			return ev, true
		}
	}
	return eventlog.Event{}, false
}

// eventually polls cond until it holds or 5 s pass.
func eventually(cond func() bool) bool {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return cond()
}

func dataString(ev eventlog.Event) string {
	var b strings.Builder
	for _, d := range ev.Data {
		fmt.Fprintf(&b, "%s=%s\n", d.Name, d.Value)
	}
	return b.String()
}

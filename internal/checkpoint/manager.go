package checkpoint

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"wolfpack/internal/clusterdb"
)

// Defaults of Config.
const (
	DefaultDebounce      = 100 * time.Millisecond
	DefaultRetryInterval = 50 * time.Millisecond
)

// Config configures a Manager.
type Config struct {
	Node     string // this node's name, recorded with every version it captures
	Registry Registry
	Store    Store
	Events   Reporter // nil: no events are written
	Log      *slog.Logger
	// Debounce is the least time between two captures of one key (DefaultDebounce).
	Debounce time.Duration
	// RetryInterval is the time between restore attempts under Retry.
	RetryInterval time.Duration
	// Digest returns a digest of a hive's content that ignores what a save changes
	// without a change of content (timestamps); ContentDigest by default.
	Digest func(hive []byte) string
	// Committed, when set, is called after each committed capture.
	Committed func(resource, key string, v clusterdb.CheckpointVersion)
	// Metrics, when set, counts captures and restores.
	Metrics *Metrics
}

// Manager captures and restores the checkpoints of the resources that run on one node.
// The agent calls BeforeOnline, Online, KeysChanged and Offline; the API calls
// RestoreNow (rollback) and Verify.
//
// Invariants: a key is captured only between Online and Offline on this node, only by
// one goroutine at a time (keyState.mu), never when its restore was refused and the
// resource came online anyway (the live subtree is not the resource's configuration),
// and never after a write found the group fenced.
type Manager struct {
	cfg    Config
	log    *slog.Logger
	events Reporter
	base   context.Context
	stop   context.CancelFunc

	mu      sync.Mutex
	running map[string]*runningResource // by folded resource name
}

// New returns a Manager. Close stops its capture loops.
func New(cfg Config) *Manager {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Debounce <= 0 {
		cfg.Debounce = DefaultDebounce
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = DefaultRetryInterval
	}
	if cfg.Digest == nil {
		cfg.Digest = ContentDigest
	}
	base, stop := context.WithCancel(context.Background())
	return &Manager{
		cfg:     cfg,
		log:     cfg.Log.With("part", "checkpoint"),
		events:  cfg.Events,
		base:    base,
		stop:    stop,
		running: map[string]*runningResource{},
	}
}

// Close stops every capture loop without a final capture.
func (m *Manager) Close() error {
	m.stop()
	m.mu.Lock()
	rs := m.running
	m.running = map[string]*runningResource{}
	m.mu.Unlock()
	for _, r := range rs {
		r.stopCapture()
	}
	return nil
}

// runningResource is a resource that BeforeOnline prepared or that is online here.
type runningResource struct {
	mu     sync.Mutex // guards the fields below
	res    Resource
	fence  Fence
	policy Policy
	keys   map[string]*keyState // by folded key
	live   bool                 // Online was called: captures run
	fenced atomic.Bool          // a write found the group fenced: no more captures
}

// keyState is one checkpointed key of a running resource.
type keyState struct {
	key string // as the administrator gave it

	mu          sync.Mutex // serializes the key's captures and restores
	digest      string     // content digest of the newest committed version, "" unknown
	stale       bool       // restore refused or failed: the live subtree is not captured
	saveFailing bool       // the last save failed (1081 written once per failure run)

	dirty  chan struct{} // capacity 1: a change (or a request) to capture
	loopMu sync.Mutex    // guards cancel and done
	cancel context.CancelFunc
	done   chan struct{} // closed when the capture loop has ended
}

func fold(s string) string { return strings.ToLower(s) }

func newKeyState(key string) *keyState {
	return &keyState{key: key, dirty: make(chan struct{}, 1)}
}

func (k *keyState) signal() {
	select {
	case k.dirty <- struct{}{}:
	default:
	}
}

// BeforeOnline restores every checkpoint of r into this node's registry before the
// resource's Online runs, applying RestoreFailureAction where a restore is refused. An
// error means the resource must fail (event 1069, written by the agent).
func (m *Manager) BeforeOnline(ctx context.Context, r Resource, f Fence) error {
	rr := m.prepare(r, f)
	for _, k := range rr.keyList() {
		if err := m.restoreKey(ctx, rr, k); err != nil {
			m.mu.Lock()
			if m.running[fold(r.Name)] == rr {
				delete(m.running, fold(r.Name))
			}
			m.mu.Unlock()
			return err
		}
	}
	return nil
}

// prepare replaces any earlier record of r with a fresh one holding r's keys.
func (m *Manager) prepare(r Resource, f Fence) *runningResource {
	pol, err := PolicyOf(r)
	if err != nil {
		m.log.Warn("bad checkpoint property; using its default", "err", err)
	}
	rr := &runningResource{res: r, fence: f, policy: pol, keys: map[string]*keyState{}}
	for _, key := range r.Keys {
		if _, dup := rr.keys[fold(key)]; !dup {
			rr.keys[fold(key)] = newKeyState(key)
		}
	}
	m.mu.Lock()
	old := m.running[fold(r.Name)]
	m.running[fold(r.Name)] = rr
	m.mu.Unlock()
	if old != nil {
		old.stopCapture()
	}
	return rr
}

// keyList returns the keys in the order the resource names them.
func (rr *runningResource) keyList() []*keyState {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	var out []*keyState
	seen := map[string]bool{}
	for _, key := range rr.res.Keys {
		if k := rr.keys[fold(key)]; k != nil && !seen[fold(key)] {
			seen[fold(key)] = true
			out = append(out, k)
		}
	}
	return out
}

// Online starts capturing r's keys on change. It follows BeforeOnline; without it
// (a node that restarted under a running resource) the keys start with no known digest.
func (m *Manager) Online(ctx context.Context, r Resource, f Fence) {
	m.mu.Lock()
	rr := m.running[fold(r.Name)]
	m.mu.Unlock()
	if rr == nil {
		rr = m.prepare(r, f)
	}
	rr.mu.Lock()
	if rr.fence != f {
		rr.fenced.Store(false) // a new ownership: its writes are not fenced (yet)
	}
	rr.fence, rr.live = f, true
	keys := make([]*keyState, 0, len(rr.keys))
	for _, k := range rr.keys {
		keys = append(keys, k)
	}
	rr.mu.Unlock()
	for _, k := range keys {
		m.startCapture(rr, k)
	}
}

// KeysChanged brings the capture loops in line with r.Keys after /addcheckpoints or
// /removecheckpoints on an online resource; an added key is captured at once.
func (m *Manager) KeysChanged(ctx context.Context, r Resource, f Fence) {
	m.mu.Lock()
	rr := m.running[fold(r.Name)]
	m.mu.Unlock()
	if rr == nil {
		m.Online(ctx, r, f)
		m.mu.Lock()
		rr = m.running[fold(r.Name)]
		m.mu.Unlock()
		if rr == nil {
			return
		}
		rr.mu.Lock()
		for _, k := range rr.keys {
			k.signal()
		}
		rr.mu.Unlock()
		return
	}
	pol, err := PolicyOf(r)
	if err != nil {
		m.log.Warn("bad checkpoint property; using its default", "err", err)
	}
	want := map[string]string{}
	for _, key := range r.Keys {
		want[fold(key)] = key
	}
	rr.mu.Lock()
	rr.res, rr.fence, rr.policy = r, f, pol
	var added, removed []*keyState
	for fk, key := range want {
		if rr.keys[fk] == nil {
			k := newKeyState(key)
			rr.keys[fk] = k
			added = append(added, k)
		}
	}
	for fk, k := range rr.keys {
		if _, ok := want[fk]; !ok {
			delete(rr.keys, fk)
			removed = append(removed, k)
		}
	}
	live := rr.live
	rr.mu.Unlock()
	for _, k := range removed {
		k.stopCapture()
	}
	if !live {
		return
	}
	for _, k := range added {
		m.startCapture(rr, k)
		k.signal()
	}
}

// Offline stops capturing r and takes a final copy of every key that is captured
// here. The resource goes offline whatever it returns; an error says which copies
// could not be committed (and has been logged as event 1081 where it is the save).
func (m *Manager) Offline(ctx context.Context, r Resource, f Fence) error {
	m.mu.Lock()
	rr := m.running[fold(r.Name)]
	delete(m.running, fold(r.Name))
	m.mu.Unlock()
	if rr == nil {
		return nil
	}
	rr.stopCapture()
	rr.mu.Lock()
	live := rr.live
	rr.mu.Unlock()
	if !live {
		return nil
	}
	var errs []error
	for _, k := range rr.keyList() {
		if err := m.captureKey(ctx, rr, k); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (rr *runningResource) stopCapture() {
	rr.mu.Lock()
	keys := make([]*keyState, 0, len(rr.keys))
	for _, k := range rr.keys {
		keys = append(keys, k)
	}
	rr.mu.Unlock()
	for _, k := range keys {
		k.stopCapture()
	}
}

// lookup returns the running record of a resource and the state of one of its keys.
func (m *Manager) lookup(resource, key string) (*runningResource, *keyState, error) {
	m.mu.Lock()
	rr := m.running[fold(resource)]
	m.mu.Unlock()
	if rr == nil {
		return nil, nil, ErrNotOnline
	}
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if !rr.live {
		return nil, nil, ErrNotOnline
	}
	k := rr.keys[fold(key)]
	if k == nil {
		return rr, nil, &NotCheckpointedError{Resource: resource, Key: key}
	}
	return rr, k, nil
}

// Running reports whether resource is online here with checkpoint capture running.
func (m *Manager) Running(resource string) bool {
	m.mu.Lock()
	rr := m.running[fold(resource)]
	m.mu.Unlock()
	if rr == nil {
		return false
	}
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return rr.live
}

package registry

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"wolfpack/internal/secdesc"
)

// Options tune a Registry. The zero value is what the daemon uses.
type Options struct {
	Logger       *slog.Logger  // nil: slog.Default()
	LazyFlush    time.Duration // unflushed writes become durable within this; 0: 1 s
	CompactBytes int64         // journal size that triggers compaction into bbolt; 0: 64 MiB

	// NoAccessChecks turns the security descriptors' access checks off: every session
	// may do everything, as before keys had descriptors. It is the peer of the
	// benchmarks that measure what the checks cost (BENCHMARKS.md); nothing else sets it.
	NoAccessChecks bool

	noPrealloc bool     // benchmark peer: append to the journal instead of writing into zeros
	syncDepth  int      // benchmark peer: fdatasyncs at once
	noGather   bool     // benchmark peer: commit at once, without yielding to gather a batch
	syncFile   syncFunc // tests: records the journal's syncs (nil: fileSync)
}

// Registry is one node's registry. It is safe for concurrent use by many sessions.
//
// Locking: mu guards the whole tree (every key's fields, handle watcher lists); readers
// (QueryValue, OpenKey, EnumValues, …) share it, writers hold it alone for the time of one
// in-memory change plus the append of its journal record to a memory buffer. hmu guards
// the registry-wide handle table and is taken after mu. A Session's own mutex guards its
// handle map and is taken after mu and before hmu. Nothing waits for I/O while holding mu.
type Registry struct {
	mu          sync.RWMutex
	roots       [2]*key
	rootHandles [2]*handle
	mounts      []*mount // guarded by mu

	watchers   atomic.Int64
	nextHandle atomic.Uint64

	hmu     sync.Mutex
	handles map[Handle]*handle

	opts       Options
	maxHandles int
	log        *slog.Logger
	dir        string
	j          *journal // nil for a memory registry
	st         *store
	closed     atomic.Bool

	secs   secTable       // the distinct security descriptors, shared by the keys that have them
	system *secdesc.Token // the daemon's own token (SYSTEM)
	uid    int            // the uid the registry runs as: its sessions are Administrators
}

// Root names as Windows prints them.
const (
	RootLocalMachine = "HKEY_LOCAL_MACHINE"
	RootUsers        = "HKEY_USERS"
)

func newRegistry(opts Options) *Registry {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.LazyFlush <= 0 {
		opts.LazyFlush = time.Second
	}
	if opts.CompactBytes <= 0 {
		opts.CompactBytes = 64 << 20
	}
	r := &Registry{opts: opts, log: opts.Logger, handles: make(map[Handle]*handle), maxHandles: MaxHandlesPerSession,
		system: systemToken(), uid: processUID()}
	now := r.now()
	r.roots[0] = newKey(nil, RootLocalMachine, now)
	r.roots[1] = newKey(nil, RootUsers, now)
	r.roots[0].sec = r.mustSDDL(sddlMachine)
	r.roots[1].sec = r.mustSDDL(sddlUsers)
	for i, k := range r.roots {
		r.rootHandles[i] = &handle{id: HKEY_LOCAL_MACHINE + Handle(i), k: k, openedAs: k.name,
			access: KEY_ALL_ACCESS, rights: KEY_ALL_ACCESS, opened: now}
	}
	r.nextHandle.Store(0x100)
	return r
}

// OpenMemory makes a registry that lives in memory only, with the default keys. Flush
// returns at once; nothing survives Close.
func OpenMemory(opts Options) *Registry {
	r := newRegistry(opts)
	r.mu.Lock()
	r.ensureDefaults()
	r.mu.Unlock()
	return r
}

// Open opens (or creates) the registry stored in dir: the bbolt snapshot, then every
// journal record after it, a torn tail cut off. The default keys are created when
// missing and the volatile HKLM\SYSTEM\CurrentControlSet link is made anew.
func Open(ctx context.Context, dir string, opts Options) (*Registry, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	r := newRegistry(opts)
	r.dir = dir
	st, err := openStore(dir)
	if err != nil {
		return nil, err
	}
	r.st = st
	fail := func(err error) (*Registry, error) {
		st.close()
		return nil, err
	}
	gen, err := st.load(r.roots, &r.secs)
	if err != nil {
		return fail(err)
	}
	// A store written before keys had descriptors gets the defaults.
	r.fillSecurity(r.roots[0])
	r.fillSecurity(r.roots[1])
	gens, err := journalFiles(dir)
	if err != nil {
		return fail(fmt.Errorf("registry: %w", err))
	}
	j := &journal{dir: dir, log: r.log, lazy: r.opts.LazyFlush, compactBytes: r.opts.CompactBytes, st: st,
		snapshot: r.snapshot, lockTree: r.mu.RLock, unlockTree: r.mu.RUnlock, gen: gen, syncFile: fileSync}
	if r.opts.syncFile != nil {
		j.syncFile = r.opts.syncFile
	}
	replayed, good := 0, int64(0)
	for _, g := range gens {
		path := filepath.Join(dir, journalName(g))
		if g < gen {
			os.Remove(path) // compacted already; left by a crash before its removal
			continue
		}
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		recs, n, torn, err := readJournal(path, g)
		if err != nil {
			return fail(err)
		}
		for i, rec := range recs {
			if err := r.apply(rec); err != nil {
				r.log.Warn("registry: journal record not applied", "file", path, "record", i, "err", err)
			}
		}
		replayed += len(recs)
		j.gen, good = g, n
		if torn {
			r.log.Warn("registry: cut torn journal tail (writes that were never acknowledged)", "file", path, "offset", n)
		}
	}
	f, size, err := openJournalAt(dir, j.gen, good, j.syncFile)
	if err != nil {
		return fail(fmt.Errorf("registry: journal: %w", err))
	}
	j.f, j.size, j.alloc = f, size, size
	j.noPrealloc = r.opts.noPrealloc
	j.depth = syncDepth
	j.gather = gatherYields
	if r.opts.noGather {
		j.gather = 0
	}
	if r.opts.syncDepth > 0 {
		j.depth = r.opts.syncDepth
	}
	r.j = j
	j.start()
	r.mu.Lock()
	r.ensureDefaults()
	r.mu.Unlock()
	if replayed > 0 {
		if err := j.compact(ctx); err != nil {
			r.j.stop()
			return fail(err)
		}
	}
	r.log.Debug("registry: opened", "dir", dir, "replayed", replayed)
	return r, nil
}

// Close makes every write durable, writes loaded hives back, closes every watch, and
// releases the store. Sessions' calls fail afterwards.
func (r *Registry) Close() error {
	if r.closed.Swap(true) {
		return nil
	}
	var errs []error
	r.mu.RLock()
	mounts := append([]*mount(nil), r.mounts...)
	r.mu.RUnlock()
	for _, m := range mounts {
		m.stopLazy()
		if err := r.writeMount(m); err != nil {
			errs = append(errs, err)
		}
		m.dir.Close()
	}
	r.mu.Lock()
	for _, root := range r.roots {
		root.walk(func(k *key) bool {
			for _, w := range append([]*watcher(nil), k.watchers...) {
				w.detach()
				w.stop()
			}
			return true
		})
	}
	r.mu.Unlock()
	if r.j != nil {
		if err := r.j.stop(); err != nil {
			errs = append(errs, err)
		}
	}
	if r.st != nil {
		if err := r.st.close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Compact writes the journal into the bbolt file now (it also happens by itself).
func (r *Registry) Compact(ctx context.Context) error {
	if r.j == nil {
		return nil
	}
	return r.j.compact(ctx)
}

// sync makes every write so far durable.
func (r *Registry) sync(ctx context.Context) error {
	if r.j == nil {
		return nil
	}
	return r.j.sync(ctx)
}

func (r *Registry) now() time.Time { return time.Now().UTC() }

// snapshot encodes both roots' persisted subtrees. The caller holds mu for reading.
func (r *Registry) snapshot() [2][][]byte {
	return [2][][]byte{snapshotTree(r.roots[0]), snapshotTree(r.roots[1])}
}

// ensureDefaults creates the keys every registry has and the volatile link
// HKLM\SYSTEM\CurrentControlSet → ControlSet%03d of Select\Current. The caller holds mu.
func (r *Registry) ensureDefaults() {
	hklm := r.roots[0]
	system := r.ensureKey(hklm, "SYSTEM", false)
	system.noDelete = true
	sel := r.ensureKey(system, "Select", false)
	sel.noDelete = true // the control sets' selection: the system needs it
	for _, v := range []struct {
		name string
		val  uint32
	}{{"Current", 1}, {"Default", 1}, {"Failed", 0}, {"LastKnownGood", 1}} {
		if _, ok := sel.value((v.name)); !ok {
			r.setValueInternal(sel, v.name, REG_DWORD, binary.LittleEndian.AppendUint32(nil, v.val))
		}
	}
	current := uint32(1)
	if i, ok := sel.value(("Current")); ok && sel.values[i].typ == REG_DWORD && len(sel.values[i].data) == 4 {
		if c := binary.LittleEndian.Uint32(sel.values[i].data); c >= 1 && c <= 999 {
			current = c
		}
	}
	cs := r.ensureKey(system, "ControlSet001", false)
	r.ensureKey(cs, "Services", false)
	r.ensureKey(hklm, "SOFTWARE", false).noDelete = true
	name := fmt.Sprintf("ControlSet%03d", current)
	if cur := system.child((name)); cur == nil {
		r.ensureKey(system, name, false)
	}
	system.child(name).noDelete = true // the current control set
	if c := system.child(("CurrentControlSet")); c != nil {
		if !c.volatile || !c.link {
			r.log.Warn("registry: HKLM\\SYSTEM\\CurrentControlSet is a stored key, not the volatile link; left as is")
			return
		}
		r.removeKey(c)
	}
	link := r.ensureKey(system, "CurrentControlSet", true)
	link.link, link.noDelete = true, true
	target, _ := EncodeLinkTarget(`\REGISTRY\MACHINE\SYSTEM\` + name)
	r.setValueInternal(link, SymbolicLinkValue, REG_LINK, target)
}

// ensureKey returns the subkey name of parent, creating it when missing. The caller
// holds mu for writing.
func (r *Registry) ensureKey(parent *key, name string, volatile bool) *key {
	if c := parent.child((name)); c != nil {
		return c
	}
	now := r.now()
	k := newKey(parent, name, now)
	if volatile {
		k.volatile = true
	}
	k.sec = r.systemChildSecurity(parent, name, parent.sec)
	parent.addChild(k)
	parent.lastWrite = now
	r.logCreate(k)
	r.notify(parent, k, REG_NOTIFY_CHANGE_NAME)
	return k
}

func (r *Registry) setValueInternal(k *key, name string, typ uint32, data []byte) {
	k.setValue(name, typ, data)
	k.lastWrite = r.now()
	r.logSetValue(k, name, typ, data)
	r.notify(k, k, REG_NOTIFY_CHANGE_LAST_SET)
}

package registry

import (
	"context"
	"slices"
	"sync"
)

// Change is one notification: which key changed and how.
type Change struct {
	Key    string // resolved path of the key that changed (for REG_NOTIFY_CHANGE_NAME the subkey added or deleted)
	Filter uint32 // REG_NOTIFY_CHANGE_NAME, _ATTRIBUTES, _LAST_SET or _SECURITY: which kind
	// Value names the value a REG_NOTIFY_CHANGE_LAST_SET change set or deleted, when
	// one value changed (HasValue; "" is the default value). Windows' notification
	// does not say it; Wolfpack's does, and reg watch prints it.
	Value    string
	HasValue bool
}

// Delivery policy. A writer never waits for a watcher: it adds the change to the
// watcher's pending set under a small lock and wakes the watcher's goroutine, which sends
// to the channel (buffered, notifyBuffer) at the reader's pace. Pending changes are
// coalesced: a (Key, Filter) pair already pending is not added again. When more than
// notifyPendingMax distinct changes are pending the set is collapsed into one Change per
// filter kind naming the watched key itself, meaning "something at or below here changed"
// — as faithful as Windows, whose notification says only that something changed.
const (
	notifyBuffer     = 64
	notifyPendingMax = 1024
)

type watcher struct {
	r       *Registry
	s       *Session // whose watch it is (h.s is nil for a predefined handle)
	k       *key
	h       *handle
	subtree bool
	filter  uint32
	out     chan Change

	mu        sync.Mutex
	pending   []Change
	seen      map[Change]struct{}
	collapsed uint32 // filters collapsed into a change of the watched key
	busy      bool   // the pump holds a batch it has not finished sending
	wake      chan struct{}
	done      chan struct{}
	stopOnce  sync.Once
	attached  bool // in k.watchers and h.watchers; guarded by Registry.mu
}

// Notify asks for the changes of a key (RegNotifyChangeKeyValue): filter is a mask of
// REG_NOTIFY_CHANGE_*; subtree watches every key below too. Changes arrive on the returned
// channel, which is closed when ctx ends, the handle closes or the key is deleted. Changes
// made through any name of the key (a link or its target) are seen: the watch is on the
// key object. The deletion of the watched key is reported whatever the filter (as Windows
// completes a pending notification then), naming the deleted key, before the channel
// closes. REG_NOTIFY_CHANGE_SECURITY fires when a key's security descriptor changes
// (SetSecurity, on the key and on each subkey whose inherited ACEs it changes; a restore
// that replaces it). REG_NOTIFY_CHANGE_ATTRIBUTES is accepted; no attribute changes after
// creation, so it never fires. A subtree watch of a session without the privileges does
// not learn the names of keys below it that it may not read (KEY_NOTIFY): such a change
// names the watched key itself, as a collapsed change does.
func (s *Session) Notify(ctx context.Context, h Handle, subtree bool, filter uint32) (<-chan Change, error) {
	hh, err := s.get(h)
	if err != nil {
		return nil, &OpError{Op: "notify", Err: err}
	}
	if filter&regNotifyAll == 0 || filter&^(regNotifyAll|REG_NOTIFY_THREAD_AGNOSTIC) != 0 {
		return nil, &OpError{Op: "notify", Key: hh.openedAs, Err: ERROR_INVALID_PARAMETER}
	}
	w := &watcher{r: s.r, s: s, h: hh, subtree: subtree, filter: filter & regNotifyAll,
		out: make(chan Change, notifyBuffer), wake: make(chan struct{}, 1), done: make(chan struct{})}
	r := s.r
	hh.nwatch.Add(1)
	r.mu.Lock()
	if hh.closed.Load() {
		hh.nwatch.Add(-1)
		r.mu.Unlock()
		return nil, &OpError{Op: "notify", Key: hh.openedAs, Err: ERROR_INVALID_HANDLE}
	}
	if hh.k.deleted {
		hh.nwatch.Add(-1)
		r.mu.Unlock()
		return nil, &OpError{Op: "notify", Key: hh.openedAs, Err: ERROR_KEY_DELETED}
	}
	if !s.allowed(hh, KEY_NOTIFY) {
		hh.nwatch.Add(-1)
		r.mu.Unlock()
		return nil, &OpError{Op: "notify", Key: hh.openedAs, Err: ERROR_ACCESS_DENIED}
	}
	w.k = hh.k
	w.k.watchers = append(w.k.watchers, w)
	hh.watchers = append(hh.watchers, w)
	w.attached = true
	r.watchers.Add(1)
	r.mu.Unlock()
	if hh.s == nil { // a predefined handle: the watch ends with the session
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			r.mu.Lock()
			w.detach()
			r.mu.Unlock()
			return nil, &OpError{Op: "notify", Key: hh.openedAs, Err: ERROR_INVALID_HANDLE}
		}
		s.rootWatchers = slices.DeleteFunc(s.rootWatchers, (*watcher).ended)
		s.rootWatchers = append(s.rootWatchers, w)
		s.mu.Unlock()
	}
	go w.pump(ctx)
	return w.out, nil
}

// deliver queues a change; it never blocks on the reader.
func (w *watcher) deliver(c Change) {
	w.mu.Lock()
	if w.collapsed != 0 {
		w.collapsed |= c.Filter
	} else if _, dup := w.seen[c]; !dup {
		if len(w.pending) >= notifyPendingMax {
			for _, p := range w.pending {
				w.collapsed |= p.Filter
			}
			w.collapsed |= c.Filter
			w.pending, w.seen = nil, nil
		} else {
			if w.seen == nil {
				w.seen = make(map[Change]struct{})
			}
			w.seen[c] = struct{}{}
			w.pending = append(w.pending, c)
		}
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *watcher) take() []Change {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.busy = true
	out := w.pending
	w.pending, w.seen = nil, nil
	if w.collapsed != 0 {
		path := w.k.path()
		for _, f := range []uint32{REG_NOTIFY_CHANGE_NAME, REG_NOTIFY_CHANGE_ATTRIBUTES, REG_NOTIFY_CHANGE_LAST_SET, REG_NOTIFY_CHANGE_SECURITY} {
			if w.collapsed&f != 0 {
				out = append(out, Change{Key: path, Filter: f})
			}
		}
		w.collapsed = 0
	}
	return out
}

func (w *watcher) ended() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

// stop ends the watch (handle closed, key deleted, registry closed): what is pending and
// fits in the channel's buffer is still delivered, then the channel closes.
func (w *watcher) stop() { w.stopOnce.Do(func() { close(w.done) }) }

// detach removes the watcher from its key and handle. The caller holds Registry.mu.
func (w *watcher) detach() {
	if !w.attached {
		return
	}
	w.attached = false
	w.r.watchers.Add(-1)
	w.h.nwatch.Add(-1)
	w.k.watchers = removeWatcher(w.k.watchers, w)
	w.h.watchers = removeWatcher(w.h.watchers, w)
}

func removeWatcher(ws []*watcher, w *watcher) []*watcher {
	for i, x := range ws {
		if x == w {
			ws[i] = ws[len(ws)-1]
			ws[len(ws)-1] = nil
			return ws[:len(ws)-1]
		}
	}
	return ws
}

func (w *watcher) pump(ctx context.Context) {
	defer close(w.out)
	for {
		select {
		case <-ctx.Done():
			w.r.mu.Lock()
			w.detach()
			w.r.mu.Unlock()
			w.stop()
			return
		case <-w.done:
			for _, c := range w.take() {
				select {
				case w.out <- c:
				default:
				}
			}
			return
		case <-w.wake:
			batch := w.take()
			for i, c := range batch {
				select {
				case w.out <- c:
				case <-ctx.Done():
					w.r.mu.Lock()
					w.detach()
					w.r.mu.Unlock()
					w.stop()
					return
				case <-w.done:
					for _, c := range batch[i:] {
						select {
						case w.out <- c:
						default:
						}
					}
					return
				}
			}
			w.idle()
		}
	}
}

func (w *watcher) idle() {
	w.mu.Lock()
	w.busy = false
	w.mu.Unlock()
}

// quiet tells whether every change delivered so far has been sent to the channel (tests).
func (w *watcher) quiet() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pending) == 0 && w.collapsed == 0 && !w.busy && len(w.wake) == 0
}

// notify tells the watchers of container (and the subtree watchers above it) that
// changed changed in the way filter says. The caller holds Registry.mu for writing.
func (r *Registry) notify(container, changed *key, filter uint32) {
	r.notifyValue(container, changed, filter, nil)
}

// notifyValue is notify for a change of one value (its name in value).
func (r *Registry) notifyValue(container, changed *key, filter uint32, value *string) {
	if r.watchers.Load() == 0 {
		return
	}
	path := ""
	for a := container; a != nil; a = a.parent {
		for _, w := range a.watchers {
			if (a == container || w.subtree) && w.filter&filter != 0 {
				if changed != w.k && !w.s.privileged() && w.s.maxAllowed(changed)&KEY_NOTIFY == 0 {
					w.deliver(Change{Key: w.k.path(), Filter: filter})
					continue
				}
				if path == "" {
					path = changed.path()
				}
				c := Change{Key: path, Filter: filter}
				if value != nil {
					c.Value, c.HasValue = *value, true
				}
				w.deliver(c)
			}
		}
	}
}

package registry

import (
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"wolfpack/internal/secdesc"
)

// Handle names an open key within a session, like an HKEY. The predefined handles
// HKEY_LOCAL_MACHINE and HKEY_USERS are valid in every session and never closed.
type Handle uint64

// The predefined handles (winreg.h).
const (
	HKEY_LOCAL_MACHINE Handle = 0x80000002
	HKEY_USERS         Handle = 0x80000003
)

// Owner is the client a session belongs to: a process. The daemon's own components use
// DaemonOwner(). Its identity decides what the session may do (see security.go): the
// Unix user UID in the groups GIDs (primary first), or SYSTEM when System is set.
// Admin puts a user who is not root in Administrators: a client that the daemon
// authenticated as an administrator by other means than its uid (an API token).
type Owner struct {
	PID, UID int
	GIDs     []int
	Exe      string
	System   bool
	Admin    bool
}

// HandleInfo describes one open handle, as Handles lists them.
type HandleInfo struct {
	ID       Handle
	Owner    Owner
	OpenedAs string // the path as the client named it, root canonical: HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\X
	Resolved string // the key object's canonical path: HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\X
	Access   uint32 // the access mask as requested
	Opened   time.Time
}

// Session is one client of the registry (a process, or one connection of the socket
// server). Its handles are its own: another session cannot use them, and Close releases
// them all. A Session is safe for concurrent use.
type Session struct {
	r     *Registry
	owner Owner
	tok   *secdesc.Token

	mu           sync.Mutex
	handles      map[Handle]*handle
	rootWatchers []*watcher // watches on the predefined handles, which are never closed
	closed       bool
}

// handle is one open handle. Its key never changes: a handle follows the key object.
type handle struct {
	id       Handle
	s        *Session
	k        *key
	openedAs string
	access   uint32 // as requested
	rights   uint32 // the rights granted when it was opened, checked by the calls
	opened   time.Time
	watchers []*watcher // guarded by Registry.mu

	// Closing a handle takes Registry.mu only when the handle may have watchers. Notify
	// adds to nwatch before it checks closed, close sets closed before it reads nwatch,
	// so one of them always sees the other.
	nwatch atomic.Int32
	closed atomic.Bool
}

// NewSession starts a session for a client. Its handles die with it.
func (r *Registry) NewSession(o Owner) *Session {
	return &Session{r: r, owner: o, tok: r.tokenFor(o), handles: make(map[Handle]*handle)}
}

// Owner returns the client the session belongs to.
func (s *Session) Owner() Owner { return s.owner }

// Close closes every handle of the session. Using the session afterwards fails with
// ERROR_INVALID_HANDLE.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	hs := make([]*handle, 0, len(s.handles))
	for _, h := range s.handles {
		hs = append(hs, h)
	}
	s.handles = nil
	ws := s.rootWatchers
	s.rootWatchers = nil
	s.mu.Unlock()
	s.r.releaseHandles(hs)
	if len(ws) > 0 {
		s.r.mu.Lock()
		for _, w := range ws {
			w.detach()
		}
		s.r.mu.Unlock()
		for _, w := range ws {
			w.stop()
		}
	}
	return nil
}

// get finds an open handle of this session or a predefined one.
func (s *Session) get(h Handle) (*handle, error) {
	if s.r.closed.Load() {
		return nil, ERROR_INVALID_HANDLE
	}
	switch h {
	case HKEY_LOCAL_MACHINE:
		return s.r.rootHandles[0], nil
	case HKEY_USERS:
		return s.r.rootHandles[1], nil
	}
	s.mu.Lock()
	hh := s.handles[h]
	s.mu.Unlock()
	if hh == nil {
		return nil, ERROR_INVALID_HANDLE
	}
	return hh, nil
}

// add registers a new handle on k with the rights granted (openAccess). The caller holds
// Registry.mu (read or write), so k is alive when the handle appears.
func (s *Session) add(k *key, openedAs string, access, rights uint32) (*handle, error) {
	if access&^(KEY_WOW64_32KEY|KEY_WOW64_64KEY) == 0 {
		access |= KEY_ALL_ACCESS // recorded as granted
	}
	h := &handle{
		id:       Handle(s.r.nextHandle.Add(4)),
		s:        s,
		k:        k,
		openedAs: openedAs,
		access:   access,
		rights:   rights,
		opened:   time.Now(),
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ERROR_INVALID_HANDLE
	}
	if len(s.handles) >= s.r.maxHandles {
		s.mu.Unlock()
		return nil, &LimitError{Limit: "open handles of the session", Max: s.r.maxHandles, Got: len(s.handles) + 1, Err: ERROR_NO_SYSTEM_RESOURCES}
	}
	s.handles[h.id] = h
	s.mu.Unlock()
	s.r.hmu.Lock()
	s.r.handles[h.id] = h
	s.r.hmu.Unlock()
	return h, nil
}

// CloseKey closes a handle (RegCloseKey). It works on a handle whose key was deleted;
// closing a predefined handle does nothing, as on Windows.
func (s *Session) CloseKey(h Handle) error {
	if h == HKEY_LOCAL_MACHINE || h == HKEY_USERS {
		return nil
	}
	s.mu.Lock()
	hh := s.handles[h]
	if hh != nil {
		delete(s.handles, h)
	}
	s.mu.Unlock()
	if hh == nil {
		return &OpError{Op: "close", Err: ERROR_INVALID_HANDLE}
	}
	s.r.releaseHandles([]*handle{hh})
	return nil
}

func (r *Registry) releaseHandles(hs []*handle) {
	r.hmu.Lock()
	for _, h := range hs {
		delete(r.handles, h.id)
	}
	r.hmu.Unlock()
	var stop []*watcher
	lock := false
	for _, h := range hs {
		h.closed.Store(true)
		if h.nwatch.Load() > 0 {
			lock = true
		}
	}
	if !lock {
		return
	}
	r.mu.Lock()
	for _, h := range hs {
		stop = append(stop, h.watchers...)
		h.watchers = nil
	}
	for _, w := range stop {
		w.detach()
	}
	r.mu.Unlock()
	for _, w := range stop {
		w.stop()
	}
}

func (h *handle) info() HandleInfo {
	return HandleInfo{ID: h.id, Owner: h.s.owner, OpenedAs: h.openedAs, Resolved: h.k.path(), Access: h.access, Opened: h.opened}
}

// holders lists the handles on k (and below it when subtree) whose session is not
// except (nil: every session), skipping handles whose key was deleted. The caller holds
// Registry.mu.
func (r *Registry) holders(k *key, subtree bool, except *Session) []HandleInfo {
	r.hmu.Lock()
	var out []HandleInfo
	for _, h := range r.handles {
		if h.s == except || h.k.deleted {
			continue
		}
		if h.k == k || (subtree && h.k.within(k)) {
			out = append(out, h.info())
		}
	}
	r.hmu.Unlock()
	slices.SortFunc(out, func(a, b HandleInfo) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// joinName makes the OpenedAs of a handle opened at path below parent.
func joinName(parent, path string) string {
	path = strings.TrimSuffix(path, `\`)
	if path == "" {
		return parent
	}
	return parent + `\` + path
}

// DaemonOwner is the owner the daemon's own components use: wolfpackd, this process.
func DaemonOwner() Owner {
	return Owner{PID: os.Getpid(), UID: os.Getuid(), GIDs: []int{os.Getgid()}, Exe: "wolfpackd", System: true}
}

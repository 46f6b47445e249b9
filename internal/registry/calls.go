package registry

import (
	"context"
	"slices"
	"strings"
	"time"

	"wolfpack/internal/utf16le"
)

// CreateOptions are RegCreateKeyEx's arguments beyond the path.
type CreateOptions struct {
	Class   string // class name of a key that is created
	Options uint32 // REG_OPTION_VOLATILE, REG_OPTION_CREATE_LINK, REG_OPTION_OPEN_LINK, REG_OPTION_BACKUP_RESTORE
	Access  uint32 // access mask; 0 means KEY_ALL_ACCESS
}

// Value is one value of a key as EnumValues lists it.
type Value struct {
	Name string // "" is the default value
	Type uint32
	Data []byte
}

// KeyInfo is RegQueryInfoKey's answer. Lengths are in UTF-16 units, without the NUL,
// MaxValueLen in bytes.
type KeyInfo struct {
	Class           string
	SubKeys         int
	MaxSubKeyLen    int
	MaxClassLen     int
	Values          int
	MaxValueNameLen int
	MaxValueLen     int
	LastWrite       time.Time
	Volatile        bool
	Link            bool
}

const (
	createOptionsMask = REG_OPTION_VOLATILE | REG_OPTION_CREATE_LINK | REG_OPTION_BACKUP_RESTORE | REG_OPTION_OPEN_LINK
	openOptionsMask   = REG_OPTION_BACKUP_RESTORE | REG_OPTION_OPEN_LINK
)

// live checks that the handle's key still exists. The caller holds Registry.mu.
func live(h *handle) error {
	if h.k.deleted {
		return ERROR_KEY_DELETED
	}
	return nil
}

// OpenKey opens path below parent (RegOpenKeyEx). Links on the path are followed; with
// REG_OPTION_OPEN_LINK a link key at the end of the path is opened itself. path "" opens
// a new handle to parent's key. The access asked for is checked against the descriptor
// of the key opened (a link's target, not the link): ERROR_ACCESS_DENIED unless it grants
// all of it; the handle is granted exactly that (MAXIMUM_ALLOWED: everything the
// descriptor grants).
func (s *Session) OpenKey(parent Handle, path string, options, access uint32) (Handle, error) {
	ph, err := s.get(parent)
	if err != nil {
		return 0, &OpError{Op: "open", Key: path, Err: err}
	}
	name := joinName(ph.openedAs, path)
	if options&^openOptionsMask != 0 {
		return 0, &OpError{Op: "open", Key: name, Err: ERROR_INVALID_PARAMETER}
	}
	if err := checkPath(path); err != nil {
		return 0, &OpError{Op: "open", Key: name, Err: err}
	}
	r := s.r
	r.mu.RLock()
	defer r.mu.RUnlock()
	if err := live(ph); err != nil {
		return 0, &OpError{Op: "open", Key: name, Err: err}
	}
	hops := 0
	k, err := r.walkPath(ph.k, path, options&REG_OPTION_OPEN_LINK != 0, &hops)
	if err != nil {
		return 0, &OpError{Op: "open", Key: name, Err: err}
	}
	rights, err := s.openAccess(k, access, options)
	if err != nil {
		return 0, &OpError{Op: "open", Key: name, Err: err}
	}
	h, err := s.add(k, name, access, rights)
	if err != nil {
		return 0, &OpError{Op: "open", Key: name, Err: err}
	}
	return h.id, nil
}

// CreateKey creates or opens path below parent (RegCreateKeyEx) and reports whether it
// created the key. Missing keys along the path are created with the same options.
// Windows' rules: a stable key cannot be created under a volatile one
// (ERROR_CHILD_MUST_BE_VOLATILE); REG_OPTION_CREATE_LINK on an existing key is
// ERROR_ALREADY_EXISTS. Security: an existing key is opened as OpenKey opens it;
// creating a key needs KEY_CREATE_SUB_KEY on the key it is created under — granted by
// that key's descriptor, and, when that key is parent's own, granted to the handle too
// (RegCreateKeyEx's rule for hKey) — and the new key gets its default or inherited
// descriptor (security.go), against which the access asked for is checked before
// anything is created.
func (s *Session) CreateKey(parent Handle, path string, o CreateOptions) (Handle, bool, error) {
	ph, err := s.get(parent)
	if err != nil {
		return 0, false, &OpError{Op: "create", Key: path, Err: err}
	}
	name := joinName(ph.openedAs, path)
	fail := func(err error) (Handle, bool, error) {
		return 0, false, &OpError{Op: "create", Key: name, Err: err}
	}
	if o.Options&^createOptionsMask != 0 {
		return fail(ERROR_INVALID_PARAMETER)
	}
	parts, err := splitPath(path)
	if err != nil {
		return fail(err)
	}
	if len(parts) == 0 && o.Options&REG_OPTION_CREATE_LINK != 0 {
		return fail(ERROR_ALREADY_EXISTS)
	}
	r := s.r
	if o.Options&REG_OPTION_CREATE_LINK == 0 {
		// Most calls open an existing key: try under the read lock first.
		r.mu.RLock()
		if live(ph) == nil {
			hops := 0
			if k, err := r.walkPath(ph.k, path, o.Options&REG_OPTION_OPEN_LINK != 0, &hops); err == nil {
				rights, err := s.openAccess(k, o.Access, o.Options)
				var h *handle
				if err == nil {
					h, err = s.add(k, name, o.Access, rights)
				}
				r.mu.RUnlock()
				if err != nil {
					return fail(err)
				}
				return h.id, false, nil
			}
		}
		r.mu.RUnlock()
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if err := live(ph); err != nil {
		return fail(err)
	}
	if o.Options&REG_OPTION_CREATE_LINK != 0 && !s.allowed(ph, KEY_CREATE_LINK) {
		return fail(ERROR_ACCESS_DENIED)
	}
	cur := ph.k
	hops := 0
	created := false
	var rights uint32
	for i, p := range parts {
		last := i == len(parts)-1
		c := cur.child((p))
		if c == nil {
			if cur == ph.k && !s.allowed(ph, KEY_CREATE_SUB_KEY) {
				return fail(ERROR_ACCESS_DENIED)
			}
			if cur.link {
				return fail(ERROR_ACCESS_DENIED)
			}
			if o.Options&REG_OPTION_VOLATILE == 0 && cur.volatile {
				return fail(ERROR_CHILD_MUST_BE_VOLATILE)
			}
			if d := cur.depth + len(parts) - i; d > MaxDepth {
				return fail(&LimitError{Limit: "key depth", Max: MaxDepth, Got: d, Err: ERROR_BADKEY})
			}
			// Every key on the way is checked before any is created: each needs
			// KEY_CREATE_SUB_KEY on the one above it, the last the access asked for.
			secs := make([]*secObj, len(parts)-i)
			psec, pk := cur.sec, cur
			for j, q := range parts[i:] {
				if !s.mayCreateIn(psec) {
					return fail(ERROR_ACCESS_DENIED)
				}
				var err error
				if secs[j], err = r.childSecurity(pk, q, psec, s.tok); err != nil {
					return fail(&SecurityDescriptorError{Key: joinName(cur.path(), strings.Join(parts[i:i+j+1], `\`)), Err: err})
				}
				psec, pk = secs[j], nil
			}
			var err error
			if rights, err = s.accessOn(secs[len(secs)-1], o.Access, o.Options); err != nil {
				return fail(err)
			}
			now := r.now()
			for j, q := range parts[i:] {
				nk := newKey(cur, q, now)
				nk.class = o.Class
				nk.sec = secs[j]
				if o.Options&REG_OPTION_VOLATILE != 0 {
					nk.volatile = true
				}
				nk.link = o.Options&REG_OPTION_CREATE_LINK != 0 && i+j == len(parts)-1
				cur.addChild(nk)
				cur.lastWrite = now
				r.logCreate(nk)
				r.notify(cur, nk, REG_NOTIFY_CHANGE_NAME)
				cur = nk
			}
			created = true
			break
		}
		if last && o.Options&REG_OPTION_CREATE_LINK != 0 {
			return fail(ERROR_ALREADY_EXISTS)
		}
		if c.link && (!last || o.Options&REG_OPTION_OPEN_LINK == 0) {
			t, err := r.linkTarget(c, &hops)
			if err != nil {
				return fail(err)
			}
			c = t
		}
		cur = c
	}
	if !created {
		var err error
		if rights, err = s.openAccess(cur, o.Access, o.Options); err != nil {
			return fail(err)
		}
	}
	h, err := s.add(cur, name, o.Access, rights)
	if err != nil {
		return fail(err)
	}
	return h.id, created, nil
}

// DeleteKey deletes the key at path below parent (RegDeleteKey); path "" deletes the
// handle's own key, which needs DELETE access on the handle (KEY_ALL_ACCESS has it,
// KEY_WRITE does not); a key named by path needs DELETE from its descriptor. Links on the
// path are followed, but a path whose last component is a link is refused
// (ERROR_ACCESS_DENIED): deleting through it would delete the link's target (all of
// ControlSet001 through CurrentControlSet). Open a link with REG_OPTION_OPEN_LINK and
// delete it with path "" to remove the link itself. A key with subkeys is not deleted:
// ERROR_ACCESS_DENIED, as on Windows. Keys the system needs (HKLM\SYSTEM,
// HKLM\SOFTWARE, SYSTEM\Select, the current control set and its link) are never
// deleted (KEY_NO_DELETE).
// Open handles to the key answer ERROR_KEY_DELETED from then on.
func (s *Session) DeleteKey(parent Handle, path string) error {
	return s.deleteKey("delete", parent, path, false)
}

// DeleteTree deletes the key at path below parent with everything below it
// (RegDeleteTree). path "" deletes the subkeys and values of parent's key and keeps the
// key, which then needs DELETE, KEY_ENUMERATE_SUB_KEYS and KEY_QUERY_VALUE access. Every
// key deleted needs DELETE from its descriptor, and every one with subkeys
// KEY_ENUMERATE_SUB_KEYS and KEY_QUERY_VALUE too, as RegDeleteTree opens them; unlike
// RegDeleteTree, which stops half way, nothing is deleted when one is refused.
func (s *Session) DeleteTree(parent Handle, path string) error {
	return s.deleteKey("delete tree", parent, path, true)
}

func (s *Session) deleteKey(op string, parent Handle, path string, tree bool) error {
	ph, err := s.get(parent)
	if err != nil {
		return &OpError{Op: op, Key: path, Err: err}
	}
	name := joinName(ph.openedAs, path)
	fail := func(err error) error { return &OpError{Op: op, Key: name, Err: err} }
	if err := checkPath(path); err != nil {
		return fail(err)
	}
	self := path == "" // the handle's own key
	r := s.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := live(ph); err != nil {
		return fail(err)
	}
	// With no path the handle's key itself is meant, a link key when the handle was
	// opened with REG_OPTION_OPEN_LINK; with one, links on it are followed, the last too.
	k := ph.k
	if !self {
		hops := 0
		if k, err = r.walkPath(ph.k, path, true, &hops); err != nil {
			return fail(err)
		}
		if k.link {
			return fail(ERROR_ACCESS_DENIED) // the link itself only through REG_OPTION_OPEN_LINK
		}
	}
	if tree && self {
		if k.parent == nil {
			return fail(ERROR_ACCESS_DENIED) // the whole of HKLM or HKU
		}
		const need = DELETE | KEY_ENUMERATE_SUB_KEYS | KEY_QUERY_VALUE
		if !s.allowed(ph, need) {
			return fail(ERROR_ACCESS_DENIED)
		}
		for _, c := range k.subkeys {
			if err := s.mayDeleteTree(c); err != nil {
				return fail(err)
			}
		}
		r.clearKey(k)
		return nil
	}
	if k.parent == nil || k.mountRoot || k.noDelete {
		return fail(ERROR_ACCESS_DENIED) // roots and hive roots are not deleted (KEY_NO_DELETE)
	}
	if self && !s.allowed(ph, DELETE) {
		return fail(ERROR_ACCESS_DENIED) // NtDeleteKey needs DELETE on the handle
	}
	if !tree && len(k.subkeys) > 0 {
		return fail(ERROR_ACCESS_DENIED)
	}
	if !self {
		if tree {
			if err := s.mayDeleteTree(k); err != nil {
				return fail(err)
			}
		} else if s.maxAllowed(k)&DELETE == 0 {
			return fail(ERROR_ACCESS_DENIED)
		}
	}
	r.removeKey(k)
	return nil
}

// mayDeleteTree checks that the session may delete k and everything below it: DELETE on
// each key, and KEY_ENUMERATE_SUB_KEYS and KEY_QUERY_VALUE on each one with subkeys. The
// refusal names the key refused. The caller holds Registry.mu.
func (s *Session) mayDeleteTree(k *key) error {
	var denied *key
	k.walk(func(c *key) bool {
		need := DELETE
		if len(c.subkeys) > 0 {
			need |= KEY_ENUMERATE_SUB_KEYS | KEY_QUERY_VALUE
		}
		if denied == nil && (c.noDelete || c.mountRoot || s.maxAllowed(c)&need != need) {
			denied = c
		}
		return denied == nil
	})
	if denied != nil {
		return &AccessDeniedError{Key: denied.path(), Need: "DELETE"}
	}
	return nil
}

// removeKey deletes k and its subtree. The caller holds Registry.mu for writing.
func (r *Registry) removeKey(k *key) {
	p := k.parent
	now := r.now()
	r.logDeleteKey(k, now)
	p.removeChild(k)
	p.lastWrite = now
	r.notify(p, k, REG_NOTIFY_CHANGE_NAME)
	r.notifyDeleted(k)
	k.markDeleted()
}

// clearKey deletes every subkey and value of k, keeping k.
func (r *Registry) clearKey(k *key) {
	for _, c := range slices.Clone(k.sortedSubkeys()) {
		r.removeKey(c)
	}
	if len(k.values) > 0 {
		now := r.now()
		for _, v := range slices.Clone(k.values) {
			k.deleteValue(v.upper)
			k.lastWrite = now
			r.logDeleteValue(k, v.name)
		}
		r.notify(k, k, REG_NOTIFY_CHANGE_LAST_SET)
	}
}

// notifyDeleted tells the watchers inside a deleted subtree that their key went away
// (REG_NOTIFY_CHANGE_NAME naming the deleted key) before markDeleted closes them.
func (r *Registry) notifyDeleted(k *key) {
	if r.watchers.Load() == 0 {
		return
	}
	path := k.path()
	k.walk(func(c *key) bool {
		for _, w := range c.watchers {
			w.deliver(Change{Key: path, Filter: REG_NOTIFY_CHANGE_NAME})
		}
		return true
	})
}

// SetValue sets a value (RegSetValueEx): name "" is the default value, typ any number,
// data raw bytes (kept as given; strings are UTF-16LE by convention).
func (s *Session) SetValue(h Handle, name string, typ uint32, data []byte) error {
	hh, err := s.get(h)
	if err != nil {
		return &OpError{Op: "set value", Name: name, Err: err}
	}
	if err := checkValueName(name); err != nil {
		return &OpError{Op: "set value", Key: hh.openedAs, Name: name, Err: err}
	}
	if len(data) > MaxValueData {
		return &OpError{Op: "set value", Key: hh.openedAs, Name: name,
			Err: &LimitError{Limit: "value data size", Max: MaxValueData, Got: len(data), Err: ERROR_INVALID_PARAMETER}}
	}
	d := slices.Clone(data)
	if d == nil {
		d = []byte{}
	}
	r := s.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := live(hh); err != nil {
		return &OpError{Op: "set value", Key: hh.openedAs, Name: name, Err: err}
	}
	if !s.allowed(hh, KEY_SET_VALUE) {
		return &OpError{Op: "set value", Key: hh.openedAs, Name: name, Err: ERROR_ACCESS_DENIED}
	}
	k := hh.k
	k.setValue(name, typ, d)
	k.lastWrite = r.now()
	r.logSetValue(k, name, typ, d)
	r.notifyValue(k, k, REG_NOTIFY_CHANGE_LAST_SET, &name)
	return nil
}

// QueryValue reads a value (RegQueryValueEx). A missing value, the default value
// included, is ERROR_FILE_NOT_FOUND.
func (s *Session) QueryValue(h Handle, name string) (uint32, []byte, error) {
	hh, err := s.get(h)
	if err != nil {
		return 0, nil, &OpError{Op: "query value", Name: name, Err: err}
	}
	r := s.r
	r.mu.RLock()
	if err := live(hh); err != nil {
		r.mu.RUnlock()
		return 0, nil, &OpError{Op: "query value", Key: hh.openedAs, Name: name, Err: err}
	}
	if !s.allowed(hh, KEY_QUERY_VALUE) {
		r.mu.RUnlock()
		return 0, nil, &OpError{Op: "query value", Key: hh.openedAs, Name: name, Err: ERROR_ACCESS_DENIED}
	}
	i, ok := hh.k.value(name)
	if !ok {
		r.mu.RUnlock()
		return 0, nil, &OpError{Op: "query value", Key: hh.openedAs, Name: name, Err: ERROR_FILE_NOT_FOUND}
	}
	v := hh.k.values[i]
	r.mu.RUnlock()
	// Stored data is never modified in place (SetValue stores a fresh copy), so the
	// copy for the caller can be made outside the lock.
	return v.typ, slices.Clone(v.data), nil
}

// DeleteValue deletes a value (RegDeleteValue); a missing one is ERROR_FILE_NOT_FOUND.
func (s *Session) DeleteValue(h Handle, name string) error {
	hh, err := s.get(h)
	if err != nil {
		return &OpError{Op: "delete value", Name: name, Err: err}
	}
	r := s.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := live(hh); err != nil {
		return &OpError{Op: "delete value", Key: hh.openedAs, Name: name, Err: err}
	}
	if !s.allowed(hh, KEY_SET_VALUE) {
		return &OpError{Op: "delete value", Key: hh.openedAs, Name: name, Err: ERROR_ACCESS_DENIED}
	}
	k := hh.k
	i, ok := k.value((name))
	if !ok {
		return &OpError{Op: "delete value", Key: hh.openedAs, Name: name, Err: ERROR_FILE_NOT_FOUND}
	}
	stored := k.values[i].name
	k.deleteValue(k.values[i].upper)
	k.lastWrite = r.now()
	r.logDeleteValue(k, stored)
	r.notifyValue(k, k, REG_NOTIFY_CHANGE_LAST_SET, &stored)
	return nil
}

// EnumKeys lists the subkeys' names, case as stored, in Windows' order (by upper-cased
// name, RegEnumKeyEx).
func (s *Session) EnumKeys(h Handle) ([]string, error) {
	hh, err := s.get(h)
	if err != nil {
		return nil, &OpError{Op: "enumerate keys", Err: err}
	}
	r := s.r
	r.mu.RLock()
	defer r.mu.RUnlock()
	if err := live(hh); err != nil {
		return nil, &OpError{Op: "enumerate keys", Key: hh.openedAs, Err: err}
	}
	if !s.allowed(hh, KEY_ENUMERATE_SUB_KEYS) {
		return nil, &OpError{Op: "enumerate keys", Key: hh.openedAs, Err: ERROR_ACCESS_DENIED}
	}
	sub := hh.k.sortedSubkeys()
	out := make([]string, len(sub))
	for i, c := range sub {
		out[i] = c.name
	}
	return out, nil
}

// EnumValues lists the values in stored (insertion) order, as RegEnumValue does.
func (s *Session) EnumValues(h Handle) ([]Value, error) {
	hh, err := s.get(h)
	if err != nil {
		return nil, &OpError{Op: "enumerate values", Err: err}
	}
	r := s.r
	r.mu.RLock()
	defer r.mu.RUnlock()
	if err := live(hh); err != nil {
		return nil, &OpError{Op: "enumerate values", Key: hh.openedAs, Err: err}
	}
	if !s.allowed(hh, KEY_QUERY_VALUE) {
		return nil, &OpError{Op: "enumerate values", Key: hh.openedAs, Err: ERROR_ACCESS_DENIED}
	}
	out := make([]Value, len(hh.k.values))
	for i, v := range hh.k.values {
		out[i] = Value{Name: v.name, Type: v.typ, Data: slices.Clone(v.data)}
	}
	return out, nil
}

// QueryInfo answers RegQueryInfoKey (which needs KEY_QUERY_VALUE).
func (s *Session) QueryInfo(h Handle) (KeyInfo, error) {
	hh, err := s.get(h)
	if err != nil {
		return KeyInfo{}, &OpError{Op: "query info", Err: err}
	}
	r := s.r
	r.mu.RLock()
	defer r.mu.RUnlock()
	if err := live(hh); err != nil {
		return KeyInfo{}, &OpError{Op: "query info", Key: hh.openedAs, Err: err}
	}
	if !s.allowed(hh, KEY_QUERY_VALUE) {
		return KeyInfo{}, &OpError{Op: "query info", Key: hh.openedAs, Err: ERROR_ACCESS_DENIED}
	}
	k := hh.k
	in := KeyInfo{Class: k.class, SubKeys: len(k.subkeys), Values: len(k.values), LastWrite: k.lastWrite,
		Volatile: k.volatile, Link: k.link}
	for _, c := range k.subkeys {
		in.MaxSubKeyLen = max(in.MaxSubKeyLen, utf16le.Len(c.name))
		in.MaxClassLen = max(in.MaxClassLen, utf16le.Len(c.class))
	}
	for _, v := range k.values {
		in.MaxValueNameLen = max(in.MaxValueNameLen, utf16le.Len(v.name))
		in.MaxValueLen = max(in.MaxValueLen, len(v.data))
	}
	return in, nil
}

// Handles lists every session's open handles to the key of h, and to every key below it
// when subtree is set, whichever name they were opened by. Handles whose key was deleted
// are not listed. A session without the privileges sees only the handles of sessions of
// its own uid, as Windows shows other users' handles to administrators only.
func (s *Session) Handles(h Handle, subtree bool) ([]HandleInfo, error) {
	hh, err := s.get(h)
	if err != nil {
		return nil, &OpError{Op: "list handles", Err: err}
	}
	r := s.r
	r.mu.RLock()
	defer r.mu.RUnlock()
	if err := live(hh); err != nil {
		return nil, &OpError{Op: "list handles", Key: hh.openedAs, Err: err}
	}
	hs := r.holders(hh.k, subtree, nil)
	if !s.privileged() {
		hs = slices.DeleteFunc(hs, func(hi HandleInfo) bool { return hi.Owner.UID != s.owner.UID || hi.Owner.System })
	}
	return hs, nil
}

// HandleInfo describes one of the session's own handles (or a predefined one).
func (s *Session) HandleInfo(h Handle) (HandleInfo, error) {
	hh, err := s.get(h)
	if err != nil {
		return HandleInfo{}, &OpError{Op: "handle info", Err: err}
	}
	r := s.r
	r.mu.RLock()
	defer r.mu.RUnlock()
	if err := live(hh); err != nil {
		return HandleInfo{}, &OpError{Op: "handle info", Key: hh.openedAs, Err: err}
	}
	in := HandleInfo{ID: h, OpenedAs: hh.openedAs, Resolved: hh.k.path(), Access: hh.access, Opened: hh.opened}
	if hh.s != nil {
		in.Owner = hh.s.owner
	}
	return in, nil
}

// Flush makes every write made so far durable (RegFlushKey): when it returns nil they
// survive a crash. Writes under a loaded hive are written to its file; flushing HKLM or
// HKU writes every hive loaded below it.
func (s *Session) Flush(ctx context.Context, h Handle) error {
	hh, err := s.get(h)
	if err != nil {
		return &OpError{Op: "flush", Err: err}
	}
	r := s.r
	r.mu.RLock()
	err = live(hh)
	var mounts []*mount
	if m := hh.k.mount; m != nil {
		mounts = []*mount{m}
	} else if hh.k.parent == nil {
		// A root (HKLM, HKU) is in the master hive: flushing it flushes the hives loaded
		// below it too, as NtFlushKey on \REGISTRY\MACHINE does.
		for _, m := range r.mounts {
			if m.root.parent == hh.k {
				mounts = append(mounts, m)
			}
		}
	}
	r.mu.RUnlock()
	if err != nil {
		return &OpError{Op: "flush", Key: hh.openedAs, Err: err}
	}
	for _, m := range mounts {
		if err := r.writeMount(m); err != nil {
			return &OpError{Op: "flush", Key: hh.openedAs, Err: err}
		}
	}
	if err := r.sync(ctx); err != nil {
		return &OpError{Op: "flush", Key: hh.openedAs, Err: err}
	}
	return nil
}

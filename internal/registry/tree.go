package registry

import (
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// key is one key object. Handles point at key objects, not at paths: renaming a path's
// meaning (a link retargeted, a subtree restored) never moves an open handle.
//
// Invariants, all guarded by Registry.mu:
//   - parent is nil only for the two roots; a key is in parent.subkeys under fold(name)
//     until it is deleted, and then deleted is true, it has left its parent's map, and
//     it never comes back.
//   - depth is parent.depth+1 (roots are 0) and never exceeds MaxDepth.
//   - a key under a volatile key is volatile; a key under a loaded hive has mount set.
//   - values are in insertion order and valueIdx maps fold(name) to the position.
//   - sec is never nil once the key is in the tree.
//   - sorted is nil or holds the subkeys ordered by compareFolded of their folded names;
//     it is filled under the read lock, hence atomic.
type key struct {
	name      string
	upper     string
	parent    *key
	depth     int
	class     string
	lastWrite time.Time
	volatile  bool
	link      bool
	deleted   bool
	mount     *mount // the loaded hive this key belongs to, nil for the main store
	mountRoot bool   // the key is the root of a loaded hive
	noDelete  bool   // a hive root (HKLM\SYSTEM, HKLM\SOFTWARE): KEY_NO_DELETE
	cpath     string // canonical path, cached by journalPath
	target    *linkInfo
	sec       *secObj // the key's security descriptor, shared with the keys that have the same

	subkeys  map[string]*key
	sorted   atomic.Pointer[[]*key] // cache, filled under the read lock too
	values   []value
	valueIdx map[string]int

	watchers []*watcher
}

var symbolicLinkValueUpper = fold(SymbolicLinkValue)

type value struct {
	name  string
	upper string
	typ   uint32
	data  []byte
}

func newKey(parent *key, name string, now time.Time) *key {
	return newKeyFolded(parent, name, fold(name), now)
}

func newKeyFolded(parent *key, name, upper string, now time.Time) *key {
	k := &key{name: name, upper: upper, parent: parent, lastWrite: now}
	if parent != nil {
		k.depth = parent.depth + 1
		k.volatile = parent.volatile
		k.mount = parent.mount
	}
	return k
}

// child finds a subkey by name, any case.
func (k *key) child(name string) *key {
	if k.subkeys == nil {
		return nil
	}
	var buf [MaxKeyNameLen]byte
	if b, ok := foldASCII(buf[:], name); ok {
		return k.subkeys[string(b)] // no allocation for this conversion
	}
	return k.subkeys[fold(name)]
}

func (k *key) addChild(c *key) {
	if k.subkeys == nil {
		k.subkeys = make(map[string]*key)
	}
	k.subkeys[c.upper] = c
	k.sorted.Store(nil)
}

func (k *key) removeChild(c *key) {
	delete(k.subkeys, c.upper)
	k.sorted.Store(nil)
}

// sortedSubkeys returns the subkeys in Windows' enumeration order (by upper-cased name).
// The caller holds Registry.mu (reading is enough: the cache is an atomic pointer).
func (k *key) sortedSubkeys() []*key {
	if len(k.subkeys) == 0 {
		return nil
	}
	if p := k.sorted.Load(); p != nil {
		return *p
	}
	s := make([]*key, 0, len(k.subkeys))
	for _, c := range k.subkeys {
		s = append(s, c)
	}
	slices.SortFunc(s, func(a, b *key) int { return compareFolded(a.upper, b.upper) })
	k.sorted.Store(&s)
	return s
}

// value finds a value by name, any case.
func (k *key) value(name string) (int, bool) {
	if len(k.values) <= 8 {
		for i := range k.values {
			if equalFolded(name, k.values[i].upper) {
				return i, true
			}
		}
		return 0, false
	}
	if k.valueIdx == nil {
		k.valueIdx = make(map[string]int, len(k.values))
		for i := range k.values {
			k.valueIdx[k.values[i].upper] = i
		}
	}
	var buf [64]byte
	if b, ok := foldASCII(buf[:], name); ok {
		i, ok := k.valueIdx[string(b)] // no allocation for this conversion
		return i, ok
	}
	i, ok := k.valueIdx[fold(name)]
	return i, ok
}

func (k *key) setValue(name string, typ uint32, data []byte) {
	k.setValueFolded(name, fold(name), typ, data)
}

func (k *key) setValueFolded(name, upper string, typ uint32, data []byte) {
	if upper == symbolicLinkValueUpper {
		defer k.updateLink()
	}
	if i, ok := k.value(upper); ok {
		k.values[i].name = name // Windows keeps the case of the latest RegSetValueEx
		k.values[i].typ = typ
		k.values[i].data = data
		return
	}
	k.values = append(k.values, value{name: name, upper: upper, typ: typ, data: data})
	if k.valueIdx != nil {
		k.valueIdx[upper] = len(k.values) - 1
	}
}

// linkInfo is the parsed SymbolicLinkValue of a key, kept up to date by setValue and
// deleteValue so that opening a path through a link does not decode it each time.
type linkInfo struct {
	root int    // index in Registry.roots
	rest string // path below the root
}

func (k *key) updateLink() {
	k.target = nil
	i, ok := k.value(SymbolicLinkValue)
	if !ok || k.values[i].typ != REG_LINK {
		return
	}
	target := fromUTF16le(k.values[i].data)
	up := fold(target)
	for _, kr := range kernelRoots {
		if up == kr.prefix || strings.HasPrefix(up, kr.prefix+`\`) {
			k.target = &linkInfo{root: kr.root, rest: strings.TrimPrefix(target[len(kr.prefix):], `\`)}
			return
		}
	}
}

func (k *key) deleteValue(upper string) bool {
	i, ok := k.value(upper)
	if !ok {
		return false
	}
	k.values = slices.Delete(k.values, i, i+1)
	k.valueIdx = nil
	if upper == symbolicLinkValueUpper {
		k.target = nil
	}
	return true
}

// persisted tells whether the key belongs in the main store: not volatile, not part of a
// loaded hive.
func (k *key) persisted() bool { return !k.volatile && k.mount == nil }

// path is the key's canonical path: HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\...
func (k *key) path() string {
	if k.parent == nil {
		return k.name
	}
	n := 0
	for p := k; p != nil; p = p.parent {
		n += len(p.name) + 1
	}
	buf := make([]byte, n-1)
	i := len(buf)
	for p := k; p != nil; p = p.parent {
		i -= len(p.name)
		copy(buf[i:], p.name)
		if i > 0 {
			i--
			buf[i] = '\\'
		}
	}
	return string(buf)
}

// relPath is the key's path below anc ("" when k == anc), components as stored.
func (k *key) relPath(anc *key) string {
	var parts []string
	for p := k; p != nil && p != anc; p = p.parent {
		parts = append(parts, p.name)
	}
	slices.Reverse(parts)
	return strings.Join(parts, `\`)
}

// within tells whether k is anc or below it.
func (k *key) within(anc *key) bool {
	for p := k; p != nil; p = p.parent {
		if p == anc {
			return true
		}
	}
	return false
}

// walk calls f for k and every key below it, parents before children, siblings in no
// particular order (sorting would cost more than the walk). f returning false skips that key's subtree.
func (k *key) walk(f func(*key) bool) {
	if !f(k) {
		return
	}
	for _, c := range k.subkeys {
		c.walk(f)
	}
}

// markDeleted marks k and everything below it deleted and closes their watchers. The
// caller has removed k from its parent.
func (k *key) markDeleted() {
	k.walk(func(c *key) bool {
		c.deleted = true
		for _, w := range slices.Clone(c.watchers) {
			w.detach()
			w.stop()
		}
		return true
	})
}

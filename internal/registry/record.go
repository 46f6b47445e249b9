package registry

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The journal holds logical records, one per change of a persisted key, each naming its
// key by canonical path (components as stored). Replaying them in order onto the state
// the bbolt file holds gives the state at the time of the last record.
//
//	record      = op:byte body
//	create      = 1 path class:str time flags:byte [sd:bytes]   (flags: 1 link, 2 sd follows)
//	set value   = 2 path name:str type:uvarint data:bytes time
//	delete value= 3 path name:str time
//	delete key  = 4 path time                               (the key and its subtree)
//	restore     = 5 path time subtree                       (replaces values, subkeys and the descriptor)
//	set security= 6 path time sd:bytes                      (the key's new descriptor; the
//	                                                         inherited ACEs of the keys below
//	                                                         follow, as SetSecurity propagates them)
//	str, bytes  = len:uvarint octets; time = unix nanoseconds:varint; sd = a self-relative
//	              security descriptor
//
// A subtree (restore records, and the snapshot in bbolt) is a list of key records in
// preorder; each names its parent by position in the list (1-based, 0 for the list's first
// key, which is the subtree's root):
//
//	subtree     = count:uvarint (len:uvarint keyrec)*
//	keyrec      = parent:uvarint name:str class:str time flags:byte nvalues:uvarint
//	              (name:str type:uvarint data:bytes)* [sd:bytes | sdref:uvarint]
//
// keyrec flags: 1 link; 2 the descriptor follows; 4 instead, sdref follows: the position
// of an earlier record of the same list whose key has the same descriptor (most keys share
// their siblings', so a snapshot holds each distinct descriptor about once).
//
// Records written before keys had descriptors (a create or keyrec without flag 2 or 4)
// are read as they were: the key gets its default or inherited descriptor (fillSecurity).
const (
	opCreate      = 1
	opSetValue    = 2
	opDeleteValue = 3
	opDeleteKey   = 4
	opRestore     = 5
	opSetSecurity = 6
)

const (
	keyFlagLink        = 1
	keyFlagSecurity    = 2
	keyFlagSecurityRef = 4
)

type enc struct{ b []byte }

func (e *enc) byte(c byte)      { e.b = append(e.b, c) }
func (e *enc) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *enc) bytes(p []byte)   { e.uvarint(uint64(len(p))); e.b = append(e.b, p...) }
func (e *enc) time(t time.Time) { e.varint(t.UnixNano()) }

// dec reads what enc wrote. It never trusts a length: a short or damaged input sets err
// and every later read returns zero values.
type dec struct {
	b   []byte
	off int
	err error
}

func (d *dec) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("bad %s at byte %d", what, d.off)
	}
}

func (d *dec) byte() byte {
	if d.err != nil || d.off >= len(d.b) {
		d.fail("byte")
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

func (d *dec) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail("uvarint")
		return 0
	}
	d.off += n
	return v
}

func (d *dec) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.off += n
	return v
}

func (d *dec) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)-d.off) {
		d.fail("length")
		return nil
	}
	p := d.b[d.off : d.off+int(n) : d.off+int(n)]
	d.off += int(n)
	return p
}

func (d *dec) str() string       { return string(d.bytes()) }
func (d *dec) time() time.Time   { return time.Unix(0, d.varint()).UTC() }
func (d *dec) data() []byte      { return append([]byte{}, d.bytes()...) }
func (d *dec) done() bool        { return d.err == nil && d.off == len(d.b) }
func (d *dec) remaining() []byte { return d.b[d.off:] }

// journalPath is the key's canonical path, cached. The caller holds Registry.mu for
// writing (the cache is written).
func (k *key) journalPath() string {
	if k.cpath == "" {
		k.cpath = k.path()
	}
	return k.cpath
}

func (r *Registry) logging(k *key) bool {
	if k.mount != nil {
		k.mount.changes++
	}
	return r.j != nil && k.persisted()
}

func (r *Registry) logCreate(k *key) {
	if !r.logging(k) {
		return
	}
	flags := byte(keyFlagSecurity)
	if k.link {
		flags |= keyFlagLink
	}
	r.j.append(func(e *enc) {
		e.byte(opCreate)
		e.str(k.journalPath())
		e.str(k.class)
		e.time(k.lastWrite)
		e.byte(flags)
		e.bytes(k.sec.raw)
	})
}

// logSetSecurity writes the new descriptor of k (set by SetSecurity, which propagated it).
func (r *Registry) logSetSecurity(k *key, t time.Time) {
	if !r.logging(k) {
		return
	}
	r.j.append(func(e *enc) {
		e.byte(opSetSecurity)
		e.str(k.journalPath())
		e.time(t)
		e.bytes(k.sec.raw)
	})
}

func (r *Registry) logSetValue(k *key, name string, typ uint32, data []byte) {
	if !r.logging(k) {
		return
	}
	r.j.append(func(e *enc) {
		e.byte(opSetValue)
		e.str(k.journalPath())
		e.str(name)
		e.uvarint(uint64(typ))
		e.bytes(data)
		e.time(k.lastWrite)
	})
}

func (r *Registry) logDeleteValue(k *key, name string) {
	if !r.logging(k) {
		return
	}
	r.j.append(func(e *enc) {
		e.byte(opDeleteValue)
		e.str(k.journalPath())
		e.str(name)
		e.time(k.lastWrite)
	})
}

func (r *Registry) logDeleteKey(k *key, t time.Time) {
	if !r.logging(k) {
		return
	}
	r.j.append(func(e *enc) {
		e.byte(opDeleteKey)
		e.str(k.journalPath())
		e.time(t)
	})
}

// logRestore writes the restore of k; subtree is encodeSubtree of k's new content, made
// before the lock was taken (nil: encode it now).
func (r *Registry) logRestore(k *key, subtree []byte) {
	if !r.logging(k) {
		return
	}
	r.j.append(func(e *enc) {
		e.byte(opRestore)
		e.str(k.journalPath())
		e.time(k.lastWrite)
		if subtree != nil {
			e.b = append(e.b, subtree...)
		} else {
			encodeSubtree(e, k)
		}
	})
}

// encodeKeyRec writes one key record (see the grammar above); sdRef is the position of
// an earlier record of the list with the same descriptor, or 0 to write it.
func encodeKeyRec(e *enc, k *key, parent, sdRef uint64) {
	e.uvarint(parent)
	e.str(k.name)
	e.str(k.class)
	e.time(k.lastWrite)
	flags := byte(keyFlagSecurity)
	if sdRef != 0 {
		flags = keyFlagSecurityRef
	}
	if k.link {
		flags |= keyFlagLink
	}
	e.byte(flags)
	e.uvarint(uint64(len(k.values)))
	for _, v := range k.values {
		e.str(v.name)
		e.uvarint(uint64(v.typ))
		e.bytes(v.data)
	}
	if sdRef != 0 {
		e.uvarint(sdRef)
	} else {
		e.bytes(k.sec.raw)
	}
}

// persistedKeys visits k's persisted subtree in preorder with each key's position and
// its parent's (1-based, in visiting order; 0 for k's parent), and the position of the
// first key visited with the same descriptor (0 for the first). The caller holds
// Registry.mu.
func persistedKeys(k *key, visit func(k *key, parent, sdRef uint64)) {
	var n uint64
	first := make(map[*secObj]uint64)
	var rec func(c *key, parent uint64)
	rec = func(c *key, parent uint64) {
		if !c.persisted() {
			return
		}
		n++
		pos := n
		ref, ok := first[c.sec]
		if !ok {
			first[c.sec] = pos
		}
		visit(c, parent, ref)
		for _, x := range c.subkeys {
			rec(x, pos)
		}
	}
	rec(k, 0)
}

// encodeSubtree writes k's persisted subtree (see the grammar above).
func encodeSubtree(e *enc, k *key) {
	n := 0
	persistedKeys(k, func(*key, uint64, uint64) { n++ })
	e.uvarint(uint64(n))
	var scratch enc
	persistedKeys(k, func(c *key, parent, sdRef uint64) {
		scratch.b = scratch.b[:0]
		encodeKeyRec(&scratch, c, parent, sdRef)
		e.bytes(scratch.b)
	})
}

// keyRec is a decoded key record.
type keyRec struct {
	parent    uint64
	name      string
	class     string
	lastWrite time.Time
	link      bool
	values    []value
	sd        []byte // the descriptor, when the record holds it
	sdRef     uint64 // else the position of the record whose descriptor it shares, or 0
}

func decodeKeyRec(b []byte) (keyRec, error) {
	d := dec{b: b}
	var kr keyRec
	kr.parent = d.uvarint()
	kr.name = d.str()
	kr.class = d.str()
	kr.lastWrite = d.time()
	flags := d.byte()
	kr.link = flags&keyFlagLink != 0
	n := d.uvarint()
	if n > uint64(len(b)) { // each value takes at least 3 bytes
		return kr, errors.New("bad value count")
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		name := d.str()
		typ := d.uvarint()
		data := d.data()
		kr.values = append(kr.values, value{name: name, upper: fold(name), typ: uint32(typ), data: data})
	}
	switch {
	case flags&keyFlagSecurity != 0:
		kr.sd = d.bytes()
	case flags&keyFlagSecurityRef != 0:
		if kr.sdRef = d.uvarint(); kr.sdRef == 0 && d.err == nil {
			return kr, errors.New("descriptor reference 0")
		}
	}
	if !d.done() {
		if d.err != nil {
			return kr, d.err
		}
		return kr, errors.New("trailing bytes in key record")
	}
	return kr, nil
}

// buildKey makes a key object from a record below parent (nil for a replacement root
// whose identity the caller keeps).
func buildKey(kr keyRec, parent *key) (*key, error) {
	if err := checkKeyName(kr.name); err != nil && parent != nil {
		return nil, err
	}
	k := newKey(parent, kr.name, kr.lastWrite)
	k.class = kr.class
	k.link = kr.link
	for _, v := range kr.values {
		k.setValue(v.name, v.typ, v.data)
	}
	return k, nil
}

// decodeSubtree decodes a subtree into new key objects: the root record's values and
// the keys below it. The returned root is detached (parent nil) and the keys below it
// point at it; the caller grafts them onto the real key.
func decodeSubtree(d *dec, secs *secTable) (*key, error) {
	n := d.uvarint()
	if d.err != nil {
		return nil, d.err
	}
	if n == 0 || n > uint64(len(d.b)) {
		return nil, errors.New("bad subtree key count")
	}
	tb := treeBuilder{secs: secs}
	for i := uint64(0); i < n; i++ {
		b := d.bytes()
		if d.err != nil {
			return nil, d.err
		}
		if err := tb.add(b); err != nil {
			return nil, err
		}
	}
	return tb.root, nil
}

// findPath finds a key by canonical path without following links (replay).
func (r *Registry) findPath(p string) *key {
	root, rest, ok := strings.Cut(p, `\`)
	var k *key
	switch fold(root) {
	case "HKEY_LOCAL_MACHINE":
		k = r.roots[0]
	case "HKEY_USERS":
		k = r.roots[1]
	default:
		return nil
	}
	if !ok {
		return k
	}
	for _, c := range strings.Split(rest, `\`) {
		if k = k.child((c)); k == nil {
			return nil
		}
	}
	return k
}

// apply replays one journal record onto the tree. The caller holds Registry.mu for
// writing; the journal is not written while replaying.
func (r *Registry) apply(rec []byte) error {
	d := &dec{b: rec}
	op := d.byte()
	p := d.str()
	if d.err != nil {
		return d.err
	}
	switch op {
	case opCreate:
		class := d.str()
		t := d.time()
		flags := d.byte()
		var sd []byte
		if flags&keyFlagSecurity != 0 {
			sd = d.bytes()
		}
		if !d.done() {
			return errors.New("bad create record")
		}
		parentPath, name, ok := cutLast(p)
		if !ok {
			return fmt.Errorf("create of a root %q", p)
		}
		parent := r.findPath(parentPath)
		if parent == nil {
			return fmt.Errorf("create %q: parent missing", p)
		}
		if parent.child((name)) != nil {
			return nil // created again after a volatile key of that name: keep it
		}
		k := newKey(parent, name, t)
		k.class = class
		k.link = flags&keyFlagLink != 0
		if sd != nil {
			sec, err := r.secs.intern(sd)
			if err != nil {
				return &SecurityDescriptorError{Key: p, Err: err}
			}
			k.sec = sec
		} else {
			k.sec = r.systemChildSecurity(parent, name, parent.sec)
		}
		parent.addChild(k)
		parent.lastWrite = t
	case opSetValue:
		name := d.str()
		typ := d.uvarint()
		data := d.data()
		t := d.time()
		if !d.done() {
			return errors.New("bad set value record")
		}
		k := r.findPath(p)
		if k == nil {
			return fmt.Errorf("set value on %q: key missing", p)
		}
		k.setValue(name, uint32(typ), data)
		k.lastWrite = t
	case opDeleteValue:
		name := d.str()
		t := d.time()
		if !d.done() {
			return errors.New("bad delete value record")
		}
		k := r.findPath(p)
		if k == nil {
			return fmt.Errorf("delete value on %q: key missing", p)
		}
		k.deleteValue(fold(name))
		k.lastWrite = t
	case opDeleteKey:
		t := d.time()
		if !d.done() {
			return errors.New("bad delete key record")
		}
		k := r.findPath(p)
		if k == nil || k.parent == nil {
			return fmt.Errorf("delete of %q: key missing", p)
		}
		k.parent.removeChild(k)
		k.parent.lastWrite = t
		k.deleted = true
	case opRestore:
		t := d.time()
		root, err := decodeSubtree(d, &r.secs)
		if err != nil {
			return fmt.Errorf("restore of %q: %w", p, err)
		}
		if !d.done() {
			return errors.New("bad restore record")
		}
		k := r.findPath(p)
		if k == nil {
			return fmt.Errorf("restore of %q: key missing", p)
		}
		graft(k, root)
		k.lastWrite = t
		r.fillSecurity(k)
	case opSetSecurity:
		t := d.time()
		sd := d.bytes()
		if !d.done() {
			return errors.New("bad set security record")
		}
		k := r.findPath(p)
		if k == nil {
			return fmt.Errorf("set security of %q: key missing", p)
		}
		sec, err := r.secs.intern(sd)
		if err != nil {
			return &SecurityDescriptorError{Key: p, Err: err}
		}
		_ = t // the descriptor's change does not touch the key's last write time
		if _, err := r.applySecurity(k, sec); err != nil {
			return fmt.Errorf("set security of %q: %w", p, err)
		}
	default:
		return fmt.Errorf("unknown journal op %d", op)
	}
	return nil
}

// graft replaces k's values, class, descriptor and persisted subkeys by those of the detached root
// src (from decodeSubtree or a hive). k keeps its identity and name; its volatile subkeys
// stay. The old subkeys are returned, detached but not yet marked deleted.
func graft(k, src *key) []*key {
	var old []*key
	for _, c := range k.subkeys {
		if !c.volatile && !c.mountRoot {
			old = append(old, c)
		}
	}
	for _, c := range old {
		k.removeChild(c)
	}
	k.values, k.valueIdx, k.target = nil, nil, nil
	for _, v := range src.values {
		k.setValue(v.name, v.typ, v.data)
	}
	k.class = src.class
	if src.sec != nil {
		k.sec = src.sec
	}
	for _, c := range src.subkeys {
		if k.child(c.upper) != nil {
			continue // a volatile key of that name stays
		}
		reparent(c, k)
		k.addChild(c)
	}
	return old
}

// reparent moves a detached key under p, fixing depth and mount below it.
func reparent(c, p *key) {
	c.parent = p
	c.walk(func(x *key) bool {
		if x != c {
			x.depth = x.parent.depth + 1
		} else {
			x.depth = p.depth + 1
		}
		x.mount = p.mount
		x.volatile = p.volatile
		x.cpath = ""
		return true
	})
}

func cutLast(p string) (string, string, bool) {
	i := strings.LastIndexByte(p, '\\')
	if i < 0 {
		return "", "", false
	}
	return p[:i], p[i+1:], true
}

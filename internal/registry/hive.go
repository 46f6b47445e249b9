package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"wolfpack/internal/hive"
)

// Save returns the subtree of h as a regf hive (RegSaveKey), format 1.minor (5, or 3;
// 0 means 5). Volatile keys are left out, as Windows does; a link key is saved with
// KEY_SYM_LINK and its SymbolicLinkValue; every key with its security descriptor (in the
// hive's sk cells, one per distinct descriptor). It needs the backup privilege
// (ERROR_PRIVILEGE_NOT_HELD otherwise), which reads past the descriptors.
func (s *Session) Save(h Handle, minor uint32) ([]byte, error) {
	hh, err := s.get(h)
	if err != nil {
		return nil, &OpError{Op: "save", Err: err}
	}
	if !s.privileged() {
		return nil, &OpError{Op: "save", Key: hh.openedAs, Err: ERROR_PRIVILEGE_NOT_HELD}
	}
	r := s.r
	r.mu.RLock()
	if err := live(hh); err != nil {
		r.mu.RUnlock()
		return nil, &OpError{Op: "save", Key: hh.openedAs, Err: err}
	}
	root := toHive(hh.k)
	r.mu.RUnlock()
	b, err := hive.Marshal(root, hive.WriteOptions{Minor: minor})
	if err != nil {
		return nil, &OpError{Op: "save", Key: hh.openedAs, Err: fmt.Errorf("%w (%w)", ERROR_INVALID_PARAMETER, err)}
	}
	return b, nil
}

// toHive converts k and its non-volatile subtree. Value data is shared, not copied:
// stored data is never modified in place. The caller holds Registry.mu.
func toHive(k *key) *hive.Key {
	hk := &hive.Key{Name: k.name, Class: k.class, LastWrite: k.lastWrite, Security: k.sec.raw}
	if k.link {
		hk.Flags |= hive.KEY_SYM_LINK
	}
	hk.Values = make([]hive.Value, len(k.values))
	for i, v := range k.values {
		hk.Values[i] = hive.Value{Name: v.name, Type: v.typ, Data: v.data}
	}
	for _, c := range k.subkeys { // hive.Marshal sorts
		if c.volatile && !k.volatile || c.mountRoot {
			continue
		}
		hk.Subkeys = append(hk.Subkeys, toHive(c))
	}
	return hk
}

// fromHive builds a detached tree of new key objects from a hive key. The root's name
// is the caller's business; every other name is checked against Windows' rules and
// duplicates (case-insensitive) are refused. maxDepth bounds the levels below the root.
// Each key takes the security descriptor of its sk cell, unchanged (a malformed one is a
// *SecurityDescriptorError naming the key); a key without one (no sk cell) inherits from
// its parent, the root from rootSec.
func (r *Registry) fromHive(hk *hive.Key, name string, maxDepth int, rootSec *secObj) (*key, error) {
	b := hiveBuilder{r: r, names: make(map[string]string)}
	b.arena = make([]byte, 0, smallDataSize(hk))
	k := newKey(nil, name, hk.LastWrite.UTC())
	k.sec = rootSec
	if err := b.fill(k, hk, 0, maxDepth); err != nil {
		return nil, err
	}
	return k, nil
}

// hiveBuilder converts a hive tree with few allocations: upper-cased names are shared
// (a subtree repeats the same value names), and small value data is copied into one
// arena. Stored data is never modified in place, so sharing the arena is safe.
type hiveBuilder struct {
	r     *Registry
	names map[string]string
	arena []byte
}

const arenaMax = 1024 // data up to this size goes into the arena

func smallDataSize(hk *hive.Key) int {
	n := 0
	for _, v := range hk.Values {
		if len(v.Data) <= arenaMax {
			n += len(v.Data)
		}
	}
	for _, c := range hk.Subkeys {
		n += smallDataSize(c)
	}
	return n
}

func (b *hiveBuilder) fold(s string) string {
	if u, ok := b.names[s]; ok {
		return u
	}
	u := fold(s)
	b.names[s] = u
	return u
}

func (b *hiveBuilder) data(d []byte) []byte {
	if len(d) > arenaMax || len(d) > cap(b.arena)-len(b.arena) {
		return bytes.Clone(d)
	}
	start := len(b.arena)
	b.arena = append(b.arena, d...)
	return b.arena[start:len(b.arena):len(b.arena)]
}

func (b *hiveBuilder) fill(k *key, hk *hive.Key, depth, maxDepth int) error {
	if hk.Security != nil {
		sec, err := b.r.secs.intern(hk.Security)
		if err != nil {
			where := k.path()
			if where == "" {
				where = "the hive's root key"
			}
			return &SecurityDescriptorError{Key: where, Err: err}
		}
		k.sec = sec
	} else if k.parent != nil {
		k.sec = b.r.systemChildSecurity(nil, k.name, k.parent.sec)
	}
	k.class = hk.Class
	k.link = hk.Flags&hive.KEY_SYM_LINK != 0
	if len(hk.Values) > 0 {
		k.values = make([]value, 0, len(hk.Values))
	}
	for _, v := range hk.Values {
		if err := checkValueName(v.Name); err != nil {
			return fmt.Errorf("value %q of %s: %w", v.Name, k.name, err)
		}
		d := b.data(v.Data)
		if d == nil {
			d = []byte{}
		}
		k.setValueFolded(v.Name, b.fold(v.Name), v.Type, d)
	}
	if len(hk.Subkeys) > 0 && depth+1 > maxDepth {
		return &LimitError{Limit: "key depth", Max: MaxDepth, Got: depth + 1, Err: ERROR_BADKEY}
	}
	if len(hk.Subkeys) > 0 {
		k.subkeys = make(map[string]*key, len(hk.Subkeys))
	}
	for _, hc := range hk.Subkeys {
		if err := checkKeyName(hc.Name); err != nil {
			return fmt.Errorf("subkey %q: %w", hc.Name, err)
		}
		c := newKeyFolded(k, hc.Name, fold(hc.Name), hc.LastWrite.UTC())
		if k.child(c.upper) != nil {
			return fmt.Errorf("duplicate subkey %q: %w", hc.Name, ERROR_BADKEY)
		}
		if err := b.fill(c, hc, depth+1, maxDepth); err != nil {
			return err
		}
		k.addChild(c)
	}
	return nil
}

func parseHive(data []byte) (*hive.Hive, error) {
	hv, err := hive.Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w (%w)", ERROR_NOT_REGISTRY_FILE, err)
	}
	if hv.Root == nil {
		return nil, ERROR_NOT_REGISTRY_FILE
	}
	return hv, nil
}

// Restore replaces the values and subkeys of h's key by those of a hive (RegRestoreKey);
// the key keeps its name and identity. Without REG_FORCE_RESTORE it fails with
// *KeysInUseError (ERROR_ACCESS_DENIED) when a handle of another session is open
// anywhere in the subtree, whichever name it was opened by. With it, the restore goes
// ahead and the other sessions' handles below the key answer ERROR_KEY_DELETED (the
// restored subkeys are new key objects). A hive that does not parse leaves the key as it
// was. The change is one journal record, so it is atomic across a crash; with
// REG_NO_LAZY_FLUSH it is durable when Restore returns. The security descriptors come
// with the hive, the key's own included (a hive key without one inherits); a malformed
// one fails the restore with a *SecurityDescriptorError and changes nothing. It needs
// the restore privilege (ERROR_PRIVILEGE_NOT_HELD otherwise), which writes past the
// descriptors.
func (s *Session) Restore(ctx context.Context, h Handle, hiveBytes []byte, flags uint32) error {
	hh, err := s.get(h)
	if err != nil {
		return &OpError{Op: "restore", Err: err}
	}
	fail := func(err error) error { return &OpError{Op: "restore", Key: hh.openedAs, Err: err} }
	if !s.privileged() {
		return fail(ERROR_PRIVILEGE_NOT_HELD)
	}
	if flags&^(REG_FORCE_RESTORE|REG_NO_LAZY_FLUSH) != 0 {
		return fail(ERROR_INVALID_PARAMETER)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	hv, err := parseHive(hiveBytes)
	if err != nil {
		return fail(err)
	}
	r := s.r
	r.mu.RLock()
	depth, sec := hh.k.depth, hh.k.sec
	r.mu.RUnlock()
	src, err := r.fromHive(hv.Root, "", MaxDepth-depth, sec)
	if err != nil {
		return fail(err)
	}
	// The journal record is encoded from the new tree before taking the lock: after the
	// graft the key's persisted content is exactly src's.
	var rec enc
	if r.j != nil {
		encodeSubtree(&rec, src)
	}

	r.mu.Lock()
	if err := live(hh); err != nil {
		r.mu.Unlock()
		return fail(err)
	}
	k := hh.k
	if k.parent == nil {
		r.mu.Unlock()
		return fail(ERROR_ACCESS_DENIED) // not onto HKLM or HKU itself
	}
	if flags&REG_FORCE_RESTORE == 0 {
		if held := r.holders(k, true, s); len(held) > 0 {
			r.mu.Unlock()
			return &OpError{Op: "restore", Key: hh.openedAs, Err: &KeysInUseError{Key: k.path(), Holders: held}}
		}
	}
	secChanged := k.sec != src.sec
	old := graft(k, src)
	k.lastWrite = r.now()
	for _, o := range old {
		r.notifyDeleted(o)
		o.markDeleted()
	}
	r.logRestore(k, rec.b)
	r.notify(k, k, REG_NOTIFY_CHANGE_NAME)
	r.notify(k, k, REG_NOTIFY_CHANGE_LAST_SET)
	if secChanged {
		r.notify(k, k, REG_NOTIFY_CHANGE_SECURITY)
	}
	r.mu.Unlock()
	if flags&REG_NO_LAZY_FLUSH != 0 {
		if err := r.sync(ctx); err != nil {
			return fail(err)
		}
	}
	return nil
}

// mount is a hive file loaded under HKLM or HKU (RegLoadKey). Its keys are not in the
// journal: the file is rewritten whole (temporary file, fsync, rename) on Flush, within
// Options.LazyFlush of a change (lazyWrite), on Unload and on Close.
type mount struct {
	file    string
	root    *key
	changes uint64 // changes made; guarded by Registry.mu

	stop     chan struct{} // closed (once) when the hive is unloaded or the registry closes
	stopOnce sync.Once
	dir      *os.File // the file's directory, opened at load: writes go there (writeHiveFile)

	wmu   sync.Mutex // serializes writes of the file
	saved uint64     // changes written; guarded by wmu
}

// Load mounts the hive file at parent\name (RegLoadKey); parent is HKEY_LOCAL_MACHINE
// or HKEY_USERS. A hive that Windows left dirty is recovered from its .LOG1/.LOG2 files.
// Changes are written back to the file on Flush, Unload and Close. The keys have the
// hive's security descriptors (a malformed one fails the load, *SecurityDescriptorError).
// It needs the backup and restore privileges, except that a user may mount a hive at
// HKU\<the user's SID> or HKU\<SID>_Classes, where Windows mounts a user's own hives
// (ERROR_PRIVILEGE_NOT_HELD otherwise).
func (s *Session) Load(parent Handle, name, file string) error {
	fail := func(err error) error { return &OpError{Op: "load", Key: joinName(RootName(parent), name), Err: err} }
	if parent != HKEY_LOCAL_MACHINE && parent != HKEY_USERS {
		return fail(ERROR_INVALID_PARAMETER)
	}
	if err := checkKeyName(name); err != nil {
		return fail(err)
	}
	if err := s.MayLoad(parent, name); err != nil {
		return fail(err)
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return fail(err)
	}
	// ReadFile applies the transaction logs (file.LOG1/.LOG2) of a hive Windows left dirty.
	hv, err := hive.ReadFile(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fail(fmt.Errorf("%w (%w)", ERROR_FILE_NOT_FOUND, err))
		}
		var fe *hive.FormatError
		if errors.As(err, &fe) {
			return fail(fmt.Errorf("%w (%w)", ERROR_NOT_REGISTRY_FILE, err))
		}
		return fail(fmt.Errorf("%w (%w)", ERROR_CANTOPEN, err))
	}
	if hv.Root == nil {
		return fail(ERROR_NOT_REGISTRY_FILE)
	}
	r := s.r
	p := r.roots[parent-HKEY_LOCAL_MACHINE]
	rootSec := r.defaultSecurity(p, name)
	if rootSec == nil {
		r.mu.RLock()
		rootSec = r.systemChildSecurity(nil, name, p.sec)
		r.mu.RUnlock()
	}
	root, err := r.fromHive(hv.Root, name, MaxDepth-1, rootSec)
	if err != nil {
		return fail(err)
	}
	dir, err := os.OpenFile(filepath.Dir(abs), os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fail(fmt.Errorf("%w (%w)", ERROR_CANTOPEN, err))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	loaded := false
	defer func() {
		if !loaded {
			dir.Close()
		}
	}()
	for _, m := range r.mounts {
		if m.file == abs {
			return fail(ERROR_ACCESS_DENIED) // the file is in use, as on Windows (sharing violation)
		}
	}
	if p.child(root.upper) != nil {
		return fail(ERROR_ALREADY_EXISTS)
	}
	m := &mount{file: abs, root: root, stop: make(chan struct{}), dir: dir}
	loaded = true
	go r.lazyWrite(m)
	root.mountRoot = true
	reparent(root, p)
	root.walk(func(k *key) bool { k.mount = m; return true })
	p.addChild(root)
	r.mounts = append(r.mounts, m)
	r.notify(p, root, REG_NOTIFY_CHANGE_NAME)
	return nil
}

// Unload writes a loaded hive back to its file and removes it (RegUnLoadKey). It fails
// with *KeysInUseError when other sessions hold handles in it; the caller's own handles
// answer ERROR_KEY_DELETED afterwards. It needs the privileges Load needs.
func (s *Session) Unload(parent Handle, name string) error {
	fail := func(err error) error { return &OpError{Op: "unload", Key: joinName(RootName(parent), name), Err: err} }
	if parent != HKEY_LOCAL_MACHINE && parent != HKEY_USERS {
		return fail(ERROR_INVALID_PARAMETER)
	}
	if err := s.MayLoad(parent, name); err != nil {
		return fail(err)
	}
	r := s.r
	r.mu.Lock()
	p := r.roots[parent-HKEY_LOCAL_MACHINE]
	k := p.child((name))
	if k == nil {
		r.mu.Unlock()
		return fail(ERROR_FILE_NOT_FOUND)
	}
	if !k.mountRoot {
		r.mu.Unlock()
		return fail(ERROR_INVALID_PARAMETER)
	}
	if held := r.holders(k, true, s); len(held) > 0 {
		r.mu.Unlock()
		return fail(&KeysInUseError{Key: k.path(), Holders: held})
	}
	m := k.mount
	m.wmu.Lock()
	defer m.wmu.Unlock()
	changed := m.changes != m.saved
	var hk *hive.Key
	if changed { // the tree to write back; an unchanged hive's file is left alone
		hk = toHive(k)
	}
	p.removeChild(k)
	r.notify(p, k, REG_NOTIFY_CHANGE_NAME)
	r.notifyDeleted(k)
	k.markDeleted()
	for i, x := range r.mounts {
		if x == m {
			r.mounts = append(r.mounts[:i], r.mounts[i+1:]...)
			break
		}
	}
	m.stopLazy()
	r.mu.Unlock()
	defer m.dir.Close()
	if changed {
		if err := writeHiveFile(m, hk); err != nil {
			return fail(err)
		}
	}
	return nil
}

// lazyWrite writes a loaded hive back within Options.LazyFlush of a change, as the main
// store's lazy flush makes its writes durable, until the hive is unloaded or the registry
// closes.
func (r *Registry) lazyWrite(m *mount) {
	t := time.NewTicker(r.opts.LazyFlush)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			if err := r.writeMount(m); err != nil {
				r.log.Warn("registry: writing a loaded hive back", "file", m.file, "err", err)
			}
		}
	}
}

func (m *mount) stopLazy() { m.stopOnce.Do(func() { close(m.stop) }) }

// writeMount writes a loaded hive back to its file if it changed since the last write.
func (r *Registry) writeMount(m *mount) error {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	r.mu.RLock()
	if m.root.deleted || m.changes == m.saved {
		r.mu.RUnlock()
		return nil
	}
	c := m.changes
	hk := toHive(m.root)
	r.mu.RUnlock()
	if err := writeHiveFile(m, hk); err != nil {
		return err
	}
	m.saved = c
	return nil
}

// writeHiveFile replaces the mounted hive's file with root's image: a new file created
// in the directory the hive was loaded from (through the descriptor opened at load, so a
// directory swapped for a symbolic link since then is not followed), O_EXCL and
// O_NOFOLLOW, fsynced, renamed over the file, the directory fsynced. The new file keeps
// the old one's mode and, when this process may give it away (root, mounting a user's
// hive), its owner.
func writeHiveFile(m *mount, root *hive.Key) error {
	name := filepath.Base(m.file)
	b, err := hive.Marshal(root, hive.WriteOptions{FileName: name})
	if err != nil {
		return fmt.Errorf("%w (%w)", ERROR_CANTWRITE, err)
	}
	dirfd := int(m.dir.Fd())
	tmp := fmt.Sprintf(".%s.%d.tmp", name, time.Now().UnixNano())
	fd, err := unix.Openat(dirfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("%w (%s: %w)", ERROR_CANTWRITE, m.file, err)
	}
	f := os.NewFile(uintptr(fd), tmp)
	var st unix.Stat_t
	if unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
		err = f.Chmod(os.FileMode(st.Mode & 0o777))
		if err == nil && os.Geteuid() == 0 {
			err = f.Chown(int(st.Uid), int(st.Gid))
		}
	}
	if err == nil {
		_, err = f.Write(b)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Renameat(dirfd, tmp, dirfd, name)
	}
	if err == nil {
		err = m.dir.Sync()
	}
	if err != nil {
		unix.Unlinkat(dirfd, tmp, 0)
		return fmt.Errorf("%w (%s: %w)", ERROR_CANTWRITE, m.file, err)
	}
	return nil
}

// MayLoad checks that the session may load or unload a hive at parent\name, as Load and
// Unload do before anything else: with the privileges anywhere, else only at HKU\<its
// own SID> and HKU\<SID>_Classes (ERROR_PRIVILEGE_NOT_HELD). Callers that prepare a
// file for Load check it first.
func (s *Session) MayLoad(parent Handle, name string) error {
	if s.privileged() {
		return nil
	}
	if parent == HKEY_USERS && profileSID(name) == s.tok.User {
		return nil
	}
	return ERROR_PRIVILEGE_NOT_HELD
}

package registry

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// store is the compacted state in a bbolt file, registry.db:
//
//	bucket "meta":  "gen" → uint64be, the first journal generation not in the snapshot
//	                "version" → uint64be: 2 (key records may hold descriptors); 1 is
//	                read too (records without them)
//	bucket "HKEY_LOCAL_MACHINE", "HKEY_USERS": position:uint64be → keyrec
//
// Each root's bucket holds its persisted subtree as key records (record.go) in preorder;
// a record names its parent by position, so loading in key order builds the tree.
// A snapshot is written whole in one transaction, so the file always holds a complete
// state together with the journal generation that continues it.
type store struct {
	db *bolt.DB
}

var (
	bucketMeta  = []byte("meta")
	rootBuckets = [2][]byte{[]byte("HKEY_LOCAL_MACHINE"), []byte("HKEY_USERS")}
	metaGen     = []byte("gen")
	metaVersion = []byte("version")
)

// storeVersion is the version written. Version 1 stores (written before keys had
// descriptors) are read: their keys get default or inherited descriptors. A version 2
// store is refused by a version 1 reader, which would drop the descriptors.
const storeVersion = 2

func openStore(dir string) (*store, error) {
	db, err := bolt.Open(filepath.Join(dir, "registry.db"), 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("registry: open store: %w", err)
	}
	return &store{db: db}, nil
}

func (s *store) close() error { return s.db.Close() }

func u64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

// load reads the snapshot into roots and returns the journal generation that follows it.
// Descriptors are interned in secs.
func (s *store) load(roots [2]*key, secs *secTable) (uint64, error) {
	var gen uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if m := tx.Bucket(bucketMeta); m != nil {
			if v := m.Get(metaVersion); v != nil && (len(v) != 8 || binary.BigEndian.Uint64(v) < 1 || binary.BigEndian.Uint64(v) > storeVersion) {
				return fmt.Errorf("registry: store version %x not supported", v)
			}
			if v := m.Get(metaGen); len(v) == 8 {
				gen = binary.BigEndian.Uint64(v)
			}
		}
		for i, name := range rootBuckets {
			b := tx.Bucket(name)
			if b == nil {
				continue
			}
			tb := treeBuilder{secs: secs, root: roots[i]}
			if err := b.ForEach(func(k, v []byte) error { return tb.add(v) }); err != nil {
				return fmt.Errorf("registry: store bucket %s: %w", name, err)
			}
		}
		return nil
	})
	return gen, err
}

// save replaces the snapshot and records the journal generation that follows it.
func (s *store) save(snap [2][][]byte, gen uint64) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		m, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if err := m.Put(metaVersion, u64(storeVersion)); err != nil {
			return err
		}
		if err := m.Put(metaGen, u64(gen)); err != nil {
			return err
		}
		for i, name := range rootBuckets {
			if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
				return err
			}
			b, err := tx.CreateBucket(name)
			if err != nil {
				return err
			}
			b.FillPercent = 1 // keys are appended in order
			for pos, rec := range snap[i] {
				if err := b.Put(u64(uint64(pos+1)), rec); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("registry: write store: %w", err)
	}
	return nil
}

// treeBuilder builds a tree from key records in preorder. The first record describes
// root itself (an existing key whose values and class it sets, or a new detached key
// when root is nil); the others become new keys below it.
type treeBuilder struct {
	secs *secTable
	root *key
	keys []*key
}

// security gives k the descriptor of its record: the one it holds, or that of the earlier
// record it refers to; a record without either leaves it for fillSecurity.
func (tb *treeBuilder) security(k *key, kr keyRec) error {
	switch {
	case kr.sd != nil:
		sec, err := tb.secs.intern(kr.sd)
		if err != nil {
			return fmt.Errorf("key record %d: security descriptor: %w", len(tb.keys), err)
		}
		k.sec = sec
	case kr.sdRef != 0:
		if kr.sdRef > uint64(len(tb.keys)) {
			return fmt.Errorf("key record %d: descriptor reference %d ahead of it", len(tb.keys), kr.sdRef)
		}
		k.sec = tb.keys[kr.sdRef-1].sec
	}
	return nil
}

func (tb *treeBuilder) add(rec []byte) error {
	kr, err := decodeKeyRec(rec)
	if err != nil {
		return fmt.Errorf("key record %d: %w", len(tb.keys), err)
	}
	if len(tb.keys) == 0 {
		if kr.parent != 0 {
			return errors.New("first key record has a parent")
		}
		if tb.root == nil {
			tb.root, _ = buildKey(kr, nil)
		} else {
			tb.root.class = kr.class
			tb.root.lastWrite = kr.lastWrite
			for _, v := range kr.values {
				tb.root.setValue(v.name, v.typ, v.data)
			}
		}
		if err := tb.security(tb.root, kr); err != nil {
			return err
		}
		tb.keys = append(tb.keys, tb.root)
		return nil
	}
	if kr.parent == 0 || kr.parent > uint64(len(tb.keys)) {
		return fmt.Errorf("key record %d: bad parent %d", len(tb.keys), kr.parent)
	}
	p := tb.keys[kr.parent-1]
	if p.child((kr.name)) != nil {
		return fmt.Errorf("key record %d: duplicate name %q", len(tb.keys), kr.name)
	}
	if p.depth+1 > MaxDepth {
		return fmt.Errorf("key record %d: deeper than %d", len(tb.keys), MaxDepth)
	}
	k, err := buildKey(kr, p)
	if err != nil {
		return fmt.Errorf("key record %d: %w", len(tb.keys), err)
	}
	if err := tb.security(k, kr); err != nil {
		return err
	}
	p.addChild(k)
	tb.keys = append(tb.keys, k)
	return nil
}

// snapshotTree encodes the persisted subtree of k as key records in preorder.
func snapshotTree(k *key) [][]byte {
	var e enc
	var ends []int
	persistedKeys(k, func(c *key, parent, sdRef uint64) {
		encodeKeyRec(&e, c, parent, sdRef)
		ends = append(ends, len(e.b))
	})
	recs := make([][]byte, len(ends))
	start := 0
	for i, end := range ends {
		recs[i] = e.b[start:end:end]
		start = end
	}
	return recs
}

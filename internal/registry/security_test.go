package registry

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"wolfpack/internal/hive"
	"wolfpack/internal/secdesc"
)

// sddlOf is the SDDL of the key at path, read by a root session.
func sddlOf(t *testing.T, s *Session, path string) string {
	t.Helper()
	h, err := s.OpenPathAccess(path, 0, READ_CONTROL)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer s.CloseKey(h)
	b, err := s.GetSecurity(h, OWNER_SECURITY_INFORMATION|GROUP_SECURITY_INFORMATION|DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatalf("get security of %s: %v", path, err)
	}
	sd, err := secdesc.Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return sd.String()
}

func setSDDL(t *testing.T, s *Session, path, sddl string) {
	t.Helper()
	sd, err := secdesc.ParseSDDL(sddl)
	if err != nil {
		t.Fatal(err)
	}
	h, err := s.OpenPathAccess(path, 0, WRITE_DAC|WRITE_OWNER)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer s.CloseKey(h)
	info := DACL_SECURITY_INFORMATION
	if sd.Owner != "" {
		info |= OWNER_SECURITY_INFORMATION
	}
	if err := s.SetSecurity(h, info, sd.Bytes()); err != nil {
		t.Fatalf("set security of %s: %v", path, err)
	}
}

// oldKeyRec encodes a key record as the store wrote it before keys had descriptors.
func oldKeyRec(parent uint64, name string) []byte {
	var e enc
	e.uvarint(parent)
	e.str(name)
	e.str("")
	e.time(time.Unix(1700000000, 0))
	e.byte(0)
	e.uvarint(0)
	return e.b
}

// TestSecurityOldStore: a store written before keys had descriptors (store version 1,
// records without them, a journal create record without one) opens with Windows'
// defaults: SOFTWARE's own descriptor, its subkeys' inherited ones. It is rewritten as
// version 2 and reads back the same.
func TestSecurityOldStore(t *testing.T) {
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "registry.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		m, _ := tx.CreateBucket(bucketMeta)
		m.Put(metaVersion, u64(1))
		m.Put(metaGen, u64(1))
		b, _ := tx.CreateBucket(rootBuckets[0])
		for i, rec := range [][]byte{oldKeyRec(0, RootLocalMachine), oldKeyRec(1, "SOFTWARE"), oldKeyRec(2, "Old")} {
			b.Put(u64(uint64(i+1)), rec)
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	// Generation 1's journal: the create record of the old format (flags 0, no descriptor).
	f, err := createJournal(dir, 1, fileSync)
	if err != nil {
		t.Fatal(err)
	}
	var rec enc
	rec.byte(opCreate)
	rec.str(`HKEY_LOCAL_MACHINE\SOFTWARE\Old\FromJournal`)
	rec.str("")
	rec.time(time.Unix(1700000001, 0))
	rec.byte(0)
	frame := binary.LittleEndian.AppendUint32(nil, uint32(len(rec.b)))
	frame = binary.LittleEndian.AppendUint32(frame, crc32c(rec.b))
	f.Write(append(frame, rec.b...))
	f.Close()

	const inherited = "O:BAG:SYD:AI(A;ID;KA;;;BA)(A;CIIOID;KA;;;CO)(A;CIID;KR;;;BU)(A;CIID;KA;;;BA)(A;CIID;KA;;;SY)"
	check := func(r *Registry) {
		t.Helper()
		s := r.NewSession(Owner{Exe: "test"})
		defer s.Close()
		for path, want := range map[string]string{
			`HKLM\SOFTWARE`:                 sddlSoftware,
			`HKLM\SOFTWARE\Old`:             inherited,
			`HKLM\SOFTWARE\Old\FromJournal`: inherited,
			`HKLM`:                          sddlMachine,
		} {
			if got := sddlOf(t, s, path); got != want {
				t.Errorf("%s: %s, want %s", path, got, want)
			}
		}
		user := r.NewSession(Owner{UID: 65534, Exe: "nobody"})
		defer user.Close()
		if _, err := user.OpenPathAccess(`HKLM\SOFTWARE\Old\FromJournal`, 0, KEY_READ); err != nil {
			t.Errorf("a user reads a key of the old store: %v", err)
		}
		if _, err := user.OpenPathAccess(`HKLM\SOFTWARE\Old`, 0, KEY_SET_VALUE); !errors.Is(err, ERROR_ACCESS_DENIED) {
			t.Errorf("a user writes a key of the old store: %v", err)
		}
	}
	r := openDir(t, dir, Options{})
	check(r)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r = openDir(t, dir, Options{})
	check(r)
	r.Close()
	db, err = bolt.Open(filepath.Join(dir, "registry.db"), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(metaVersion); binary.BigEndian.Uint64(v) != storeVersion {
			t.Errorf("store version %x after a compaction, want %d", v, storeVersion)
		}
		return nil
	})
}

// A store of a version this code does not know is refused, not misread.
func TestSecurityNewerStoreRefused(t *testing.T) {
	dir := t.TempDir()
	r := openDir(t, dir, Options{})
	r.Close()
	db, err := bolt.Open(filepath.Join(dir, "registry.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(metaVersion, u64(storeVersion+1)) })
	db.Close()
	if _, err := Open(context.Background(), dir, Options{}); err == nil || !strings.Contains(err.Error(), "store version") {
		t.Fatalf("a newer store opened: %v", err)
	}
}

// TestSecuritySaveRestore: descriptors travel in the hive's sk cells (one per distinct
// descriptor, shared by the keys that have it) and come back whole on another registry,
// the restored key's own included.
func TestSecuritySaveRestore(t *testing.T) {
	_, s := newTestSession(t)
	for _, p := range []string{`HKLM\SOFTWARE\App\A\A1`, `HKLM\SOFTWARE\App\A\A2`, `HKLM\SOFTWARE\App\B`} {
		mustCreate(t, s, p)
	}
	setSDDL(t, s, `HKLM\SOFTWARE\App`, "O:S-1-22-1-1000D:P(A;CI;KA;;;S-1-22-1-1000)(A;CI;KA;;;BA)")
	setSDDL(t, s, `HKLM\SOFTWARE\App\A`, "D:(D;CI;KW;;;S-1-22-2-100)")
	h, err := s.OpenPath(`HKLM\SOFTWARE\App`)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := s.Save(h, 5)
	if err != nil {
		t.Fatal(err)
	}
	hv, err := hive.Read(bytes.NewReader(saved), int64(len(saved)))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	distinct := map[string]bool{}
	var walk func(k *hive.Key, path string)
	walk = func(k *hive.Key, path string) {
		sd, err := secdesc.Parse(k.Security)
		if err != nil {
			t.Fatalf("%s: saved descriptor: %v", path, err)
		}
		want[path] = sd.String()
		distinct[string(k.Security)] = true
		if got := sddlOf(t, s, path); got != sd.String() {
			t.Errorf("%s: saved %s, the key has %s", path, sd, got)
		}
		for _, c := range k.Subkeys {
			walk(c, path+`\`+c.Name)
		}
	}
	walk(hv.Root, `HKLM\SOFTWARE\App`)
	if len(want) != 5 || len(distinct) != 4 {
		t.Fatalf("%d keys with %d distinct descriptors, want 5 and 4 (App, A, B; A1 and A2 share one)", len(want), len(distinct))
	}

	_, other := newTestSession(t)
	rh := mustCreate(t, other, `HKLM\SOFTWARE\App`)
	if err := other.Restore(context.Background(), rh, saved, 0); err != nil {
		t.Fatal(err)
	}
	for path, sddl := range want {
		if got := sddlOf(t, other, path); got != sddl {
			t.Errorf("restored %s: %s, want %s", path, got, sddl)
		}
	}
}

// corruptHive is a hive whose key Bad has a security descriptor that does not parse.
func corruptHive(t *testing.T) []byte {
	t.Helper()
	sd := hive.DefaultSecurityDescriptor()
	sd[16] = 0xF0 // the DACL's offset points past the end
	b, err := hive.Marshal(&hive.Key{Name: "ROOT", Subkeys: []*hive.Key{
		{Name: "Good"}, {Name: "Bad", Security: sd},
	}}, hive.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSecurityBadHive: a hive holding a malformed descriptor is refused by Restore and
// Load with an error that names the key and the byte, and nothing changes.
func TestSecurityBadHive(t *testing.T) {
	_, s := newTestSession(t)
	h := mustCreate(t, s, `HKLM\SOFTWARE\Target`)
	s.SetValue(h, "marker", REG_DWORD, dword(1))
	before := sddlOf(t, s, `HKLM\SOFTWARE\Target`)
	b := corruptHive(t)
	err := s.Restore(context.Background(), h, b, 0)
	var sde *SecurityDescriptorError
	var fe *secdesc.FormatError
	if !errors.As(err, &sde) || !errors.As(err, &fe) || !errors.Is(err, ERROR_INVALID_SECURITY_DESCR) {
		t.Fatalf("restore of a hive with a bad descriptor: %v", err)
	}
	if sde.Key != `\Bad` || fe.Off != 16 || !strings.Contains(err.Error(), "Target") {
		t.Errorf("the error does not say where: %v (key %q, byte %d)", err, sde.Key, fe.Off)
	}
	if _, _, err := s.QueryValue(h, "marker"); err != nil {
		t.Errorf("the refused restore changed the key: %v", err)
	}
	if keys, _ := s.EnumKeys(h); len(keys) != 0 {
		t.Errorf("the refused restore added %v", keys)
	}
	if got := sddlOf(t, s, `HKLM\SOFTWARE\Target`); got != before {
		t.Errorf("the refused restore changed the descriptor: %s", got)
	}

	file := filepath.Join(t.TempDir(), "bad.hiv")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	err = s.Load(HKEY_USERS, "Bad", file)
	if !errors.As(err, &sde) || sde.Key != `Bad\Bad` {
		t.Fatalf("load of a hive with a bad descriptor: %v", err)
	}
	if _, err := s.OpenKey(HKEY_USERS, "Bad", 0, KEY_READ); !errors.Is(err, ERROR_FILE_NOT_FOUND) {
		t.Errorf("the refused load mounted the hive: %v", err)
	}
}

func TestSetSecurityErrors(t *testing.T) {
	_, s := newTestSession(t)
	h := mustCreate(t, s, `HKLM\SOFTWARE\K`)
	before := sddlOf(t, s, `HKLM\SOFTWARE\K`)
	good, _ := secdesc.ParseSDDL("D:(A;;KA;;;WD)")
	for _, c := range []struct {
		name string
		info uint32
		sd   []byte
		want error
	}{
		{"garbage", DACL_SECURITY_INFORMATION, []byte("not a descriptor at all"), ERROR_INVALID_SECURITY_DESCR},
		{"truncated", DACL_SECURITY_INFORMATION, good.Bytes()[:30], ERROR_INVALID_SECURITY_DESCR},
		{"no part named", 0, good.Bytes(), ERROR_INVALID_PARAMETER},
		{"unknown bits", DACL_SECURITY_INFORMATION | 0x100, good.Bytes(), ERROR_INVALID_PARAMETER},
		{"no owner in the descriptor", OWNER_SECURITY_INFORMATION, good.Bytes(), ERROR_INVALID_OWNER},
	} {
		err := s.SetSecurity(h, c.info, c.sd)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if got := sddlOf(t, s, `HKLM\SOFTWARE\K`); got != before {
		t.Errorf("a refused SetSecurity changed the descriptor: %s", got)
	}
	if _, err := s.GetSecurity(h, 0x100); !errors.Is(err, ERROR_INVALID_PARAMETER) {
		t.Errorf("GetSecurity with unknown bits: %v", err)
	}
	// Parts: only what was asked for, the stored bytes when everything is.
	b, err := s.GetSecurity(h, DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatal(err)
	}
	if sd, _ := secdesc.Parse(b); sd.Owner != "" || sd.Group != "" || sd.DACL == nil {
		t.Errorf("DACL only: %s", sd)
	}
	r := s.r
	r.mu.RLock()
	raw := r.findPath(`HKEY_LOCAL_MACHINE\SOFTWARE\K`).sec.raw
	r.mu.RUnlock()
	if b, _ := s.GetSecurity(h, OWNER_SECURITY_INFORMATION|GROUP_SECURITY_INFORMATION|DACL_SECURITY_INFORMATION); !bytes.Equal(b, raw) {
		t.Errorf("every part: not the stored bytes")
	}
}

// Keys with equal descriptors share one object, and descriptors no key uses any more
// are dropped from the table.
func TestSecurityInterning(t *testing.T) {
	r, s := newTestSession(t)
	for i := range 50 {
		mustCreate(t, s, `HKLM\SOFTWARE\Many\K`+string(rune('A'+i%26))+string(rune('a'+i/26)))
	}
	r.mu.RLock()
	many := r.findPath(`HKEY_LOCAL_MACHINE\SOFTWARE\Many`)
	var first *secObj
	for _, c := range many.subkeys {
		if first == nil {
			first = c.sec
		} else if c.sec != first {
			t.Error("siblings created alike do not share their descriptor")
		}
	}
	r.mu.RUnlock()
	for i := range 20 {
		setSDDL(t, s, `HKLM\SOFTWARE\Many`, "O:BAD:(A;CI;KR;;;S-1-22-1-"+string(rune('0'+i%10))+string(rune('0'+i/10))+")")
	}
	first = nil
	for range 10 {
		runtime.GC()
		if r.secs.len() < 20 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := r.secs.len(); n >= 20 {
		t.Errorf("%d descriptors interned after 20 replaced ones were dropped", n)
	}
}

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// A DACL near the 64 KiB an ACL can hold, of ACEs that inheritance doubles (generic
// rights), cannot be passed on: creating a subkey, or a change that would reach one,
// fails with an error naming the key — never a panic, nothing changed.
func TestSecurityInheritanceOverflow(t *testing.T) {
	_, s := newTestSession(t)
	mustCreate(t, s, `HKLM\SOFTWARE\Big\Existing`)
	var b strings.Builder
	b.WriteString("D:P(A;CI;KA;;;BA)")
	for i := range 2500 { // 2500 × 24 bytes: 60 KB; inherited, 120 KB
		fmt.Fprintf(&b, "(A;CI;GA;;;S-1-22-1-%d)", 100000+i)
	}
	sd, err := secdesc.ParseSDDL(b.String())
	if err != nil {
		t.Fatal(err)
	}
	h, err := s.OpenPath(`HKLM\SOFTWARE\Big`)
	if err != nil {
		t.Fatal(err)
	}
	before := sddlOf(t, s, `HKLM\SOFTWARE\Big\Existing`)
	err = s.SetSecurity(h, DACL_SECURITY_INFORMATION, sd.Bytes())
	var sde *SecurityDescriptorError
	if !errors.As(err, &sde) || sde.Key != `HKEY_LOCAL_MACHINE\SOFTWARE\Big\Existing` {
		t.Fatalf("a DACL whose inheritance overflows a subkey's: %v", err)
	}
	if got := sddlOf(t, s, `HKLM\SOFTWARE\Big\Existing`); got != before {
		t.Errorf("the refused change reached the subkey: %s", got)
	}
	s.DeleteKey(HKEY_LOCAL_MACHINE, `SOFTWARE\Big\Existing`)
	if err := s.SetSecurity(h, DACL_SECURITY_INFORMATION, sd.Bytes()); err != nil {
		t.Fatalf("without subkeys: %v", err)
	}
	_, _, err = s.CreatePath(`HKLM\SOFTWARE\Big\New\Deeper`, CreateOptions{})
	if !errors.As(err, &sde) || sde.Key != `HKEY_LOCAL_MACHINE\SOFTWARE\Big\New` || !errors.Is(err, ERROR_INVALID_SECURITY_DESCR) {
		t.Fatalf("creating under it: %v", err)
	}
	if keys, _ := s.EnumKeys(h); len(keys) != 0 {
		t.Errorf("a refused create left %v", keys)
	}
}

package registry

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"weak"

	"wolfpack/internal/secdesc"
)

// Every key has a security descriptor (owner, group, DACL, perhaps a SACL), kept as the
// self-relative bytes a hive's sk cell holds: those bytes are persisted with the key
// (record.go), saved to hives and restored from them unchanged, so a descriptor Windows
// wrote comes back byte for byte. Keys with equal descriptors share one secObj (the
// registry's secTable interns them), as a hive's keys share one sk cell.
//
// Who asks is a session's token (tokenFor): a Unix client is S-1-22-1-<uid> with its groups
// S-1-22-2-<gid>, as Samba maps them, and is in Everyone, Authenticated Users and Users;
// root (and the uid the daemon runs as) is also in BUILTIN\Administrators and holds the
// backup, restore, take-ownership and security privileges; the daemon's own components
// are SYSTEM. The checks are Windows': opening a key checks the requested access against
// its descriptor (secdesc.AccessCheck, links resolved first), creating one needs
// KEY_CREATE_SUB_KEY on its parent and gives it the inherited descriptor, and every call
// on a handle checks the access the handle was granted.

// secObj is one distinct security descriptor. raw and sd are never modified.
type secObj struct {
	raw []byte
	sd  *secdesc.SecurityDescriptor
	// child caches the descriptor of a key created below a key with this one, for the
	// last creator's owner and group: most creations repeat it.
	child atomic.Pointer[inheritMemo]
}

type inheritMemo struct {
	owner, group secdesc.SID
	sec          *secObj
}

// secTable interns descriptors by their bytes. Entries are weak: a descriptor no key
// uses any more is collected, and its entry removed by the cleanup.
type secTable struct {
	mu sync.Mutex
	m  map[string]weak.Pointer[secObj]
}

// intern returns the shared secObj for the descriptor in raw (copied), checking that it
// parses.
func (t *secTable) intern(raw []byte) (*secObj, error) {
	if o := t.lookup(raw); o != nil {
		return o, nil
	}
	sd, err := secdesc.Parse(raw)
	if err != nil {
		return nil, err
	}
	return t.add(append([]byte(nil), raw...), sd), nil
}

// internSD returns the shared secObj of a descriptor built in memory. It fails on one
// the binary form cannot hold: an ACL over 64 KiB, which inheritance can make of a large
// one (an ACE with generic rights or CREATOR OWNER becomes two).
func (t *secTable) internSD(sd *secdesc.SecurityDescriptor) (*secObj, error) {
	if err := sd.Validate(); err != nil {
		return nil, err
	}
	raw := sd.Bytes()
	if o := t.lookup(raw); o != nil {
		return o, nil
	}
	// Parse the bytes back rather than keep sd, so that what the checks read is exactly
	// what is stored.
	parsed, err := secdesc.Parse(raw)
	if err != nil {
		return nil, err
	}
	return t.add(raw, parsed), nil
}

// lookup returns the live secObj of raw, or nil.
func (t *secTable) lookup(raw []byte) *secObj {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[string(raw)].Value()
}

func (t *secTable) add(raw []byte, sd *secdesc.SecurityDescriptor) *secObj {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = make(map[string]weak.Pointer[secObj])
	}
	if o := t.m[string(raw)].Value(); o != nil {
		return o // interned meanwhile
	}
	o := &secObj{raw: raw, sd: sd}
	k := string(raw)
	t.m[k] = weak.Make(o)
	runtime.AddCleanup(o, t.forget, k)
	return o
}

func (t *secTable) forget(k string) {
	t.mu.Lock()
	if wp, ok := t.m[k]; ok && wp.Value() == nil {
		delete(t.m, k)
	}
	t.mu.Unlock()
}

// len is the number of live entries (tests).
func (t *secTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, wp := range t.m {
		if wp.Value() != nil {
			n++
		}
	}
	return n
}

// The default descriptors, as Windows has them: users read HKLM (SOFTWARE and SYSTEM, and
// their subkeys by inheritance), only Administrators and SYSTEM write; HKU\<SID> belongs
// to that user. Every local account is in Users (BU).
const (
	sddlMachine  = "O:BAG:SYD:P(A;CI;KR;;;BU)(A;CI;KA;;;BA)(A;CI;KA;;;SY)"
	sddlUsers    = "O:BAG:SYD:P(A;CI;KR;;;BU)(A;CI;KA;;;BA)(A;CI;KA;;;SY)"
	sddlSoftware = "O:BAG:SYD:PAI(A;CIIO;KA;;;CO)(A;CI;KR;;;BU)(A;CI;KA;;;BA)(A;CI;KA;;;SY)"
	sddlSystem   = "O:BAG:SYD:PAI(A;CI;KR;;;BU)(A;CI;KA;;;BA)(A;CI;KA;;;SY)(A;CIIO;KA;;;CO)"
	// sddlProfile is HKU\<SID>'s, with %s the SID.
	sddlProfile = "O:%sG:SYD:P(A;CI;KA;;;%s)(A;CI;KA;;;BA)(A;CI;KA;;;SY)"
)

// mustSDDL interns one of the constant descriptors below (or one made of a SID and them),
// which always parse.
func (r *Registry) mustSDDL(s string) *secObj {
	sd, err := secdesc.ParseSDDL(s)
	if err == nil {
		var sec *secObj
		if sec, err = r.secs.internSD(sd); err == nil {
			return sec
		}
	}
	panic("registry: default descriptor " + s + ": " + err.Error())
}

// defaultSecurity is the descriptor a key named name gets when it is created under parent
// and has one of its own by default (HKLM\SOFTWARE, HKLM\SYSTEM, HKU\<SID> and
// HKU\<SID>_Classes), else nil: the key inherits.
func (r *Registry) defaultSecurity(parent *key, name string) *secObj {
	switch parent {
	case r.roots[0]:
		switch fold(name) {
		case "SOFTWARE":
			return r.mustSDDL(sddlSoftware)
		case "SYSTEM":
			return r.mustSDDL(sddlSystem)
		}
	case r.roots[1]:
		if sid := profileSID(name); sid != "" {
			return r.mustSDDL(fmt.Sprintf(sddlProfile, sid, sid))
		}
	}
	return nil
}

// profileSID is the user SID a direct subkey of HKU is named for (S-1-5-21-…, S-1-22-1-…,
// with or without the suffix _Classes), or "".
func profileSID(name string) secdesc.SID {
	name = strings.TrimSuffix(name, "_Classes")
	if !strings.HasPrefix(name, "S-1-") {
		return ""
	}
	sid, err := secdesc.ParseSID(name)
	if err != nil {
		return ""
	}
	return sid
}

// childSecurity is the descriptor a key named name created by tok under a key whose
// descriptor is psec gets: its default one when parent (the key it is created under,
// nil when that key is itself being created) gives it one, else the inherited one. It
// fails when inheritance makes an ACL too large to hold.
func (r *Registry) childSecurity(parent *key, name string, psec *secObj, tok *secdesc.Token) (*secObj, error) {
	if parent != nil {
		if d := r.defaultSecurity(parent, name); d != nil {
			return d, nil
		}
	}
	if m := psec.child.Load(); m != nil && m.owner == tok.Owner && m.group == tok.PrimaryGroup {
		return m.sec, nil
	}
	c, err := r.secs.internSD(secdesc.Inherit(psec.sd, tok, secdesc.KeyMapping))
	if err != nil {
		return nil, err
	}
	psec.child.Store(&inheritMemo{owner: tok.Owner, group: tok.PrimaryGroup, sec: c})
	return c, nil
}

// systemChildSecurity is childSecurity for a key the registry itself makes (a default
// key, a key of a store or hive that has no descriptor of its own). Should inheritance
// fail, the key gets sddlFallback — Administrators and SYSTEM only — and a warning is
// logged: the registry never refuses its own keys.
func (r *Registry) systemChildSecurity(parent *key, name string, psec *secObj) *secObj {
	sec, err := r.childSecurity(parent, name, psec, r.system)
	if err != nil {
		r.log.Warn("registry: a key cannot inherit its parent's descriptor; it gets Administrators' and SYSTEM's only",
			"key", name, "err", err)
		return r.mustSDDL(sddlFallback)
	}
	return sec
}

// sddlFallback is the descriptor of a key whose inherited one could not be made.
const sddlFallback = "O:BAG:SYD:P(A;CI;KA;;;BA)(A;CI;KA;;;SY)"

// fillSecurity gives every key below k (k included) that has no descriptor — a store or
// journal written before keys had one — its default or inherited descriptor, as created by
// the system. The caller holds Registry.mu for writing.
func (r *Registry) fillSecurity(k *key) {
	k.walk(func(c *key) bool {
		if c.sec == nil {
			c.sec = r.systemChildSecurity(c.parent, c.name, c.parent.sec)
		}
		return true
	})
}

// tokenFor makes the token of a session's owner. The daemon's components (Owner.System)
// are SYSTEM. Others are the Unix user of their uid with its groups; uid 0 and the
// daemon's own uid (a daemon run by an ordinary user trusts that user, who owns its
// files anyway) are Administrators with the privileges, and so is an Owner with Admin
// set (an API token's caller) whatever its uid.
func (r *Registry) tokenFor(o Owner) *secdesc.Token {
	if o.System {
		return r.system
	}
	t := &secdesc.Token{User: secdesc.UnixUser(uint32(o.UID)), Owner: secdesc.UnixUser(uint32(o.UID))}
	admin := o.UID == 0 || o.UID == r.uid || o.Admin
	if admin {
		t.Groups = append(t.Groups, secdesc.Administrators)
		t.Owner = secdesc.Administrators // as Windows gives administrators' objects to the group
		t.Privileged = true
	}
	t.Groups = append(t.Groups, secdesc.Everyone, secdesc.AuthenticatedUsers, secdesc.Users)
	for _, g := range o.GIDs {
		t.Groups = append(t.Groups, secdesc.UnixGroup(uint32(g)))
	}
	switch {
	case len(o.GIDs) > 0:
		t.PrimaryGroup = secdesc.UnixGroup(uint32(o.GIDs[0]))
	case admin:
		t.PrimaryGroup = secdesc.LocalSystem
	default:
		t.PrimaryGroup = secdesc.Users
	}
	return t
}

// systemToken is the daemon's own: SYSTEM, in Administrators, privileged.
func systemToken() *secdesc.Token {
	return &secdesc.Token{User: secdesc.LocalSystem,
		Groups: []secdesc.SID{secdesc.Administrators, secdesc.Everyone, secdesc.AuthenticatedUsers},
		Owner:  secdesc.Administrators, PrimaryGroup: secdesc.LocalSystem, Privileged: true}
}

// maxAllowed is every right the session has on k. The caller holds Registry.mu.
func (s *Session) maxAllowed(k *key) uint32 { return s.rightsOn(k.sec) }

// rightsOn is every right the session has on a key with descriptor sec.
func (s *Session) rightsOn(sec *secObj) uint32 {
	if s.r.opts.NoAccessChecks {
		return KEY_ALL_ACCESS | secdesc.ACCESS_SYSTEM_SECURITY
	}
	return secdesc.MaximumAllowed(sec.sd, s.tok, secdesc.KeyMapping)
}

// mayCreateIn reports whether the session may create subkeys in a key with descriptor sec.
func (s *Session) mayCreateIn(sec *secObj) bool { return s.rightsOn(sec)&KEY_CREATE_SUB_KEY != 0 }

// openAccess checks that the session may open k with access (RegOpenKeyEx's samDesired;
// 0 means KEY_ALL_ACCESS, KEY_WOW64_* are ignored) and returns the rights granted.
// REG_OPTION_BACKUP_RESTORE opens with every right for a privileged token
// (SeBackupPrivilege and SeRestorePrivilege), whatever the DACL says. The caller holds
// Registry.mu.
func (s *Session) openAccess(k *key, access, options uint32) (uint32, error) {
	return s.accessOn(k.sec, access, options)
}

// accessOn is openAccess for a key with descriptor sec (one about to be created).
func (s *Session) accessOn(sec *secObj, access, options uint32) (uint32, error) {
	access &^= KEY_WOW64_32KEY | KEY_WOW64_64KEY
	if access == 0 {
		access = KEY_ALL_ACCESS
	}
	if s.r.opts.NoAccessChecks {
		return effectiveAccess(access), nil
	}
	if options&REG_OPTION_BACKUP_RESTORE != 0 && s.tok.Privileged {
		return KEY_ALL_ACCESS | secdesc.ACCESS_SYSTEM_SECURITY, nil
	}
	granted, ok := secdesc.Check(s.rightsOn(sec), access, secdesc.KeyMapping)
	if !ok {
		return 0, ERROR_ACCESS_DENIED
	}
	return granted, nil
}

// allowed reports whether the handle grants need: for a session's handle, the access it
// was granted when opened; for a predefined handle (HKLM, HKU), which every session
// shares, what the session's token gets from the root's descriptor now. The caller holds
// Registry.mu.
func (s *Session) allowed(hh *handle, need uint32) bool {
	if hh.s != nil {
		return hh.rights&need == need
	}
	return s.maxAllowed(hh.k)&need == need
}

// privileged reports whether the session holds the backup and restore privileges.
func (s *Session) privileged() bool { return s.tok.Privileged || s.r.opts.NoAccessChecks }

// processUID is the uid the registry runs as (see tokenFor).
func processUID() int { return os.Geteuid() }

package registry

import (
	"bytes"

	"wolfpack/internal/secdesc"
)

// Parts of a security descriptor a call reads or writes (SECURITY_INFORMATION, winnt.h).
const (
	OWNER_SECURITY_INFORMATION            uint32 = 0x00000001
	GROUP_SECURITY_INFORMATION            uint32 = 0x00000002
	DACL_SECURITY_INFORMATION             uint32 = 0x00000004
	SACL_SECURITY_INFORMATION             uint32 = 0x00000008
	UNPROTECTED_SACL_SECURITY_INFORMATION uint32 = 0x10000000
	UNPROTECTED_DACL_SECURITY_INFORMATION uint32 = 0x20000000
	PROTECTED_SACL_SECURITY_INFORMATION   uint32 = 0x40000000
	PROTECTED_DACL_SECURITY_INFORMATION   uint32 = 0x80000000

	securityParts = OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION | SACL_SECURITY_INFORMATION
	securityFlags = UNPROTECTED_SACL_SECURITY_INFORMATION | UNPROTECTED_DACL_SECURITY_INFORMATION |
		PROTECTED_SACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION
)

const (
	daclControl = secdesc.SE_DACL_PRESENT | secdesc.SE_DACL_DEFAULTED | secdesc.SE_DACL_AUTO_INHERIT_REQ |
		secdesc.SE_DACL_AUTO_INHERITED | secdesc.SE_DACL_PROTECTED
	saclControl = secdesc.SE_SACL_PRESENT | secdesc.SE_SACL_DEFAULTED | secdesc.SE_SACL_AUTO_INHERIT_REQ |
		secdesc.SE_SACL_AUTO_INHERITED | secdesc.SE_SACL_PROTECTED
)

// GetSecurity returns the parts of the key's security descriptor that info asks for, in
// self-relative form (RegGetKeySecurity). The owner, group and DACL need READ_CONTROL on
// the handle, the SACL the security privilege (ERROR_PRIVILEGE_NOT_HELD). When info asks
// for every part the descriptor has, the bytes are the stored ones, unchanged.
func (s *Session) GetSecurity(h Handle, info uint32) ([]byte, error) {
	hh, err := s.get(h)
	if err != nil {
		return nil, &OpError{Op: "get security", Err: err}
	}
	fail := func(err error) ([]byte, error) { return nil, &OpError{Op: "get security", Key: hh.openedAs, Err: err} }
	if info&^securityParts != 0 || info == 0 {
		return fail(ERROR_INVALID_PARAMETER)
	}
	r := s.r
	r.mu.RLock()
	defer r.mu.RUnlock()
	if err := live(hh); err != nil {
		return fail(err)
	}
	if info&(OWNER_SECURITY_INFORMATION|GROUP_SECURITY_INFORMATION|DACL_SECURITY_INFORMATION) != 0 && !s.allowed(hh, READ_CONTROL) {
		return fail(ERROR_ACCESS_DENIED)
	}
	if info&SACL_SECURITY_INFORMATION != 0 && !s.privileged() {
		return fail(ERROR_PRIVILEGE_NOT_HELD)
	}
	sec := hh.k.sec
	sd := sec.sd
	var has uint32
	if sd.Owner != "" {
		has |= OWNER_SECURITY_INFORMATION
	}
	if sd.Group != "" {
		has |= GROUP_SECURITY_INFORMATION
	}
	if sd.Control&secdesc.SE_DACL_PRESENT != 0 {
		has |= DACL_SECURITY_INFORMATION
	}
	if sd.Control&secdesc.SE_SACL_PRESENT != 0 {
		has |= SACL_SECURITY_INFORMATION
	}
	if has&^info == 0 {
		return bytes.Clone(sec.raw), nil
	}
	out := &secdesc.SecurityDescriptor{Control: sd.Control &^ (daclControl | saclControl | secdesc.SE_OWNER_DEFAULTED | secdesc.SE_GROUP_DEFAULTED)}
	if info&OWNER_SECURITY_INFORMATION != 0 {
		out.Owner = sd.Owner
		out.Control |= sd.Control & secdesc.SE_OWNER_DEFAULTED
	}
	if info&GROUP_SECURITY_INFORMATION != 0 {
		out.Group = sd.Group
		out.Control |= sd.Control & secdesc.SE_GROUP_DEFAULTED
	}
	if info&DACL_SECURITY_INFORMATION != 0 {
		out.DACL = sd.DACL
		out.Control |= sd.Control & daclControl
	}
	if info&SACL_SECURITY_INFORMATION != 0 {
		out.SACL = sd.SACL
		out.Control |= sd.Control & saclControl
	}
	return out.Bytes(), nil
}

// SetSecurityAccess is the access a handle needs for SetSecurity of the parts info names:
// WRITE_OWNER for the owner and group, WRITE_DAC for the DACL (the SACL needs a privilege
// instead, and READ_CONTROL stands in when nothing else is needed).
func SetSecurityAccess(info uint32) uint32 {
	var need uint32
	if info&(OWNER_SECURITY_INFORMATION|GROUP_SECURITY_INFORMATION) != 0 {
		need |= WRITE_OWNER
	}
	if info&DACL_SECURITY_INFORMATION != 0 {
		need |= WRITE_DAC
	}
	if need == 0 {
		need = READ_CONTROL
	}
	return need
}

// SetSecurity replaces the parts of the key's security descriptor that info names by
// those of sd, a self-relative descriptor (RegSetKeySecurity). The owner and group need
// WRITE_OWNER on the handle, and the owner must be the caller or one of its groups unless
// it holds the restore privilege (ERROR_INVALID_OWNER); the DACL needs WRITE_DAC; the
// SACL the security privilege. A malformed sd is a *SecurityDescriptorError and changes
// nothing.
//
// Inheritance works as SetSecurityInfo (and regedit) make it work, not as the bare
// RegSetKeySecurity, which leaves subkeys alone: the DACL given is the key's explicit
// part (ACEs marked inherited are dropped) and the parent's inheritable ACEs follow it,
// unless the DACL is protected (SE_DACL_PROTECTED in sd, "P" in SDDL, or
// PROTECTED_DACL_SECURITY_INFORMATION), when it is kept whole with every ACE made
// explicit; then the inherited ACEs of every subkey whose DACL is not protected are
// recomputed from the new descriptor, down the tree (the SACL likewise). Each key whose
// descriptor changed is notified (REG_NOTIFY_CHANGE_SECURITY). The change is one journal
// record, so it is atomic across a crash.
func (s *Session) SetSecurity(h Handle, info uint32, sd []byte) error {
	hh, err := s.get(h)
	if err != nil {
		return &OpError{Op: "set security", Err: err}
	}
	fail := func(err error) error { return &OpError{Op: "set security", Key: hh.openedAs, Err: err} }
	if info&^(securityParts|securityFlags) != 0 || info&securityParts == 0 {
		return fail(ERROR_INVALID_PARAMETER)
	}
	given, err := secdesc.Parse(sd)
	if err != nil {
		return fail(&SecurityDescriptorError{Key: hh.openedAs, Err: err})
	}
	r := s.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := live(hh); err != nil {
		return fail(err)
	}
	if need := SetSecurityAccess(info) &^ READ_CONTROL; !s.allowed(hh, need) {
		return fail(ERROR_ACCESS_DENIED)
	}
	if info&SACL_SECURITY_INFORMATION != 0 && !s.privileged() {
		return fail(ERROR_PRIVILEGE_NOT_HELD)
	}
	k := hh.k
	next := k.sec.sd.Clone()
	if info&OWNER_SECURITY_INFORMATION != 0 {
		if given.Owner == "" || !s.privileged() && !s.tok.Has(given.Owner) {
			return fail(ERROR_INVALID_OWNER)
		}
		next.Owner = given.Owner
		next.Control &^= secdesc.SE_OWNER_DEFAULTED
	}
	if info&GROUP_SECURITY_INFORMATION != 0 {
		next.Group = given.Group
		next.Control &^= secdesc.SE_GROUP_DEFAULTED
	}
	if info&DACL_SECURITY_INFORMATION != 0 {
		protect := given.Control&secdesc.SE_DACL_PROTECTED != 0 && info&UNPROTECTED_DACL_SECURITY_INFORMATION == 0 ||
			info&PROTECTED_DACL_SECURITY_INFORMATION != 0
		next.DACL = given.DACL
		next.Control = next.Control&^daclControl | given.Control&secdesc.SE_DACL_PRESENT
		if protect {
			next.DACL = secdesc.Protect(next.DACL)
			next.Control |= secdesc.SE_DACL_PROTECTED
		}
	}
	if info&SACL_SECURITY_INFORMATION != 0 {
		protect := given.Control&secdesc.SE_SACL_PROTECTED != 0 && info&UNPROTECTED_SACL_SECURITY_INFORMATION == 0 ||
			info&PROTECTED_SACL_SECURITY_INFORMATION != 0
		next.SACL = given.SACL
		next.Control = next.Control&^saclControl | given.Control&secdesc.SE_SACL_PRESENT
		if protect {
			next.SACL = secdesc.Protect(next.SACL)
			next.Control |= secdesc.SE_SACL_PROTECTED
		}
	}
	if k.parent != nil {
		next = secdesc.Reinherit(next, k.parent.sec.sd, secdesc.KeyMapping)
	}
	sec, err := r.secs.internSD(next)
	if err != nil {
		return fail(&SecurityDescriptorError{Key: hh.openedAs, Err: err})
	}
	changed, err := r.applySecurity(k, sec)
	if err != nil {
		return fail(err)
	}
	if len(changed) == 0 {
		return nil
	}
	r.logSetSecurity(k, r.now())
	for _, c := range changed {
		if c != k && c.mount != nil {
			c.mount.changes++
		}
		r.notify(c, c, REG_NOTIFY_CHANGE_SECURITY)
	}
	return nil
}

// applySecurity gives k the descriptor sec and recomputes, down the tree, the inherited
// ACEs of every key below it (secdesc.Reinherit), stopping below a key whose descriptor
// did not change. It returns the keys whose descriptor changed, k first (none when k had
// sec already). Every new descriptor is made before any is set: when one cannot be (an
// ACL that inheritance makes larger than 64 KiB) nothing changes and the error names the
// key. The caller holds Registry.mu for writing.
func (r *Registry) applySecurity(k *key, sec *secObj) ([]*key, error) {
	if k.sec == sec {
		return nil, nil
	}
	changed := []*key{k}
	next := []*secObj{sec}
	// Siblings mostly share a descriptor: each (child's, parent's) pair is computed once.
	memo := make(map[[2]*secObj]*secObj)
	var down func(p *key, psec *secObj) error
	down = func(p *key, psec *secObj) error {
		for _, c := range p.subkeys {
			pair := [2]*secObj{c.sec, psec}
			n, ok := memo[pair]
			if !ok {
				var err error
				if n, err = r.secs.internSD(secdesc.Reinherit(c.sec.sd, psec.sd, secdesc.KeyMapping)); err != nil {
					return &SecurityDescriptorError{Key: c.path(), Err: err}
				}
				memo[pair] = n
			}
			if n != c.sec {
				changed = append(changed, c)
				next = append(next, n)
				if err := down(c, n); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := down(k, sec); err != nil {
		return nil, err
	}
	for i, c := range changed {
		c.sec = next[i]
	}
	return changed, nil
}

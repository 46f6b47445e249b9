package secdesc

// Inheritance for containers (registry keys are containers; they hold no leaf objects),
// as CreatePrivateObjectSecurityEx computes it with SEF_DACL_AUTO_INHERIT and
// SEF_SACL_AUTO_INHERIT ("How inheritance works", [MS-DTYP] 2.5.3.4):
//
//   - an ACE with CONTAINER_INHERIT (CI) applies to the child: it is copied with
//     INHERITED_ACE (ID) set and INHERIT_ONLY (IO) cleared, keeping OI and CI so that it
//     goes on to the child's own children;
//   - with NO_PROPAGATE_INHERIT (NP) it applies to the child only: the copy has no
//     inheritance flags left;
//   - when the copy would change — CREATOR OWNER (CREATOR GROUP) replaced by the child's
//     owner (group), generic rights mapped to the key's rights — the child gets two ACEs:
//     the effective one (changed, no inheritance flags) and an inherit-only copy of the
//     original that carries the inheritance on (unless NP);
//   - an ACE with OBJECT_INHERIT (OI) only is kept as inherit-only for the objects below
//     (unless NP);
//   - other ACEs are not inherited.
//
// Inherited ACEs follow the child's own (explicit) ACEs, in the parent's order. When the
// parent's DACL gives nothing to inherit, the child gets its creator's default DACL.

// Inherit is the descriptor of a new key created by t under a key with descriptor parent.
func Inherit(parent *SecurityDescriptor, t *Token, m GenericMapping) *SecurityDescriptor {
	sd := &SecurityDescriptor{Owner: t.Owner, Group: t.PrimaryGroup}
	if aces := inheritACEs(parent.DACL, sd.Owner, sd.Group, m); len(aces) > 0 {
		sd.DACL = &ACL{ACEs: aces}
		sd.Control |= SE_DACL_PRESENT | SE_DACL_AUTO_INHERITED
	} else {
		sd.DACL = t.DefaultDACL()
		sd.Control |= SE_DACL_PRESENT
	}
	if aces := inheritACEs(parent.SACL, sd.Owner, sd.Group, m); len(aces) > 0 {
		sd.SACL = &ACL{ACEs: aces}
		sd.Control |= SE_SACL_PRESENT | SE_SACL_AUTO_INHERITED
	}
	return sd
}

// DefaultDACL is the DACL a token gives objects that inherit nothing (TokenDefaultDacl):
// full control to the token's owner and to SYSTEM.
func (t *Token) DefaultDACL() *ACL {
	a := &ACL{ACEs: []ACE{{Type: ACCESS_ALLOWED_ACE_TYPE, Mask: KEY_ALL_ACCESS, SID: t.Owner}}}
	if t.Owner != LocalSystem {
		a.ACEs = append(a.ACEs, ACE{Type: ACCESS_ALLOWED_ACE_TYPE, Mask: KEY_ALL_ACCESS, SID: LocalSystem})
	}
	return a
}

// Reinherit recomputes the inherited part of child's ACLs from parent, keeping child's
// explicit ACEs (those without ID) first: what auto-inheritance does to a subkey when its
// parent's descriptor changes (SetSecurityInfo's propagation), and to a key whose own
// descriptor is set. A protected ACL (SE_DACL_PROTECTED, SE_SACL_PROTECTED) and a NULL
// DACL are left as they are. The result is a new descriptor; child is not modified.
func Reinherit(child, parent *SecurityDescriptor, m GenericMapping) *SecurityDescriptor {
	out := child.Clone()
	if child.Control&SE_DACL_PROTECTED == 0 && child.DACL != nil {
		aces := append(explicitACEs(child.DACL), inheritACEs(parent.DACL, child.Owner, child.Group, m)...)
		out.DACL = &ACL{Revision: child.DACL.Revision, ACEs: aces}
		out.Control |= SE_DACL_PRESENT | SE_DACL_AUTO_INHERITED
	}
	if child.Control&SE_SACL_PROTECTED == 0 {
		inh := inheritACEs(parent.SACL, child.Owner, child.Group, m)
		if child.SACL != nil || len(inh) > 0 {
			var rev uint8
			if child.SACL != nil {
				rev = child.SACL.Revision
			}
			out.SACL = &ACL{Revision: rev, ACEs: append(explicitACEs(child.SACL), inh...)}
			out.Control |= SE_SACL_PRESENT
			if len(inh) > 0 {
				out.Control |= SE_SACL_AUTO_INHERITED
			}
		}
	}
	return out
}

// Protect makes an ACL's inherited ACEs explicit, as protecting a DACL from inheritance
// keeps what it had ("convert inherited permissions into explicit permissions").
func Protect(a *ACL) *ACL {
	if a == nil {
		return nil
	}
	c := a.Clone()
	for i := range c.ACEs {
		c.ACEs[i].Flags &^= INHERITED_ACE
	}
	return c
}

func explicitACEs(a *ACL) []ACE {
	if a == nil {
		return nil
	}
	var out []ACE
	for _, e := range a.ACEs {
		if e.Flags&INHERITED_ACE == 0 {
			out = append(out, e)
		}
	}
	return out
}

// inheritACEs is what a child container inherits from acl (see the rules above).
func inheritACEs(acl *ACL, owner, group SID, m GenericMapping) []ACE {
	if acl == nil {
		return nil
	}
	var out []ACE
	for _, e := range acl.ACEs {
		f := e.Flags
		audit := f & (SUCCESSFUL_ACCESS_ACE_FLAG | FAILED_ACCESS_ACE_FLAG)
		switch {
		case f&CONTAINER_INHERIT_ACE != 0:
			eff := e
			if e.Raw == nil {
				switch e.SID {
				case CreatorOwner:
					eff.SID = owner
				case CreatorGroup:
					eff.SID = group
				}
				eff.Mask = m.Map(e.Mask)
			}
			changed := eff.SID != e.SID || eff.Mask != e.Mask
			switch {
			case f&NO_PROPAGATE_INHERIT_ACE != 0:
				eff.Flags = INHERITED_ACE | audit
				out = append(out, eff)
			case changed:
				eff.Flags = INHERITED_ACE | audit
				io := e
				io.Flags = f | INHERIT_ONLY_ACE | INHERITED_ACE
				out = append(out, eff, io)
			default:
				eff.Flags = f&^INHERIT_ONLY_ACE | INHERITED_ACE
				out = append(out, eff)
			}
		case f&OBJECT_INHERIT_ACE != 0 && f&NO_PROPAGATE_INHERIT_ACE == 0:
			io := e
			io.Flags = f | INHERIT_ONLY_ACE | INHERITED_ACE
			out = append(out, io)
		}
	}
	return out
}

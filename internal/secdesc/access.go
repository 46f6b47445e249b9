package secdesc

// Token is who asks for access: the security context of a client, as a Windows access
// token holds it.
type Token struct {
	User   SID   // the user's SID
	Groups []SID // every group the user belongs to (Everyone and the like included)
	// Owner is the owner given to objects the token creates (TokenOwner); PrimaryGroup
	// their group (TokenPrimaryGroup).
	Owner, PrimaryGroup SID
	// Privileged holds the privileges an elevated administrator can enable:
	// SeBackupPrivilege and SeRestorePrivilege (save, restore and load hives, open with
	// REG_OPTION_BACKUP_RESTORE), SeTakeOwnershipPrivilege (WRITE_OWNER on any key) and
	// SeSecurityPrivilege (the SACL).
	Privileged bool
}

// Has tells whether the token holds s, as its user or one of its groups.
func (t *Token) Has(s SID) bool {
	if s == t.User {
		return true
	}
	for _, g := range t.Groups {
		if g == s {
			return true
		}
	}
	return false
}

// GenericMapping says which specific rights each generic right means for an object type
// (GENERIC_MAPPING).
type GenericMapping struct {
	Read, Write, Execute, All uint32
}

// KeyMapping is the registry key's generic mapping: GENERIC_READ is KEY_READ,
// GENERIC_WRITE KEY_WRITE, GENERIC_EXECUTE KEY_EXECUTE, GENERIC_ALL KEY_ALL_ACCESS.
var KeyMapping = GenericMapping{Read: KEY_READ, Write: KEY_WRITE, Execute: KEY_EXECUTE, All: KEY_ALL_ACCESS}

// Map replaces the generic bits of mask by the rights they stand for (MapGenericMask).
func (m GenericMapping) Map(mask uint32) uint32 {
	if mask&genericRights == 0 {
		return mask
	}
	if mask&GENERIC_READ != 0 {
		mask |= m.Read
	}
	if mask&GENERIC_WRITE != 0 {
		mask |= m.Write
	}
	if mask&GENERIC_EXECUTE != 0 {
		mask |= m.Execute
	}
	if mask&GENERIC_ALL != 0 {
		mask |= m.All
	}
	return mask &^ genericRights
}

// MaximumAllowed is every right the token has on an object with descriptor sd, as the
// access check computes it for MAXIMUM_ALLOWED ([MS-DTYP] 2.5.3.2):
//
//   - no DACL, or a NULL DACL: every right (m.All and the standard rights);
//   - the owner is granted READ_CONTROL and WRITE_DAC unless the DACL holds an ACE for
//     OWNER RIGHTS (S-1-3-4), which then says what the owner gets;
//   - the ACEs in order, skipping inherit-only ones and those whose SID the token does not
//     hold: an allow ACE grants the bits of its (generic-mapped) mask that no earlier deny
//     ACE denied, a deny ACE denies the bits no earlier allow ACE granted — so an ACE
//     placed first wins, and deny before allow (Windows' canonical order) denies;
//   - CREATOR OWNER and CREATOR GROUP in an effective ACE match nobody (they are
//     placeholders for inheritance);
//   - a privileged token gets WRITE_OWNER (SeTakeOwnershipPrivilege) and
//     ACCESS_SYSTEM_SECURITY (SeSecurityPrivilege) whatever the DACL says.
func MaximumAllowed(sd *SecurityDescriptor, t *Token, m GenericMapping) uint32 {
	var granted uint32
	if t.Privileged {
		granted |= WRITE_OWNER | ACCESS_SYSTEM_SECURITY
	}
	if sd.Control&SE_DACL_PRESENT == 0 || sd.DACL == nil {
		return granted | m.All | STANDARD_RIGHTS_REQUIRED
	}
	isOwner := sd.Owner != "" && t.Has(sd.Owner)
	ownerRights := false
	if isOwner {
		for i := range sd.DACL.ACEs {
			if sd.DACL.ACEs[i].SID == OwnerRights && sd.DACL.ACEs[i].Flags&INHERIT_ONLY_ACE == 0 {
				ownerRights = true
				break
			}
		}
		if !ownerRights {
			granted |= READ_CONTROL | WRITE_DAC
		}
	}
	var denied uint32
	for i := range sd.DACL.ACEs {
		e := &sd.DACL.ACEs[i]
		if e.Flags&INHERIT_ONLY_ACE != 0 || e.Raw != nil {
			continue
		}
		if e.Type != ACCESS_ALLOWED_ACE_TYPE && e.Type != ACCESS_DENIED_ACE_TYPE {
			continue
		}
		if !t.Has(e.SID) && !(isOwner && e.SID == OwnerRights) {
			continue
		}
		mask := m.Map(e.Mask)
		if e.Type == ACCESS_ALLOWED_ACE_TYPE {
			granted |= mask &^ denied
		} else {
			denied |= mask &^ granted
		}
	}
	return granted
}

// AccessCheck decides whether t may open an object with descriptor sd for the rights in
// desired (AccessCheck): generic rights are mapped through m, MAXIMUM_ALLOWED asks for
// every right MaximumAllowed gives (and succeeds when that is not nothing). It returns the
// granted rights and whether access is allowed; desired is granted whole or not at all.
// A deny ACE for a bit refuses it only if no earlier allow ACE granted that bit: the
// outcome is MaximumAllowed's, as the ordered walk of the ACEs gives the same result for
// any desired mask.
func AccessCheck(sd *SecurityDescriptor, t *Token, desired uint32, m GenericMapping) (uint32, bool) {
	return Check(MaximumAllowed(sd, t, m), desired, m)
}

// Check is AccessCheck for a maximum already computed: max is MaximumAllowed's result.
// Callers that check many times against one descriptor keep max and call Check.
func Check(max, desired uint32, m GenericMapping) (uint32, bool) {
	want := m.Map(desired)
	if want&MAXIMUM_ALLOWED != 0 {
		want &^= MAXIMUM_ALLOWED
		if max == 0 || want&^max != 0 {
			return 0, false
		}
		return max, true
	}
	if want&^max != 0 {
		return 0, false
	}
	return want, true
}

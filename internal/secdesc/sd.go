package secdesc

import (
	"encoding/binary"
	"fmt"
)

// Control bits of a security descriptor (SECURITY_DESCRIPTOR_CONTROL, winnt.h).
const (
	SE_OWNER_DEFAULTED       uint16 = 0x0001
	SE_GROUP_DEFAULTED       uint16 = 0x0002
	SE_DACL_PRESENT          uint16 = 0x0004
	SE_DACL_DEFAULTED        uint16 = 0x0008
	SE_SACL_PRESENT          uint16 = 0x0010
	SE_SACL_DEFAULTED        uint16 = 0x0020
	SE_DACL_AUTO_INHERIT_REQ uint16 = 0x0100
	SE_SACL_AUTO_INHERIT_REQ uint16 = 0x0200
	SE_DACL_AUTO_INHERITED   uint16 = 0x0400
	SE_SACL_AUTO_INHERITED   uint16 = 0x0800
	SE_DACL_PROTECTED        uint16 = 0x1000
	SE_SACL_PROTECTED        uint16 = 0x2000
	SE_RM_CONTROL_VALID      uint16 = 0x4000
	SE_SELF_RELATIVE         uint16 = 0x8000
)

// ACE types (AceType of ACE_HEADER). The ones with a mask and a SID only, and nothing
// between or after them that matters, are "simple": this package decodes them fully.
// Every other type is kept as its bytes (ACE.Raw), ignored by the access check.
const (
	ACCESS_ALLOWED_ACE_TYPE          uint8 = 0x00
	ACCESS_DENIED_ACE_TYPE           uint8 = 0x01
	SYSTEM_AUDIT_ACE_TYPE            uint8 = 0x02
	SYSTEM_ALARM_ACE_TYPE            uint8 = 0x03
	ACCESS_ALLOWED_OBJECT_ACE_TYPE   uint8 = 0x05
	ACCESS_DENIED_OBJECT_ACE_TYPE    uint8 = 0x06
	ACCESS_ALLOWED_CALLBACK_ACE_TYPE uint8 = 0x09
	ACCESS_DENIED_CALLBACK_ACE_TYPE  uint8 = 0x0A
	SYSTEM_MANDATORY_LABEL_ACE_TYPE  uint8 = 0x11
	SYSTEM_SCOPED_POLICY_ID_ACE_TYPE uint8 = 0x13
)

// ACE flags (AceFlags of ACE_HEADER).
const (
	OBJECT_INHERIT_ACE         uint8 = 0x01 // OI
	CONTAINER_INHERIT_ACE      uint8 = 0x02 // CI
	NO_PROPAGATE_INHERIT_ACE   uint8 = 0x04 // NP
	INHERIT_ONLY_ACE           uint8 = 0x08 // IO
	INHERITED_ACE              uint8 = 0x10 // ID
	SUCCESSFUL_ACCESS_ACE_FLAG uint8 = 0x40 // SA
	FAILED_ACCESS_ACE_FLAG     uint8 = 0x80 // FA

	inheritFlags = OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE | NO_PROPAGATE_INHERIT_ACE | INHERIT_ONLY_ACE
)

// Access rights common to every object type (winnt.h).
const (
	DELETE                 uint32 = 0x00010000
	READ_CONTROL           uint32 = 0x00020000
	WRITE_DAC              uint32 = 0x00040000
	WRITE_OWNER            uint32 = 0x00080000
	SYNCHRONIZE            uint32 = 0x00100000
	ACCESS_SYSTEM_SECURITY uint32 = 0x01000000
	MAXIMUM_ALLOWED        uint32 = 0x02000000
	GENERIC_ALL            uint32 = 0x10000000
	GENERIC_EXECUTE        uint32 = 0x20000000
	GENERIC_WRITE          uint32 = 0x40000000
	GENERIC_READ           uint32 = 0x80000000

	STANDARD_RIGHTS_REQUIRED uint32 = 0x000F0000
	genericRights                   = GENERIC_ALL | GENERIC_EXECUTE | GENERIC_WRITE | GENERIC_READ
)

// Registry key rights (winnt.h), for the key object's generic mapping and SDDL's KA, KR,
// KW, KX.
const (
	KEY_QUERY_VALUE        uint32 = 0x0001
	KEY_SET_VALUE          uint32 = 0x0002
	KEY_CREATE_SUB_KEY     uint32 = 0x0004
	KEY_ENUMERATE_SUB_KEYS uint32 = 0x0008
	KEY_NOTIFY             uint32 = 0x0010
	KEY_CREATE_LINK        uint32 = 0x0020
	KEY_READ               uint32 = 0x20019
	KEY_WRITE              uint32 = 0x20006
	KEY_EXECUTE            uint32 = KEY_READ
	KEY_ALL_ACCESS         uint32 = 0xF003F
)

// Revisions.
const (
	SECURITY_DESCRIPTOR_REVISION = 1
	ACL_REVISION                 = 2
	ACL_REVISION_DS              = 4 // ACLs with object ACEs
)

// Sizes of the fixed parts.
const (
	sdHeaderSize  = 20 // SECURITY_DESCRIPTOR_RELATIVE
	aclHeaderSize = 8  // ACL
	aceHeaderSize = 4  // ACE_HEADER
	// MaxSize bounds a descriptor: ACL sizes are 16-bit, so four parts of 64 KiB at most.
	MaxSize = sdHeaderSize + 2*0xFFFF + 2*(8+4*MaxSubAuthorities)
)

// SecurityDescriptor is a decoded self-relative security descriptor.
type SecurityDescriptor struct {
	// Control holds the SE_* bits. SE_DACL_PRESENT and SE_SACL_PRESENT agree with DACL
	// and SACL: Parse sets them from the bytes, Bytes writes the parts they announce.
	// SE_DACL_PRESENT with a nil DACL is a NULL DACL (everyone gets every right).
	Control uint16
	Owner   SID // "" when absent
	Group   SID // "" when absent
	SACL    *ACL
	DACL    *ACL
}

// ACL is an access control list.
type ACL struct {
	Revision uint8 // ACL_REVISION (2) or ACL_REVISION_DS (4)
	ACEs     []ACE
}

// ACE is one access control entry. Simple ACEs (allow, deny, audit, alarm, mandatory
// label, scoped policy) are decoded into Mask and SID; for any other type Raw holds the
// whole entry as it was read (header included) and Mask and SID what could be decoded,
// so that it is written back unchanged, with only its flags byte replaced by Flags.
type ACE struct {
	Type  uint8
	Flags uint8
	Mask  uint32
	SID   SID
	Raw   []byte // nil for simple ACEs
}

// Simple tells whether the ACE's type is one this package decodes fully.
func (a *ACE) Simple() bool { return simpleType(a.Type) }

func simpleType(t uint8) bool {
	switch t {
	case ACCESS_ALLOWED_ACE_TYPE, ACCESS_DENIED_ACE_TYPE, SYSTEM_AUDIT_ACE_TYPE, SYSTEM_ALARM_ACE_TYPE,
		SYSTEM_MANDATORY_LABEL_ACE_TYPE, SYSTEM_SCOPED_POLICY_ID_ACE_TYPE:
		return true
	}
	return false
}

// Parse decodes a self-relative security descriptor. It checks every offset and size:
// the revision is 1, SE_SELF_RELATIVE is set, every part lies inside b, ACL and ACE
// sizes are consistent and every SID is well formed. Bytes after the last part are
// allowed (Windows pads descriptors). Damage is a *FormatError naming the byte.
func Parse(b []byte) (*SecurityDescriptor, error) {
	if len(b) < sdHeaderSize {
		return nil, &FormatError{Off: 0, Msg: "security descriptor shorter than its 20-byte header: length", Val: len(b)}
	}
	if len(b) > MaxSize {
		return nil, &FormatError{Off: 0, Msg: "security descriptor too long: length", Val: len(b)}
	}
	if b[0] != SECURITY_DESCRIPTOR_REVISION {
		return nil, &FormatError{Off: 0, Msg: "bad security descriptor revision", Val: b[0]}
	}
	sd := &SecurityDescriptor{Control: binary.LittleEndian.Uint16(b[2:])}
	if sd.Control&SE_SELF_RELATIVE == 0 {
		return nil, &FormatError{Off: 2, Msg: "security descriptor is not self-relative: control", Val: fmt.Sprintf("%#04x", sd.Control)}
	}
	offset := func(at int) (int, error) {
		o := int(binary.LittleEndian.Uint32(b[at:]))
		if o != 0 && (o < sdHeaderSize || o >= len(b)) {
			return 0, &FormatError{Off: at, Msg: "offset outside the descriptor:", Val: o}
		}
		return o, nil
	}
	var err error
	sid := func(at int) SID {
		if err != nil {
			return ""
		}
		var o int
		if o, err = offset(at); err != nil || o == 0 {
			return ""
		}
		n, ok := sidLen(b[o:])
		if !ok {
			err = &FormatError{Off: o, Msg: "malformed SID"}
			return ""
		}
		return SID(b[o : o+n])
	}
	sd.Owner = sid(4)
	sd.Group = sid(8)
	acl := func(at int, present bool) *ACL {
		if err != nil {
			return nil
		}
		var o int
		if o, err = offset(at); err != nil || o == 0 || !present {
			return nil
		}
		var a *ACL
		a, err = parseACL(b, o)
		return a
	}
	sd.SACL = acl(12, sd.Control&SE_SACL_PRESENT != 0)
	sd.DACL = acl(16, sd.Control&SE_DACL_PRESENT != 0)
	if err != nil {
		return nil, err
	}
	return sd, nil
}

// parseACL decodes the ACL at b[off:].
func parseACL(b []byte, off int) (*ACL, error) {
	if len(b)-off < aclHeaderSize {
		return nil, &FormatError{Off: off, Msg: "ACL header beyond the descriptor"}
	}
	rev := b[off]
	if rev < ACL_REVISION || rev > ACL_REVISION_DS {
		return nil, &FormatError{Off: off, Msg: "bad ACL revision", Val: rev}
	}
	size := int(binary.LittleEndian.Uint16(b[off+2:]))
	count := int(binary.LittleEndian.Uint16(b[off+4:]))
	if size < aclHeaderSize || size > len(b)-off {
		return nil, &FormatError{Off: off + 2, Msg: "ACL size beyond the descriptor:", Val: size}
	}
	if count > (size-aclHeaderSize)/(aceHeaderSize+4) {
		return nil, &FormatError{Off: off + 4, Msg: "more ACEs than the ACL can hold: count", Val: count}
	}
	a := &ACL{Revision: rev, ACEs: make([]ACE, 0, count)}
	p := off + aclHeaderSize
	end := off + size
	for i := 0; i < count; i++ {
		if end-p < aceHeaderSize {
			return nil, &FormatError{Off: p, Msg: fmt.Sprintf("ACE %d beyond its ACL", i)}
		}
		typ, flags := b[p], b[p+1]
		n := int(binary.LittleEndian.Uint16(b[p+2:]))
		if n < aceHeaderSize+4 || n > end-p {
			return nil, &FormatError{Off: p + 2, Msg: fmt.Sprintf("ACE %d size beyond its ACL:", i), Val: n}
		}
		body := b[p+aceHeaderSize : p+n]
		ace := ACE{Type: typ, Flags: flags, Mask: binary.LittleEndian.Uint32(body)}
		if simpleType(typ) {
			sl, ok := sidLen(body[4:])
			if !ok {
				return nil, &FormatError{Off: p + aceHeaderSize + 4, Msg: fmt.Sprintf("malformed SID in ACE %d", i)}
			}
			ace.SID = SID(body[4 : 4+sl])
		} else {
			ace.Raw = b[p : p+n : p+n]
		}
		a.ACEs = append(a.ACEs, ace)
		p += n
	}
	return a, nil
}

// Bytes encodes the descriptor in self-relative form, the parts in the order
// MakeSelfRelativeSD writes them (SACL, DACL, owner, group). SE_SELF_RELATIVE is set,
// SE_DACL_PRESENT and SE_SACL_PRESENT are kept as Control has them (a present part with
// a nil ACL is a NULL ACL, offset 0).
func (sd *SecurityDescriptor) Bytes() []byte {
	b := make([]byte, sdHeaderSize, sd.size())
	b[0] = SECURITY_DESCRIPTOR_REVISION
	ctl := sd.Control | SE_SELF_RELATIVE
	if sd.SACL != nil {
		ctl |= SE_SACL_PRESENT
	}
	if sd.DACL != nil {
		ctl |= SE_DACL_PRESENT
	}
	binary.LittleEndian.PutUint16(b[2:], ctl)
	if sd.SACL != nil {
		binary.LittleEndian.PutUint32(b[12:], uint32(len(b)))
		b = sd.SACL.append(b)
	}
	if sd.DACL != nil {
		binary.LittleEndian.PutUint32(b[16:], uint32(len(b)))
		b = sd.DACL.append(b)
	}
	if sd.Owner != "" {
		binary.LittleEndian.PutUint32(b[4:], uint32(len(b)))
		b = append(b, sd.Owner...)
	}
	if sd.Group != "" {
		binary.LittleEndian.PutUint32(b[8:], uint32(len(b)))
		b = append(b, sd.Group...)
	}
	return b
}

func (sd *SecurityDescriptor) size() int {
	n := sdHeaderSize + len(sd.Owner) + len(sd.Group)
	if sd.SACL != nil {
		n += sd.SACL.size()
	}
	if sd.DACL != nil {
		n += sd.DACL.size()
	}
	return n
}

func (a *ACL) size() int {
	n := aclHeaderSize
	for i := range a.ACEs {
		n += a.ACEs[i].size()
	}
	return n
}

func (a *ACE) size() int {
	if a.Raw != nil {
		return len(a.Raw)
	}
	return aceHeaderSize + 4 + len(a.SID)
}

// append writes the ACL. Revision 0 is written as ACL_REVISION, or ACL_REVISION_DS when
// an ACE needs it (an object ACE kept raw).
func (a *ACL) append(b []byte) []byte {
	rev := a.Revision
	if rev == 0 {
		rev = ACL_REVISION
		for i := range a.ACEs {
			if t := a.ACEs[i].Type; t >= ACCESS_ALLOWED_OBJECT_ACE_TYPE && t <= 0x08 || t >= 0x0B && t <= 0x10 {
				rev = ACL_REVISION_DS
			}
		}
	}
	start := len(b)
	b = append(b, rev, 0, 0, 0, 0, 0, 0, 0)
	binary.LittleEndian.PutUint16(b[start+4:], uint16(len(a.ACEs)))
	for i := range a.ACEs {
		e := &a.ACEs[i]
		if e.Raw != nil {
			p := len(b)
			b = append(b, e.Raw...)
			b[p+1] = e.Flags
			continue
		}
		b = append(b, e.Type, e.Flags, 0, 0)
		binary.LittleEndian.PutUint16(b[len(b)-2:], uint16(e.size()))
		b = binary.LittleEndian.AppendUint32(b, e.Mask)
		b = append(b, e.SID...)
	}
	binary.LittleEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	return b
}

// Validate checks what Bytes needs to write a descriptor that Parse reads back: valid
// SIDs, ACLs within 64 KiB.
func (sd *SecurityDescriptor) Validate() error {
	for _, s := range []struct {
		what string
		sid  SID
	}{{"owner", sd.Owner}, {"group", sd.Group}} {
		if s.sid != "" && !s.sid.Valid() {
			return &FormatError{Msg: "invalid " + s.what + " SID"}
		}
	}
	for _, a := range []*ACL{sd.SACL, sd.DACL} {
		if a == nil {
			continue
		}
		if a.size() > 0xFFFF {
			return &FormatError{Msg: "ACL larger than 65535 bytes: size", Val: a.size()}
		}
		for i := range a.ACEs {
			if a.ACEs[i].Raw == nil && !a.ACEs[i].SID.Valid() {
				return &FormatError{Msg: fmt.Sprintf("invalid SID in ACE %d", i)}
			}
		}
	}
	return nil
}

// Clone returns a deep copy (Raw ACE bytes are shared: they are never modified).
func (sd *SecurityDescriptor) Clone() *SecurityDescriptor {
	c := *sd
	c.SACL = sd.SACL.Clone()
	c.DACL = sd.DACL.Clone()
	return &c
}

// Clone returns a copy of the ACL; nil stays nil.
func (a *ACL) Clone() *ACL {
	if a == nil {
		return nil
	}
	return &ACL{Revision: a.Revision, ACEs: append([]ACE(nil), a.ACEs...)}
}

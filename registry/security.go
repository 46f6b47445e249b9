package registry

import (
	"wolfpack/internal/regipc/wire"
	"wolfpack/internal/secdesc"
)

// Parts of a security descriptor, for GetKeySecurity and SetKeySecurity
// (SECURITY_INFORMATION, as in golang.org/x/sys/windows).
const (
	OWNER_SECURITY_INFORMATION            = 0x00000001
	GROUP_SECURITY_INFORMATION            = 0x00000002
	DACL_SECURITY_INFORMATION             = 0x00000004
	SACL_SECURITY_INFORMATION             = 0x00000008
	UNPROTECTED_SACL_SECURITY_INFORMATION = 0x10000000
	UNPROTECTED_DACL_SECURITY_INFORMATION = 0x20000000
	PROTECTED_SACL_SECURITY_INFORMATION   = 0x40000000
	PROTECTED_DACL_SECURITY_INFORMATION   = 0x80000000
)

// Standard access rights a key handle may be opened with to read and change its
// descriptor (READ and ALL_ACCESS include READ_CONTROL; ALL_ACCESS includes the others).
const (
	DELETE          = 0x00010000
	READ_CONTROL    = 0x00020000
	WRITE_DAC       = 0x00040000
	WRITE_OWNER     = 0x00080000
	MAXIMUM_ALLOWED = 0x02000000
)

// SecurityDescriptor is a key's security descriptor in self-relative form: the bytes
// RegGetKeySecurity returns and a hive's sk cell holds. String and SDDL give it in the
// Security Descriptor Definition Language; SecurityDescriptorFromString reads that.
type SecurityDescriptor []byte

// SDDLError is SDDL text that does not parse: what and where.
type SDDLError = secdesc.SDDLError

// SecurityDescriptorFromString converts SDDL ("O:BAG:SYD:PAI(A;CI;KR;;;BU)(A;CI;KA;;;BA)")
// to a descriptor, as x/sys/windows' function of the same name does. Understood: owner,
// group, DACL and SACL with the flags P, AI, AR and NO_ACCESS_CONTROL; ACE types A, D, AU,
// AL, ML; ACE flags OI, CI, NP, IO, ID, SA, FA; rights KA, KR, KW, KX, GA, GR, GW, GX, SD,
// RC, WD, WO or a number; SIDs as S-1-… or aliases (BA, SY, WD, BU, AU, CO, CG, …). Unix
// users and groups are S-1-22-1-<uid> and S-1-22-2-<gid>, as Samba names them.
func SecurityDescriptorFromString(sddl string) (SecurityDescriptor, error) {
	sd, err := secdesc.ParseSDDL(sddl)
	if err != nil {
		return nil, err
	}
	return sd.Bytes(), nil
}

// SDDL converts the descriptor to SDDL. It fails on bytes that are not a descriptor, and
// on ACE types SDDL as SecurityDescriptorFromString reads it cannot express.
func (sd SecurityDescriptor) SDDL() (string, error) {
	d, err := secdesc.Parse(sd)
	if err != nil {
		return "", err
	}
	return d.SDDL()
}

// String is the descriptor in SDDL, or the reason it has none.
func (sd SecurityDescriptor) String() string {
	s, err := sd.SDDL()
	if err != nil {
		return err.Error()
	}
	return s
}

// GetKeySecurity returns the parts of the key's security descriptor that info asks for
// (RegGetKeySecurity): OWNER_, GROUP_ and DACL_SECURITY_INFORMATION need a key opened
// with READ_CONTROL (READ has it), SACL_SECURITY_INFORMATION needs root.
func (k Key) GetKeySecurity(info uint32) (SecurityDescriptor, error) {
	var sd []byte
	err := k.call(&wire.Request{Op: wire.OpGetSecurity, Flags: info}, func(d *wire.Decoder) {
		if b := d.Bytes(); b != nil {
			sd = append([]byte(nil), b...)
		}
	})
	if err != nil {
		return nil, err
	}
	return sd, nil
}

// SetKeySecurity sets the parts of the key's security descriptor that info names
// (RegSetKeySecurity): the owner and group need a key opened with WRITE_OWNER, the DACL
// with WRITE_DAC (ALL_ACCESS has both); the owner given must be the caller or one of its
// groups unless the caller is root. The DACL given is the key's own: its parent's
// inheritable ACEs follow it unless it is protected (SDDL "D:P…" or
// PROTECTED_DACL_SECURITY_INFORMATION), and the node recomputes the inherited ACEs of
// the subkeys, as SetSecurityInfo does on Windows.
func (k Key) SetKeySecurity(info uint32, sd SecurityDescriptor) error {
	return k.call(&wire.Request{Op: wire.OpSetSecurity, Flags: info, Data: sd}, nil)
}

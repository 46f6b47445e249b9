package secdesc

import (
	"encoding/binary"
	"strconv"
	"strings"
)

// SID is a security identifier in its binary form (winnt.h SID: Revision 1,
// SubAuthorityCount, a 6-byte big-endian IdentifierAuthority and that many 32-bit
// little-endian SubAuthority values), held in a string so that SIDs compare with ==
// and serve as map keys. The empty SID means "none" (a descriptor without an owner).
type SID string

// MaxSubAuthorities is SID_MAX_SUB_AUTHORITIES.
const MaxSubAuthorities = 15

// NewSID makes the SID S-1-authority-subs....
func NewSID(authority uint64, subs ...uint32) SID {
	b := make([]byte, 8+4*len(subs))
	b[0] = 1
	b[1] = byte(len(subs))
	for i := 0; i < 6; i++ {
		b[7-i] = byte(authority >> (8 * i))
	}
	for i, s := range subs {
		binary.LittleEndian.PutUint32(b[8+4*i:], s)
	}
	return SID(b)
}

// The well-known SIDs the registry's defaults and tokens use.
var (
	Everyone           = NewSID(1, 0)       // WD, S-1-1-0
	CreatorOwner       = NewSID(3, 0)       // CO, S-1-3-0: replaced by the new key's owner when inherited
	CreatorGroup       = NewSID(3, 1)       // CG, S-1-3-1
	OwnerRights        = NewSID(3, 4)       // OW, S-1-3-4: replaces the owner's implicit rights
	AuthenticatedUsers = NewSID(5, 11)      // AU, S-1-5-11
	LocalSystem        = NewSID(5, 18)      // SY, S-1-5-18
	Administrators     = NewSID(5, 32, 544) // BA, S-1-5-32-544
	Users              = NewSID(5, 32, 545) // BU, S-1-5-32-545
	AllAppPackages     = NewSID(15, 2, 1)   // AC, S-1-15-2-1
	restrictedCode     = NewSID(5, 12)      // RC
	localService       = NewSID(5, 19)      // LS
	networkService     = NewSID(5, 20)      // NS
	lowLabel           = NewSID(16, 0x1000) // LW
	mediumLabel        = NewSID(16, 0x2000) // ME
	highLabel          = NewSID(16, 0x3000) // HI
	systemLabel        = NewSID(16, 0x4000) // SI
	builtinGuests      = NewSID(5, 32, 546) // BG
	powerUsers         = NewSID(5, 32, 547) // PU
	backupOperators    = NewSID(5, 32, 551) // BO
	interactive        = NewSID(5, 4)       // IU
	network            = NewSID(5, 2)       // NU
	service            = NewSID(5, 6)       // SU
	principalSelf      = NewSID(5, 10)      // PS
	anonymous          = NewSID(5, 7)       // AN
	remoteDesktopUsers = NewSID(5, 32, 555) // RD
	networkConfigOps   = NewSID(5, 32, 556) // NO
)

// sidAliases are the SDDL abbreviations ([MS-DTYP] 2.5.1.1) this package reads and
// prints. Aliases that depend on a domain (DA, DU, …) are not known.
var sidAliases = []struct {
	alias string
	sid   SID
}{
	{"WD", Everyone}, {"CO", CreatorOwner}, {"CG", CreatorGroup}, {"OW", OwnerRights},
	{"AU", AuthenticatedUsers}, {"SY", LocalSystem}, {"BA", Administrators}, {"BU", Users},
	{"AC", AllAppPackages}, {"RC", restrictedCode}, {"LS", localService}, {"NS", networkService},
	{"LW", lowLabel}, {"ME", mediumLabel}, {"HI", highLabel}, {"SI", systemLabel},
	{"BG", builtinGuests}, {"PU", powerUsers}, {"BO", backupOperators}, {"IU", interactive},
	{"NU", network}, {"SU", service}, {"PS", principalSelf}, {"AN", anonymous},
	{"RD", remoteDesktopUsers}, {"NO", networkConfigOps},
}

// UnixUser is the SID of Unix uid, as Samba maps it: S-1-22-1-uid.
func UnixUser(uid uint32) SID { return NewSID(22, 1, uid) }

// UnixGroup is the SID of Unix gid, as Samba maps it: S-1-22-2-gid.
func UnixGroup(gid uint32) SID { return NewSID(22, 2, gid) }

// UnixID tells whether s is a Samba Unix user (S-1-22-1-u) or group (S-1-22-2-g) SID and
// returns the id.
func (s SID) UnixID() (id uint32, user, ok bool) {
	if !s.Valid() || s.authority() != 22 || s[1] != 2 {
		return 0, false, false
	}
	subs := s.SubAuthorities()
	if subs[0] != 1 && subs[0] != 2 {
		return 0, false, false
	}
	return subs[1], subs[0] == 1, true
}

// sidLen checks the SID at the start of b and returns its length.
func sidLen(b []byte) (int, bool) {
	if len(b) < 8 || b[0] != 1 || b[1] > MaxSubAuthorities {
		return 0, false
	}
	n := 8 + 4*int(b[1])
	if len(b) < n {
		return 0, false
	}
	return n, true
}

// Valid reports whether s is a well-formed SID.
func (s SID) Valid() bool {
	n, ok := sidLen([]byte(s))
	return ok && n == len(s)
}

// authority returns the identifier authority.
func (s SID) authority() uint64 {
	var a uint64
	for i := 2; i < 8; i++ {
		a = a<<8 | uint64(s[i])
	}
	return a
}

// SubAuthorities returns the sub-authority values.
func (s SID) SubAuthorities() []uint32 {
	if !s.Valid() {
		return nil
	}
	out := make([]uint32, s[1])
	for i := range out {
		out[i] = binary.LittleEndian.Uint32([]byte(s[8+4*i : 12+4*i]))
	}
	return out
}

// String is the SID in S-R-I-S-S... form ("S-1-5-32-544"), the authority in decimal
// even when it is 2^32 or more (Windows writes those in hexadecimal, which SDDL cannot
// tell from a following "D:"). An invalid SID prints as "S-?".
func (s SID) String() string {
	if !s.Valid() {
		return "S-?"
	}
	var b strings.Builder
	b.WriteString("S-1-")
	b.WriteString(strconv.FormatUint(s.authority(), 10))
	for _, sub := range s.SubAuthorities() {
		b.WriteByte('-')
		b.WriteString(strconv.FormatUint(uint64(sub), 10))
	}
	return b.String()
}

// Alias is the SID's SDDL abbreviation ("BA"), or "" when it has none.
func (s SID) Alias() string {
	for _, a := range sidAliases {
		if a.sid == s {
			return a.alias
		}
	}
	return ""
}

// ParseSID reads a SID in S-1-... form or as an SDDL alias (BA, SY, WD, …).
func ParseSID(text string) (SID, error) {
	if len(text) == 2 {
		for _, a := range sidAliases {
			if a.alias == text {
				return a.sid, nil
			}
		}
		return "", &SDDLError{Pos: 0, Text: text, Msg: "unknown SID alias"}
	}
	s, n, err := scanSID(text, 0)
	if err != nil {
		return "", err
	}
	if n != len(text) {
		return "", &SDDLError{Pos: n, Text: clip(text, n), Msg: "unexpected characters after a SID"}
	}
	return s, nil
}

// scanSID reads an S-1-... SID starting at text[pos:] and returns it and the position
// after it. The SID ends at the first character that is not a digit, '-' or (in a hex
// authority) a hexadecimal digit.
func scanSID(text string, pos int) (SID, int, error) {
	bad := func(p int, msg string) (SID, int, error) {
		return "", p, &SDDLError{Pos: p, Text: clip(text, p), Msg: msg}
	}
	if !strings.HasPrefix(strings.ToUpper(text[pos:]), "S-1-") {
		return bad(pos, "a SID must start with S-1-")
	}
	p := pos + 4
	num := func(hexOK bool) (uint64, bool) {
		start := p
		base := 10
		if hexOK && p+1 < len(text) && text[p] == '0' && (text[p+1] == 'x' || text[p+1] == 'X') {
			p += 2
			start = p
			base = 16
		}
		for p < len(text) && (text[p] >= '0' && text[p] <= '9' || base == 16 && isHex(text[p])) {
			p++
		}
		if p == start || p-start > 16 {
			return 0, false
		}
		v, err := strconv.ParseUint(text[start:p], base, 64)
		return v, err == nil
	}
	auth, ok := num(true)
	if !ok || auth >= 1<<48 {
		return bad(pos+4, "bad identifier authority in SID")
	}
	var subs []uint32
	for p < len(text) && text[p] == '-' {
		p++
		at := p
		v, ok := num(false)
		if !ok || v > 0xFFFFFFFF {
			return bad(at, "bad sub-authority in SID")
		}
		if len(subs) == MaxSubAuthorities {
			return bad(at, "more than 15 sub-authorities in SID")
		}
		subs = append(subs, uint32(v))
	}
	return NewSID(auth, subs...), p, nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// clip is the text from pos, at most 24 bytes, for error messages.
func clip(text string, pos int) string {
	if pos > len(text) {
		pos = len(text)
	}
	s := text[pos:]
	if len(s) > 24 {
		s = s[:24] + "…"
	}
	return s
}

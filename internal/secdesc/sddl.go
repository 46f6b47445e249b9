package secdesc

import (
	"fmt"
	"strconv"
	"strings"
)

// SDDL ([MS-DTYP] 2.5.1): O:owner G:group D:flags(ace)(ace)… S:flags(ace)…, each part
// optional and given once. An ACE is (type;flags;rights;object_guid;inherit_object_guid;sid).
//
// Understood: the ACE types A (allow), D (deny), AU (audit), AL (alarm), ML (mandatory
// label) and SP (scoped policy); the flags OI, CI, NP, IO, ID, SA, FA; the ACL flags P
// (protected), AI (auto-inherited), AR (auto-inherit required) and NO_ACCESS_CONTROL (a
// NULL ACL); rights as the aliases KA, KR, KW, KX (key rights), GA, GR, GW, GX (generic),
// SD, RC, WD, WO (standard), CC, DC, LC, SW, RP, WP, DT, LO, CR (the directory-service
// names of bits 0–8), concatenated ("KRWD"), or as a number (0x20019 or decimal); SIDs as
// S-1-… or an alias of sid.go. Object ACEs (non-empty GUID fields), callback ACEs and
// resource attributes are refused: ParseSDDL reports them, SDDL reports a descriptor
// holding one, each as a *SDDLError.

// aceTypeNames maps SDDL ACE type strings to types.
var aceTypeNames = []struct {
	name string
	typ  uint8
}{
	{"A", ACCESS_ALLOWED_ACE_TYPE}, {"D", ACCESS_DENIED_ACE_TYPE}, {"AU", SYSTEM_AUDIT_ACE_TYPE},
	{"AL", SYSTEM_ALARM_ACE_TYPE}, {"ML", SYSTEM_MANDATORY_LABEL_ACE_TYPE}, {"SP", SYSTEM_SCOPED_POLICY_ID_ACE_TYPE},
}

var aceFlagNames = []struct {
	name string
	flag uint8
}{
	{"OI", OBJECT_INHERIT_ACE}, {"CI", CONTAINER_INHERIT_ACE}, {"NP", NO_PROPAGATE_INHERIT_ACE},
	{"IO", INHERIT_ONLY_ACE}, {"ID", INHERITED_ACE}, {"SA", SUCCESSFUL_ACCESS_ACE_FLAG}, {"FA", FAILED_ACCESS_ACE_FLAG},
}

// wholeRights are masks with a name of their own; they are printed only for an exact match.
var wholeRights = []struct {
	name string
	mask uint32
}{
	{"KA", KEY_ALL_ACCESS}, {"KR", KEY_READ}, {"KW", KEY_WRITE}, {"KX", KEY_EXECUTE},
	{"FA", 0x1F01FF}, {"FR", 0x120089}, {"FW", 0x120116}, {"FX", 0x1200A0},
}

// bitRights name single bits, in the order Windows prints them.
var bitRights = []struct {
	name string
	mask uint32
}{
	{"GA", GENERIC_ALL}, {"GR", GENERIC_READ}, {"GW", GENERIC_WRITE}, {"GX", GENERIC_EXECUTE},
	{"RC", READ_CONTROL}, {"SD", DELETE}, {"WD", WRITE_DAC}, {"WO", WRITE_OWNER},
	{"RP", 0x10}, {"WP", 0x20}, {"CC", 0x1}, {"DC", 0x2}, {"LC", 0x4}, {"SW", 0x8},
	{"LO", 0x80}, {"DT", 0x40}, {"CR", 0x100},
}

// labelRights name the bits of a mandatory label's mask (no write up, no read up, no
// execute up); they are printed for ML ACEs only.
var labelRights = []struct {
	name string
	mask uint32
}{{"NW", 0x1}, {"NR", 0x2}, {"NX", 0x4}}

// printedBits are the bits printed by name when a mask is not a whole alias; masks with
// any other bit (the key rights among them, whose directory-service names would mislead)
// are printed as a number.
const printedBits = genericRights | STANDARD_RIGHTS_REQUIRED

// ParseSDDL reads a security descriptor in SDDL. White space between parts, ACEs and
// fields is ignored. The result has SE_DACL_PRESENT (SE_SACL_PRESENT) exactly when a D:
// (S:) part was given.
func ParseSDDL(text string) (*SecurityDescriptor, error) {
	p := &sddlParser{s: text}
	sd := &SecurityDescriptor{}
	seen := map[byte]bool{}
	for {
		p.space()
		if p.pos == len(p.s) {
			break
		}
		if p.pos+2 > len(p.s) || p.s[p.pos+1] != ':' {
			return nil, p.fail("expected O:, G:, D: or S:")
		}
		part := upper(p.s[p.pos])
		if seen[part] {
			return nil, p.fail(fmt.Sprintf("%c: given twice", part))
		}
		seen[part] = true
		p.pos += 2
		p.space()
		var err error
		switch part {
		case 'O':
			sd.Owner, err = p.sid()
		case 'G':
			sd.Group, err = p.sid()
		case 'D':
			var ctl uint16
			sd.DACL, ctl, err = p.acl(SE_DACL_PROTECTED, SE_DACL_AUTO_INHERITED, SE_DACL_AUTO_INHERIT_REQ)
			sd.Control |= ctl | SE_DACL_PRESENT
		case 'S':
			var ctl uint16
			sd.SACL, ctl, err = p.acl(SE_SACL_PROTECTED, SE_SACL_AUTO_INHERITED, SE_SACL_AUTO_INHERIT_REQ)
			sd.Control |= ctl | SE_SACL_PRESENT
		default:
			p.pos -= 2
			return nil, p.fail("expected O:, G:, D: or S:")
		}
		if err != nil {
			return nil, err
		}
	}
	if err := sd.Validate(); err != nil {
		return nil, &SDDLError{Pos: len(text), Text: "", Msg: err.Error()}
	}
	return sd, nil
}

type sddlParser struct {
	s   string
	pos int
}

func (p *sddlParser) fail(msg string) error {
	return &SDDLError{Pos: p.pos, Text: clip(p.s, p.pos), Msg: msg}
}

func (p *sddlParser) space() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t' || p.s[p.pos] == '\n' || p.s[p.pos] == '\r') {
		p.pos++
	}
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// sid reads a SID: S-1-… or a two-letter alias.
func (p *sddlParser) sid() (SID, error) {
	if p.pos < len(p.s) && upper(p.s[p.pos]) == 'S' && p.pos+1 < len(p.s) && p.s[p.pos+1] == '-' {
		s, n, err := scanSID(p.s, p.pos)
		if err != nil {
			return "", err
		}
		p.pos = n
		return s, nil
	}
	if p.pos+2 > len(p.s) {
		return "", p.fail("expected a SID")
	}
	alias := strings.ToUpper(p.s[p.pos : p.pos+2])
	for _, a := range sidAliases {
		if a.alias == alias {
			p.pos += 2
			return a.sid, nil
		}
	}
	return "", p.fail("unknown SID alias")
}

// acl reads ACL flags and ACEs up to the next part or the end.
func (p *sddlParser) acl(protected, autoInherited, autoReq uint16) (*ACL, uint16, error) {
	var ctl uint16
	for p.pos < len(p.s) && p.s[p.pos] != '(' {
		rest := strings.ToUpper(p.s[p.pos:])
		switch {
		case strings.HasPrefix(rest, "NO_ACCESS_CONTROL"):
			p.pos += len("NO_ACCESS_CONTROL")
			p.space()
			if p.pos < len(p.s) && p.s[p.pos] == '(' {
				return nil, 0, p.fail("ACEs after NO_ACCESS_CONTROL")
			}
			return nil, ctl, nil // a NULL ACL
		case strings.HasPrefix(rest, "AI"):
			ctl |= autoInherited
			p.pos += 2
		case strings.HasPrefix(rest, "AR"):
			ctl |= autoReq
			p.pos += 2
		case strings.HasPrefix(rest, "P"):
			ctl |= protected
			p.pos++
		default:
			if len(rest) >= 2 && rest[1] == ':' {
				return &ACL{}, ctl, nil // the next part: an empty ACL
			}
			if rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n' || rest[0] == '\r' {
				p.space()
				continue
			}
			return nil, 0, p.fail("unknown ACL flag (P, AI, AR or NO_ACCESS_CONTROL)")
		}
	}
	a := &ACL{}
	for {
		p.space()
		if p.pos == len(p.s) || p.s[p.pos] != '(' {
			return a, ctl, nil
		}
		ace, err := p.ace()
		if err != nil {
			return nil, 0, err
		}
		a.ACEs = append(a.ACEs, ace)
	}
}

// ace reads (type;flags;rights;guid;guid;sid).
func (p *sddlParser) ace() (ACE, error) {
	start := p.pos
	end := strings.IndexByte(p.s[p.pos:], ')')
	if end < 0 {
		return ACE{}, p.fail("ACE without a closing parenthesis")
	}
	body := p.s[p.pos+1 : p.pos+end]
	fields := strings.Split(body, ";")
	if len(fields) != 6 {
		return ACE{}, p.fail(fmt.Sprintf("an ACE has 6 fields separated by ';', not %d", len(fields)))
	}
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	// pos of field i, for errors.
	at := func(i int) int {
		off := start + 1
		for j := 0; j < i; j++ {
			off += strings.IndexByte(p.s[off:], ';') + 1
		}
		return off
	}
	failAt := func(i int, msg string) error {
		return &SDDLError{Pos: at(i), Text: clip(p.s, at(i)), Msg: msg}
	}
	var ace ACE
	typ := strings.ToUpper(fields[0])
	found := false
	for _, t := range aceTypeNames {
		if t.name == typ {
			ace.Type, found = t.typ, true
		}
	}
	if !found {
		return ACE{}, failAt(0, "unknown or unsupported ACE type (A, D, AU, AL, ML or SP)")
	}
	flags := strings.ToUpper(fields[1])
	for len(flags) > 0 {
		if len(flags) < 2 {
			return ACE{}, failAt(1, "unknown ACE flag")
		}
		ok := false
		for _, f := range aceFlagNames {
			if f.name == flags[:2] {
				ace.Flags |= f.flag
				ok = true
			}
		}
		if !ok {
			return ACE{}, failAt(1, "unknown ACE flag (OI, CI, NP, IO, ID, SA or FA)")
		}
		flags = flags[2:]
	}
	mask, err := parseRights(fields[2])
	if err != nil {
		return ACE{}, failAt(2, err.Error())
	}
	ace.Mask = mask
	if fields[3] != "" || fields[4] != "" {
		return ACE{}, failAt(3, "object ACEs (GUID fields) are not supported")
	}
	sp := &sddlParser{s: p.s, pos: at(5)}
	sp.space()
	sid, err := sp.sid()
	if err != nil {
		return ACE{}, err
	}
	sp.space()
	if sp.pos != start+end {
		return ACE{}, sp.fail("unexpected text after the ACE's SID")
	}
	ace.SID = sid
	p.pos = start + end + 1
	return ace, nil
}

func parseRights(s string) (uint32, error) {
	if s == "" {
		return 0, fmt.Errorf("empty rights")
	}
	if s[0] >= '0' && s[0] <= '9' {
		v, err := strconv.ParseUint(s, 0, 32)
		if err != nil {
			return 0, fmt.Errorf("bad rights number %q", s)
		}
		return uint32(v), nil
	}
	var mask uint32
	u := strings.ToUpper(s)
	for len(u) > 0 {
		if len(u) < 2 {
			return 0, fmt.Errorf("unknown rights %q", u)
		}
		tok, ok := u[:2], false
		for _, r := range wholeRights {
			if r.name == tok {
				mask |= r.mask
				ok = true
			}
		}
		for _, r := range append(bitRights[:len(bitRights):len(bitRights)], labelRights...) {
			if r.name == tok {
				mask |= r.mask
				ok = true
			}
		}
		if !ok {
			return 0, fmt.Errorf("unknown rights %q (KA, KR, KW, KX, GA, GR, GW, GX, SD, RC, WD, WO, … or a number)", tok)
		}
		u = u[2:]
	}
	return mask, nil
}

// SDDL prints the descriptor: the parts it has, in the order O, G, D, S. SIDs with an
// alias print as the alias. It fails (*SDDLError) on an ACE that SDDL cannot express in
// the grammar this package reads (see ParseSDDL), so its output always parses back to the
// same descriptor.
func (sd *SecurityDescriptor) SDDL() (string, error) {
	var b strings.Builder
	if sd.Owner != "" {
		b.WriteString("O:")
		writeSID(&b, sd.Owner)
	}
	if sd.Group != "" {
		b.WriteString("G:")
		writeSID(&b, sd.Group)
	}
	if sd.Control&SE_DACL_PRESENT != 0 || sd.DACL != nil {
		b.WriteString("D:")
		if err := writeACL(&b, sd.DACL, sd.Control, SE_DACL_PROTECTED, SE_DACL_AUTO_INHERITED, SE_DACL_AUTO_INHERIT_REQ); err != nil {
			return "", err
		}
	}
	if sd.Control&SE_SACL_PRESENT != 0 || sd.SACL != nil {
		b.WriteString("S:")
		if err := writeACL(&b, sd.SACL, sd.Control, SE_SACL_PROTECTED, SE_SACL_AUTO_INHERITED, SE_SACL_AUTO_INHERIT_REQ); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

// String is SDDL, or, for a descriptor SDDL cannot express, the SDDL error's text.
func (sd *SecurityDescriptor) String() string {
	s, err := sd.SDDL()
	if err != nil {
		return err.Error()
	}
	return s
}

func writeSID(b *strings.Builder, s SID) {
	if a := s.Alias(); a != "" {
		b.WriteString(a)
		return
	}
	b.WriteString(s.String())
}

func writeACL(b *strings.Builder, a *ACL, ctl, protected, autoInherited, autoReq uint16) error {
	if ctl&protected != 0 {
		b.WriteString("P")
	}
	if ctl&autoReq != 0 {
		b.WriteString("AR")
	}
	if ctl&autoInherited != 0 {
		b.WriteString("AI")
	}
	if a == nil {
		b.WriteString("NO_ACCESS_CONTROL")
		return nil
	}
	for i := range a.ACEs {
		e := &a.ACEs[i]
		name := ""
		for _, t := range aceTypeNames {
			if t.typ == e.Type {
				name = t.name
			}
		}
		if name == "" || e.Raw != nil {
			return &SDDLError{Pos: -1, Text: fmt.Sprintf("ACE %d of type %#x", i, e.Type),
				Msg: "an ACE type without an SDDL form this package prints (object, callback or attribute ACEs)"}
		}
		b.WriteByte('(')
		b.WriteString(name)
		b.WriteByte(';')
		for _, f := range aceFlagNames {
			if e.Flags&f.flag != 0 {
				b.WriteString(f.name)
			}
		}
		if e.Flags&^(inheritFlags|INHERITED_ACE|SUCCESSFUL_ACCESS_ACE_FLAG|FAILED_ACCESS_ACE_FLAG) != 0 {
			return &SDDLError{Pos: -1, Text: fmt.Sprintf("ACE %d flags %#x", i, e.Flags), Msg: "ACE flags without an SDDL name"}
		}
		b.WriteByte(';')
		if e.Type == SYSTEM_MANDATORY_LABEL_ACE_TYPE && e.Mask != 0 && e.Mask&^0x7 == 0 {
			for _, r := range labelRights {
				if e.Mask&r.mask != 0 {
					b.WriteString(r.name)
				}
			}
		} else {
			b.WriteString(FormatRights(e.Mask))
		}
		b.WriteString(";;;")
		writeSID(b, e.SID)
		b.WriteByte(')')
	}
	return nil
}

// FormatRights prints an access mask as SDDL does: a whole alias (KA, KR, KW, FA, …)
// when it matches exactly, else bit aliases when the mask holds only generic and
// standard rights (GRWD), else a hexadecimal number (0x2001b).
func FormatRights(mask uint32) string {
	for _, r := range wholeRights {
		if r.mask == mask {
			return r.name
		}
	}
	if mask == 0 || mask&^printedBits != 0 {
		return "0x" + strconv.FormatUint(uint64(mask), 16)
	}
	var b strings.Builder
	for _, r := range bitRights {
		if mask&r.mask != 0 {
			b.WriteString(r.name)
		}
	}
	return b.String()
}

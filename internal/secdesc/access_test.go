package secdesc

import (
	"errors"
	"testing"
)

func mustSDDL(t *testing.T, s string) *SecurityDescriptor {
	t.Helper()
	sd, err := ParseSDDL(s)
	if err != nil {
		t.Fatalf("ParseSDDL(%q): %v", s, err)
	}
	return sd
}

var (
	nobodyTok = &Token{User: UnixUser(65534), Groups: []SID{Everyone, AuthenticatedUsers, Users, UnixGroup(65534)},
		Owner: UnixUser(65534), PrimaryGroup: UnixGroup(65534)}
	rootTok = &Token{User: UnixUser(0), Groups: []SID{Administrators, Everyone, AuthenticatedUsers, Users, UnixGroup(0)},
		Owner: Administrators, PrimaryGroup: UnixGroup(0), Privileged: true}
	aliceTok = &Token{User: UnixUser(1000), Groups: []SID{Everyone, AuthenticatedUsers, Users, UnixGroup(100)},
		Owner: UnixUser(1000), PrimaryGroup: UnixGroup(100)}
)

// The access check, case by case: each names the rule it shows.
func TestAccessCheck(t *testing.T) {
	const software = "O:BAG:SYD:PAI(A;CIIO;KA;;;CO)(A;CI;KR;;;BU)(A;CI;KA;;;BA)(A;CI;KA;;;SY)"
	for _, c := range []struct {
		name    string
		sddl    string
		tok     *Token
		desired uint32
		granted uint32
		ok      bool
	}{
		{"users read HKLM\\SOFTWARE", software, nobodyTok, KEY_READ, KEY_READ, true},
		{"users do not write it", software, nobodyTok, KEY_SET_VALUE, 0, false},
		{"nor ask for everything", software, nobodyTok, KEY_ALL_ACCESS, 0, false},
		{"Administrators (root) get everything by their ACE", software, rootTok, KEY_ALL_ACCESS, KEY_ALL_ACCESS, true},
		{"GENERIC_READ maps to KEY_READ", software, nobodyTok, GENERIC_READ, KEY_READ, true},
		{"GENERIC_WRITE maps to KEY_WRITE, which users lack", software, nobodyTok, GENERIC_WRITE, 0, false},
		{"MAXIMUM_ALLOWED gives users KEY_READ", software, nobodyTok, MAXIMUM_ALLOWED, KEY_READ, true},
		{"MAXIMUM_ALLOWED with a right users lack fails", software, nobodyTok, MAXIMUM_ALLOWED | KEY_SET_VALUE, 0, false},
		{"an inherit-only ACE does not apply to the key itself", "D:(A;CIIO;KA;;;WD)", nobodyTok, KEY_QUERY_VALUE, 0, false},
		{"CREATOR OWNER in an effective ACE matches nobody", "O:S-1-22-1-65534D:(A;;KA;;;CO)", nobodyTok, KEY_QUERY_VALUE, 0, false},
		{"deny before allow denies", "D:(D;;KR;;;WD)(A;;KA;;;WD)", rootTok, KEY_QUERY_VALUE, 0, false},
		{"allow before deny grants (the first ACE for a bit wins)", "D:(A;;KA;;;WD)(D;;KR;;;WD)", nobodyTok, KEY_QUERY_VALUE, KEY_QUERY_VALUE, true},
		{"a deny for other bits leaves the asked ones", "D:(D;;KW;;;WD)(A;;KA;;;WD)", nobodyTok, KEY_QUERY_VALUE | KEY_NOTIFY, KEY_QUERY_VALUE | KEY_NOTIFY, true},
		{"KW holds READ_CONTROL, so denying KW denies KEY_READ", "D:(D;;KW;;;WD)(A;;KA;;;WD)", nobodyTok, KEY_READ, 0, false},
		{"a deny for a group the token lacks does not apply", "D:(D;;KA;;;BA)(A;;KR;;;BU)", nobodyTok, KEY_READ, KEY_READ, true},
		{"a deny for a group the token holds applies", "D:(D;;KR;;;BU)(A;;KR;;;BU)", aliceTok, KEY_QUERY_VALUE, 0, false},
		{"a Unix user's ACE", "D:(A;;KA;;;S-1-22-1-1000)", aliceTok, KEY_SET_VALUE, KEY_SET_VALUE, true},
		{"another user's ACE", "D:(A;;KA;;;S-1-22-1-1000)", nobodyTok, KEY_QUERY_VALUE, 0, false},
		{"a Unix group's ACE", "D:(A;;KR;;;S-1-22-2-100)", aliceTok, KEY_READ, KEY_READ, true},
		{"an empty DACL grants nothing", "D:", nobodyTok, KEY_QUERY_VALUE, 0, false},
		{"no DACL grants everything", "O:BA", nobodyTok, KEY_ALL_ACCESS, KEY_ALL_ACCESS, true},
		{"a NULL DACL grants everything", "D:NO_ACCESS_CONTROL", nobodyTok, KEY_ALL_ACCESS, KEY_ALL_ACCESS, true},
		{"the owner may read and change the DACL whatever it says", "O:S-1-22-1-65534D:(D;;KA;;;WD)", nobodyTok, READ_CONTROL | WRITE_DAC, READ_CONTROL | WRITE_DAC, true},
		{"but not more", "O:S-1-22-1-65534D:(D;;KA;;;WD)", nobodyTok, KEY_QUERY_VALUE, 0, false},
		{"OWNER RIGHTS replaces the owner's implicit rights", "O:S-1-22-1-65534D:(A;;KR;;;OW)", nobodyTok, WRITE_DAC, 0, false},
		{"OWNER RIGHTS grants the owner what it says", "O:S-1-22-1-65534D:(A;;KR;;;OW)", nobodyTok, KEY_READ, KEY_READ, true},
		{"root may always take ownership (SeTakeOwnershipPrivilege)", "D:(D;;KA;;;WD)", rootTok, WRITE_OWNER, WRITE_OWNER, true},
		{"but takes nothing else past a deny", "D:(D;;KA;;;WD)", rootTok, KEY_QUERY_VALUE, 0, false},
		{"an ordinary user may not take ownership", "D:(A;;KR;;;WD)", nobodyTok, WRITE_OWNER, 0, false},
		{"generic rights in an ACE are mapped", "D:(A;;GR;;;WD)", nobodyTok, KEY_READ, KEY_READ, true},
		{"GA in an ACE is KEY_ALL_ACCESS", "D:(A;;GA;;;WD)", nobodyTok, KEY_ALL_ACCESS, KEY_ALL_ACCESS, true},
		{"asking for nothing is granted nothing", "D:", nobodyTok, 0, 0, true},
	} {
		sd := mustSDDL(t, c.sddl)
		granted, ok := AccessCheck(sd, c.tok, c.desired, KeyMapping)
		if ok != c.ok || granted != c.granted {
			t.Errorf("%s: %s desired %#x: granted %#x ok %v, want %#x %v", c.name, c.sddl, c.desired, granted, ok, c.granted, c.ok)
		}
	}
}

// The ordered walk of [MS-DTYP] 2.5.3.2 for a desired mask and MaximumAllowed's
// subset test agree for every mask over a set of DACLs.
func TestAccessCheckMatchesOrderedWalk(t *testing.T) {
	walk := func(sd *SecurityDescriptor, tok *Token, desired uint32) bool {
		remaining := KeyMapping.Map(desired)
		if sd.Owner != "" && tok.Has(sd.Owner) {
			remaining &^= READ_CONTROL | WRITE_DAC
		}
		for _, e := range sd.DACL.ACEs {
			if e.Flags&INHERIT_ONLY_ACE != 0 || !tok.Has(e.SID) {
				continue
			}
			m := KeyMapping.Map(e.Mask)
			if e.Type == ACCESS_DENIED_ACE_TYPE && m&remaining != 0 {
				return false
			}
			if e.Type == ACCESS_ALLOWED_ACE_TYPE {
				remaining &^= m
			}
		}
		return remaining == 0
	}
	for _, s := range []string{
		"D:(D;;KW;;;WD)(A;;KA;;;WD)",
		"D:(A;;KR;;;BU)(D;;KA;;;WD)(A;;KW;;;WD)",
		"O:S-1-22-1-65534D:(D;;0x3;;;BU)(A;;0x7;;;S-1-22-2-65534)(A;;KA;;;WD)",
		"D:(A;;GR;;;WD)(D;;GW;;;AU)(A;;GA;;;BU)",
		"D:(A;CIIO;KA;;;WD)(A;;0x10;;;BU)",
	} {
		sd := mustSDDL(t, s)
		for desired := uint32(0); desired <= 0x3F; desired++ {
			for _, std := range []uint32{0, READ_CONTROL, WRITE_DAC, DELETE} {
				d := desired | std
				_, ok := AccessCheck(sd, nobodyTok, d, KeyMapping)
				if want := walk(sd, nobodyTok, d); ok != want {
					t.Errorf("%s desired %#x: AccessCheck %v, ordered walk %v", s, d, ok, want)
				}
			}
		}
	}
}

// Inheritance as Windows computes it for a new subkey.
func TestInherit(t *testing.T) {
	for _, c := range []struct {
		name, parent string
		tok          *Token
		want         string
	}{
		{"HKLM\\SOFTWARE's children: CI ACEs inherited, CREATOR OWNER split into the owner's ACE and an inherit-only copy",
			"O:BAG:SYD:PAI(A;CIIO;KA;;;CO)(A;CI;KR;;;BU)(A;CI;KA;;;BA)(A;CI;KA;;;SY)", rootTok,
			"O:BAG:S-1-22-2-0D:AI(A;ID;KA;;;BA)(A;CIIOID;KA;;;CO)(A;CIID;KR;;;BU)(A;CIID;KA;;;BA)(A;CIID;KA;;;SY)"},
		{"generic rights are mapped in the effective ACE and kept in an inherit-only one",
			"D:(A;CI;GR;;;BU)", aliceTok,
			"O:S-1-22-1-1000G:S-1-22-2-100D:AI(A;ID;KR;;;BU)(A;CIIOID;GR;;;BU)"},
		{"NP: the child only, no further inheritance",
			"D:(A;CINP;KA;;;WD)(A;CI;KR;;;BU)", aliceTok,
			"O:S-1-22-1-1000G:S-1-22-2-100D:AI(A;ID;KA;;;WD)(A;CIID;KR;;;BU)"},
		{"OI only: inherit-only for the objects below",
			"D:(A;OI;KR;;;WD)(A;OICI;KA;;;BA)", aliceTok,
			"O:S-1-22-1-1000G:S-1-22-2-100D:AI(A;OIIOID;KR;;;WD)(A;OICIID;KA;;;BA)"},
		{"OI with NP, and ACEs without inheritance flags, are not inherited; nothing left: the token's default DACL",
			"D:(A;OINP;KR;;;WD)(A;;KA;;;BA)", aliceTok,
			"O:S-1-22-1-1000G:S-1-22-2-100D:(A;;KA;;;S-1-22-1-1000)(A;;KA;;;SY)"},
		{"deny ACEs are inherited like allow ACEs, in the parent's order",
			"D:(D;CI;KW;;;S-1-22-1-1000)(A;CI;KA;;;WD)", aliceTok,
			"O:S-1-22-1-1000G:S-1-22-2-100D:AI(D;CIID;KW;;;S-1-22-1-1000)(A;CIID;KA;;;WD)"},
		{"audit ACEs of the SACL are inherited with their flags",
			"D:(A;CI;KA;;;WD)S:(AU;CISA;KW;;;WD)", aliceTok,
			"O:S-1-22-1-1000G:S-1-22-2-100D:AI(A;CIID;KA;;;WD)S:AI(AU;CIIDSA;KW;;;WD)"},
	} {
		got := Inherit(mustSDDL(t, c.parent), c.tok, KeyMapping)
		if s, err := got.SDDL(); err != nil || s != c.want {
			t.Errorf("%s:\n got %s (%v)\nwant %s", c.name, s, err, c.want)
		}
	}
}

func TestReinherit(t *testing.T) {
	parent := mustSDDL(t, "D:(A;CI;KR;;;BU)(D;CI;KA;;;S-1-22-1-1000)")
	child := mustSDDL(t, "O:BAD:AI(A;;KA;;;S-1-22-1-7)(A;CIID;KA;;;WD)")
	got, _ := Reinherit(child, parent, KeyMapping).SDDL()
	if want := "O:BAD:AI(A;;KA;;;S-1-22-1-7)(A;CIID;KR;;;BU)(D;CIID;KA;;;S-1-22-1-1000)"; got != want {
		t.Errorf("explicit ACEs kept, inherited ones replaced:\n got %s\nwant %s", got, want)
	}
	prot := mustSDDL(t, "O:BAD:P(A;;KA;;;BA)")
	if got, _ := Reinherit(prot, parent, KeyMapping).SDDL(); got != "O:BAD:P(A;;KA;;;BA)" {
		t.Errorf("a protected DACL changed: %s", got)
	}
	null := mustSDDL(t, "O:BAD:NO_ACCESS_CONTROL")
	if got, _ := Reinherit(null, parent, KeyMapping).SDDL(); got != "O:BAD:NO_ACCESS_CONTROL" {
		t.Errorf("a NULL DACL changed: %s", got)
	}
	if got, _ := (&SecurityDescriptor{DACL: Protect(child.DACL), Control: SE_DACL_PROTECTED}).SDDL(); got != "D:P(A;;KA;;;S-1-22-1-7)(A;CI;KA;;;WD)" {
		t.Errorf("Protect: %s", got)
	}
}

func TestParseErrors(t *testing.T) {
	good := mustSDDL(t, "O:BAG:SYD:(A;CI;KA;;;BA)").Bytes()
	put := func(off int, v ...byte) []byte {
		b := append([]byte(nil), good...)
		copy(b[off:], v)
		return b
	}
	for _, c := range []struct {
		name string
		b    []byte
		off  int
	}{
		{"short", good[:19], 0},
		{"revision", put(0, 2), 0},
		{"absolute form", put(3, 0), 2},
		{"owner offset past the end", put(4, 0xff, 0xff), 4},
		{"owner offset inside the header", put(4, 4), 4},
		{"bad SID revision", put(int(good[4]), 9), int(good[4])},
		{"ACL revision", put(20, 1), 20},
		{"ACL size beyond the descriptor", put(22, 0xff, 0x0f), 22},
		{"ACE count beyond the ACL", put(24, 0xff), 24},
		{"ACE size beyond the ACL", put(30, 0xff), 30},
		{"ACE size below its header", put(30, 4), 30},
	} {
		_, err := Parse(c.b)
		var fe *FormatError
		if !errors.As(err, &fe) || fe.Off != c.off {
			t.Errorf("%s: %v, want a FormatError at byte %d", c.name, err, c.off)
		}
	}
	if _, err := Parse(good); err != nil {
		t.Fatal(err)
	}
}

package secdesc

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// SDDL strings as Windows writes them for registry keys (the first few from
// `Get-Acl HKLM:\SOFTWARE | % Sddl` and regedit's defaults), each printed back the same.
var roundTrips = []string{
	"O:BAG:SYD:PAI(A;CIIO;KA;;;CO)(A;CI;KR;;;BU)(A;CI;KA;;;BA)(A;CI;KA;;;SY)",
	"O:BAG:SYD:AI(A;ID;KA;;;BA)(A;CIIOID;GA;;;BA)(A;ID;KA;;;SY)(A;CIIOID;GA;;;SY)(A;ID;KR;;;BU)(A;CIIOID;GR;;;BU)",
	"O:S-1-22-1-1000G:S-1-22-2-1000D:P(A;CI;KA;;;S-1-22-1-1000)(A;CI;KA;;;SY)(A;CI;KA;;;BA)",
	"D:(D;;KW;;;WD)(A;;KR;;;WD)",
	"D:NO_ACCESS_CONTROL",
	"O:SYD:",
	"D:P",
	"G:S-1-5-21-1542713487-516738966-800992979-513",
	"D:(A;OICINP;0x2001b;;;AU)(A;;GRGWGX;;;S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464)",
	"S:(AU;SAFA;KA;;;WD)",
	"S:PAI(ML;CI;NW;;;LW)",
	"D:ARAI(A;CI;RCSDWDWO;;;CG)",
	"O:S-1-4294967296-7",
}

func TestSDDLRoundTrip(t *testing.T) {
	for _, text := range roundTrips {
		sd, err := ParseSDDL(text)
		if err != nil {
			t.Errorf("ParseSDDL(%q): %v", text, err)
			continue
		}
		got, err := sd.SDDL()
		if err != nil || got != text {
			t.Errorf("SDDL of %q = %q, %v", text, got, err)
		}
		// Through the binary form and back: same bytes, same text.
		b := sd.Bytes()
		sd2, err := Parse(b)
		if err != nil {
			t.Errorf("%q: Parse(Bytes()): %v", text, err)
			continue
		}
		if b2 := sd2.Bytes(); !bytes.Equal(b, b2) {
			t.Errorf("%q: bytes differ after a round trip:\n% x\n% x", text, b, b2)
		}
		if got, _ := sd2.SDDL(); got != text {
			t.Errorf("%q: after the binary round trip: %q", text, got)
		}
	}
}

func TestSDDLParseForms(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		// Case, white space and number forms are accepted and printed canonically.
		{"o:ba g:sy d:pai (a;ci;ka;;;sy) (a ; ci ; kr ; ; ; s-1-5-32-545)", "O:BAG:SYD:PAI(A;CI;KA;;;SY)(A;CI;KR;;;BU)"},
		{"D:(A;;0xF003F;;;BA)(A;;131097;;;BU)", "D:(A;;KA;;;BA)(A;;KR;;;BU)"},
		{"D:(A;;KX;;;BU)", "D:(A;;KR;;;BU)"}, // KEY_EXECUTE is KEY_READ
		{"D:(A;;KRWD;;;BU)", "D:(A;;0x60019;;;BU)"},
		{"D:(A;;GAGR;;;BU)", "D:(A;;GAGR;;;BU)"},
		{"D:(A;;CCSWRPRC;;;BU)", "D:(A;;KR;;;BU)"},
		{"S:(AU;FA;KA;;;WD)D:(A;;KA;;;BA)G:SYO:BA", "O:BAG:SYD:(A;;KA;;;BA)S:(AU;FA;KA;;;WD)"},
		{"O:S-1-5-32-544", "O:BA"},
		{"O:S-1-0x100000000-7", "O:S-1-4294967296-7"},
		{"D:PAI", "D:PAI"},
		{"D:P(A;;KA;;;BA)S:P", "D:P(A;;KA;;;BA)S:P"},
	} {
		sd, err := ParseSDDL(c.in)
		if err != nil {
			t.Errorf("ParseSDDL(%q): %v", c.in, err)
			continue
		}
		if got, _ := sd.SDDL(); got != c.want {
			t.Errorf("ParseSDDL(%q) prints %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSDDLErrors(t *testing.T) {
	for _, c := range []struct {
		in  string
		pos int
		msg string
	}{
		{"X:BA", 0, "expected O:, G:, D: or S:"},
		{"O:BA O:SY", 5, "given twice"},
		{"O:ZZ", 2, "unknown SID alias"},
		{"O:S-1-", 6, "bad identifier authority"},
		{"O:S-1-x", 6, "bad identifier authority"},
		{"O:S-1-5-", 8, "bad sub-authority"},
		{"O:S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16", 44, "more than 15 sub-authorities"},
		{"O:S-1-5-99999999999", 8, "bad sub-authority"},
		{"D:(A;;KA;;;BA", 2, "without a closing parenthesis"},
		{"D:(A;;KA;;BA)", 2, "6 fields"},
		{"D:(Q;;KA;;;BA)", 3, "unknown or unsupported ACE type"},
		{"D:(A;XX;KA;;;BA)", 5, "unknown ACE flag"},
		{"D:(A;C;KA;;;BA)", 5, "unknown ACE flag"},
		{"D:(A;;ZZ;;;BA)", 6, "unknown rights"},
		{"D:(A;;;;;BA)", 6, "empty rights"},
		{"D:(A;;0x1ffffffff;;;BA)", 6, "bad rights number"},
		{"D:(OA;;KA;bf967aba-0de6-11d0-a285-00aa003049e2;;BA)", 3, "unknown or unsupported ACE type"},
		{"D:(A;;KA;bf967aba-0de6-11d0-a285-00aa003049e2;;BA)", 9, "object ACEs"},
		{"D:(A;;KA;;;BA x)", 14, "unexpected text after the ACE's SID"},
		{"D:Q(A;;KA;;;BA)", 2, "unknown ACL flag"},
		{"D:NO_ACCESS_CONTROL(A;;KA;;;BA)", 19, "ACEs after NO_ACCESS_CONTROL"},
		{"O", 0, "expected O:, G:, D: or S:"},
	} {
		_, err := ParseSDDL(c.in)
		var se *SDDLError
		if !errors.As(err, &se) {
			t.Errorf("ParseSDDL(%q) = %v, want an *SDDLError", c.in, err)
			continue
		}
		if se.Pos != c.pos || !strings.Contains(se.Msg, c.msg) {
			t.Errorf("ParseSDDL(%q): %v (pos %d), want %q at %d", c.in, err, se.Pos, c.msg, c.pos)
		}
	}
}

// A descriptor with an ACE that SDDL (as this package speaks it) cannot express is not
// printed wrongly: SDDL fails and names the ACE.
func TestSDDLUnprintable(t *testing.T) {
	sd, err := ParseSDDL("D:(A;;KA;;;BA)")
	if err != nil {
		t.Fatal(err)
	}
	// An object ACE (type 5) kept raw: header, mask, flags 0, SID.
	raw := append([]byte{ACCESS_ALLOWED_OBJECT_ACE_TYPE, 0, 0, 0, 0x3f, 0, 0x0f, 0, 0, 0, 0, 0}, Administrators...)
	raw[2] = byte(len(raw))
	sd.DACL.ACEs = append(sd.DACL.ACEs, ACE{Type: raw[0], Raw: raw})
	parsed, err := Parse(sd.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if parsed.DACL.ACEs[1].Raw == nil || !bytes.Equal(parsed.DACL.ACEs[1].Raw, raw) {
		t.Fatalf("object ACE not kept raw: %+v", parsed.DACL.ACEs[1])
	}
	_, err = parsed.SDDL()
	var se *SDDLError
	if !errors.As(err, &se) || !strings.Contains(se.Text, "ACE 1 of type 0x5") {
		t.Fatalf("SDDL of an object ACE: %v", err)
	}
	if !bytes.Equal(parsed.Bytes(), sd.Bytes()) {
		t.Fatal("a raw ACE changed through Parse and Bytes")
	}
}

func TestSIDs(t *testing.T) {
	for _, c := range []struct {
		sid  SID
		text string
	}{
		{Administrators, "S-1-5-32-544"}, {Everyone, "S-1-1-0"}, {LocalSystem, "S-1-5-18"},
		{AuthenticatedUsers, "S-1-5-11"}, {CreatorOwner, "S-1-3-0"}, {Users, "S-1-5-32-545"},
		{UnixUser(65534), "S-1-22-1-65534"}, {UnixGroup(0), "S-1-22-2-0"},
	} {
		if c.sid.String() != c.text {
			t.Errorf("%q.String() = %q", c.text, c.sid.String())
		}
		if s, err := ParseSID(c.text); err != nil || s != c.sid {
			t.Errorf("ParseSID(%q) = %v, %v", c.text, s, err)
		}
	}
	if id, user, ok := UnixUser(1000).UnixID(); !ok || !user || id != 1000 {
		t.Errorf("UnixID of S-1-22-1-1000: %d %v %v", id, user, ok)
	}
	if id, user, ok := UnixGroup(7).UnixID(); !ok || user || id != 7 {
		t.Errorf("UnixID of S-1-22-2-7: %d %v %v", id, user, ok)
	}
	if _, _, ok := Administrators.UnixID(); ok {
		t.Error("BA is not a Unix id")
	}
	if s, err := ParseSID("BA"); err != nil || s != Administrators {
		t.Errorf("ParseSID(BA) = %v, %v", s, err)
	}
	if _, err := ParseSID("S-1-5-32-544x"); err == nil {
		t.Error("ParseSID accepted trailing text")
	}
}

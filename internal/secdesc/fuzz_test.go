package secdesc

import (
	"bytes"
	"testing"
)

// FuzzParse: any bytes either fail with an error or give a descriptor whose encoding
// parses back to the same encoding, and whose SDDL, when it has one, parses to a
// descriptor with that same SDDL.
func FuzzParse(f *testing.F) {
	for _, s := range roundTrips {
		sd, err := ParseSDDL(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(sd.Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sd, err := Parse(b)
		if err != nil {
			return
		}
		enc := sd.Bytes()
		sd2, err := Parse(enc)
		if err != nil {
			t.Fatalf("Parse(Bytes()) of a parsed descriptor: %v", err)
		}
		if !bytes.Equal(sd2.Bytes(), enc) {
			t.Fatal("encoding not stable")
		}
		MaximumAllowed(sd, nobodyTok, KeyMapping)
		Inherit(sd, rootTok, KeyMapping).Bytes()
		text, err := sd.SDDL()
		if err != nil {
			return
		}
		sd3, err := ParseSDDL(text)
		if err != nil {
			t.Fatalf("SDDL %q of a parsed descriptor does not parse: %v", text, err)
		}
		if text3, _ := sd3.SDDL(); text3 != text {
			t.Fatalf("SDDL %q prints back as %q", text, text3)
		}
	})
}

// FuzzParseSDDL: any text either fails with an *SDDLError or gives a descriptor that
// prints to SDDL which parses to the same descriptor.
func FuzzParseSDDL(f *testing.F) {
	for _, s := range roundTrips {
		f.Add(s)
	}
	f.Add("D:(A;;KA;;;BA")
	f.Add("O:S-1-0x1-2")
	f.Fuzz(func(t *testing.T, s string) {
		sd, err := ParseSDDL(s)
		if err != nil {
			if _, ok := err.(*SDDLError); !ok {
				t.Fatalf("ParseSDDL(%q): %T %v, want *SDDLError", s, err, err)
			}
			return
		}
		text, err := sd.SDDL()
		if err != nil {
			t.Fatalf("SDDL of %q: %v", s, err)
		}
		sd2, err := ParseSDDL(text)
		if err != nil {
			t.Fatalf("printed %q of %q does not parse: %v", text, s, err)
		}
		if !bytes.Equal(sd2.Bytes(), sd.Bytes()) {
			t.Fatalf("%q → %q changes the descriptor", s, text)
		}
	})
}

package utf16le

import (
	"bytes"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, s := range []string{"", "abc", "Grüße", "日本", "𝄞 clef", "a\x00b"} {
		b := Encode(s)
		if got := Decode(b); got != s {
			t.Errorf("Decode(Encode(%q)) = %q", s, got)
		}
		if len(b) != 2*Len(s) {
			t.Errorf("Len(%q) = %d, encoded %d bytes", s, Len(s), len(b))
		}
		if got := FromUnits(Units(b)); !bytes.Equal(got, b) {
			t.Errorf("FromUnits(Units(%x)) = %x", b, got)
		}
	}
	z := EncodeZ("ab")
	if !bytes.Equal(z, []byte{'a', 0, 'b', 0, 0, 0}) {
		t.Errorf("EncodeZ(ab) = %x", z)
	}
	if got := DecodeZ(append(z, 'c', 0)); got != "ab" {
		t.Errorf("DecodeZ = %q", got)
	}
	if got := Decode([]byte{'a', 0, 'b'}); got != "a" {
		t.Errorf("odd byte: Decode = %q", got)
	}
	if got := Decode([]byte{0x00, 0xd8}); got != "\uFFFD" {
		t.Errorf("lone surrogate: Decode = %q", got)
	}
}

package regtype

import "testing"

func TestNames(t *testing.T) {
	for typ := range uint32(len(names)) {
		n := Name(typ)
		if n == "" {
			t.Fatalf("type %d has no name", typ)
		}
		if got, ok := ByName(n); !ok || got != typ {
			t.Errorf("ByName(%q) = %d, %v; want %d", n, got, ok, typ)
		}
	}
	if got, ok := ByName("reg_dword_little_endian"); !ok || got != REG_DWORD {
		t.Errorf("ByName(reg_dword_little_endian) = %d, %v", got, ok)
	}
	if n := Name(12); n != "" {
		t.Errorf("Name(12) = %q", n)
	}
	if _, ok := ByName("REG_BOGUS"); ok {
		t.Error("ByName(REG_BOGUS) succeeded")
	}
}

package winerr

import "testing"

func TestErrno(t *testing.T) {
	if got := ERROR_KEY_DELETED.Error(); got != "Illegal operation attempted on a registry key that has been marked for deletion." {
		t.Errorf("ERROR_KEY_DELETED.Error() = %q", got)
	}
	if got := ERROR_KEY_DELETED.Name(); got != "ERROR_KEY_DELETED" {
		t.Errorf("Name() = %q", got)
	}
	if got := Errno(4242).Error(); got != "Win32 error 4242." {
		t.Errorf("unknown code: %q", got)
	}
	if _, ok := Lookup(4242); ok {
		t.Error("Lookup(4242) found a message")
	}
	for e, f := range facts {
		if f.name == "" || f.message == "" {
			t.Errorf("code %d lacks a name or a message", uint32(e))
		}
	}
}

package registry

import (
	"errors"
	"os"
	"testing"
)

// TestHandlesAcrossLink is the heart of KB Q316772: a handle opened through
// ControlSet001 and one opened through CurrentControlSet are on the same key object.
func TestHandlesAcrossLink(t *testing.T) {
	r, s := newTestSession(t)
	daemon := r.NewSession(Owner{PID: os.Getpid(), Exe: "wolfpackd"})
	winlogon := r.NewSession(Owner{PID: 612, UID: 0, Exe: "winlogon.exe"})
	mustCreate(t, daemon, `HKLM\SYSTEM\CurrentControlSet\Services\MSExchangeIMC\Parameters`)

	leak, err := winlogon.OpenKey(HKEY_LOCAL_MACHINE, `System\ControlSet001\Services\MSExchangeIMC\Parameters`, 0, KEY_READ)
	if err != nil {
		t.Fatal(err)
	}
	mine, err := s.OpenPath(`HKLM\SYSTEM\CurrentControlSet\Services\MSExchangeIMC\Parameters`)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := winlogon.HandleInfo(leak)
	b, _ := s.HandleInfo(mine)
	if a.Resolved != b.Resolved || a.Resolved != `HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\MSExchangeIMC\Parameters` {
		t.Errorf("resolved %q and %q", a.Resolved, b.Resolved)
	}
	if a.OpenedAs == b.OpenedAs || a.OpenedAs != `HKEY_LOCAL_MACHINE\System\ControlSet001\Services\MSExchangeIMC\Parameters` {
		t.Errorf("opened as %q and %q", a.OpenedAs, b.OpenedAs)
	}

	svc, _ := daemon.OpenPath(`HKLM\SYSTEM\CurrentControlSet\Services\MSExchangeIMC`)
	hs, err := daemon.Handles(svc, true)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, h := range hs {
		if h.Owner.Exe == "winlogon.exe" && h.Owner.PID == 612 && h.ID == leak && h.Access == KEY_READ && !h.Opened.IsZero() {
			found = true
		}
	}
	if !found || len(hs) != 4 { // the daemon's two, winlogon's, the test's
		t.Errorf("Handles(subtree) = %+v", hs)
	}
	if hs, _ := daemon.Handles(svc, false); len(hs) != 1 || hs[0].ID != svc {
		t.Errorf("Handles(key only) = %+v", hs)
	}

	// Deleting through either name makes both handles answer ERROR_KEY_DELETED.
	if err := s.DeleteKey(HKEY_LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Services\MSExchangeIMC\Parameters`); err != nil {
		t.Fatal(err)
	}
	if _, err := winlogon.EnumValues(leak); !errors.Is(err, ERROR_KEY_DELETED) {
		t.Errorf("winlogon's handle after delete: %v", err)
	}
	if hs, _ := daemon.Handles(svc, true); len(hs) != 1 {
		t.Errorf("handles to deleted keys still listed: %+v", hs)
	}

	// A session's handles die with it.
	winlogon.Close()
	if _, err := winlogon.OpenPath(`HKLM\SOFTWARE`); !errors.Is(err, ERROR_INVALID_HANDLE) {
		t.Errorf("closed session: %v", err)
	}
}

package checkpoint

import (
	"context"
	"errors"
	"testing"
	"time"

	"wolfpack/internal/eventlog"
	"wolfpack/internal/registry"
	"wolfpack/internal/secdesc"
)

// node is one node's registry with a program session that writes values.
type node struct {
	reg  *registry.Registry
	prog *registry.Session
	m    *Manager
}

func newNode(t *testing.T, name string, store Store, events Reporter) *node {
	t.Helper()
	reg := registry.OpenMemory(registry.Options{})
	t.Cleanup(func() { reg.Close() })
	s := reg.NewSession(registry.Owner{PID: 1, Exe: "wolfpackd"})
	t.Cleanup(func() { s.Close() })
	m := New(Config{Node: name, Registry: NewSessionRegistry(s), Store: store, Events: events, RetryInterval: 10 * time.Millisecond})
	t.Cleanup(func() { m.Close() })
	prog := reg.NewSession(registry.Owner{PID: 100, Exe: "imc"})
	t.Cleanup(func() { prog.Close() })
	return &node{reg: reg, prog: prog, m: m}
}

func (n *node) setString(t *testing.T, path, name, val string) {
	t.Helper()
	h, _, err := n.prog.CreatePath(path, registry.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer n.prog.CloseKey(h)
	data := utf16z(val)
	if err := n.prog.SetValue(h, name, registry.REG_SZ, data); err != nil {
		t.Fatal(err)
	}
}

func (n *node) getString(t *testing.T, path, name string) string {
	t.Helper()
	h, err := n.prog.OpenPath(path)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	defer n.prog.CloseKey(h)
	_, data, err := n.prog.QueryValue(h, name)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return fromUTF16z(data)
}

func utf16z(s string) []byte {
	var b []byte
	for _, r := range s + "\x00" {
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}

func fromUTF16z(b []byte) string {
	var r []rune
	for i := 0; i+1 < len(b); i += 2 {
		c := rune(b[i]) | rune(b[i+1])<<8
		if c == 0 {
			break
		}
		r = append(r, c)
	}
	return string(r)
}

const params = `HKLM\SYSTEM\CurrentControlSet\Services\MSExchangeIMC\Parameters`

// TestQ316772OnRealRegistry: the article's story on two in-memory registries — a handle
// opened through ControlSet001 blocks the restore through CurrentControlSet, the event
// names it, and once it closes the next online restores node 1's values.
func TestQ316772OnRealRegistry(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	events := &fakeEvents{}
	n1 := newNode(t, "N1", store, events)
	n2 := newNode(t, "N2", store, events)
	res := Resource{Name: "Microsoft Exchange Internet Mail Service", Group: "Exchange Group", Keys: []string{imcKey},
		Private: map[string]string{PropRestoreFailureAction: "Continue"}}
	f1 := Fence{Node: "N1", Group: res.Group, Revision: 1}
	store.own(f1)

	n1.setString(t, params, "SmartHost", "old.example.com")
	n2.setString(t, params, "SmartHost", "old.example.com")
	if err := n1.m.BeforeOnline(ctx, res, f1); err != nil {
		t.Fatal(err)
	}
	n1.m.Online(ctx, res, f1)
	n1.setString(t, params, "SmartHost", "mail.contoso.com")
	if !eventually(func() bool {
		_, data, err := store.Latest(ctx, res.Name, imcKey)
		return err == nil && ContentDigest(data) == digestOfLive(t, n1)
	}) {
		t.Fatal("node 1's change not captured")
	}
	if err := n1.m.Offline(ctx, res, f1); err != nil {
		t.Fatal(err)
	}

	// On node 2 a process watches Parameters through the other name.
	watcher := n2.reg.NewSession(registry.Owner{PID: 4242, UID: 0, Exe: "reg"})
	wh, err := watcher.OpenPath(`HKLM\SYSTEM\ControlSet001\Services\MSExchangeIMC\Parameters`)
	if err != nil {
		t.Fatal(err)
	}
	f2 := Fence{Node: "N2", Group: res.Group, Revision: 2}
	store.own(f2)
	if err := n2.m.BeforeOnline(ctx, res, f2); err != nil {
		t.Fatal(err)
	}
	ev, ok := events.find(eventlog.EventCheckpointRestoreFailed)
	if !ok {
		t.Fatal("no event 1024")
	}
	if v, _ := ev.DataValue("Holder1ProcessName"); v != "reg" {
		t.Fatalf("holder %q", v)
	}
	if v, _ := ev.DataValue("Holder1Key"); v != `HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\MSExchangeIMC\Parameters` {
		t.Fatalf("holder key %q", v)
	}
	if got := n2.getString(t, params, "SmartHost"); got != "old.example.com" {
		t.Fatalf("node 2 has %q under Continue", got)
	}
	n2.m.Online(ctx, res, f2)
	n2.m.Offline(ctx, res, f2)

	// The process exits; the group comes back to node 2: restored, no new 1024.
	watcher.CloseKey(wh)
	watcher.Close()
	events.events = nil
	f3 := Fence{Node: "N2", Group: res.Group, Revision: 3}
	store.own(f3)
	if err := n2.m.BeforeOnline(ctx, res, f3); err != nil {
		t.Fatal(err)
	}
	if len(events.ids()) != 0 {
		t.Fatalf("events %v", events.ids())
	}
	if got := n2.getString(t, params, "SmartHost"); got != "mail.contoso.com" {
		t.Fatalf("node 2 has %q after the holder left", got)
	}
	// The restore and the captures that follow commit nothing new.
	before := store.count()
	n2.m.Online(ctx, res, f3)
	time.Sleep(150 * time.Millisecond)
	n2.m.Offline(ctx, res, f3)
	if store.count() != before {
		t.Fatal("the restored content was committed again")
	}
}

func digestOfLive(t *testing.T, n *node) string {
	data, err := n.m.cfg.Registry.Save(context.Background(), imcKey)
	if err != nil {
		t.Fatal(err)
	}
	return ContentDigest(data)
}

func TestForceOnRealRegistryStalesHandles(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	events := &fakeEvents{}
	n2 := newNode(t, "N2", store, events)
	src := newNode(t, "N1", store, events)
	src.setString(t, params, "SmartHost", "new")
	data, err := src.m.cfg.Registry.Save(ctx, imcKey)
	if err != nil {
		t.Fatal(err)
	}
	store.seed("R", imcKey, string(data))
	n2.setString(t, params, "SmartHost", "old")
	holder := n2.reg.NewSession(registry.Owner{PID: 7, Exe: "winlogon"})
	hh, err := holder.OpenPath(`HKLM\SYSTEM\ControlSet001\Services\MSExchangeIMC\Parameters`)
	if err != nil {
		t.Fatal(err)
	}
	f := Fence{Node: "N2", Group: "G", Revision: 1}
	store.own(f)
	if err := n2.m.BeforeOnline(ctx, Resource{Name: "R", Group: "G", Keys: []string{imcKey}, Private: map[string]string{PropRestoreFailureAction: "Force"}}, f); err != nil {
		t.Fatal(err)
	}
	if got := n2.getString(t, params, "SmartHost"); got != "new" {
		t.Fatalf("after a forced restore: %q", got)
	}
	if _, _, err := holder.QueryValue(hh, "SmartHost"); !errors.Is(err, registry.ERROR_KEY_DELETED) {
		t.Fatalf("the holder's handle answers %v, want ERROR_KEY_DELETED", err)
	}
	if _, ok := events.find(eventlog.EventCheckpointRestoreForced); !ok {
		t.Fatalf("no forced-restore warning: %v", events.ids())
	}
}

func TestContentDigestIgnoresTimestamps(t *testing.T) {
	ctx := context.Background()
	n := newNode(t, "N1", newFakeStore(), nil)
	n.setString(t, params, "A", "1")
	a, _ := n.m.cfg.Registry.Save(ctx, imcKey)
	time.Sleep(20 * time.Millisecond)
	n.setString(t, params, "A", "1") // same value again: a new LastWrite
	b, _ := n.m.cfg.Registry.Save(ctx, imcKey)
	if ContentDigest(a) != ContentDigest(b) {
		t.Fatal("digest changed with the timestamps only")
	}
	n.setString(t, params, "A", "2")
	c, _ := n.m.cfg.Registry.Save(ctx, imcKey)
	if ContentDigest(a) == ContentDigest(c) {
		t.Fatal("digest did not change with the content")
	}
	if ContentDigest([]byte("not a hive")) == ContentDigest([]byte("not a hivf")) {
		t.Fatal("raw digests collide")
	}
}

// TestSecurityTravelsWithCheckpoint: a security descriptor set on the owner — on the
// checkpointed key itself and on a subkey — is captured as a change of its own and
// arrives on the next node with the values, byte for byte.
func TestSecurityTravelsWithCheckpoint(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	n1 := newNode(t, "N1", store, nil)
	n2 := newNode(t, "N2", store, nil)
	res := Resource{Name: "R", Group: "G", Keys: []string{imcKey}}
	f1 := Fence{Node: "N1", Group: res.Group, Revision: 1}
	store.own(f1)
	n1.setString(t, params, "SmartHost", "mail.contoso.com")
	if err := n1.m.BeforeOnline(ctx, res, f1); err != nil {
		t.Fatal(err)
	}
	n1.m.Online(ctx, res, f1)
	if !eventually(func() bool { return store.count() == 1 }) {
		t.Fatalf("first capture: %d versions", store.count())
	}
	setSDDL := func(n *node, path, sddl string) {
		t.Helper()
		sd, err := secdesc.ParseSDDL(sddl)
		if err != nil {
			t.Fatal(err)
		}
		h, err := n.prog.OpenPathAccess(path, 0, registry.WRITE_DAC)
		if err != nil {
			t.Fatal(err)
		}
		defer n.prog.CloseKey(h)
		if err := n.prog.SetSecurity(h, registry.DACL_SECURITY_INFORMATION, sd.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	setSDDL(n1, params, "D:P(A;CI;KA;;;BA)(A;CI;KR;;;S-1-22-1-1000)")
	if !eventually(func() bool { return store.count() == 2 }) {
		t.Fatalf("a descriptor change alone was not captured: %d versions", store.count())
	}
	setSDDL(n1, `HKLM\`+imcKey, "D:(D;CI;KW;;;S-1-22-2-100)")
	if !eventually(func() bool { return store.count() == 3 }) {
		t.Fatalf("the checkpointed key's own descriptor was not captured: %d versions", store.count())
	}
	if err := n1.m.Offline(ctx, res, f1); err != nil {
		t.Fatal(err)
	}

	f2 := Fence{Node: "N2", Group: res.Group, Revision: 2}
	store.own(f2)
	if err := n2.m.BeforeOnline(ctx, res, f2); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{`HKLM\` + imcKey, params} {
		if a, b := sdOf(t, n1, path), sdOf(t, n2, path); a != b {
			t.Errorf("%s: N1 has %s, N2 %s", path, a, b)
		}
	}
	if got := sdOf(t, n2, params); got != "O:BAG:SYD:P(A;CI;KA;;;BA)(A;CI;KR;;;S-1-22-1-1000)" {
		t.Errorf("N2's Parameters: %s", got)
	}
	if got := n2.getString(t, params, "SmartHost"); got != "mail.contoso.com" {
		t.Errorf("N2's value: %q", got)
	}
}

func sdOf(t *testing.T, n *node, path string) string {
	t.Helper()
	h, err := n.prog.OpenPathAccess(path, 0, registry.READ_CONTROL)
	if err != nil {
		t.Fatal(err)
	}
	defer n.prog.CloseKey(h)
	b, err := n.prog.GetSecurity(h, registry.OWNER_SECURITY_INFORMATION|registry.GROUP_SECURITY_INFORMATION|registry.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatal(err)
	}
	sd, err := secdesc.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return sd.String()
}

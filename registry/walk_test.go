package registry_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"wolfpack/registry"
)

// TestWalk: one request delivers the subtree depth first, subkeys in enumeration order
// (upper-cased names), volatile keys included, a link key as itself (not entered), and
// an error from the callback stops the walk.
func TestWalk(t *testing.T) {
	sock, _ := startServer(t)
	c := dial(t, sock)
	for _, p := range []string{`SOFTWARE\W\b`, `SOFTWARE\W\A\x`, `SOFTWARE\W\_c`} {
		k, _, err := registry.CreateKey(c.LocalMachine(), p, registry.ALL_ACCESS)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.SetDWordValue("D", 7); err != nil {
			t.Fatal(err)
		}
		k.Close()
	}
	v, _, err := registry.CreateKeyEx(c.LocalMachine(), `SOFTWARE\W\Vol`, "", registry.REG_OPTION_VOLATILE, registry.ALL_ACCESS)
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	w, err := registry.OpenKey(c.LocalMachine(), `SOFTWARE\W`, registry.READ)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var got []string
	err = w.Walk(func(k *registry.TreeKey) error {
		got = append(got, fmt.Sprintf("%d %s %d", k.Depth, k.Name, len(k.Values)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// '_' (0x5F) sorts after the upper-cased letters, as Windows orders it.
	want := "0 W 0|1 A 0|2 x 1|1 b 1|1 Vol 0|1 _c 1"
	if strings.Join(got, "|") != want {
		t.Errorf("walk = %s, want %s", strings.Join(got, "|"), want)
	}

	sys, err := registry.OpenKey(c.LocalMachine(), `SYSTEM`, registry.READ)
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	var link *registry.TreeKey
	depthAfterLink := -1
	err = sys.Walk(func(k *registry.TreeKey) error {
		if link != nil && depthAfterLink < 0 {
			depthAfterLink = k.Depth
		}
		if k.Link && link == nil {
			cp := *k
			cp.Values = append([]registry.Value(nil), k.Values...)
			link = &cp
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if link == nil || link.Name != "CurrentControlSet" || len(link.Values) != 1 || link.Values[0].Name != "SymbolicLinkValue" || link.Values[0].Type != registry.LINK {
		t.Fatalf("link key = %+v, want CurrentControlSet with its SymbolicLinkValue", link)
	}
	if depthAfterLink > link.Depth {
		t.Errorf("the walk entered the link's target (next depth %d)", depthAfterLink)
	}

	stop := errors.New("stop")
	n := 0
	if err := w.Walk(func(*registry.TreeKey) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("stopping walk: %v after %d keys", err, n)
	}
	w2, err := registry.OpenKey(c.LocalMachine(), `SOFTWARE\W`, registry.SET_VALUE)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	if err := w2.Walk(func(*registry.TreeKey) error { return nil }); !errors.Is(err, registry.ERROR_ACCESS_DENIED) {
		t.Errorf("walk without read access: %v, want ERROR_ACCESS_DENIED", err)
	}
}

package registry_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"wolfpack/registry"
)

func TestValuesAsXSys(t *testing.T) {
	sock, _ := startServer(t)
	c := dial(t, sock)
	k, existed, err := registry.CreateKey(c.LocalMachine(), `SOFTWARE\Wolfpack\Test`, registry.ALL_ACCESS)
	if err != nil || existed {
		t.Fatalf("CreateKey: existed %v, %v", existed, err)
	}
	defer k.Close()
	if _, existed, _ := c.CreateKey(registry.LOCAL_MACHINE, `software\wolfpack\TEST`, registry.READ); !existed {
		t.Error("CreateKey of an existing key (other case) did not report openedExisting")
	}

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(k.SetStringValue("", "default"))
	must(k.SetStringValue("Name", "Größe ✓"))
	must(k.SetExpandStringValue("Path", "%WOLFPACK_TEST_HOME%\\bin"))
	must(k.SetDWordValue("Count", 0xdeadbeef))
	must(k.SetQWordValue("Big", 1<<40+5))
	must(k.SetStringsValue("List", []string{"a", "", "c"}))
	must(k.SetBinaryValue("Blob", []byte{0, 1, 2, 0xff}))

	if s, typ, err := k.GetStringValue("name"); err != nil || s != "Größe ✓" || typ != registry.SZ {
		t.Errorf("GetStringValue = %q, %d, %v", s, typ, err)
	}
	if s, _, err := k.GetStringValue(""); err != nil || s != "default" {
		t.Errorf("default value = %q, %v", s, err)
	}
	s, typ, err := k.GetStringValue("Path")
	if err != nil || typ != registry.EXPAND_SZ {
		t.Fatalf("GetStringValue(Path) = %q, %d, %v", s, typ, err)
	}
	t.Setenv("WOLFPACK_TEST_HOME", "/opt/w")
	if x, _ := registry.ExpandString(s); x != `/opt/w\bin` {
		t.Errorf("ExpandString = %q", x)
	}
	if v, typ, err := k.GetIntegerValue("Count"); err != nil || v != 0xdeadbeef || typ != registry.DWORD {
		t.Errorf("GetIntegerValue(Count) = %#x, %d, %v", v, typ, err)
	}
	if v, typ, err := k.GetIntegerValue("Big"); err != nil || v != 1<<40+5 || typ != registry.QWORD {
		t.Errorf("GetIntegerValue(Big) = %d, %d, %v", v, typ, err)
	}
	if v, _, err := k.GetStringsValue("List"); err != nil || !reflect.DeepEqual(v, []string{"a", "", "c"}) {
		t.Errorf("GetStringsValue = %q, %v", v, err)
	}
	if v, _, err := k.GetBinaryValue("Blob"); err != nil || !bytes.Equal(v, []byte{0, 1, 2, 0xff}) {
		t.Errorf("GetBinaryValue = %x, %v", v, err)
	}

	// Errors compare with == as they do with x/sys.
	if _, _, err := k.GetStringValue("Missing"); err != registry.ErrNotExist {
		t.Errorf("missing value: %v, want ErrNotExist", err)
	}
	if _, _, err := k.GetIntegerValue("Name"); err != registry.ErrUnexpectedType {
		t.Errorf("wrong type: %v, want ErrUnexpectedType", err)
	}
	if _, err := registry.OpenKey(c.LocalMachine(), `SOFTWARE\Nope`, registry.READ); err != registry.ErrNotExist {
		t.Errorf("missing key: %v, want ErrNotExist", err)
	}

	// GetValue: no buffer gives the size; a short one ErrShortBuffer with the size.
	n, typ, err := k.GetValue("Blob", nil)
	if err != nil || n != 4 || typ != registry.BINARY {
		t.Errorf("GetValue(nil) = %d, %d, %v", n, typ, err)
	}
	if n, _, err := k.GetValue("Blob", make([]byte, 2)); err != registry.ErrShortBuffer || n != 4 {
		t.Errorf("GetValue(short) = %d, %v", n, err)
	}
	buf := make([]byte, 8)
	if n, _, err := k.GetValue("Blob", buf); err != nil || !bytes.Equal(buf[:n], []byte{0, 1, 2, 0xff}) {
		t.Errorf("GetValue(buf) = %x, %v", buf[:n], err)
	}

	names, err := k.ReadValueNames(0)
	if err != nil || !reflect.DeepEqual(names, []string{"", "Name", "Path", "Count", "Big", "List", "Blob"}) {
		t.Errorf("ReadValueNames = %q, %v", names, err)
	}
	if names, err := k.ReadValueNames(2); err != nil || len(names) != 2 {
		t.Errorf("ReadValueNames(2) = %q, %v", names, err)
	}
	if names, err := k.ReadValueNames(20); err != io.EOF || len(names) != 7 {
		t.Errorf("ReadValueNames(20) = %d names, %v; want 7 and io.EOF", len(names), err)
	}
	st, err := k.Stat()
	if err != nil || st.ValueCount != 7 || st.SubKeyCount != 0 || st.MaxValueLen != 50 || st.ModTime().IsZero() {
		t.Errorf("Stat = %+v, %v", st, err)
	}

	must(k.DeleteValue("Blob"))
	if err := k.DeleteValue("Blob"); err != registry.ErrNotExist {
		t.Errorf("second DeleteValue: %v", err)
	}
}

func TestKeysAsXSys(t *testing.T) {
	sock, _ := startServer(t)
	c := dial(t, sock)
	sw, err := registry.OpenKey(c.LocalMachine(), "SOFTWARE", registry.ALL_ACCESS)
	if err != nil {
		t.Fatal(err)
	}
	defer sw.Close()
	for _, name := range []string{`App\B`, `App\a`, `App\C\D`} {
		k, _, err := registry.CreateKey(sw, name, registry.ALL_ACCESS)
		if err != nil {
			t.Fatal(err)
		}
		k.Close()
	}
	app, err := registry.OpenKey(sw, "App", registry.READ)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	names, err := app.ReadSubKeyNames(0)
	if err != nil || !reflect.DeepEqual(names, []string{"a", "B", "C"}) {
		t.Errorf("ReadSubKeyNames = %q, %v (want Windows' case-blind order)", names, err)
	}
	// DeleteKey refuses a key with subkeys (as Windows), DeleteTree does not.
	if err := registry.DeleteKey(sw, `App\C`); !errors.Is(err, registry.ERROR_ACCESS_DENIED) {
		t.Errorf("DeleteKey with subkeys: %v", err)
	}
	if err := registry.DeleteKey(sw, `App\C\D`); err != nil {
		t.Fatal(err)
	}
	if err := registry.DeleteTree(sw, "App"); err != nil {
		t.Fatal(err)
	}
	// The handle follows the key object: it is deleted now.
	if _, err := app.ReadSubKeyNames(0); err != registry.ERROR_KEY_DELETED {
		t.Errorf("deleted key: %v, want ERROR_KEY_DELETED", err)
	}
	if err := app.Close(); err != nil {
		t.Errorf("Close of a deleted key's handle: %v", err)
	}
	if err := app.Close(); err != registry.ERROR_INVALID_HANDLE {
		t.Errorf("second Close: %v, want ERROR_INVALID_HANDLE", err)
	}
	// Predefined keys close without error and stay usable.
	if err := c.LocalMachine().Close(); err != nil {
		t.Error(err)
	}
	// The roots a node does not have exist for ported code, and fail as bad handles.
	if _, err := c.OpenKey(registry.CURRENT_USER, "Software", registry.READ); err != registry.ERROR_INVALID_HANDLE {
		t.Errorf("HKEY_CURRENT_USER: %v", err)
	}
	if _, err := registry.OpenRemoteKey("N2", registry.LOCAL_MACHINE); err != registry.ERROR_BAD_NETPATH {
		t.Errorf("OpenRemoteKey: %v", err)
	}
	if k, err := registry.OpenRemoteKey("", c.LocalMachine()); err != nil || k != c.LocalMachine() {
		t.Errorf("OpenRemoteKey(\"\"): %v %v", k, err)
	}
}

func TestCurrentControlSetLink(t *testing.T) {
	sock, _ := startServer(t)
	c := dial(t, sock)
	k, _, err := registry.CreateKey(c.LocalMachine(), `SYSTEM\CurrentControlSet\Services\MSExchangeIMC\Parameters`, registry.ALL_ACCESS)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if err := k.SetStringValue("Host", "mail1"); err != nil {
		t.Fatal(err)
	}
	k2, err := registry.OpenKey(c.LocalMachine(), `System\ControlSet001\Services\MSExchangeIMC\Parameters`, registry.READ)
	if err != nil {
		t.Fatal(err)
	}
	defer k2.Close()
	if s, _, err := k2.GetStringValue("Host"); err != nil || s != "mail1" {
		t.Errorf("through ControlSet001: %q, %v", s, err)
	}
	hs, err := k2.Handles(false)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 2 {
		t.Fatalf("Handles = %+v, want both names' handles", hs)
	}
	for _, h := range hs {
		if h.Resolved != `HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\MSExchangeIMC\Parameters` {
			t.Errorf("resolved %q", h.Resolved)
		}
	}
}

func TestPeerCredentialsAndHandleLifetime(t *testing.T) {
	sock, _ := startServer(t)
	holder := dial(t, sock)
	observer := dial(t, sock)
	k, _, err := registry.CreateKey(holder.LocalMachine(), `SOFTWARE\Held`, registry.READ)
	if err != nil {
		t.Fatal(err)
	}
	root, err := registry.OpenKey(observer.LocalMachine(), `SOFTWARE\Held`, registry.READ)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	hs, err := root.Handles(true)
	if err != nil {
		t.Fatal(err)
	}
	exe, _ := os.ReadFile("/proc/self/comm")
	var found bool
	for _, h := range hs {
		if h.ID == k.Handle() {
			found = true
			if h.PID != os.Getpid() || h.UID != os.Getuid() || h.Exe != string(bytes.TrimSpace(exe)) {
				t.Errorf("holder = pid %d uid %d exe %q, want %d %d %q", h.PID, h.UID, h.Exe, os.Getpid(), os.Getuid(), bytes.TrimSpace(exe))
			}
			if h.OpenedAs != `HKEY_LOCAL_MACHINE\SOFTWARE\Held` || h.Access != registry.READ || time.Since(h.Opened) > time.Minute {
				t.Errorf("holder = %+v", h)
			}
		}
	}
	if !found {
		t.Fatalf("the holder's handle is not listed: %+v", hs)
	}
	// Closing the connection closes its handles.
	holder.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		hs, err := root.Handles(true)
		if err != nil {
			t.Fatal(err)
		}
		if len(hs) == 1 && hs[0].ID == root.Handle() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("handles after the holder's connection closed: %+v", hs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := k.Close(); err != registry.ErrClosed {
		t.Errorf("call on a closed connection: %v", err)
	}
}

func TestNotify(t *testing.T) {
	sock, _ := startServer(t)
	watcher := dial(t, sock)
	writer := dial(t, sock)
	k, _, err := registry.CreateKey(watcher.LocalMachine(), `SOFTWARE\Watched`, registry.ALL_ACCESS)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := k.Notify(ctx, true, registry.REG_NOTIFY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	w, _, err := registry.CreateKey(writer.LocalMachine(), `SOFTWARE\Watched\Sub`, registry.ALL_ACCESS)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.SetDWordValue("x", 1); err != nil {
		t.Fatal(err)
	}
	want := map[registry.Change]bool{
		{Key: `HKEY_LOCAL_MACHINE\SOFTWARE\Watched\Sub`, Filter: registry.REG_NOTIFY_CHANGE_NAME}:                                 false,
		{Key: `HKEY_LOCAL_MACHINE\SOFTWARE\Watched\Sub`, Filter: registry.REG_NOTIFY_CHANGE_LAST_SET, Value: "x", HasValue: true}: false,
	}
	timeout := time.After(5 * time.Second)
	for missing := len(want); missing > 0; {
		select {
		case c := <-ch:
			if done, ok := want[c]; ok && !done {
				want[c] = true
				missing--
			}
		case <-timeout:
			t.Fatalf("changes not seen: %v", want)
		}
	}
	// Calls still work on the connection while a watch pumps it.
	if _, err := k.Stat(); err != nil {
		t.Fatal(err)
	}
	cancel()
	for range ch {
	}
	// Deleting the key ends a watch too.
	ch2, err := k.Notify(context.Background(), false, registry.REG_NOTIFY_CHANGE_LAST_SET)
	if err != nil {
		t.Fatal(err)
	}
	if err := registry.DeleteTree(writer.LocalMachine(), `SOFTWARE\Watched`); err != nil {
		t.Fatal(err)
	}
	select {
	case _, ok := <-ch2:
		for ok {
			_, ok = <-ch2
		}
	case <-time.After(5 * time.Second):
		t.Fatal("watch of a deleted key did not end")
	}
}

func TestPipelinedConcurrentCalls(t *testing.T) {
	sock, _ := startServer(t)
	c := dial(t, sock)
	k, _, err := registry.CreateKey(c.LocalMachine(), `SOFTWARE\Pipe`, registry.ALL_ACCESS)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				name := fmt.Sprintf("v%d", g)
				if err := k.SetQWordValue(name, uint64(g*1000+i)); err != nil {
					errs <- err
					return
				}
				v, _, err := k.GetIntegerValue(name)
				if err != nil || v != uint64(g*1000+i) {
					errs <- fmt.Errorf("goroutine %d read %d, %v", g, v, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestDefaultConnection(t *testing.T) {
	sock, _ := startServer(t)
	t.Setenv("WOLFPACK_DATA", filepath.Dir(sock))
	// Code ported from x/sys with only the import changed.
	k, _, err := registry.CreateKey(registry.LOCAL_MACHINE, `SOFTWARE\Ported`, registry.ALL_ACCESS)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if err := k.SetStringValue("v", "1"); err != nil {
		t.Fatal(err)
	}
	k2, err := registry.OpenKey(registry.LOCAL_MACHINE, `SOFTWARE\Ported`, registry.QUERY_VALUE)
	if err != nil {
		t.Fatal(err)
	}
	defer k2.Close()
	if k2.Conn() != k.Conn() {
		t.Error("the default connection is not shared")
	}
	if s, _, err := k2.GetStringValue("v"); err != nil || s != "1" {
		t.Errorf("%q, %v", s, err)
	}
}

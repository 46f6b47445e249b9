package registry_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"wolfpack/internal/regipc"
	engine "wolfpack/internal/registry"
	"wolfpack/registry"
)

// TestKeySecurity: GetKeySecurity and SetKeySecurity over the socket, SDDL both ways,
// and REG_NOTIFY_CHANGE_SECURITY.
func TestKeySecurity(t *testing.T) {
	sock, _ := startServer(t)
	c := dial(t, sock)
	k, _, err := registry.CreateKey(c.LocalMachine(), `SOFTWARE\Sec\Sub`, registry.ALL_ACCESS)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	sd, err := k.GetKeySecurity(registry.OWNER_SECURITY_INFORMATION | registry.GROUP_SECURITY_INFORMATION | registry.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatal(err)
	}
	// Created by root (this process): owned by Administrators, inheriting from SOFTWARE.
	const want = "O:BAG:S-1-22-2-0D:AI(A;ID;KA;;;BA)(A;CIIOID;KA;;;CO)(A;CIID;KR;;;BU)(A;CIID;KA;;;BA)(A;CIID;KA;;;SY)"
	if sd.String() != want {
		t.Errorf("descriptor %s, want %s", sd, want)
	}

	parent, err := registry.OpenKey(c.LocalMachine(), `SOFTWARE\Sec`, registry.ALL_ACCESS)
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes, err := parent.Notify(ctx, true, registry.REG_NOTIFY_CHANGE_SECURITY)
	if err != nil {
		t.Fatal(err)
	}
	set, err := registry.SecurityDescriptorFromString("D:P(A;CI;KA;;;BA)(A;CI;KR;;;S-1-22-1-1000)")
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.SetKeySecurity(registry.DACL_SECURITY_INFORMATION, set); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	timeout := time.After(10 * time.Second)
	for len(got) < 2 {
		select {
		case ch := <-changes:
			if ch.Filter != registry.REG_NOTIFY_CHANGE_SECURITY {
				t.Fatalf("change %+v", ch)
			}
			got[ch.Key] = true
		case <-timeout:
			t.Fatalf("security changes seen: %v, want the key and its subkey", got)
		}
	}
	if !got[`HKEY_LOCAL_MACHINE\SOFTWARE\Sec`] || !got[`HKEY_LOCAL_MACHINE\SOFTWARE\Sec\Sub`] {
		t.Errorf("security changes %v", got)
	}
	sd, err = k.GetKeySecurity(registry.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatal(err)
	}
	if s := sd.String(); s != "D:AI(A;CIID;KA;;;BA)(A;CIID;KR;;;S-1-22-1-1000)" {
		t.Errorf("the subkey inherited %s", s)
	}

	if _, err := registry.SecurityDescriptorFromString("D:(A;;KA;;;ZZ)"); err == nil {
		t.Error("bad SDDL accepted")
	} else {
		var se *registry.SDDLError
		if !errors.As(err, &se) || se.Pos != 11 {
			t.Errorf("bad SDDL: %v", err)
		}
	}
	if err := k.SetKeySecurity(registry.DACL_SECURITY_INFORMATION, registry.SecurityDescriptor("garbage")); err != registry.ERROR_INVALID_SECURITY_DESCR {
		t.Errorf("garbage descriptor: %v", err)
	}
	ro, err := registry.OpenKey(c.LocalMachine(), `SOFTWARE\Sec`, registry.QUERY_VALUE)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.GetKeySecurity(registry.DACL_SECURITY_INFORMATION); err != registry.ERROR_ACCESS_DENIED {
		t.Errorf("GetKeySecurity without READ_CONTROL: %v", err)
	}
	if err := ro.SetKeySecurity(registry.DACL_SECURITY_INFORMATION, set); err != registry.ERROR_ACCESS_DENIED {
		t.Errorf("SetKeySecurity without WRITE_DAC: %v", err)
	}
}

// aclChildEnv makes the test binary a client that runs as an ordinary user (the test
// starts it as uid 65534 in groups 65534 and 4242) and prints what each call gave.
const aclChildEnv = "WOLFPACK_ACL_CHILD"

func aclChild(sock string) int {
	c, err := registry.Dial(context.Background(), sock)
	if err != nil {
		fmt.Println("dial:", err)
		return 1
	}
	defer c.Close()
	lm := c.LocalMachine()
	say := func(what string, err error) { fmt.Printf("%s: %v\n", what, errText(err)) }
	k, err := registry.OpenKey(lm, `SOFTWARE\Shared`, registry.READ)
	say("read SOFTWARE\\Shared", err)
	if err == nil {
		v, _, err := k.GetIntegerValue("V")
		fmt.Printf("value: %d %v\n", v, errText(err))
		say("write through a READ handle", k.SetDWordValue("V", 8))
		k.Close()
	}
	_, err = registry.OpenKey(lm, `SOFTWARE\Shared`, registry.SET_VALUE)
	say("open SOFTWARE\\Shared to write", err)
	_, _, err = registry.CreateKey(lm, `SOFTWARE\Shared\New`, registry.ALL_ACCESS)
	say("create under SOFTWARE\\Shared", err)
	_, err = registry.OpenKey(lm, `SOFTWARE\Private`, registry.READ)
	say("read SOFTWARE\\Private", err)
	k, err = registry.OpenKey(lm, `SOFTWARE\GroupOnly`, registry.SET_VALUE)
	say("open SOFTWARE\\GroupOnly to write", err)
	if err == nil {
		say("write SOFTWARE\\GroupOnly", k.SetDWordValue("W", 1))
		k.Close()
	}
	_, err = registry.OpenKey(lm, `SOFTWARE\OtherGroup`, registry.SET_VALUE)
	say("open SOFTWARE\\OtherGroup to write", err)
	k, _, err = registry.CreateKey(c.Users(), `S-1-22-1-65534\Software`, registry.ALL_ACCESS)
	say("create in HKU\\S-1-22-1-65534", err)
	if err == nil {
		sd, err := k.GetKeySecurity(registry.OWNER_SECURITY_INFORMATION | registry.GROUP_SECURITY_INFORMATION)
		fmt.Printf("owner and group: %s %v\n", sd, errText(err))
		_, err = k.SaveBytes()
		say("save", err)
		k.Close()
	}
	return 0
}

func errText(err error) string {
	var en registry.Errno
	if errors.As(err, &en) {
		return fmt.Sprintf("error %d", uint32(en))
	}
	if err != nil {
		return err.Error()
	}
	return "ok"
}

// TestUnprivilegedClient runs a client process as uid 65534 (groups 65534 and 4242)
// against a server that identifies it by SO_PEERCRED and SO_PEERGROUPS: it reads what
// Users read, is refused what they may not do, gets what its group is granted, and owns
// what it creates under HKU\<its SID>. Run as root (the test starts the child with
// another identity).
func TestUnprivilegedClient(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test starts a client as uid 65534 and must run as root, as the test suite does")
	}
	// A directory every user can reach, for the socket and a copy of this binary.
	dir, err := os.MkdirTemp("", "wolfpack-acl-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "client.test")
	copyExecutable(t, self, bin)

	reg := engine.OpenMemory(engine.Options{})
	sock := filepath.Join(dir, registry.SocketFile)
	ln, err := regipc.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var owners []engine.Owner
	srv := &regipc.Server{Reg: reg, Owner: func(nc *net.UnixConn) (engine.Owner, error) {
		o, err := regipc.PeerOwner(nc)
		mu.Lock()
		owners = append(owners, o)
		mu.Unlock()
		return o, err
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done; reg.Close() })

	// Root's side: the keys the user meets.
	root := dial(t, sock)
	mk := func(path, sddl string) {
		k, _, err := registry.CreateKey(root.LocalMachine(), path, registry.ALL_ACCESS)
		if err != nil {
			t.Fatal(err)
		}
		defer k.Close()
		if err := k.SetDWordValue("V", 7); err != nil {
			t.Fatal(err)
		}
		if sddl != "" {
			sd, err := registry.SecurityDescriptorFromString(sddl)
			if err != nil {
				t.Fatal(err)
			}
			if err := k.SetKeySecurity(registry.DACL_SECURITY_INFORMATION, sd); err != nil {
				t.Fatal(err)
			}
		}
	}
	mk(`SOFTWARE\Shared`, "")
	mk(`SOFTWARE\Private`, "D:P(A;CI;KA;;;BA)(A;CI;KA;;;SY)")
	mk(`SOFTWARE\GroupOnly`, "D:(A;CI;KA;;;S-1-22-2-4242)")
	mk(`SOFTWARE\OtherGroup`, "D:(A;CI;KA;;;S-1-22-2-9999)")
	prof, _, err := registry.CreateKey(root.Users(), `S-1-22-1-65534`, registry.ALL_ACCESS)
	if err != nil {
		t.Fatal(err)
	}
	prof.Close()

	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), aclChildEnv+"="+sock)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{4242}}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("client as uid 65534: %v\n%s", err, out)
	}
	const denied, noPrivilege = "error 5", "error 1314"
	want := strings.Join([]string{
		"read SOFTWARE\\Shared: ok",
		"value: 7 ok",
		"write through a READ handle: " + denied,
		"open SOFTWARE\\Shared to write: " + denied,
		"create under SOFTWARE\\Shared: " + denied,
		"read SOFTWARE\\Private: " + denied,
		"open SOFTWARE\\GroupOnly to write: ok",
		"write SOFTWARE\\GroupOnly: ok",
		"open SOFTWARE\\OtherGroup to write: " + denied,
		"create in HKU\\S-1-22-1-65534: ok",
		"owner and group: O:S-1-22-1-65534G:S-1-22-2-65534 ok",
		"save: " + noPrivilege,
	}, "\n") + "\n"
	if string(out) != want {
		t.Errorf("the unprivileged client got:\n%s\nwant:\n%s", out, want)
	}
	mu.Lock()
	defer mu.Unlock()
	found := false
	for _, o := range owners {
		if o.UID == 65534 {
			found = true
			if len(o.GIDs) != 2 || o.GIDs[0] != 65534 || o.GIDs[1] != 4242 {
				t.Errorf("the server saw groups %v, want [65534 4242]", o.GIDs)
			}
		}
	}
	if !found {
		t.Errorf("no connection of uid 65534 among %+v", owners)
	}
}

func copyExecutable(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

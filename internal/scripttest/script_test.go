package scripttest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"wolfpack/internal/cli/clustercmd"
	"wolfpack/internal/cli/regcmd"
	"wolfpack/internal/cli/wevtutilcmd"
	"wolfpack/internal/daemon"
)

// TestMain makes the test binary double as each of Wolfpack's commands, so scenarios run
// the real programs.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"wolfpackd":   func() { os.Exit(daemon.Main(os.Args[1:])) },
		"cluster":     func() { os.Exit(clustercmd.Main(os.Args[1:])) },
		"reg":         func() { os.Exit(regcmd.Main(os.Args[1:])) },
		"wevtutil":    func() { os.Exit(wevtutilcmd.Main(os.Args[1:])) },
		"eventcreate": func() { os.Exit(wevtutilcmd.EventcreateMain(os.Args[1:])) },
		"etcdprobe":   func() { os.Exit(etcdProbe(os.Args[1:])) },
		"notifysock":  func() { os.Exit(notifySock(os.Args[1:])) },
	})
}

func TestScripts(t *testing.T) {
	t.Cleanup(func() {
		if nobodyBin.dir != "" {
			os.RemoveAll(nobodyBin.dir)
		}
	})
	testscript.Run(t, testscript.Params{
		Dir: "testdata",
		Setup: func(env *testscript.Env) error {
			env.Setenv("WOLFPACK_DATA", filepath.Join(env.WorkDir, "node1"))
			// Free loopback ports for scenarios that run several nodes: $PORT0 … $PORT11.
			for i := range 12 {
				p, err := freePort()
				if err != nil {
					return err
				}
				env.Setenv("PORT"+strconv.Itoa(i), strconv.Itoa(p))
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitfile": cmdWaitFile,
			"sleep":    cmdSleep,
			"nobody":   cmdNobody,
		},
		RequireExplicitExec: true,
	})
}

// waitfile FILE [SECONDS]: wait until FILE exists (default 20 s).
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: waitfile FILE [SECONDS]")
	}
	limit := 20 * time.Second
	if len(args) == 2 {
		s, err := strconv.Atoi(args[1])
		if err != nil {
			ts.Fatalf("waitfile: bad seconds %q", args[1])
		}
		limit = time.Duration(s) * time.Second
	}
	path := ts.MkAbs(args[0])
	deadline := time.Now().Add(limit)
	for {
		_, err := os.Stat(path)
		if err == nil {
			if neg {
				ts.Fatalf("%s exists", args[0])
			}
			return
		}
		if time.Now().After(deadline) {
			if neg {
				return
			}
			ts.Fatalf("%s did not appear within %v", args[0], limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// nobodyBin holds copies of the commands that the user nobody may run: the test binary
// and its copies live in directories only root may enter.
var nobodyBin struct {
	sync.Mutex
	dir string
}

// nobody PROGRAM [ARGS...]: run one of the scenario's commands as the unprivileged user
// nobody (setpriv --reuid=65534 --regid=65534 --clear-groups), in $WORK, with the
// scenario's environment; stdout and stderr are checked as exec's are. $WORK and the
// directories above it (up to the temporary directory) get search permission for others
// so that nobody reaches the node's socket.
func cmdNobody(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 {
		ts.Fatalf("usage: nobody PROGRAM [ARGS...]")
	}
	if os.Geteuid() != 0 {
		ts.Fatalf("nobody: the scenarios run as root, as scripts/test does (uid %d)", os.Geteuid())
	}
	src, err := exec.LookPath(args[0])
	ts.Check(err)
	nobodyBin.Lock()
	if nobodyBin.dir == "" {
		nobodyBin.dir, err = os.MkdirTemp("", "wolfpack-nobody-")
		if err == nil {
			err = os.Chmod(nobodyBin.dir, 0o755)
		}
	}
	bin := filepath.Join(nobodyBin.dir, args[0])
	if err == nil {
		if _, serr := os.Stat(bin); serr != nil {
			err = copyExecutable(src, bin)
		}
	}
	nobodyBin.Unlock()
	ts.Check(err)
	tmp := filepath.Clean(os.TempDir())
	for d := ts.Getenv("WORK"); d != tmp && d != "/" && d != "."; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		ts.Check(err)
		ts.Check(os.Chmod(d, fi.Mode().Perm()|0o011))
	}
	err = ts.Exec("setpriv", append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", bin}, args[1:]...)...)
	if err != nil {
		if !neg {
			ts.Fatalf("nobody %s: %v", args[0], err)
		}
		return
	}
	if neg {
		ts.Fatalf("nobody %s: unexpected success", args[0])
	}
}

func copyExecutable(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o755)
}

// sleep DURATION: wait, e.g. "sleep 500ms".
func cmdSleep(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: sleep DURATION")
	}
	d, err := time.ParseDuration(args[0])
	if err != nil {
		ts.Fatalf("sleep: %v", err)
	}
	time.Sleep(d)
}

// Ports handed to scenarios come from 20000–26999: below the kernel's ephemeral range
// (32768+), so no outgoing connection or ":0" listener of another test can take one
// between the check and the node's bind, and apart from examples/q316772's 27100+. Each
// port is handed out once per test binary, so parallel scenarios never share one.
var ports = struct {
	sync.Mutex
	next int
	used map[int]bool
}{used: map[int]bool{}}

func freePort() (int, error) {
	ports.Lock()
	defer ports.Unlock()
	if ports.next == 0 {
		ports.next = 20000 + rand.IntN(7000)
	}
	for range 7000 {
		p := ports.next
		ports.next++
		if ports.next >= 27000 {
			ports.next = 20000
		}
		if ports.used[p] {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		ln.Close()
		ports.used[p] = true
		return p, nil
	}
	return 0, fmt.Errorf("no free loopback port in 20000-26999")
}

// notifySock is the scenarios' notifysock command: notifysock SOCKET OUT listens on the
// unix datagram socket SOCKET, as systemd does for a Type=notify service
// ($NOTIFY_SOCKET), and appends each message it gets to OUT, followed by a line "--",
// until it gets one with STOPPING=1 or is killed.
func notifySock(args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: notifysock SOCKET OUT")
		return 2
	}
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: args[0], Net: "unixgram"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "notifysock:", err)
		return 1
	}
	defer c.Close()
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if err != nil {
			fmt.Fprintln(os.Stderr, "notifysock:", err)
			return 1
		}
		f, err := os.OpenFile(args[1], os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			fmt.Fprintln(os.Stderr, "notifysock:", err)
			return 1
		}
		fmt.Fprintf(f, "%s\n--\n", buf[:n])
		f.Close()
		if strings.Contains(string(buf[:n]), "STOPPING=1") {
			return 0
		}
	}
}

package regipc_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"wolfpack/internal/reshost"

	"wolfpack/internal/daemon"
	"wolfpack/internal/regipc"
	"wolfpack/internal/registry"
	client "wolfpack/registry"
)

// crashChildEnv makes the test binary a registry service (what wolfpackd runs for its
// registry: the store in DIR/registry served on DIR/reg.sock) instead of running tests.
const crashChildEnv = "WOLFPACK_REGIPC_CRASH_CHILD"

// daemonChildEnv makes the test binary wolfpackd, with the arguments separated by \x1f (unit separator).
const daemonChildEnv = "WOLFPACK_REGIPC_DAEMON_CHILD"

func TestMain(m *testing.M) {
	if reshost.IsHostProcess() {
		os.Exit(daemon.Main(os.Args[1:]))
	}
	if dir := os.Getenv(crashChildEnv); dir != "" {
		os.Exit(crashChild(dir))
	}
	if args := os.Getenv(daemonChildEnv); args != "" {
		os.Exit(daemon.Main(strings.Split(args, "\x1f")))
	}
	os.Exit(m.Run())
}

func crashChild(dir string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	reg, err := registry.Open(ctx, filepath.Join(dir, "registry"), registry.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 1
	}
	defer reg.Close()
	ln, err := regipc.Listen(filepath.Join(dir, "reg.sock"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 1
	}
	if err := (&regipc.Server{Reg: reg}).Serve(ctx, ln); err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 1
	}
	return 0
}

// TestCrashOverSocket kills the registry service with SIGKILL at random moments while
// clients set values and flush them over the socket, restarts it, and checks that every
// acknowledged flushed write survived: after a restart each writer's value is at least
// the last one whose Flush returned, and at most the last one it sent. 5 cycles, 50 with
// WOLFPACK_LONG=1.
func TestCrashOverSocket(t *testing.T) {
	dir := t.TempDir()
	crashCycles(t, filepath.Join(dir, "reg.sock"), func() *exec.Cmd {
		return startChild(t, []string{crashChildEnv + "=" + dir})
	})
}

// TestCrashDaemon is TestCrashOverSocket with the whole wolfpackd (embedded etcd and
// all) as the process that is killed.
func TestCrashDaemon(t *testing.T) {
	dir := t.TempDir()
	ports := make([]string, 3)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = ln.Addr().String()
		ln.Close()
	}
	args := strings.Join([]string{"--name", "N1", "--data-dir", dir, "--api", ports[0], "--peer", ports[1], "--client", ports[2]}, "\x1f")
	crashCycles(t, filepath.Join(dir, "reg.sock"), func() *exec.Cmd {
		os.Remove(filepath.Join(dir, "reg.sock"))
		return startChild(t, []string{daemonChildEnv + "=" + args})
	})
}

func crashCycles(t *testing.T, sock string, start func() *exec.Cmd) {
	cycles := 5
	if os.Getenv("WOLFPACK_LONG") == "1" {
		cycles = 50
	}
	const writers = 4
	acked := make([]uint64, writers) // last value whose SetValue+Flush succeeded
	sent := make([]uint64, writers)  // last value sent
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))

	for cycle := range cycles + 1 {
		child := start()
		c := dialRetry(t, sock)
		root, _, err := client.CreateKey(c.LocalMachine(), `SOFTWARE\Crash`, client.ALL_ACCESS)
		if err != nil {
			t.Fatalf("cycle %d: %v", cycle, err)
		}
		for w := range writers {
			v, _, err := root.GetIntegerValue("w" + strconv.Itoa(w))
			if err == client.ErrNotExist && acked[w] == 0 {
				continue
			}
			if err != nil {
				t.Fatalf("cycle %d: writer %d's value: %v (acknowledged %d)", cycle, w, err, acked[w])
			}
			if v < acked[w] || v > sent[w] {
				t.Fatalf("cycle %d: writer %d's value is %d after the crash; acknowledged %d, sent %d", cycle, w, v, acked[w], sent[w])
			}
			// A value sent but not acknowledged may have survived; continue from there.
			acked[w], sent[w] = v, v
		}
		c.Close()
		if cycle == cycles {
			child.Process.Signal(syscall.SIGTERM)
			child.Wait()
			break
		}

		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				wc, err := client.Dial(context.Background(), sock)
				if err != nil {
					return
				}
				defer wc.Close()
				k, err := client.OpenKey(wc.LocalMachine(), `SOFTWARE\Crash`, client.ALL_ACCESS)
				if err != nil {
					return
				}
				for {
					next := sent[w] + 1
					sent[w] = next
					// The kill ends the loop with a connection error.
					if k.SetQWordValue("w"+strconv.Itoa(w), next) != nil || k.Flush() != nil {
						return
					}
					acked[w] = next
				}
			}()
		}
		time.Sleep(time.Duration(20+rng.IntN(300)) * time.Millisecond)
		if err := child.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		child.Wait()
		wg.Wait()
		t.Logf("cycle %d: killed with acknowledged %v", cycle, acked)
	}
	var total uint64
	for _, a := range acked {
		total += a
	}
	if total == 0 {
		t.Fatal("no write was ever acknowledged: the test did not test anything")
	}
}

func startChild(t *testing.T, env []string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

func dialRetry(t *testing.T, sock string) *client.Conn {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := client.Dial(context.Background(), sock)
		if err == nil {
			if err = c.Ping(nil); err == nil {
				return c
			}
			c.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("the registry service did not come up: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

package web_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"wolfpack/internal/api/client"
	"wolfpack/internal/api/wire"
	"wolfpack/internal/clustertest"
)

// binDir holds links named wolfpackd, cluster and reg to this test binary, which runs
// as each of them by its name: the browser tests drive real wolfpackd processes.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(clustertest.Main(m, &binDir, nil))
}

// node is one wolfpackd process.
type node struct {
	name             string
	dir              string
	api, peer, cport int
	cmd              *exec.Cmd
	exited           chan struct{}
}

// cluster is three (or more) wolfpackd processes on 127.0.0.1.
type cluster struct {
	t     testing.TB
	dir   string
	nodes []*node
	procs []*exec.Cmd // other processes the test started (holders)
}

var (
	portMu   sync.Mutex
	nextPort = 15000 + rand.IntN(4000)
)

// freePort hands out loopback ports from 15000-19999, a range no other package's
// tests use, once each per test binary.
func freePort(t testing.TB) int {
	portMu.Lock()
	defer portMu.Unlock()
	for range 5000 {
		p := nextPort
		nextPort++
		if nextPort >= 20000 {
			nextPort = 15000
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err == nil {
			ln.Close()
			return p
		}
	}
	t.Fatal("no free port")
	return 0
}

func newCluster(t testing.TB, n int) *cluster {
	t.Helper()
	c := &cluster{t: t, dir: t.TempDir()}
	for i := range n {
		nd := &node{name: fmt.Sprintf("N%d", i+1), api: freePort(t), peer: freePort(t), cport: freePort(t)}
		nd.dir = filepath.Join(c.dir, strings.ToLower(nd.name))
		c.nodes = append(c.nodes, nd)
	}
	t.Cleanup(c.stop)
	for i, nd := range c.nodes {
		c.start(nd, i > 0)
	}
	return c
}

func addr(p int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)) }

func (c *cluster) start(n *node, join bool) {
	c.t.Helper()
	// A longer lease than the default: Chromium and three nodes share two cores.
	args := []string{"--name", n.name, "--data-dir", n.dir, "--session-ttl", "5", "--log-level", "warn",
		"--api", addr(n.api), "--peer", addr(n.peer), "--client", addr(n.cport)}
	if join {
		n1 := c.nodes[0]
		args = append(args, "--join", addr(n1.api), "--token-file", filepath.Join(n1.dir, "join-token"))
	}
	if err := os.MkdirAll(n.dir, 0o700); err != nil {
		c.t.Fatal(err)
	}
	logf, err := os.OpenFile(filepath.Join(c.dir, n.name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(binDir, "wolfpackd"), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "WOLFPACK_DATA="+n.dir)
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	logf.Close()
	n.cmd, n.exited = cmd, make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(cmd, n.exited)
	c.waitFor(90*time.Second, n.name+" API", func() bool {
		select {
		case <-n.exited:
			c.t.Fatalf("%s exited before it served", n.name)
		default:
		}
		_, err := os.Stat(filepath.Join(n.dir, client.AddrFile))
		return err == nil
	})
}

func (c *cluster) stop() {
	for _, p := range c.procs {
		if p.Process != nil {
			p.Process.Signal(syscall.SIGINT)
			p.Wait()
		}
	}
	for _, n := range c.nodes {
		if n.cmd != nil {
			n.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	for _, n := range c.nodes {
		if n.cmd == nil {
			continue
		}
		select {
		case <-n.exited:
		case <-time.After(30 * time.Second):
			n.cmd.Process.Kill()
			<-n.exited
		}
	}
	if c.t.Failed() {
		for _, n := range c.nodes {
			if b, err := os.ReadFile(filepath.Join(c.dir, n.name+".log")); err == nil {
				c.t.Logf("=== %s log (tail):\n%s", n.name, tail(string(b), 40))
			}
		}
	}
}

func tail(s string, lines int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}

func (c *cluster) waitFor(d time.Duration, what string, ok func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// run runs a CLI (cluster, reg) against node n.
func (c *cluster) run(n *node, prog string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, prog), args...)
	cmd.Env = append(os.Environ(), "WOLFPACK_DATA="+n.dir)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (c *cluster) must(n *node, prog string, args ...string) string {
	c.t.Helper()
	out, err := c.run(n, prog, args...)
	if err != nil {
		c.t.Fatalf("%s %s on %s: %v\n%s", prog, strings.Join(args, " "), n.name, err, out)
	}
	return out
}

// client is an API client of node n with its own (Full) token, as root's CLIs use.
func (c *cluster) client(n *node) *client.Client {
	c.t.Helper()
	cl, err := client.FromDataDir(n.dir)
	if err != nil {
		c.t.Fatal(err)
	}
	return cl
}

func (c *cluster) base(n *node) string { return "https://" + addr(n.api) }

// waitUp waits until every node is Up as n1 sees it.
func (c *cluster) waitUp() {
	c.t.Helper()
	cl := c.client(c.nodes[0])
	c.waitFor(90*time.Second, "every node Up", func() bool {
		var ns []wire.ClusterNode
		if cl.Do(context.Background(), "GET", "/v1/nodes", nil, &ns) != nil || len(ns) != len(c.nodes) {
			return false
		}
		for _, n := range ns {
			if n.State != "Up" {
				return false
			}
		}
		return true
	})
}

// holdKey starts `reg watch KEY` on node n: a process that holds a handle to KEY until
// the test ends (as Winlogon did in Q316772). It returns the process's pid once the
// watch is set.
func (c *cluster) holdKey(n *node, key string) int {
	c.t.Helper()
	out := filepath.Join(c.dir, "watch.out")
	f, err := os.Create(out)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(binDir, "reg"), "watch", key)
	cmd.Env = append(os.Environ(), "WOLFPACK_DATA="+n.dir)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	f.Close()
	c.procs = append(c.procs, cmd)
	c.waitFor(30*time.Second, "reg watch ready", func() bool {
		b, _ := os.ReadFile(out)
		return strings.Contains(string(b), "Press Ctrl+C to stop")
	})
	return cmd.Process.Pid
}

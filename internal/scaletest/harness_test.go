package scaletest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"wolfpack/internal/api/client"
	"wolfpack/internal/api/wire"
	"wolfpack/internal/clusterdb"
	"wolfpack/internal/clustertest"
	"wolfpack/internal/pki"
	"wolfpack/internal/reshost"
)

// binDir holds links named wolfpackd, cluster and reg to this test binary, which runs as
// each of them by its name.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(clustertest.Main(m, &binDir, nil))
}

// node is one wolfpackd.
type node struct {
	name    string
	dir     string
	api     int
	peer    int
	client  int
	witness bool
	prog    string   // the wolfpackd binary (default: this test binary's link)
	args    []string // flags of this node's next start only
	cmd     *exec.Cmd
	exited  chan struct{}
}

// cluster is a set of nodes of one cluster.
type cluster struct {
	t     testing.TB
	dir   string
	ttl   int
	extra []string // flags every node gets
	env   []string // environment every node gets
	mu    sync.Mutex
	nodes []*node
}

// Ports come from 10000–20000: below the kernel's ephemeral range (32768 and up), where
// an outgoing connection could take a port between freePort and the daemon's listen,
// and apart from the other test packages' ranges (scripttest 20000–27000, failovertest
// 27000–32000).
var (
	portMu   sync.Mutex
	nextPort = 10000 + rand.IntN(10000)
)

// freePort returns a loopback port that nothing listens on (and that this process has
// not handed out before).
func freePort(t testing.TB) int {
	portMu.Lock()
	defer portMu.Unlock()
	for range 5000 {
		p := nextPort
		nextPort++
		if nextPort >= 20000 {
			nextPort = 10000
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

func newCluster(t testing.TB, ttl int, extra ...string) *cluster {
	if ttl == 0 {
		ttl = 2
	}
	c := &cluster{t: t, dir: t.TempDir(), ttl: ttl, extra: extra}
	t.Cleanup(c.stopAll)
	return c
}

// add makes a node (not started).
func (c *cluster) add(name string) *node {
	n := &node{name: name, dir: filepath.Join(c.dir, strings.ToLower(name)),
		api: freePort(c.t), peer: freePort(c.t), client: freePort(c.t)}
	c.mu.Lock()
	c.nodes = append(c.nodes, n)
	c.mu.Unlock()
	return n
}

func (n *node) apiAddr() string           { return "127.0.0.1:" + strconv.Itoa(n.api) }
func (n *node) clientURL() string         { return "https://127.0.0.1:" + strconv.Itoa(n.client) }
func (n *node) pid() int                  { return n.cmd.Process.Pid }
func (c *cluster) first() *node           { return c.nodes[0] }
func (c *cluster) logFile(n *node) string { return filepath.Join(c.dir, n.name+".log") }

// start runs n's daemon (joining the first node when its data directory is new and it
// is not the first) and waits until its API answers.
func (c *cluster) start(n *node) {
	c.t.Helper()
	c.launch(n)
	c.waitStarted(n, 120*time.Second)
}

// launch starts n's daemon without waiting.
func (c *cluster) launch(n *node) {
	c.t.Helper()
	args := []string{"--name", n.name, "--data-dir", n.dir, "--session-ttl", strconv.Itoa(c.ttl),
		"--api", n.apiAddr(), "--peer", "127.0.0.1:" + strconv.Itoa(n.peer), "--client", "127.0.0.1:" + strconv.Itoa(n.client)}
	if n.witness {
		args = append(args, "--witness")
	}
	args = append(args, c.extra...)
	args = append(args, n.args...)
	n.args = nil
	f := c.first()
	if n != f {
		if _, err := os.Stat(filepath.Join(n.dir, "tls")); err != nil {
			args = append(args, "--join", f.apiAddr(), "--token-file", filepath.Join(f.dir, clusterdb.JoinTokenFile))
		}
	}
	prog := n.prog
	if prog == "" {
		prog = filepath.Join(binDir, "wolfpackd")
	}
	cmd := exec.Command(prog, args...)
	if err := os.MkdirAll(n.dir, 0o700); err != nil {
		c.t.Fatal(err)
	}
	logf, err := os.OpenFile(c.logFile(n), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(append(os.Environ(), "WOLFPACK_DATA="+n.dir), c.env...)
	os.Remove(filepath.Join(n.dir, client.AddrFile))
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	logf.Close()
	n.cmd, n.exited = cmd, make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(cmd, n.exited)
}

// waitStarted waits until n's API answers (it wrote api.addr).
func (c *cluster) waitStarted(n *node, limit time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		if _, err := os.Stat(filepath.Join(n.dir, client.AddrFile)); err == nil {
			return
		}
		select {
		case <-n.exited:
			c.t.Fatalf("%s exited while starting:\n%s", n.name, tail(c.logFile(n), 40))
		default:
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s did not start within %v:\n%s", n.name, limit, tail(c.logFile(n), 40))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// running reports whether n's daemon runs.
func (n *node) running() bool {
	if n.cmd == nil {
		return false
	}
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}

// stop ends n's daemon gracefully (SIGTERM), SIGKILL after 30 s.
func (c *cluster) stop(n *node) {
	if !n.running() {
		return
	}
	syscall.Kill(n.pid(), syscall.SIGCONT)
	syscall.Kill(n.pid(), syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(30 * time.Second):
		syscall.Kill(n.pid(), syscall.SIGKILL)
		<-n.exited
	}
}

// kill9 kills n's daemon with SIGKILL (its resource host then stops its resources and
// revokes its lease); withHost kills the host too: the machine lost.
func (c *cluster) kill9(n *node, withHost bool) {
	c.t.Helper()
	host := 0
	if withHost {
		host = n.hostPid()
	}
	if err := syscall.Kill(n.pid(), syscall.SIGKILL); err != nil {
		c.t.Fatalf("kill %s: %v", n.name, err)
	}
	if host > 0 {
		syscall.Kill(host, syscall.SIGKILL)
	}
	<-n.exited
}

// hostPid returns the pid of n's resource host (a child of its daemon).
func (n *node) hostPid() int {
	d, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	for _, e := range d {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(st, ')')
		f := strings.Fields(string(st[i+2:]))
		if len(f) < 2 || f[1] != strconv.Itoa(n.pid()) {
			continue
		}
		if cl, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && bytes.Contains(cl, []byte(reshost.HostArg)) {
			return pid
		}
	}
	return 0
}

// stopAll stops every node (in parallel), and shows their logs' tails when the test
// failed.
func (c *cluster) stopAll() {
	var wg sync.WaitGroup
	for _, n := range c.nodes {
		wg.Add(1)
		go func() { defer wg.Done(); c.stop(n) }()
	}
	wg.Wait()
	if dir := os.Getenv("SCALETEST_KEEP"); dir != "" { // the whole logs, to read after the run
		if err := os.MkdirAll(dir, 0o755); err == nil {
			for _, n := range c.nodes {
				if b, err := os.ReadFile(c.logFile(n)); err == nil {
					os.WriteFile(filepath.Join(dir, n.name+".log"), b, 0o644)
				}
			}
		}
	}
	if c.t.Failed() || os.Getenv("SCALETEST_LOGS") != "" {
		for _, n := range c.nodes {
			c.t.Logf("=== %s log (tail):\n%s", n.name, tail(c.logFile(n), 40))
		}
	}
}

func tail(file string, lines int) string {
	b, _ := os.ReadFile(file)
	ls := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}

// run runs a CLI (cluster, reg) against node n and returns its output.
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

// apiClient is a client of n's API with its own token.
func (c *cluster) apiClient(n *node) *client.Client {
	c.t.Helper()
	cl, err := client.FromDataDir(n.dir)
	if err != nil {
		c.t.Fatal(err)
	}
	return cl
}

// nodeList returns the node list as n sees it (nil when n does not answer).
func (c *cluster) nodeList(n *node) []wire.ClusterNode {
	var ns []wire.ClusterNode
	cl, err := client.FromDataDir(n.dir)
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if cl.Do(ctx, "GET", "/v1/nodes", nil, &ns) != nil {
		return nil
	}
	return ns
}

// roles returns each node's role (Voter, Learner, NonVoter) and state as n sees them.
func (c *cluster) roles(n *node) map[string]string {
	out := map[string]string{}
	for _, s := range c.nodeList(n) {
		out[s.Name] = s.Role + "/" + s.State
	}
	return out
}

// etcdClient connects to the cluster's voters with n's certificate.
func (c *cluster) etcdClient(n *node) *clientv3.Client {
	c.t.Helper()
	urls, err := clusterdb.ReadEndpoints(n.dir)
	if err != nil {
		urls = []string{n.clientURL()}
	}
	tlsc, err := clusterdb.ClientTLSInfo(pki.PathsIn(n.dir)).ClientConfig()
	if err != nil {
		c.t.Fatal(err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: urls, TLS: tlsc, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		c.t.Fatal(err)
	}
	return cli
}

// voters lists the names of the etcd voting members and learners, sorted.
func (c *cluster) voters(cli *clientv3.Client) (voters, learners []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ms, err := clusterdb.New(cli).Members(ctx)
	if err != nil {
		return nil, nil
	}
	for _, m := range ms {
		name := m.Name
		if name == "" {
			name = strings.Join(m.PeerURLs, ",")
		}
		if m.Learner {
			learners = append(learners, name)
		} else {
			voters = append(voters, name)
		}
	}
	slices.Sort(voters)
	slices.Sort(learners)
	return voters, learners
}

// waitVoters waits until the voting members are exactly want (sorted names) and no
// learner is left, as n's certificate sees it.
func (c *cluster) waitVoters(n *node, limit time.Duration, want ...string) {
	c.t.Helper()
	slices.Sort(want)
	cli := c.etcdClient(n)
	defer cli.Close()
	var v, l []string
	deadline := time.Now().Add(limit)
	for {
		v, l = c.voters(cli)
		if slices.Equal(v, want) && len(l) == 0 {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("voters %v (learners %v), want %v within %v", v, l, want, limit)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// rssKB is a process's resident set (VmRSS) in KiB.
func rssKB(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return kb
		}
	}
	return 0
}

// jsonOut decodes a CLI's /f:json output.
func jsonOut[T any](t testing.TB, out string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	return v
}

// matchLine reports whether a line of out matches the regular expression pat whole
// (trailing spaces aside).
func matchLine(out, pat string) bool {
	return regexp.MustCompile(`(?m)^` + pat + `\s*$`).MatchString(out)
}

var jsonUnmarshal = json.Unmarshal

// memBreakdown is a process's resident memory: anonymous (heap, stacks) and file-backed
// (the program's text and data), in KiB.
func memBreakdown(pid int) (anon, file int) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.Atoi(f[1])
		switch f[0] {
		case "Anonymous:":
			anon = v
		case "Rss:":
			file = v
		}
	}
	return anon, file - anon
}

// nodeByName returns the node named name.
func (c *cluster) nodeByName(name string) *node {
	c.t.Helper()
	for _, n := range c.nodes {
		if strings.EqualFold(n.name, name) {
			return n
		}
	}
	c.t.Fatalf("no node %q", name)
	return nil
}

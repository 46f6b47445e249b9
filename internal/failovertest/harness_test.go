package failovertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"wolfpack/internal/clustertest"
)

// binDir holds links named wolfpackd, cluster, reg and appender to this test binary,
// which runs as each of them by its name (as testscript does).
var binDir string

func TestMain(m *testing.M) {
	os.Exit(clustertest.Main(m, &binDir, map[string]func([]string) int{"appender": appender}))
}

// appender FILE: the checker resource. Every 50 ms it appends one line, in one write,
// "<unix ns> <node> <pid>", the node from $WOLFPACK_NODE.
func appender(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: appender FILE")
		return 2
	}
	f, err := os.OpenFile(args[0], os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	node, pid := os.Getenv("WOLFPACK_NODE"), os.Getpid()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	t := time.NewTicker(50 * time.Millisecond)
	for {
		if _, err := f.WriteString(fmt.Sprintf("%d %s %d\n", time.Now().UnixNano(), node, pid)); err != nil {
			return 1
		}
		select {
		case <-sig:
			return 0
		case <-t.C:
		}
	}
}

// long reports whether the long runs were asked for.
func long() bool { return os.Getenv("WOLFPACK_LONG") != "" }

// node is one wolfpackd.
type node struct {
	name   string
	dir    string
	addr   string // the address it listens on: 127.0.0.1, or its namespace's address
	netns  string // "" for the host's namespace
	api    int
	peer   int
	client int
	cmd    *exec.Cmd
	exited chan struct{}
}

// cluster is a set of nodes running one group G with the appender App.
type cluster struct {
	t     testing.TB
	dir   string
	ttl   int
	nodes []*node
	file  string // the appender's output
}

type clusterOptions struct {
	nodes int
	ttl   int
	// addrs and netns place node i at addrs[i] inside namespace netns[i] (partition
	// tests); nil: all on 127.0.0.1 in this namespace.
	addrs []string
	netns []string
}

var (
	portMu   sync.Mutex
	nextPort = 27000 + rand.IntN(2000)
)

// freePort returns a loopback port that nothing listens on (and that this process has
// not handed out before).
func freePort(t testing.TB) int {
	portMu.Lock()
	defer portMu.Unlock()
	for range 5000 {
		p := nextPort
		nextPort++
		if nextPort >= 32000 {
			nextPort = 27000
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

func newCluster(t testing.TB, o clusterOptions) *cluster {
	t.Helper()
	if o.ttl == 0 {
		o.ttl = 2
	}
	c := &cluster{t: t, dir: t.TempDir(), ttl: o.ttl}
	c.file = filepath.Join(c.dir, "app.out")
	for i := range o.nodes {
		n := &node{name: fmt.Sprintf("N%d", i+1), addr: "127.0.0.1"}
		n.dir = filepath.Join(c.dir, strings.ToLower(n.name))
		if o.addrs != nil {
			n.addr, n.netns = o.addrs[i], o.netns[i]
		}
		n.api, n.peer, n.client = freePort(t), freePort(t), freePort(t)
		c.nodes = append(c.nodes, n)
	}
	t.Cleanup(c.stopAll)
	for i, n := range c.nodes {
		c.start(n, i > 0)
	}
	return c
}

func (c *cluster) hostPort(n *node, p int) string { return net.JoinHostPort(n.addr, strconv.Itoa(p)) }

// start runs n's daemon (joining N1 the first time when join) and waits until its API
// answers.
func (c *cluster) start(n *node, join bool) {
	c.t.Helper()
	c.launch(n, join)
	c.waitAPI(n)
}

// waitAPI waits until n's API answers.
func (c *cluster) waitAPI(n *node) {
	c.t.Helper()
	c.waitFor(90*time.Second, n.name+" API", func() bool {
		_, err := os.Stat(filepath.Join(n.dir, "api.addr"))
		return err == nil
	})
}

// launch runs n's daemon (joining N1 the first time when join).
func (c *cluster) launch(n *node, join bool) {
	c.t.Helper()
	args := []string{"--name", n.name, "--data-dir", n.dir, "--session-ttl", strconv.Itoa(c.ttl),
		"--api", c.hostPort(n, n.api), "--peer", c.hostPort(n, n.peer), "--client", c.hostPort(n, n.client)}
	if join {
		if _, err := os.Stat(filepath.Join(n.dir, "etcd")); err != nil {
			n1 := c.nodes[0]
			args = append(args, "--join", c.hostPort(n1, n1.api), "--token-file", filepath.Join(n1.dir, "join-token"))
		}
	}
	prog := filepath.Join(binDir, "wolfpackd")
	var cmd *exec.Cmd
	if n.netns != "" {
		cmd = exec.Command("ip", append([]string{"netns", "exec", n.netns, prog}, args...)...)
	} else {
		cmd = exec.Command(prog, args...)
	}
	os.MkdirAll(n.dir, 0o700)
	logf, err := os.OpenFile(filepath.Join(c.dir, n.name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "WOLFPACK_DATA="+n.dir)
	os.Remove(filepath.Join(n.dir, "api.addr"))
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	logf.Close()
	n.cmd, n.exited = cmd, make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(cmd, n.exited)
}

// pid is the daemon's pid (under `ip netns exec`, the program it became).
func (n *node) pid() int { return n.cmd.Process.Pid }

// kill sends sig to n's daemon; SIGKILL also waits for it to be gone.
func (c *cluster) signal(n *node, sig syscall.Signal) {
	c.t.Helper()
	if err := syscall.Kill(n.pid(), sig); err != nil {
		c.t.Fatalf("kill %s %v: %v", n.name, sig, err)
	}
	if sig == syscall.SIGKILL {
		<-n.exited
	}
}

func (c *cluster) stopAll() {
	for _, n := range c.nodes {
		if n.cmd == nil {
			continue
		}
		select {
		case <-n.exited:
			continue
		default:
		}
		syscall.Kill(n.pid(), syscall.SIGCONT)
		syscall.Kill(n.pid(), syscall.SIGTERM)
	}
	for _, n := range c.nodes {
		if n.cmd == nil {
			continue
		}
		select {
		case <-n.exited:
		case <-time.After(30 * time.Second):
			syscall.Kill(n.pid(), syscall.SIGKILL)
			<-n.exited
		}
	}
	if c.t.Failed() || os.Getenv("FAILOVERTEST_LOGS") != "" {
		for _, n := range c.nodes {
			if b, err := os.ReadFile(filepath.Join(c.dir, n.name+".log")); err == nil {
				lines := 60
				if os.Getenv("FAILOVERTEST_LOGS") != "" {
					lines = 100000
				}
				c.t.Logf("=== %s log (tail):\n%s", n.name, tail(b, lines))
			}
		}
	}
}

func tail(b []byte, lines int) string {
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
	if n.netns != "" {
		cmd = exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.netns, filepath.Join(binDir, prog)}, args...)...)
		cmd.Env = append(os.Environ(), "WOLFPACK_DATA="+n.dir)
	}
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
		time.Sleep(50 * time.Millisecond)
	}
}

// alive lists the nodes whose daemons run.
func (c *cluster) alive() []*node {
	var out []*node
	for _, n := range c.nodes {
		if n.cmd == nil {
			continue
		}
		select {
		case <-n.exited:
		default:
			out = append(out, n)
		}
	}
	return out
}

var groupLine = regexp.MustCompile(`(?m)^G +(\S+) +(\S+)\s*$`)

// group returns G's owner and state as a live node other than skip sees it.
func (c *cluster) group(skip *node) (owner, state string) {
	for _, n := range c.alive() {
		if n == skip {
			continue
		}
		out, err := c.run(n, "cluster", "group", "G")
		if err != nil {
			continue
		}
		if m := groupLine.FindStringSubmatch(out); m != nil {
			return m[1], m[2]
		}
	}
	return "", ""
}

func (c *cluster) node(name string) *node {
	for _, n := range c.nodes {
		if strings.EqualFold(n.name, name) {
			return n
		}
	}
	c.t.Fatalf("no node %q", name)
	return nil
}

// setupGroup creates G with App (the appender, checkpointing SOFTWARE\FenceTest) and
// brings it online on N1.
func (c *cluster) setupGroup() {
	c.t.Helper()
	n1 := c.nodes[0]
	c.must(n1, "reg", "add", `HKLM\SOFTWARE\FenceTest`, "/v", "Value", "/t", "REG_DWORD", "/d", "1", "/f")
	c.must(n1, "cluster", "group", "G", "/create")
	c.must(n1, "cluster", "resource", "App", "/create", "/group:G", "/type:Generic Application")
	c.must(n1, "cluster", "resource", "App", "/priv", "CommandLine="+filepath.Join(binDir, "appender")+" "+c.file)
	c.must(n1, "cluster", "resource", "App", `/addcheckpoints:SOFTWARE\FenceTest`)
	// A failed group stays where a test can see it: failovers are the subject here.
	c.must(n1, "cluster", "group", "G", "/prop", "FailoverThreshold=1000")
	c.must(n1, "cluster", "group", "G", "/online", "/wait:60")
	c.waitFor(30*time.Second, "first line of App", func() bool { return len(c.lines()) > 0 })
}

// entry is one line of the appender's file.
type entry struct {
	at   int64 // unix ns
	node string
	pid  int
}

func (c *cluster) lines() []entry {
	b, err := os.ReadFile(c.file)
	if err != nil {
		return nil
	}
	var out []entry
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			continue
		}
		at, err1 := strconv.ParseInt(f[0], 10, 64)
		pid, err2 := strconv.Atoi(f[2])
		if err1 == nil && err2 == nil {
			out = append(out, entry{at, f[1], pid})
		}
	}
	return out
}

// segment is a run of consecutive lines from one process.
type segment struct {
	node        string
	pid         int
	first, last int64
}

func segments(es []entry) []segment {
	var out []segment
	for _, e := range es {
		if len(out) > 0 && out[len(out)-1].pid == e.pid && out[len(out)-1].node == e.node {
			out[len(out)-1].last = e.at
			continue
		}
		out = append(out, segment{e.node, e.pid, e.at, e.at})
	}
	return out
}

// overlap returns the longest time two processes on different nodes both wrote lines
// ([first, last] of their segments intersecting), and a description; 0 when none.
func overlap(segs []segment) (time.Duration, string) {
	var worst time.Duration
	var what string
	for i := range segs {
		for j := i + 1; j < len(segs); j++ {
			a, b := segs[i], segs[j]
			if a.node == b.node {
				continue
			}
			lo, hi := max(a.first, b.first), min(a.last, b.last)
			if lo <= hi {
				if d := time.Duration(hi - lo); d >= worst {
					worst = d
					what = fmt.Sprintf("%s pid %d [%d..%d] and %s pid %d [%d..%d]", a.node, a.pid, a.first, a.last, b.node, b.pid, b.first, b.last)
				}
			}
		}
	}
	return worst, what
}

// checkNoOverlap fails the test if any two nodes' lines interleave.
func (c *cluster) checkNoOverlap() []segment {
	c.t.Helper()
	segs := segments(c.lines())
	if d, what := overlap(segs); what != "" {
		c.t.Errorf("the group ran on two nodes at once for %v: %s", d, what)
	}
	return segs
}

// takeover waits for the first line of a process other than the one that was writing
// at `since`, on another node, and returns that line and the last line of the old one.
func (c *cluster) takeover(from string, since time.Time, within time.Duration) (old, first entry) {
	c.t.Helper()
	c.waitFor(within, "group online on a node other than "+from, func() bool {
		for _, e := range c.lines() {
			if e.node != from && e.at > since.UnixNano() {
				first = e
				return true
			}
		}
		return false
	})
	for _, e := range c.lines() {
		if e.node == from {
			old = e
		}
	}
	return old, first
}

// pidAlive reports whether pid runs (not a zombie).
func pidAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X'
}

type nodeStatus struct {
	Name        string `json:"name"`
	State       string `json:"state"`
	Coordinator bool   `json:"coordinator"`
}

// nodes returns the node list as n sees it.
func (c *cluster) nodeList(n *node) []nodeStatus {
	out, err := c.run(n, "cluster", "node", "/f:json")
	if err != nil {
		return nil
	}
	var ns []nodeStatus
	if json.Unmarshal([]byte(out), &ns) != nil {
		var one struct {
			Nodes []nodeStatus `json:"nodes"`
		}
		json.Unmarshal([]byte(out), &one)
		ns = one.Nodes
	}
	return ns
}

// waitUp waits until every node in names is Up as seen from n.
func (c *cluster) waitUp(n *node, names ...string) {
	c.t.Helper()
	c.waitFor(60*time.Second, "nodes "+strings.Join(names, ",")+" Up", func() bool {
		ns := c.nodeList(n)
		for _, want := range names {
			if !slices.ContainsFunc(ns, func(s nodeStatus) bool { return s.Name == want && s.State == "Up" }) {
				return false
			}
		}
		return true
	})
}

// durations summarises measured times.
type durations []time.Duration

func (d durations) quantile(q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(q*float64(len(s)-1) + 0.5)
	return s[i]
}

func (d durations) String() string {
	return fmt.Sprintf("n=%d min=%v median=%v p99=%v max=%v", len(d), d.quantile(0), d.quantile(0.5), d.quantile(0.99), d.quantile(1))
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
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !bytes.Contains(b, []byte("resource-host\x00--node\x00"+n.name+"\x00")) {
			continue
		}
		st, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(st, ')')
		f := strings.Fields(string(st[i+2:]))
		if len(f) > 1 && f[1] == strconv.Itoa(n.pid()) {
			return pid
		}
	}
	return 0
}

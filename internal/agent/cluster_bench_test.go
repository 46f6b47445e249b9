package agent_test

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"wolfpack/internal/api/client"
	"wolfpack/internal/api/wire"
	"wolfpack/internal/reshost"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"wolfpack/internal/clusterdb"
	"wolfpack/internal/daemon"
	"wolfpack/internal/pki"
)

// The benchmarks run real wolfpackd processes: the test binary doubles as wolfpackd when
// WOLFPACK_TEST_DAEMON is set.
func TestMain(m *testing.M) {
	if reshost.IsHostProcess() {
		os.Exit(daemon.Main(os.Args[1:]))
	}
	if os.Getenv("WOLFPACK_TEST_DAEMON") == "1" {
		os.Exit(daemon.Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

type node struct {
	name, dir         string
	api, peer, client string
	join              string
	cmd               *exec.Cmd
	done              chan struct{}
}

func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// cluster starts n nodes, the first forming the cluster and the others joining it.
func startCluster(t testing.TB, n int) []*node {
	t.Helper()
	root := t.TempDir()
	var nodes []*node
	for i := range n {
		nd := &node{name: fmt.Sprintf("N%d", i+1), dir: filepath.Join(root, fmt.Sprintf("n%d", i+1)),
			api: freeAddr(t), peer: freeAddr(t), client: freeAddr(t)}
		if i > 0 {
			nd.join = nodes[0].api
		}
		nodes = append(nodes, nd)
		nd.start(t, nodes[0].dir)
	}
	t.Cleanup(func() {
		for _, nd := range nodes {
			nd.stop()
		}
	})
	return nodes
}

func (nd *node) start(t testing.TB, firstDir string) {
	t.Helper()
	os.Remove(filepath.Join(nd.dir, client.AddrFile))
	args := []string{"--name", nd.name, "--data-dir", nd.dir, "--api", nd.api, "--peer", nd.peer, "--client", nd.client, "--log-level", "warn"}
	if nd.join != "" {
		args = append(args, "--join", nd.join, "--token-file", filepath.Join(firstDir, "join-token"))
	}
	if err := os.MkdirAll(nd.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	logf, err := os.OpenFile(filepath.Join(nd.dir, "wolfpackd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	nd.cmd = exec.Command(os.Args[0], args...)
	nd.cmd.Env = append(os.Environ(), "WOLFPACK_TEST_DAEMON=1")
	nd.cmd.Stdout, nd.cmd.Stderr = logf, logf
	if err := nd.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	nd.done = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { c.Wait(); logf.Close(); close(done) }(nd.cmd, nd.done)
	deadline := time.Now().Add(90 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(nd.dir, client.AddrFile)); err == nil {
			return
		}
		select {
		case <-nd.done:
			b, _ := os.ReadFile(filepath.Join(nd.dir, "wolfpackd.log"))
			t.Fatalf("%s exited: %s", nd.name, b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start", nd.name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (nd *node) kill() {
	nd.cmd.Process.Signal(syscall.SIGKILL)
	<-nd.done
}

func (nd *node) stop() {
	if nd.cmd == nil {
		return
	}
	select {
	case <-nd.done:
		return
	default:
	}
	nd.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-nd.done:
	case <-time.After(20 * time.Second):
		nd.kill()
	}
}

func (nd *node) rssMB() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", nd.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return float64(kb) / 1024
		}
	}
	return 0
}

func apiClient(t testing.TB, nd *node) *client.Client {
	t.Helper()
	c, err := client.FromDataDir(nd.dir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func waitGroup(t testing.TB, c *client.Client, group string, ok func(wire.ClusterGroup) bool, limit time.Duration) wire.ClusterGroup {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		var g wire.ClusterGroup
		err := c.Do(context.Background(), http.MethodGet, "/v1/groups/"+group, nil, &g)
		if err == nil && ok(g) {
			return g
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s: not there after %v: %+v %v", group, limit, g, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// percentile is the nearest-rank percentile: with fewer than 100 samples, p99 is the
// largest.
func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(i, 0)]
}

// BenchmarkFailover measures the time from SIGKILL of a group's owner to the group being
// Online on another node, with the default settings (session TTL 2 s, etcd heartbeat
// 100 ms, election 1 s). Run with -benchtime=10x or more for a p99. Beside it, the time
// of a planned move of the same group (offline here, online there).
func BenchmarkFailover(b *testing.B) {
	nodes := startCluster(b, 3)
	c := apiClient(b, nodes[0])
	ctx := context.Background()
	must(b, c.Do(ctx, http.MethodPost, "/v1/groups", wire.ClusterAction{Name: "G"}, nil))
	must(b, c.Do(ctx, http.MethodPost, "/v1/resources", wire.ClusterAction{Name: "App", Group: "G", Type: "Generic Application"}, nil))
	must(b, c.Do(ctx, http.MethodPost, "/v1/resources/App/priv", wire.ClusterAction{Props: map[string]string{"CommandLine": "sleep 3600"}}, nil))
	must(b, c.Do(ctx, http.MethodPost, "/v1/groups/G/online", nil, nil))
	byName := map[string]*node{}
	for _, nd := range nodes {
		byName[nd.name] = nd
	}
	online := func(g wire.ClusterGroup) bool { return g.State == "Online" }
	waitGroup(b, c, "G", online, 30*time.Second)
	var fails, moves []time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		// A planned move first (the peer figure), to each node in turn, so that the
		// victims include the etcd leader and the coordinator.
		g := waitGroup(b, c, "G", online, 30*time.Second)
		target := nodes[i%len(nodes)].name
		if target == g.Node {
			target = nodes[(i+1)%len(nodes)].name
		}
		start := time.Now()
		must(b, c.Do(ctx, http.MethodPost, "/v1/groups/G/move", wire.ClusterAction{Node: target}, nil))
		waitGroup(b, c, "G", func(x wire.ClusterGroup) bool { return x.Node == target && x.State == "Online" }, 30*time.Second)
		moves = append(moves, time.Since(start))
		// Then SIGKILL of the owner; the observer is another node.
		victim := byName[target]
		var obs *node
		for _, nd := range nodes {
			if nd != victim {
				obs = nd
				break
			}
		}
		oc := apiClient(b, obs)
		b.StartTimer()
		start = time.Now()
		victim.kill()
		waitGroup(b, oc, "G", func(x wire.ClusterGroup) bool { return x.Node != victim.name && x.State == "Online" }, 60*time.Second)
		fails = append(fails, time.Since(start))
		b.StopTimer()
		victim.start(b, nodes[0].dir)
		c = apiClient(b, nodes[0])
		if nodes[0] == victim {
			c = oc
		}
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(percentile(fails, 0.5).Seconds(), "failover-median-s")
	b.ReportMetric(percentile(fails, 0.99).Seconds(), "failover-p99-s")
	b.ReportMetric(percentile(moves, 0.5).Seconds(), "move-median-s")
}

// BenchmarkStartAllOnline measures, on 3 nodes, the time from starting the nodes to all
// resources Online: 100 resources in 10 groups, or 1,000 in 100 groups with
// WOLFPACK_LONG=1. The resources are of resmon's in-memory Test type, so that the
// figure is the cluster's (placement, database writes, state machine), not the
// programs'. Beside it: the time until the three nodes answer on their API (etcd
// started, members registered). It also reports each node's RSS with everything online.
func BenchmarkStartAllOnline(b *testing.B) {
	groups, per := 10, 10
	if os.Getenv("WOLFPACK_LONG") == "1" {
		groups = 100
	}
	nodes := startCluster(b, 3)
	c := apiClient(b, nodes[0])
	ctx := context.Background()
	// The groups and resources are written straight into the cluster database (the API
	// would take a while for a thousand); all of them want to be online.
	tlsCfg, err := clusterdb.ClientTLSInfo(pki.PathsIn(nodes[0].dir)).ClientConfig()
	must(b, err)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{"https://" + nodes[0].client}, TLS: tlsCfg, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	must(b, err)
	defer cli.Close()
	db := clusterdb.New(cli)
	var wg sync.WaitGroup
	errc := make(chan error, groups)
	sem := make(chan struct{}, 16)
	for gi := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			g := clusterdb.NewGroup(fmt.Sprintf("G%03d", gi))
			g.PersistentState = 1
			if err := db.CreateGroup(ctx, g); err != nil {
				errc <- err
				return
			}
			for ri := range per {
				r := clusterdb.NewResource(fmt.Sprintf("%s-R%02d", g.Name, ri), "Test", g.Name)
				r.PersistentState = 1
				if ri > 0 {
					r.Dependencies = []string{fmt.Sprintf("%s-R%02d", g.Name, ri-1)}
				}
				if err := db.CreateResource(ctx, r); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		b.Fatal(err)
	}
	allOnline := func(c *client.Client) bool {
		var rs []wire.ClusterResource
		if c.Do(ctx, http.MethodGet, "/v1/resources", nil, &rs) != nil || len(rs) != groups*per {
			return false
		}
		for _, r := range rs {
			if r.State != "Online" {
				return false
			}
		}
		return true
	}
	waitAll := func(c *client.Client, limit time.Duration) {
		deadline := time.Now().Add(limit)
		for !allOnline(c) {
			if time.Now().After(deadline) {
				b.Fatalf("not all %d resources online after %v", groups*per, limit)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitAll(c, 120*time.Second)
	var starts, ups []time.Duration
	var rss float64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		var wg sync.WaitGroup
		for _, nd := range nodes {
			wg.Add(1)
			go func() { defer wg.Done(); nd.stop() }()
		}
		wg.Wait()
		b.StartTimer()
		start := time.Now()
		for _, nd := range nodes {
			wg.Add(1)
			go func() { defer wg.Done(); nd.start(b, nodes[0].dir) }()
		}
		wg.Wait()
		ups = append(ups, time.Since(start))
		c = apiClient(b, nodes[0])
		waitAll(c, 120*time.Second)
		starts = append(starts, time.Since(start))
		b.StopTimer()
		rss = 0
		for _, nd := range nodes {
			rss = max(rss, nd.rssMB())
		}
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(percentile(starts, 0.5).Seconds(), "all-online-s")
	b.ReportMetric(percentile(ups, 0.5).Seconds(), "nodes-up-s")
	b.ReportMetric(float64(groups*per), "resources")
	b.ReportMetric(rss, "max-rss-MB/node")
}

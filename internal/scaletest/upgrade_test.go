package scaletest

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"wolfpack/internal/api/client"
	"wolfpack/internal/api/wire"
	"wolfpack/internal/clusterdb"
)

// TestRollingUpgrade replaces the three nodes of a running cluster, one at a time, by
// the next release's build (-tags wolfpack_schema_next: schema version 2, which adds a
// group's Priority) on the same data directories. While any node runs the current
// build (version 1 only) the cluster stays at 1, the group stays online, and no record
// gets the new field; once the last node is replaced the coordinator raises the
// cluster to 2 within seconds, writes the field, and logs event 1905. From then on the
// current build is refused, at start on an upgraded node's data directory and at the
// join of a new node, with an error that names both versions.
func TestRollingUpgrade(t *testing.T) {
	bins := t.TempDir()
	cur, next := filepath.Join(bins, "wolfpackd-1"), filepath.Join(bins, "wolfpackd-2")
	build(t, cur)
	build(t, next, "-tags", "wolfpack_schema_next")

	c := newCluster(t, 2)
	nodes := []*node{c.add("N1"), c.add("N2"), c.add("N3")}
	for _, n := range nodes {
		n.prog = cur
		c.start(n)
	}
	c.must(nodes[0], "cluster", "group", "G", "/create")
	c.must(nodes[0], "cluster", "resource", "App", "/create", "/group:G", "/type:Generic Application")
	c.must(nodes[0], "cluster", "resource", "App", "/priv", "CommandLine=/bin/sleep 3600")
	c.must(nodes[0], "cluster", "group", "G", "/online", "/wait:60")
	cli := c.etcdClient(nodes[0])
	defer cli.Close()
	checkMixed := func(step string, upgraded int) {
		t.Helper()
		var up *node
		for _, n := range nodes {
			if n.running() {
				up = n
			}
		}
		c.waitFor(30*time.Second, step+": G online", func() bool { return group(c, up, "G").State == "Online" })
		if v := schemaVersion(c, up); v != "1" {
			t.Fatalf("%s: cluster at schema version %s, want 1", step, v)
		}
		if raw := groupRecord(t, cli, "G"); strings.Contains(raw, `"priority"`) {
			t.Fatalf("%s: the next schema's field written in mixed mode: %s", step, raw)
		}
		got := 0
		for _, n := range c.nodeList(up) {
			if n.SchemaMax == 2 {
				got++
			}
		}
		if got != upgraded {
			t.Fatalf("%s: %d nodes record schema 1 to 2, want %d: %+v", step, got, upgraded, c.nodeList(up))
		}
	}
	checkMixed("all on the current build", 0)

	// Node by node: stop (its group moves away), start the next build on its directory.
	for i, n := range nodes {
		c.stop(n)
		n.prog = next
		c.start(n)
		if i < len(nodes)-1 {
			checkMixed(n.name+" upgraded", i+1)
		}
	}
	start := time.Now()
	c.waitFor(10*time.Second, "cluster at schema version 2", func() bool { return schemaVersion(c, nodes[0]) == "2" })
	t.Logf("schema version 2 %v after the last node started", time.Since(start).Round(10*time.Millisecond))
	c.waitFor(10*time.Second, "the field written", func() bool {
		return strings.Contains(groupRecord(t, cli, "G"), `"priority":2000`)
	})
	c.waitFor(30*time.Second, "G online", func() bool { return group(c, nodes[0], "G").State == "Online" })
	var evs wire.ClusterEvents
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.apiClient(nodes[0]).Do(ctx, http.MethodGet, "/v1/cluster/events?log=System&id=1905", nil, &evs); err != nil {
		t.Fatal(err)
	}
	if len(evs.Events) != 1 || !strings.Contains(evs.Events[0].Message, "raised from 1 to 2") {
		t.Fatalf("event 1905: %+v", evs)
	}

	// The current build is refused: at start on an upgraded node's directory …
	n3 := nodes[2]
	c.stop(n3)
	n3.prog = cur
	out := c.launchRefused(n3)
	for _, want := range []string{"runs schema version 1,", "the cluster runs schema version 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("start of the current build on %s: no %q in:\n%s", n3.name, want, out)
		}
	}
	n3.prog = next
	c.start(n3)
	// … and at the join of a new node.
	n4 := c.add("N4")
	n4.prog = cur
	out = c.launchRefused(n4)
	for _, want := range []string{"refused (error 5075)", "runs schema version 1,", "the cluster runs schema version 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("join of the current build: no %q in:\n%s", want, out)
		}
	}
	if ns := c.nodeList(nodes[0]); len(ns) != 3 {
		t.Errorf("nodes after the refused join: %+v", ns)
	}
}

// build builds wolfpackd into file.
func build(t *testing.T, file string, flags ...string) {
	t.Helper()
	args := append(append([]string{"build"}, flags...), "-o", file, "wolfpack/cmd/wolfpackd")
	cmd := exec.Command("go", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// launchRefused starts n's daemon, which must exit without starting, and returns its
// log.
func (c *cluster) launchRefused(n *node) string {
	c.t.Helper()
	before, _ := os.ReadFile(c.logFile(n))
	c.launch(n)
	select {
	case <-n.exited:
	case <-time.After(60 * time.Second):
		c.t.Fatalf("%s started, or did not exit:\n%s", n.name, tail(c.logFile(n), 20))
	}
	if _, err := os.Stat(filepath.Join(n.dir, client.AddrFile)); err == nil {
		c.t.Fatalf("%s became ready", n.name)
	}
	b, _ := os.ReadFile(c.logFile(n))
	return string(b[len(before):])
}

// schemaVersion is the cluster's ClusterSchemaVersion as cluster /prop on n lists it.
func schemaVersion(c *cluster, n *node) string {
	out, err := c.run(n, "cluster", "/prop", "/f:json")
	if err != nil {
		return ""
	}
	var ps []wire.ClusterProperty
	if json.Unmarshal([]byte(out), &ps) != nil {
		return ""
	}
	for _, p := range ps {
		if p.Name == "ClusterSchemaVersion" {
			return p.Value
		}
	}
	return ""
}

// groupRecord is a group's record as stored.
func groupRecord(t *testing.T, cli *clientv3.Client, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, clusterdb.GroupKey(name))
	if err != nil || len(resp.Kvs) == 0 {
		t.Fatalf("group %s's record: %v", name, err)
	}
	return string(resp.Kvs[0].Value)
}

package scaletest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"wolfpack/internal/clusterdb"
)

// TestPlacement places groups on five real nodes: anti-affinity before preferred owners
// (three SQL groups that all prefer N1 go to N1, N2 and N3), groups without preferred
// owners spread by load, the groups of a node killed with SIGKILL spread over the
// survivors and its SQL group goes to a node without one; under
// ClusterEnforcedAntiAffinity a group that can only share a node stays offline.
func TestPlacement(t *testing.T) {
	c := newCluster(t, 2)
	var nodes []*node
	for i := range 5 {
		nodes = append(nodes, c.add(fmt.Sprintf("N%d", i+1)))
	}
	for _, n := range nodes {
		c.start(n)
	}
	cli := c.etcdClient(nodes[0])
	defer cli.Close()
	db := clusterdb.New(cli)
	all := []string{"N1", "N2", "N3", "N4", "N5"}
	for i := range 3 {
		createGroup(t, db, fmt.Sprintf("SQL%d", i+1), 1, func(g *clusterdb.Group) {
			g.AntiAffinityClassNames = []string{"SQL"}
			g.PreferredOwners = all
		})
	}
	var apps []string
	for i := range 20 {
		apps = append(apps, fmt.Sprintf("App%02d", i))
		createGroup(t, db, apps[i], 5, nil)
	}
	want := 23
	waitOnline(c, cli, want, 60*time.Second)
	owners := groupOwners(t, cli)
	for i, n := range []string{"N1", "N2", "N3"} {
		if g := fmt.Sprintf("sql%d", i+1); owners[g] != n {
			t.Errorf("SQL%d on %s, want %s (anti-affinity, then the preferred owners' order)", i+1, owners[g], n)
		}
	}
	load := nodeLoads(owners, 5, map[string]int{"sql1": 1, "sql2": 1, "sql3": 1})
	t.Logf("resources per node after placement: %v", load)
	for _, n := range all {
		if load[n] < 15 || load[n] > 25 {
			t.Errorf("%s runs %d resources: want the 103 spread by load (15 to 25 each): %v", n, load[n], load)
		}
	}

	// N1 dies (its daemon killed; its resource host revokes its lease).
	var lost []string
	for g, n := range owners {
		if n == "N1" {
			lost = append(lost, g)
		}
	}
	c.kill9(nodes[0], false)
	cli2 := c.etcdClient(nodes[1])
	defer cli2.Close()
	c.waitFor(30*time.Second, "N1's groups online elsewhere", func() bool {
		o := groupOwners(t, cli2)
		for _, g := range lost {
			if o[g] == "N1" || o[g] == "" {
				return false
			}
		}
		return onlineCount(cli2) == want
	})
	after := groupOwners(t, cli2)
	spread := map[string]int{}
	for _, g := range lost {
		spread[after[g]]++
	}
	t.Logf("N1's %d groups went to %v", len(lost), spread)
	if len(lost) >= 4 && len(spread) < 3 {
		t.Errorf("N1's %d groups piled on %v: want them spread over the survivors", len(lost), spread)
	}
	if o := after["sql1"]; o != "N4" && o != "N5" {
		t.Errorf("SQL1 went to %s: want a node without an SQL group (N4 or N5)", o)
	}

	// Enforced anti-affinity: SQL4 takes the last node free of SQL groups; SQL5 has none
	// and stays offline, unowned.
	c.must(nodes[1], "cluster", "/prop", "ClusterEnforcedAntiAffinity=1")
	createGroup(t, db2(cli2), "SQL4", 1, func(g *clusterdb.Group) { g.AntiAffinityClassNames = []string{"sql"} })
	waitOnline(c, cli2, want+1, 30*time.Second)
	createGroup(t, db2(cli2), "SQL5", 1, func(g *clusterdb.Group) { g.AntiAffinityClassNames = []string{"SQL"} })
	time.Sleep(3 * time.Second)
	final := groupOwners(t, cli2)
	var sqlNodes []string
	for _, g := range []string{"sql1", "sql2", "sql3", "sql4"} {
		sqlNodes = append(sqlNodes, final[g])
	}
	slices.Sort(sqlNodes)
	if !slices.Equal(sqlNodes, []string{"N2", "N3", "N4", "N5"}) {
		t.Errorf("SQL1…SQL4 on %v, want one on each of N2…N5", sqlNodes)
	}
	if o := final["sql5"]; o != "" {
		t.Errorf("SQL5 placed on %s under ClusterEnforcedAntiAffinity: every live node hosts an SQL group", o)
	}
	if out := c.must(nodes[1], "cluster", "group", "SQL5"); !matchLine(out, "SQL5 +Pending") {
		t.Errorf("cluster group SQL5:\n%s", out)
	}
}

func db2(cli *clientv3.Client) *clusterdb.DB { return clusterdb.New(cli) }

// createGroup writes a group that wants to be online with n resources of the in-memory
// Test type, straight into the database (no owner: the coordinator places it).
func createGroup(t testing.TB, db *clusterdb.DB, name string, n int, edit func(*clusterdb.Group)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	g := clusterdb.NewGroup(name)
	g.PersistentState = 1
	if edit != nil {
		edit(&g)
	}
	var rs []clusterdb.Resource
	for i := range n {
		r := clusterdb.NewResource(fmt.Sprintf("%s-R%d", name, i), "Test", name)
		r.PersistentState = 1
		rs = append(rs, r)
	}
	if err := db.CreateGroupWithResources(ctx, g, rs); err != nil {
		t.Fatal(err)
	}
}

// groupOwners reads owners/: group key → node.
func groupOwners(t testing.TB, cli *clientv3.Client) map[string]string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, clusterdb.OwnersPrefix, clientv3.WithPrefix())
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, kv := range resp.Kvs {
		out[strings.TrimPrefix(string(kv.Key), clusterdb.OwnersPrefix)] = string(kv.Value)
	}
	return out
}

// onlineCount counts the groups whose owner reported them Online and is alive with the
// lease it reported under.
func onlineCount(cli *clientv3.Client) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := clusterdb.New(cli).Snapshot(ctx)
	if err != nil {
		return -1
	}
	n := 0
	for k, g := range s.Groups {
		own := s.Owners[k]
		st, ok := s.GroupStates[k]
		if !ok || own.Node == "" || !strings.EqualFold(st.Node, own.Node) || st.State != clusterdb.StateOnline || !s.Alive(own.Node) {
			continue
		}
		rs := s.GroupResources(g.Name)
		online := true
		for _, r := range rs {
			rst := s.ResourceStates[clusterdb.Key(r.Name)]
			if rst.State != clusterdb.StateOnline || !strings.EqualFold(rst.Node, own.Node) || rst.Session != s.Members[clusterdb.Key(own.Node)].Lease {
				online = false
				break
			}
		}
		if online {
			n++
		}
	}
	return n
}

// waitOnline waits until want groups (and all their resources) are Online.
func waitOnline(c *cluster, cli *clientv3.Client, want int, limit time.Duration) {
	c.t.Helper()
	var got int
	deadline := time.Now().Add(limit)
	for {
		if got = onlineCount(cli); got == want {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%d groups online after %v, want %d", got, limit, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// nodeLoads counts each node's resources: per is the group's resources (default 5).
func nodeLoads(owners map[string]string, per int, except map[string]int) map[string]int {
	out := map[string]int{}
	for g, n := range owners {
		if k, ok := except[g]; ok {
			out[n] += k
			continue
		}
		out[n] += per
	}
	return out
}

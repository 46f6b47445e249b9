package scaletest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wolfpack/internal/api/wire"
	"wolfpack/internal/clusterdb"
)

// TestVoters grows a cluster to five nodes and checks its voters at each step: an odd
// number of etcd voting members (a second node stops voting, a third makes three voters,
// the fourth and fifth are non-voters, clients of the voters with their own membership
// lease); a non-voter runs a group, and when its daemon dies its resource host revokes
// its lease with the client certificate and endpoints it got at its join; a voter whose
// machine is lost is replaced after VoterReplaceAfter, and comes back as a non-voter; an
// administrator pins a voter, takes a vote away (NodeWeight=0), and asks for five voters
// and then three again. Every change is made by the nodes themselves (learner, then
// promotion; or client moved, then member removed), one at a time, while the group runs
// on.
func TestVoters(t *testing.T) {
	c := newCluster(t, 2)
	n1, n2, n3, n4, n5 := c.add("N1"), c.add("N2"), c.add("N3"), c.add("N4"), c.add("N5")
	c.start(n1)
	c.must(n1, "cluster", "/prop", "VoterReplaceAfter=3")
	props := jsonOut[[]wire.ClusterProperty](t, c.must(n1, "cluster", "/prop", "/f:json"))
	if !hasProp(props, "Voters", "3") || !hasProp(props, "VoterReplaceAfter", "3") {
		t.Fatalf("cluster properties: %+v", props)
	}

	// Two nodes: two voters are no better than one (either's loss stops the database),
	// so after VoterReplaceAfter the second stops voting.
	c.start(n2)
	c.waitVoters(n1, 60*time.Second, "N1")
	c.waitFor(30*time.Second, "N2's etcd data removed", func() bool { return !exists(filepath.Join(n2.dir, "etcd")) })
	if !exists(filepath.Join(n2.dir, clusterdb.EndpointsFile)) {
		t.Errorf("N2 has no %s", clusterdb.EndpointsFile)
	}

	// A third node makes three voters: it joins as one, and N2 is promoted again.
	c.start(n3)
	c.waitVoters(n1, 60*time.Second, "N1", "N2", "N3")
	// The fourth and fifth are non-voters.
	c.start(n4)
	c.start(n5)
	c.waitVoters(n1, 30*time.Second, "N1", "N2", "N3")
	for _, n := range []*node{n4, n5} {
		if exists(filepath.Join(n.dir, "etcd")) {
			t.Errorf("non-voter %s has an etcd member directory", n.name)
		}
	}
	waitRoles(c, n4, map[string]string{"N1": "Voter/Up", "N2": "Voter/Up", "N3": "Voter/Up", "N4": "NonVoter/Up", "N5": "NonVoter/Up"})
	out := c.must(n5, "cluster", "node")
	for _, want := range []string{"N1 +1 Up +Voter", "N4 +4 Up +Non-voter"} {
		if !matchLine(out, want) {
			t.Errorf("cluster node on N5: no line %q:\n%s", want, out)
		}
	}

	// A group on a non-voter. When its daemon dies, its resource host kills the process
	// and revokes the lease with the node's own certificate, through the voters'
	// endpoints: the group is back elsewhere well before the lease (2 s) could expire.
	c.must(n4, "cluster", "group", "G", "/create")
	c.must(n4, "cluster", "resource", "App", "/create", "/group:G", "/type:Generic Application")
	c.must(n4, "cluster", "resource", "App", "/priv", "CommandLine=/bin/sleep 3600")
	c.must(n4, "cluster", "group", "G", "/online", "/wait:60")
	if g := group(c, n1, "G"); g.Node != "N4" || g.State != "Online" {
		t.Fatalf("G: %+v, want Online on N4", g)
	}
	killed := time.Now()
	c.kill9(n4, false)
	var g wire.ClusterGroup
	c.waitFor(30*time.Second, "G online on another node", func() bool {
		g = group(c, n1, "G")
		return g.State == "Online" && g.Node != "N4"
	})
	took := time.Since(killed)
	t.Logf("non-voter N4's daemon killed: G online on %s after %v", g.Node, took.Round(time.Millisecond))
	c.waitFor(10*time.Second, "N4's resource host revoking the lease", func() bool {
		b, _ := os.ReadFile(c.logFile(n4))
		return strings.Contains(string(b), "lease revoked")
	})
	c.start(n4)

	// A voter's machine lost (daemon and resource host): after VoterReplaceAfter (3 s)
	// the coordinator asks the first non-voter, N4, to vote, then removes N2's member.
	c.kill9(n2, true)
	lost := time.Now()
	c.waitVoters(n1, 60*time.Second, "N1", "N3", "N4")
	t.Logf("voter N2 lost: N4 votes in its place after %v", time.Since(lost).Round(time.Millisecond))
	if g2 := group(c, n1, "G"); g2.State != "Online" || g2.Node != g.Node {
		t.Errorf("G after the voter change: %+v, want Online on %s", g2, g.Node)
	}
	// N2 comes back as a non-voter: its member is gone, and so is its etcd data.
	c.start(n2)
	waitRoles(c, n1, map[string]string{"N2": "NonVoter/Up", "N4": "Voter/Up"})
	if exists(filepath.Join(n2.dir, "etcd")) {
		t.Error("N2 kept its old etcd member's data")
	}

	// The administrator pins N5: it votes, and the newest unpinned voter (N4) stops.
	c.must(n1, "cluster", "node", "N5", "/prop", "PinnedVoter=1")
	c.waitVoters(n1, 60*time.Second, "N1", "N3", "N5")
	if out := c.must(n1, "cluster", "node"); !matchLine(out, `N5 +5 Up +Voter \(pinned\)`) {
		t.Errorf("cluster node: N5 not shown as a pinned voter:\n%s", out)
	}
	// NodeWeight=0 takes N1's vote: N2 (the first node that may vote) is promoted, then
	// N1 stops voting.
	c.must(n3, "cluster", "node", "N1", "/prop", "NodeWeight=0")
	c.waitVoters(n3, 60*time.Second, "N2", "N3", "N5")
	nodeProps := c.must(n3, "cluster", "node", "N1", "/prop")
	if !matchLine(nodeProps, "D +N1 +NodeWeight +0") || !matchLine(nodeProps, "D +N1 +DynamicWeight +0") {
		t.Errorf("cluster node N1 /prop:\n%s", nodeProps)
	}
	// Five voters, on request; then three again.
	c.must(n3, "cluster", "node", "N1", "/prop", "NodeWeight=1")
	c.must(n3, "cluster", "/prop", "Voters=5")
	c.waitVoters(n3, 90*time.Second, "N1", "N2", "N3", "N4", "N5")
	c.must(n3, "cluster", "/prop", "Voters=3")
	c.waitVoters(n3, 90*time.Second, "N1", "N2", "N5")
	if _, err := c.run(n3, "cluster", "/prop", "Voters=4"); err == nil {
		t.Error("cluster /prop Voters=4 was accepted: an even number of voters")
	}
	if g2 := group(c, n3, "G"); g2.State != "Online" || g2.Node != g.Node {
		t.Errorf("G after the voter changes: %+v, want Online on %s", g2, g.Node)
	}
}

func hasProp(ps []wire.ClusterProperty, name, value string) bool {
	for _, p := range ps {
		if p.Name == name && p.Value == value {
			return true
		}
	}
	return false
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// waitRoles waits until every node in want has the role/state as n shows it.
func waitRoles(c *cluster, n *node, want map[string]string) {
	c.t.Helper()
	var got map[string]string
	deadline := time.Now().Add(60 * time.Second)
	for {
		got = c.roles(n)
		ok := true
		for k, v := range want {
			if got[k] != v {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("roles %v, want %v", got, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// group returns a group as n shows it.
func group(c *cluster, n *node, name string) wire.ClusterGroup {
	var g wire.ClusterGroup
	out, err := c.run(n, "cluster", "group", name, "/f:json")
	if err != nil {
		return g
	}
	return jsonOut[wire.ClusterGroup](c.t, out)
}

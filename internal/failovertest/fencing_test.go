package failovertest

import (
	"syscall"
	"testing"
	"time"

	"wolfpack/internal/fencing"
)

// A scenario makes one failure happen to the group's owner, checks that the group never
// ran on two nodes, brings the cluster back to three live nodes, and returns the time it
// measured (and, for the partition, the margin as a second figure).
type scenario func(c *cluster, cycle int) (time.Duration, time.Duration)

// cycles is how many times each scenario runs in a test: a few in CI, 20 with
// WOLFPACK_LONG=1.
func cycles(short int) int {
	if long() {
		return 20
	}
	return short
}

// ownerNode returns G's owner, waiting until the group is Online somewhere.
func (c *cluster) ownerNode() *node {
	c.t.Helper()
	var owner string
	c.waitFor(60*time.Second, "group G Online", func() bool {
		o, st := c.group(nil)
		owner = o
		return st == "Online"
	})
	return c.node(owner)
}

// lastPid is the pid of the process that wrote the last line.
func (c *cluster) lastPid() int {
	ls := c.lines()
	return ls[len(ls)-1].pid
}

func since(at int64, t time.Time) time.Duration {
	return time.Duration(at - t.UnixNano()).Round(time.Millisecond)
}

// freezeScenario SIGSTOPs the owner's daemon for freeze, then SIGCONTs it. Its resource
// host freezes and kills the group's process; another node brings the group online after
// the lease expired; the woken daemon neither restarts the group nor overwrites the new
// owner's state.
func freezeScenario(freeze time.Duration) scenario {
	return func(c *cluster, i int) (time.Duration, time.Duration) {
		t := c.t
		owner := c.ownerNode()
		oldPid := c.lastPid()
		stopped := time.Now()
		c.signal(owner, syscall.SIGSTOP)
		old, first := c.takeover(owner.name, stopped, 30*time.Second)
		if pidAlive(oldPid) {
			t.Errorf("cycle %d: the frozen node's process %d still runs after the takeover", i, oldPid)
		}
		t.Logf("cycle %d: %s frozen for %v: its last line %v after the freeze, %s online %v after it",
			i, owner.name, freeze, since(old.at, stopped), first.node, since(first.at, stopped))
		time.Sleep(time.Until(stopped.Add(freeze)))
		c.signal(owner, syscall.SIGCONT)
		time.Sleep(3 * time.Second)
		if o, st := c.group(nil); o != first.node || st != "Online" {
			t.Errorf("cycle %d: after %s woke, G is %s on %s, want Online on %s", i, owner.name, st, o, first.node)
		}
		c.waitUp(c.node(first.node), owner.name)
		c.checkNoOverlap()
		return time.Duration(first.at - stopped.UnixNano()), time.Duration(first.at - old.at)
	}
}

// crashScenario kills the owner's daemon with SIGKILL (with its resource host too when
// withHost: the machine lost), then restarts it. With leader, the owner is first made the
// coordinator and the etcd leader; without, the etcd leader is another node (an etcd
// election is then not part of the figure).
func crashScenario(withHost, leader bool) scenario {
	return func(c *cluster, i int) (time.Duration, time.Duration) {
		t := c.t
		if leader {
			coord := c.coordinator()
			c.moveEtcdLeader(coord)
			c.moveGroup(coord)
		}
		owner := c.ownerNode()
		if !leader {
			for _, n := range c.alive() {
				if n != owner {
					c.moveEtcdLeader(n)
					break
				}
			}
		}
		oldPid := c.lastPid()
		host := owner.hostPid()
		if withHost && host == 0 {
			t.Fatalf("no resource host under %s's daemon", owner.name)
		}
		killed := time.Now()
		if withHost {
			// The host first, so that it cannot revoke the lease; its processes die with it.
			syscall.Kill(host, syscall.SIGKILL)
		}
		c.signal(owner, syscall.SIGKILL)
		old, first := c.takeover(owner.name, killed, 30*time.Second)
		if pidAlive(oldPid) {
			t.Errorf("cycle %d: the dead node's process %d still runs", i, oldPid)
		}
		t.Logf("cycle %d: %s killed (host too: %v, coordinator and etcd leader: %v): its process's last line %v after, %s online %v after",
			i, owner.name, withHost, leader, since(old.at, killed), first.node, since(first.at, killed))
		c.checkNoOverlap()
		c.start(owner, true)
		c.waitUp(owner, "N1", "N2", "N3")
		return time.Duration(first.at - killed.UnixNano()), time.Duration(first.at - old.at)
	}
}

// partitionScenario cuts the owner off (its link down), waits for the takeover, heals.
func partitionScenario(nn *netnet) scenario {
	return func(c *cluster, i int) (time.Duration, time.Duration) {
		t := c.t
		owner := c.ownerNode()
		idx := 0
		for j, n := range c.nodes {
			if n == owner {
				idx = j
			}
		}
		oldPid := c.lastPid()
		cut := time.Now()
		if err := nn.cut(idx); err != nil {
			t.Fatal(err)
		}
		old, first := c.takeover(owner.name, cut, 30*time.Second)
		t.Logf("cycle %d: %s cut off: its last line %v after the cut, %s online %v after it: margin %v", i, owner.name,
			since(old.at, cut), first.node, since(first.at, cut), time.Duration(first.at-old.at).Round(time.Millisecond))
		c.waitFor(5*time.Second, "the cut-off node's process gone", func() bool { return !pidAlive(oldPid) })
		if err := nn.heal(idx); err != nil {
			t.Fatal(err)
		}
		c.waitUp(c.node(first.node), "N1", "N2", "N3")
		time.Sleep(2 * time.Second)
		if o, st := c.group(nil); o != first.node || st != "Online" {
			t.Errorf("cycle %d: after %s came back, G is %s on %s, want Online on %s", i, owner.name, st, o, first.node)
		}
		c.checkNoOverlap()
		return time.Duration(first.at - cut.UnixNano()), time.Duration(first.at - old.at)
	}
}

// leaderLossScenario kills the etcd leader's node while another node owns the group:
// the owner keeps its session and its group (the same process, Online); the figure is
// the owner's process's longest pause.
func leaderLossScenario(c *cluster, i int) (time.Duration, time.Duration) {
	t := c.t
	owner := c.ownerNode()
	var victim *node
	for _, n := range c.alive() {
		if n != owner {
			victim = n
			break
		}
	}
	c.moveEtcdLeader(victim)
	pid := c.lastPid()
	killed := time.Now()
	c.signal(victim, syscall.SIGKILL)
	time.Sleep(5 * time.Second)
	if o, st := c.group(nil); o != owner.name || st != "Online" {
		t.Errorf("cycle %d: after the etcd leader %s died, G is %s on %s, want Online on %s", i, victim.name, st, o, owner.name)
	}
	var pause time.Duration
	prev := killed.UnixNano()
	for _, e := range c.lines() {
		if e.at <= killed.UnixNano() {
			continue
		}
		if e.pid != pid {
			t.Errorf("cycle %d: a line from pid %d on %s after the leader died: the group restarted", i, e.pid, e.node)
			break
		}
		pause = max(pause, time.Duration(e.at-prev))
		prev = e.at
	}
	t.Logf("cycle %d: etcd leader %s killed; %s's process went on, longest pause %v", i, victim.name, owner.name, pause.Round(time.Millisecond))
	c.start(victim, true)
	c.waitUp(victim, "N1", "N2", "N3")
	return pause, 0
}

// runCycles runs s n times on c and returns its figures.
func runCycles(c *cluster, n int, s scenario) (first, second durations) {
	for i := range n {
		a, b := s(c, i)
		first, second = append(first, a), append(second, b)
		if c.t.Failed() {
			break
		}
	}
	return first, second
}

func newGroupCluster(t testing.TB, o clusterOptions) *cluster {
	if o.nodes == 0 {
		o.nodes = 3
	}
	c := newCluster(t, o)
	c.setupGroup()
	return c
}

// TestFreeze: the owner's daemon frozen for 3, 8 and 30 s (SIGSTOP).
func TestFreeze(t *testing.T) {
	c := newGroupCluster(t, clusterOptions{})
	freezes := []time.Duration{3 * time.Second, 8 * time.Second, 30 * time.Second}
	var takeovers durations
	for i := range cycles(3) {
		d, _ := freezeScenario(freezes[i%len(freezes)])(c, i)
		takeovers = append(takeovers, d)
		if t.Failed() {
			return
		}
	}
	t.Logf("freeze takeover (SIGSTOP → first line elsewhere): %v", takeovers)
	// The bound is TTL + Margin + 1 s (4 s at TTL 2; BenchmarkFailover/freeze measures
	// it); a loaded CI machine gets twice that before this test calls it a failure.
	tm := fencing.ForTTL(time.Duration(c.ttl) * time.Second)
	if m, limit := takeovers.quantile(1), tm.TTL+tm.Margin+time.Second; m > 2*limit {
		t.Errorf("slowest takeover %v, more than twice the bound %v", m, limit)
	}
}

// TestDaemonCrash: kill -9 of the owner's daemon; its resource host kills the group's
// process and revokes the lease, so a survivor takes over well before the TTL.
func TestDaemonCrash(t *testing.T) {
	d, _ := runCycles(newGroupCluster(t, clusterOptions{}), cycles(3), crashScenario(false, false))
	t.Logf("daemon kill -9 → group online elsewhere: %v", d)
}

// TestCoordinatorAndLeaderCrash: the owner is also the coordinator and the etcd leader.
func TestCoordinatorAndLeaderCrash(t *testing.T) {
	d, _ := runCycles(newGroupCluster(t, clusterOptions{}), cycles(2), crashScenario(false, true))
	t.Logf("coordinator + etcd leader + owner kill -9 → group online elsewhere: %v", d)
}

// TestMachineLoss: the owner's daemon and resource host die together; failover by TTL.
func TestMachineLoss(t *testing.T) {
	d, _ := runCycles(newGroupCluster(t, clusterOptions{}), cycles(2), crashScenario(true, false))
	t.Logf("daemon + host kill -9 → group online elsewhere: %v", d)
}

// TestEtcdLeaderLoss: the etcd leader's node dies while another node runs the group.
func TestEtcdLeaderLoss(t *testing.T) {
	p, _ := runCycles(newGroupCluster(t, clusterOptions{}), cycles(2), leaderLossScenario)
	t.Logf("owner's longest pause while the etcd leader died: %v", p)
}

// TestPartition: the owner is cut off from the other two nodes (network namespaces). The
// measured margin — from the cut-off node's last line to the new owner's first — is the
// safety margin in practice; the goal is at least 1 s.
func TestPartition(t *testing.T) {
	nn := newNetnet(t, 3)
	c := newGroupCluster(t, clusterOptions{addrs: nn.addrs, netns: nn.netns})
	failovers, margins := runCycles(c, cycles(2), partitionScenario(nn))
	t.Logf("partition: failover %v; margin %v", failovers, margins)
	if m := margins.quantile(0); m < time.Second && !t.Failed() {
		t.Errorf("smallest margin %v < 1 s", m)
	}
}

// TestFirstFailureAfterStart: the first failure of a new cluster. The first node's
// resource host was started when its embedded member was the cluster's only one, so it
// knew no other member's client URL; the daemon tells it the others' as they join (a
// look every second for the first 30 s). When the first node's daemon dies, its member
// dies with it, and the host can revoke the lease only through another member: a host
// that had not learnt one left the group to wait for the lease to expire. The kill comes
// a few seconds after the third node joined (7 s after the first node started, here),
// before a look every 10 s from the start would have come.
func TestFirstFailureAfterStart(t *testing.T) {
	begin := time.Now()
	// TTL 4 s: the two ways out (revoked, expired) further apart than scheduling noise.
	c := newCluster(t, clusterOptions{nodes: 3, ttl: 4})
	n1 := c.nodes[0]
	c.waitUp(n1, "N1", "N2", "N3")
	joined := time.Now()
	// The etcd leader elsewhere: no etcd election in the figure (the first node's member
	// leads a new cluster), which is then a revocation's few hundred ms.
	c.moveEtcdLeader(c.nodes[1])
	c.setupGroup()
	c.moveGroup(n1) // where setupGroup brings it online; the test needs it there
	killed := time.Now()
	c.signal(n1, syscall.SIGKILL)
	_, first := c.takeover(n1.name, killed, 30*time.Second)
	took := time.Duration(first.at - killed.UnixNano())
	t.Logf("3 nodes Up %v after the first start; N1 killed %v after that; %s online %v after the kill",
		joined.Sub(begin).Round(time.Millisecond), killed.Sub(joined).Round(time.Millisecond), first.node, took.Round(time.Millisecond))
	c.checkNoOverlap()
	// Not revoked, the lease expires TTL after the last keep-alive N1 sent, which was at
	// most Renew before the kill, and the coordinator places the group Settle after that:
	// no takeover before TTL - Renew + Settle (4.1 s at TTL 4; measured 4.4-4.9 s with a host
	// that knew only N1's member). Revoked by the host, once it killed the group's
	// process (SIGTERM, Kill/2 = 250 ms of grace), it is Settle + a start: 0.6 s on an idle
	// machine. The bound, TTL - Renew (3.6 s), leaves Settle below the first and six
	// times the second.
	tm := fencing.ForTTL(time.Duration(c.ttl) * time.Second)
	if limit := tm.TTL - tm.Renew; took >= limit {
		t.Errorf("takeover %v after the first node's daemon died, want < TTL - Renew = %v: its host did not revoke the lease", took, limit)
	}
}

// TestWholeClusterRestart: the three nodes stopped and started again at once (a power
// cut). Each restarting voter asks the others whether its member was removed while it
// was down; they can answer only with a quorum, which needs the asking node's own
// member: a node that asked before it started its member waited for its question's
// 3 s timeout, and so did every node. The nodes answer on their API in 0.4-0.8 s on an
// idle machine; a wait for that timeout cannot take less than 3 s.
func TestWholeClusterRestart(t *testing.T) {
	c := newCluster(t, clusterOptions{nodes: 3})
	c.waitUp(c.nodes[0], "N1", "N2", "N3")
	c.stopAll()
	start := time.Now()
	for _, n := range c.nodes {
		c.launch(n, true)
	}
	for _, n := range c.nodes {
		c.waitAPI(n)
	}
	took := time.Since(start)
	c.waitUp(c.nodes[0], "N1", "N2", "N3")
	t.Logf("three nodes restarted at once: every API answering after %v, all Up after %v",
		took.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if took >= 3*time.Second {
		t.Errorf("the nodes answered on their API %v after a restart at once, want < 3 s", took.Round(time.Millisecond))
	}
}

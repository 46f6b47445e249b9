package failovertest

import (
	"syscall"

	"testing"
	"time"
	"wolfpack/internal/fencing"
)

// cycles is how many times each scenario runs: a few in CI, 20 with WOLFPACK_LONG=1.
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

// TestFreeze: the owner's daemon is frozen (SIGSTOP) for 3, 8 and 30 s. Its resource host
// kills the group's process when the permit runs out; another node brings the group
// online after the lease expired; when the frozen daemon wakes it neither restarts the
// group nor overwrites the new owner's state. No two nodes' lines ever interleave.
func TestFreeze(t *testing.T) {
	c := newCluster(t, clusterOptions{nodes: 3})
	c.setupGroup()
	freezes := []time.Duration{3 * time.Second, 8 * time.Second, 30 * time.Second}
	var takeovers durations
	for i := range cycles(3) {
		freeze := freezes[i%len(freezes)]
		owner := c.ownerNode()
		before := c.lines()
		oldPid := before[len(before)-1].pid
		stopped := time.Now()
		c.signal(owner, syscall.SIGSTOP)
		old, first := c.takeover(owner.name, stopped, 30*time.Second)
		takeovers = append(takeovers, time.Duration(first.at-stopped.UnixNano()))
		if pidAlive(oldPid) {
			t.Errorf("cycle %d: the frozen node's process %d still runs after the takeover", i, oldPid)
		}
		t.Logf("cycle %d: %s frozen for %v: last line %v after the freeze, %s online %v after it (margin %v)",
			i, owner.name, freeze, time.Duration(old.at-stopped.UnixNano()).Round(time.Millisecond),
			first.node, time.Duration(first.at-stopped.UnixNano()).Round(time.Millisecond), time.Duration(first.at-old.at).Round(time.Millisecond))
		time.Sleep(time.Until(stopped.Add(freeze)))
		c.signal(owner, syscall.SIGCONT)
		// The woken node must not come back to the group, nor write stale state.
		time.Sleep(3 * time.Second)
		o, st := c.group(nil)
		if o != first.node || st != "Online" {
			t.Errorf("cycle %d: after %s woke, G is %s on %s, want Online on %s", i, owner.name, st, o, first.node)
		}
		c.waitUp(c.node(first.node), owner.name)
		c.checkNoOverlap()
		if t.Failed() {
			return
		}
	}
	t.Logf("freeze takeover (SIGSTOP → first line elsewhere): %v", takeovers)
	// The bound is TTL + Margin + 1 s (4 s at TTL 2; BenchmarkFreezeTakeover measures
	// it); a loaded CI machine gets twice that before this test calls it a failure.
	tm := fencing.ForTTL(time.Duration(c.ttl) * time.Second)
	if m, limit := takeovers.quantile(1), tm.TTL+tm.Margin+time.Second; m > 2*limit {
		t.Errorf("slowest takeover %v, more than twice the bound %v", m, limit)
	}
}

// TestDaemonCrash: kill -9 of the owner's daemon. Its resource host kills the group's
// process and revokes the lease, so a survivor takes the group over well before the
// TTL; the killed node then restarts and rejoins.
func TestDaemonCrash(t *testing.T) {
	c := newCluster(t, clusterOptions{nodes: 3})
	c.setupGroup()
	var failovers durations
	for i := range cycles(3) {
		owner := c.ownerNode()
		before := c.lines()
		oldPid := before[len(before)-1].pid
		killed := time.Now()
		c.signal(owner, syscall.SIGKILL)
		old, first := c.takeover(owner.name, killed, 30*time.Second)
		failovers = append(failovers, time.Duration(first.at-killed.UnixNano()))
		if pidAlive(oldPid) {
			t.Errorf("cycle %d: the dead daemon's process %d still runs", i, oldPid)
		}
		t.Logf("cycle %d: %s killed: its process's last line %v after, %s online %v after",
			i, owner.name, time.Duration(old.at-killed.UnixNano()).Round(time.Millisecond), first.node,
			time.Duration(first.at-killed.UnixNano()).Round(time.Millisecond))
		c.checkNoOverlap()
		c.start(owner, true)
		c.waitUp(owner, "N1", "N2", "N3")
		if t.Failed() {
			return
		}
	}
	t.Logf("daemon kill -9 → group online elsewhere: %v", failovers)
}

package agent

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"wolfpack/internal/clusterdb"
)

// reportMembership writes, on every live node, the membership changes between two
// snapshots: 1062 for a node that joined, 1135 for one that left (as each node of a
// Windows cluster logs 1135 in its own System log). Every node does it, not only the
// coordinator, so that the death of the coordinator itself is logged too.
func (a *Agent) reportMembership(ctx context.Context, prev, s *clusterdb.Snapshot) {
	if prev == nil {
		return
	}
	if len(prev.Members) != len(s.Members) && a.leader.Load() {
		select {
		case a.voterKick <- struct{}{}:
		default:
		}
	}
	self := clusterdb.Key(a.opt.Name)
	for k, m := range s.Members {
		if _, ok := prev.Members[k]; !ok && k != self {
			a.log.Info("node joined the cluster", "node", m.Name)
			a.opt.Report(ctx, EventNodeJoined, m.Name, "wolfpack")
		}
	}
	for k, m := range prev.Members {
		if _, ok := s.Members[k]; !ok && k != self {
			if n, ok := s.Nodes[k]; ok && n.Stopped {
				// Its cluster service was stopped: a planned leave, not a failure.
				a.log.Info("node left the cluster: its cluster service was stopped", "node", m.Name)
				a.opt.Report(ctx, EventNodeStopped, m.Name)
				continue
			}
			if _, ok := s.Nodes[k]; !ok {
				continue // evicted: EventNodeEvicted was reported
			}
			a.log.Warn("node left the cluster", "node", m.Name)
			a.opt.Report(ctx, EventNodeRemoved, m.Name)
		}
	}
}

// maxStateWrites bounds the resource states a placement writes in its transaction
// (etcd takes 128 operations in one).
const maxStateWrites = 100

// coordinate is the elected coordinator's work on one snapshot: place the groups that
// have no live owner, and fail groups back.
func (a *Agent) coordinate(ctx context.Context, prev, s *clusterdb.Snapshot) {
	pl := a.newPlacer(s)
	keys := make([]string, 0, len(s.Groups))
	for k := range s.Groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	el := a.election.Load()
	if el == nil {
		return
	}
	a.noteGone(s)
	starting := a.starting(s)
	// Groups are held back until half the limit came online, then placed together:
	// every node reads each placement, so one per group coming online would cost the
	// cluster a placement per group, each read by every node.
	room := 0
	if starting <= StartingLimit/2 {
		room = StartingLimit - starting
	}
	var batch []clusterdb.Placement
	defer func() {
		if len(batch) > 0 {
			a.placeBatch(ctx, batch)
		}
	}()
	var retry time.Duration // the shortest settle wait left, to look again then
	defer func() {
		if retry > 0 {
			go func() { sleep(ctx, retry); a.poke() }()
		}
	}()
	for _, k := range keys {
		g := s.Groups[k]
		own := s.Owners[k]
		if own.Node != "" && a.usable(s, own.Node, false) {
			a.failback(ctx, s, g, own)
			continue
		}
		if own.Node != "" && s.Alive(own.Node) {
			// The owner is up but may not keep the group (evicted): it stops the
			// group's resources and releases it itself (groupWorker.step).
			continue
		}
		if own.Node != "" {
			// The owner's lease expired or was revoked: its resources were stopped
			// Timing.Margin before that could happen. Wait Timing.Settle more.
			if wait := a.settleLeft(own.Node); wait > 0 {
				if retry == 0 || wait < retry {
					retry = wait
				}
				continue
			}
		}
		var target string
		if mv, ok := s.Moves[k]; ok && mv.Target != "" && a.eligible(s, g, mv.Target) {
			target = mv.Target
		} else {
			target = pl.pick(g, s.GroupStates[k].FailedOn)
		}
		dead := own.Node != ""
		var extra []clusterdb.Op
		if dead {
			// The dead owner's resources died with it: say so. (The coordinator does
			// not follow the resources' states; it writes them all, a bounded number.)
			for _, r := range s.GroupResources(g.Name) {
				if len(extra) >= maxStateWrites {
					break // the rest show Offline anyway: their reporter is not the owner
				}
				extra = append(extra, clusterdb.OpPutResourceState(r.Name, clusterdb.ResourceState{State: clusterdb.StateOffline, Node: own.Node, Since: time.Now().UTC()}))
			}
		}
		if target == "" {
			if len(extra) > 0 {
				// No node can take the group: record it as offline, unowned.
				extra = append(extra, clusterdb.OpPutGroupState(g.Name, clusterdb.GroupState{State: clusterdb.StateOffline, Since: time.Now().UTC(), Failovers: s.GroupStates[k].Failovers}))
				if _, err := a.db.Place(ctx, clusterdb.Placement{Group: g.Name, Prev: own.Revision, DeadOwner: own.Node, Election: *el}, extra...); err != nil {
					a.log.Debug("release group of dead node", "group", g.Name, "err", err)
				}
			}
			continue
		}
		p := clusterdb.Placement{Group: g.Name, Node: target, Prev: own.Revision, DeadOwner: own.Node, Election: *el}
		if !dead && len(extra) == 0 {
			// A new or released group: placed with others in one transaction, while
			// fewer than StartingLimit groups are coming online (a failed-over group
			// is placed at once, above).
			if g.PersistentState == 1 {
				if room == 0 {
					if retry == 0 || startingRecheck < retry {
						retry = startingRecheck
					}
					continue
				}
				room--
				a.placedAt[k] = time.Now()
			}
			pl.placed(g, target)
			batch = append(batch, p)
			if len(batch) == clusterdb.MaxPlaceBatch {
				a.placeBatch(ctx, batch)
				batch = batch[:0]
			}
			continue
		}
		pl.placed(g, target)
		extra = append(extra, clusterdb.OpDeleteMove(g.Name))
		if _, err := a.db.Place(ctx, p, extra...); err != nil {
			a.log.Debug("place group", "group", g.Name, "err", err)
			continue
		}
		if dead {
			a.failovers.Add(1)
			a.log.Warn("group failed over from a node that left", "group", g.Name, "from", own.Node, "to", target)
			a.opt.Report(ctx, EventGroupFailover, g.Name, own.Node, target)
		} else {
			a.log.Info("group placed", "group", g.Name, "node", target)
		}
	}
}

// StartingLimit bounds the new groups the coordinator has placed that are still coming
// online (Pacemaker's batch-limit): a thousand groups written at once would otherwise
// all start at once, and the etcd requests of their start would delay the nodes'
// session renewals past the TTL. Groups placed because their owner was lost are not
// held back, and do not wait for these.
const StartingLimit = 48

// startingRecheck is how soon a coordinator that held groups back looks again (a
// group's state record coming Online pokes it sooner).
const startingRecheck = 200 * time.Millisecond

// startingFor bounds how long a placed group counts as starting: an owner that reports
// nothing (a group whose start hangs) does not hold the others back longer.
const startingFor = 30 * time.Second

// starting counts the groups this coordinator placed that are coming online: not yet
// reported by their owner in a settled state, placed less than startingFor ago.
func (a *Agent) starting(s *clusterdb.Snapshot) int {
	n := 0
	for k, at := range a.placedAt {
		own, st := s.Owners[k], s.GroupStates[k]
		settled := st.State != "" && st.State != clusterdb.StatePending && strings.EqualFold(st.Node, own.Node)
		if _, exists := s.Groups[k]; !exists || own.Node == "" || settled || time.Since(at) > startingFor {
			delete(a.placedAt, k)
			continue
		}
		n++
	}
	return n
}

// placeBatch places new groups in one transaction, or one by one when one of them
// changed meanwhile.
func (a *Agent) placeBatch(ctx context.Context, ps []clusterdb.Placement) {
	if err := a.db.PlaceBatch(ctx, ps); err == nil {
		a.log.Info("groups placed", "groups", len(ps))
		return
	} else if !errors.Is(err, clusterdb.ErrConflict) {
		a.log.Debug("place groups", "err", err)
		return
	}
	for _, p := range ps {
		if _, err := a.db.Place(ctx, p, clusterdb.OpDeleteMove(p.Group)); err != nil {
			a.log.Debug("place group", "group", p.Group, "err", err)
			continue
		}
		a.log.Info("group placed", "group", p.Group, "node", p.Node)
	}
}

// noteGone records when this coordinator first saw each member leave (and forgets the
// members that are back).
func (a *Agent) noteGone(s *clusterdb.Snapshot) {
	a.goneMu.Lock()
	defer a.goneMu.Unlock()
	now := time.Now()
	for _, n := range s.Nodes {
		k := clusterdb.Key(n.Name)
		if s.Alive(n.Name) {
			delete(a.gone, k)
		} else if _, ok := a.gone[k]; !ok {
			a.gone[k] = now
		}
	}
}

// settleLeft is how long the groups of the dead node must still wait: Timing.Settle
// from the moment this coordinator saw it gone (a new coordinator counts from its own
// first sight, which is later than the lease's end, never earlier).
func (a *Agent) settleLeft(node string) time.Duration {
	a.goneMu.Lock()
	defer a.goneMu.Unlock()
	k := clusterdb.Key(node)
	since, ok := a.gone[k]
	if !ok {
		since = time.Now()
		a.gone[k] = since
	}
	return a.timing.Settle - time.Since(since)
}

// usable reports whether node is up and a cluster node in good standing; forNew adds
// that it may take groups (not paused, not a witness).
func (a *Agent) usable(s *clusterdb.Snapshot, node string, forNew bool) bool {
	n, ok := s.Nodes[clusterdb.Key(node)]
	if !ok || n.Evicted || n.Witness || !s.Alive(node) {
		return false
	}
	return !forNew || !n.Paused
}

// eligible reports whether node may own group g: usable and a possible owner of every
// resource of g.
func (a *Agent) eligible(s *clusterdb.Snapshot, g clusterdb.Group, node string) bool {
	if !a.usable(s, node, true) {
		return false
	}
	for _, r := range s.GroupResources(g.Name) {
		if len(r.PossibleOwners) > 0 && !slices.ContainsFunc(r.PossibleOwners, func(o string) bool { return strings.EqualFold(o, node) }) {
			return false
		}
	}
	return true
}

// failback moves a group with AutoFailbackType 1 back to its most preferred live owner,
// inside the failback window.
func (a *Agent) failback(ctx context.Context, s *clusterdb.Snapshot, g clusterdb.Group, own clusterdb.Owner) {
	if g.AutoFailbackType != clusterdb.AllowFailback || len(g.PreferredOwners) == 0 {
		return
	}
	k := clusterdb.Key(g.Name)
	if _, moving := s.Moves[k]; moving {
		return
	}
	if st := s.GroupStates[k]; st.State == clusterdb.StatePending {
		return
	}
	if !inWindow(time.Now().Hour(), g.FailbackWindowStart, g.FailbackWindowEnd) {
		return
	}
	for _, p := range g.PreferredOwners {
		if strings.EqualFold(p, own.Node) {
			return // already on the best live preferred owner
		}
		if a.eligible(s, g, p) {
			a.log.Info("failing group back", "group", g.Name, "to", p)
			if err := a.db.RequestMove(ctx, g.Name, clusterdb.Move{Target: p}); err != nil {
				a.log.Warn("failback", "group", g.Name, "err", err)
			}
			return
		}
	}
}

// inWindow reports whether hour is inside [start, end) on a 24-hour clock; -1 means no
// window.
func inWindow(hour int, start, end int32) bool {
	if start < 0 || end < 0 {
		return true
	}
	h := int32(hour)
	if start <= end {
		return h >= start && h < end
	}
	return h >= start || h < end
}

// repairIndexes rewrites the groups' resource indexes that a write without them (an
// older build, a raw etcd write) left missing, wrong or behind: the owners follow the
// indexes (clusterdb.ScopedFollower). An index that changed meanwhile is looked at again.
func (a *Agent) repairIndexes(ctx context.Context) {
	full := a.full.Load()
	if full == nil {
		return
	}
	repairs := full.IndexRepairs()
	done := 0
	defer func() {
		if done > 0 {
			a.log.Info("repaired groups' resource indexes", "groups", done)
		}
	}()
	for _, r := range repairs {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, err := a.db.RepairGroupIndex(rctx, r.Group, r.Rev, r.Resources)
		cancel()
		if err != nil || !ok {
			if err != nil {
				a.log.Warn("cannot repair a group's resource index", "group", r.Group, "err", err)
			}
			full.MarkIndexesDirty()
			continue
		}
		a.log.Debug("repaired a group's resource index", "group", r.Group, "resources", len(r.Resources))
		done++
	}
}

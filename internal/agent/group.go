package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"wolfpack/internal/clusterdb"
)

// groupWorker runs one group's resources on this node while the node owns the group.
// One goroutine acts for the group, so that the group's resources come online and go
// offline in dependency order, one at a time.
type groupWorker struct {
	a   *Agent
	key string
	// vanished: when reconcile first kept this worker although its group was not in
	// an incomplete view (zero: it is in the view); only reconcile touches it.
	vanished time.Time
	parent   context.Context // the agent's: it ends when the node stops
	ctx      context.Context
	cancel   context.CancelFunc
	kick     chan struct{}
	done     chan struct{}

	mu        sync.Mutex // guards latest, latestKey, res, failoverWanted
	latest    *clusterdb.Snapshot
	latestKey string
	res       map[string]*localResource // resources this node runs or ran in this ownership
	// failoverWanted: a resource exceeded its restart threshold with RestartNotify.
	failoverWanted bool
	failoverCause  string

	fence clusterdb.Fence // written by the worker under mu

	// The states of the group and its resources in the database, as this node read them
	// when it took the group and wrote them since (the owner is their only writer):
	// no node follows the states of the groups it owns. Under mu.
	dbGroup    clusterdb.GroupState
	dbGroupOK  bool
	dbStates   map[string]clusterdb.ResourceState // by resource key name
	statesRead bool                               // read for the current fence
	// deferred holds state reports not written yet: they go with the worker's next
	// fenced write (a wave's Online reports with the next wave's Online Pending, or with
	// the group's state), so that a group comes online in a few transactions rather than
	// two per resource. Under mu.
	deferred map[string]report

	// Only the worker goroutine touches these.
	cpFence     clusterdb.Fence // the fence the checkpointer last heard for this group
	groupFailed bool            // failover threshold spent: stays failed until a new request
	groupErr    string          // why the group failed (with groupFailed)
	lastState   string          // last group state written
	restarts    map[string][]time.Time
}

// localResource is a resource as this node runs it.
type localResource struct {
	rec     clusterdb.Resource
	state   string // clusterdb.State*; "" is Offline
	err     string
	failed  bool  // failed and not restarting by itself
	seenOn  int64 // OnlineSeq acted upon
	seenF   int64 // FailSeq acted upon
	keys    []string
	running bool // the runner holds it
	// restarting: the runner reported a failure and brings the resource back itself.
	restarting bool
	// recovering: Failed, and the runner or this worker restarts it or fails the group
	// over; reported with the state (a Failed report without it is final).
	recovering bool
	wroteSeq   int64 // the OnlineSeq last reported (seenOn once written)
}

func (a *Agent) newGroupWorker(ctx context.Context, key string) *groupWorker {
	wctx, cancel := context.WithCancel(ctx)
	w := &groupWorker{a: a, key: key, parent: ctx, ctx: wctx, cancel: cancel, kick: make(chan struct{}, 1),
		done: make(chan struct{}), res: map[string]*localResource{}, restarts: map[string][]time.Time{}}
	go w.run()
	return w
}

// update gives the worker a new snapshot, in which its group's key name is key.
func (w *groupWorker) update(s *clusterdb.Snapshot, key string) {
	w.mu.Lock()
	w.latest, w.latestKey = s, key
	w.mu.Unlock()
	w.poke()
}

func (w *groupWorker) poke() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// idle reports whether the worker holds nothing: no ownership, no running resource.
func (w *groupWorker) idle() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fence.Revision != 0 {
		return false
	}
	for _, lr := range w.res {
		if lr.running {
			return false
		}
	}
	return true
}

// readStates reads the states of the group and its resources, once per ownership: a
// state left by the previous owner, or by the coordinator when it took the group from
// a dead node, is what this node compares its own against.
func (w *groupWorker) readStates(g clusterdb.Group, rs []clusterdb.Resource) bool {
	w.mu.Lock()
	done := w.statesRead
	w.mu.Unlock()
	if done {
		return true
	}
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.Name
	}
	ctx, cancel := context.WithTimeout(w.ctx, 5*time.Second)
	gs, ok, states, err := w.a.db.States(ctx, g.Name, names)
	cancel()
	if err != nil {
		if w.ctx.Err() == nil {
			w.a.log.Warn("cannot read the group's states", "group", g.Name, "err", err)
			go func() { sleep(w.ctx, 500*time.Millisecond); w.poke() }()
		}
		return false
	}
	w.mu.Lock()
	w.dbGroup, w.dbGroupOK, w.dbStates, w.statesRead = gs, ok, states, true
	w.mu.Unlock()
	return true
}

// groupState is the group's state record as this node knows it.
func (w *groupWorker) groupState() (clusterdb.GroupState, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dbGroup, w.dbGroupOK
}

// stop ends the worker after it has stopped the group's local resources.
func (w *groupWorker) stop() {
	w.cancel()
	<-w.done
}

func (w *groupWorker) run() {
	defer close(w.done)
	defer w.leave()
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-w.kick:
		}
		w.mu.Lock()
		s, key := w.latest, w.latestKey
		w.mu.Unlock()
		if s != nil {
			w.key = key
			w.step(s)
		}
	}
}

// step brings what runs here in line with one snapshot. A suspended node does nothing:
// its resources are frozen, and a renewal pokes the worker again.
func (w *groupWorker) step(s *clusterdb.Snapshot) {
	a := w.a
	if a.suspended.Load() {
		return
	}
	g, exists := s.Groups[w.key]
	own := s.Owners[w.key]
	ownedHere := exists && own.Node == a.opt.Name && a.live.Load()
	mayOwn := !a.opt.Witness
	if n, ok := s.Nodes[clusterdb.Key(a.opt.Name)]; !ok || n.Evicted {
		mayOwn = false
	}
	if !ownedHere || !mayOwn {
		w.stopLocal(w.ctx, !a.live.Load())
		w.setFence(clusterdb.Fence{})
		if ownedHere {
			// Evicted while owning the group: it is stopped here, so release it for
			// the coordinator, which places a live owner's groups only once released.
			ctx, cancel := context.WithTimeout(w.ctx, 5*time.Second)
			f := clusterdb.Fence{Node: a.opt.Name, Group: g.Name, Revision: own.Revision}
			if _, err := a.db.FencedTxn(ctx, f, clusterdb.OpSetOwner(g.Name, "")); err == nil {
				a.log.Warn("released a group this node may no longer own", "group", g.Name)
			}
			cancel()
		}
		return
	}
	if own.Revision != w.fence.Revision {
		// A new ownership: start afresh.
		w.setFence(clusterdb.Fence{Node: a.opt.Name, Group: g.Name, Revision: own.Revision})
		w.mu.Lock()
		w.statesRead = false
		w.mu.Unlock()
		w.groupFailed, w.groupErr = false, ""
		w.lastState = ""
		w.restarts = map[string][]time.Time{}
		w.mu.Lock()
		for k, lr := range w.res {
			if !lr.running {
				delete(w.res, k)
			}
		}
		w.failoverWanted = false
		w.mu.Unlock()
		a.log.Debug("owning group", "group", g.Name, "revision", own.Revision)
	}
	if w.fence.Group != g.Name { // renamed
		w.setFence(clusterdb.Fence{Node: a.opt.Name, Group: g.Name, Revision: own.Revision})
	}
	if w.fence != w.cpFence {
		// Resources that stayed online through a change of fence (a rename, or the
		// group given back to this node) capture their checkpoints under the new one.
		w.mu.Lock()
		var online []string
		for k, lr := range w.res {
			if lr.running && lr.state == clusterdb.StateOnline {
				online = append(online, k)
			}
		}
		w.mu.Unlock()
		for _, r := range s.GroupResources(g.Name) {
			if slices.Contains(online, clusterdb.Key(r.Name)) {
				a.checkpointer().StartCapture(w.ctx, r, w.fence)
			}
		}
		w.cpFence = w.fence
	}
	if !w.readStates(g, s.GroupResources(g.Name)) {
		return
	}
	if mv, ok := s.Moves[w.key]; ok {
		if !strings.EqualFold(mv.Target, a.opt.Name) {
			w.handOver(s, g, mv)
			return
		}
		w.fencedWrite(clusterdb.OpDeleteMove(g.Name))
	}
	w.mu.Lock()
	fo, cause := w.failoverWanted, w.failoverCause
	w.mu.Unlock()
	if fo && !w.groupFailed {
		w.failover(s, g, cause)
		return
	}
	w.converge(s, g)
}

// order returns the group's resources with dependencies before dependents.
func order(rs []clusterdb.Resource) []clusterdb.Resource {
	byKey := map[string]clusterdb.Resource{}
	for _, r := range rs {
		byKey[clusterdb.Key(r.Name)] = r
	}
	var out []clusterdb.Resource
	seen := map[string]int{} // 1 visiting, 2 done
	var visit func(r clusterdb.Resource)
	visit = func(r clusterdb.Resource) {
		k := clusterdb.Key(r.Name)
		if seen[k] != 0 {
			return // done, or a cycle (refused when dependencies are added)
		}
		seen[k] = 1
		for _, d := range r.Dependencies {
			if dr, ok := byKey[clusterdb.Key(d)]; ok {
				visit(dr)
			}
		}
		seen[k] = 2
		out = append(out, r)
	}
	for _, r := range rs {
		visit(r)
	}
	return out
}

func (w *groupWorker) local(name string) *localResource {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := clusterdb.Key(name)
	lr := w.res[k]
	if lr == nil {
		lr = &localResource{state: clusterdb.StateOffline}
		w.res[k] = lr
	}
	return lr
}

// converge stops what must stop (dependents first), then starts what may start
// (dependencies first), then reports the group's state.
func (w *groupWorker) converge(s *clusterdb.Snapshot, g clusterdb.Group) {
	a := w.a
	rs := order(s.GroupResources(g.Name))
	inGroup := map[string]bool{}
	for _, r := range rs {
		inGroup[clusterdb.Key(r.Name)] = true
	}
	// Resources that left the group (deleted or moved) stop first.
	w.mu.Lock()
	var gone []string
	for k := range w.res {
		if !inGroup[k] {
			gone = append(gone, k)
		}
	}
	w.mu.Unlock()
	for _, k := range gone {
		w.mu.Lock()
		lr := w.res[k]
		w.mu.Unlock()
		if lr.running {
			w.offline(lr, false)
		}
		w.mu.Lock()
		delete(w.res, k)
		w.mu.Unlock()
	}
	online := func(name string) bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		lr := w.res[clusterdb.Key(name)]
		return lr != nil && lr.state == clusterdb.StateOnline
	}
	depsOnline := func(r clusterdb.Resource) bool {
		for _, d := range r.Dependencies {
			if !online(d) {
				return false
			}
		}
		return true
	}
	// Administrator requests: /fail and /online of a failed resource.
	for _, r := range rs {
		lr := w.local(r.Name)
		if lr.seenF == 0 && lr.seenOn == 0 && !lr.running && lr.rec.Name == "" {
			// First sight in this ownership: requests made before it are history.
			lr.seenF, lr.seenOn = r.FailSeq, r.OnlineSeq
		}
		lr.rec = r
		if r.FailSeq > lr.seenF {
			lr.seenF = r.FailSeq
			if lr.running {
				a.opt.Runner.Terminate(w.ctx, r.Name)
				lr.running = false
				w.resourceFailed(lr, errors.New("failed by the administrator (/fail)"))
				if r.RestartAction != clusterdb.DontRestart {
					lr.failed = false // the restart policy brings it back
				}
			}
		}
		if r.OnlineSeq > lr.seenOn {
			lr.seenOn = r.OnlineSeq
			if lr.failed {
				lr.failed = false
				w.restarts[clusterdb.Key(r.Name)] = nil
			}
			if w.groupFailed {
				// The group's failure ends with the request: say so before any
				// resource reports that it acted on it.
				w.groupFailed, w.groupErr = false, ""
				gs, _ := w.groupState()
				w.writeGroupStateRecord(gs, clusterdb.StatePending)
			}
		}
	}
	// Stop phase: what must stop, and every running resource that depends on it, which
	// goes first (rs is in dependency order, so one pass carries the need along).
	stop := map[string]bool{}
	for _, r := range rs {
		lr := w.local(r.Name)
		if !lr.running {
			continue
		}
		k := clusterdb.Key(r.Name)
		if r.PersistentState == 0 || !depsOnline(r) {
			stop[k] = true
		}
		for _, d := range r.Dependencies {
			if stop[clusterdb.Key(d)] {
				stop[k] = true
			}
		}
	}
	for _, r := range slices.Backward(rs) {
		if lr := w.local(r.Name); lr.running && stop[clusterdb.Key(r.Name)] {
			w.offline(lr, false)
		}
	}
	// Start phase, dependencies first, in waves: every resource whose dependencies are
	// online starts in the same wave.
	tried := map[*localResource]bool{}
	for {
		var wave []*localResource
		for _, r := range rs {
			if w.ctx.Err() != nil || !a.live.Load() {
				return
			}
			if lr := w.startable(s, r, depsOnline); lr != nil && !tried[lr] {
				tried[lr] = true
				wave = append(wave, lr)
			}
		}
		if len(wave) == 0 {
			break
		}
		w.onlineWave(wave)
	}
	// Every request acted on is reported, also when it changed nothing (an /online of
	// an online resource): until then the API shows it pending.
	for _, r := range rs {
		lr := w.local(r.Name)
		w.mu.Lock()
		behind, state, errText := lr.wroteSeq != lr.seenOn, lr.state, lr.err
		w.mu.Unlock()
		if behind {
			w.deferState(lr, state, errText)
		}
	}
	w.writeGroupState(s, g, rs)
}

// startable looks at one resource in the start phase: it returns it when it is to come
// online now, and otherwise records its state (Offline, unless it failed).
func (w *groupWorker) startable(s *clusterdb.Snapshot, r clusterdb.Resource, depsOnline func(clusterdb.Resource) bool) *localResource {
	a := w.a
	lr := w.local(r.Name)
	w.mu.Lock()
	state, failed, restarting := lr.state, lr.failed, lr.restarting
	w.mu.Unlock()
	if lr.running && state != clusterdb.StateFailed {
		if state == clusterdb.StateOnline && !slices.Equal(lr.keys, r.Checkpoints) {
			lr.keys = slices.Clone(r.Checkpoints)
			a.checkpointer().CheckpointKeysChanged(w.ctx, r, w.getFence())
		}
		return nil
	}
	if lr.running && (failed || restarting) {
		return nil // failed for good, or the runner is restarting it
	}
	if r.PersistentState == 0 || lr.failed || w.groupFailed || !depsOnline(r) {
		if !lr.failed && lr.state != clusterdb.StateOffline {
			w.deferState(lr, clusterdb.StateOffline, "")
		} else if !lr.failed {
			w.ensureState(s, lr)
		}
		return nil
	}
	return lr
}

// ensureState writes the resource's state when the database shows something else (for
// example a state left by the previous owner).
func (w *groupWorker) ensureState(s *clusterdb.Snapshot, lr *localResource) {
	w.mu.Lock()
	st, ok := w.dbStates[clusterdb.Key(lr.rec.Name)]
	w.mu.Unlock()
	if !ok || st.State != lr.state || st.Node != w.a.opt.Name || st.Session != w.a.lease.Load() {
		w.deferState(lr, lr.state, lr.err)
	}
}

// onlineWave brings resources online whose dependencies are online: checkpoint
// restore, then the runner, one after the other. Nothing starts unless the Online
// Pending records were written under this node's ownership of the group (one fenced
// write for the wave, with the reports the previous wave left): a node that acts on a
// stale view (after a freeze, say) finds its ownership gone and starts nothing. The
// Online reports go with the next write.
func (w *groupWorker) onlineWave(wave []*localResource) {
	a := w.a
	reports := map[string]report{}
	w.mu.Lock()
	for _, lr := range wave {
		reports[clusterdb.Key(lr.rec.Name)] = w.reportLocked(lr, clusterdb.StateOnlinePending, "")
	}
	w.mu.Unlock()
	if err := w.writeStates(reports); err != nil {
		w.mu.Lock()
		for _, lr := range wave {
			lr.state = clusterdb.StateOffline
		}
		w.mu.Unlock()
		a.log.Warn("not bringing resources online: ownership not confirmed", "group", w.getFence().Group, "resources", len(wave), "err", err)
		return
	}
	for _, lr := range wave {
		if w.ctx.Err() != nil || !a.live.Load() {
			return
		}
		w.startOne(lr)
	}
}

// startOne brings one resource online, its Online Pending state written.
func (w *groupWorker) startOne(lr *localResource) {
	a := w.a
	r := lr.rec
	waiting := func(what string, until time.Time) { w.setWaiting(lr, what, until) }
	if err := a.checkpointer().RestoreCheckpoints(w.ctx, r, w.fence, waiting); err != nil {
		w.onlineFailed(lr, fmt.Errorf("registry checkpoint restore: %w", err))
		return
	}
	pt := time.Duration(r.PendingTimeout) * time.Millisecond
	if pt <= 0 {
		pt = 3 * time.Minute
	}
	ctx, cancel := context.WithTimeout(w.ctx, pt)
	lr.running = true
	w.a.track(r.Name, w)
	err := a.opt.Runner.Online(ctx, r)
	cancel()
	if err != nil {
		if w.ctx.Err() != nil {
			return
		}
		var se *SetupError
		if errors.As(err, &se) {
			// Nothing was started and the runner will not retry: apply the policy here.
			lr.running = false
			a.untrack(r.Name)
			w.onlineFailed(lr, err)
			return
		}
		// The runner reports the failure and decides on restarts through its events.
		a.opt.Report(w.ctx, EventResourceOnlineFailed, r.Name, err.Error())
		w.mu.Lock()
		pending := lr.state == clusterdb.StateOnlinePending
		w.mu.Unlock()
		if pending {
			w.setState(lr, clusterdb.StateFailed, err.Error())
		}
		return
	}
	lr.keys = slices.Clone(r.Checkpoints)
	w.mu.Lock()
	// A failure reported while Online ran wins (and was written).
	if lr.state == clusterdb.StateOnlinePending {
		w.deferLocked(lr, clusterdb.StateOnline, "")
	}
	w.mu.Unlock()
	a.checkpointer().StartCapture(w.ctx, r, w.fence)
}

// onlineFailed applies the restart policy to a resource that could not come online.
func (w *groupWorker) onlineFailed(lr *localResource, err error) {
	a := w.a
	r := lr.rec
	a.opt.Report(w.ctx, EventResourceOnlineFailed, r.Name, err.Error())
	if n, ok := a.opt.Runner.(Noter); ok {
		// The runner's own failures are in the resource's log already; this one
		// happened before the runner was asked.
		n.Note(r.Name, "failed to come online: "+err.Error())
	}
	k := clusterdb.Key(r.Name)
	now := time.Now()
	period := time.Duration(r.RestartPeriod) * time.Millisecond
	recent := slices.DeleteFunc(w.restarts[k], func(t time.Time) bool { return now.Sub(t) > period })
	restart := r.RestartAction != clusterdb.DontRestart && uint32(len(recent)) < r.RestartThreshold
	failover := !restart && r.RestartAction == clusterdb.RestartNotify
	w.mu.Lock()
	lr.recovering = restart || failover
	w.mu.Unlock()
	w.resourceFailed(lr, err)
	switch {
	case restart:
		w.restarts[k] = append(recent, now)
		lr.failed = false
		go func() { sleep(w.ctx, 500*time.Millisecond); w.poke() }()
	case failover:
		w.restarts[k] = recent
		w.mu.Lock()
		w.failoverWanted, w.failoverCause = true, r.Name
		w.mu.Unlock()
		w.poke()
	default:
		w.restarts[k] = recent
	}
}

// resourceFailed records a failure: state Failed, event 1069.
func (w *groupWorker) resourceFailed(lr *localResource, err error) {
	lr.failed = true
	w.setState(lr, clusterdb.StateFailed, err.Error())
	w.a.log.Warn("resource failed", "resource", lr.rec.Name, "group", lr.rec.Group, "err", err)
	w.a.opt.Report(w.ctx, EventResourceFailed, lr.rec.Name, lr.rec.Group, lr.rec.Type, err.Error())
}

// offline takes one resource offline (terminate: at once, without a final checkpoint).
func (w *groupWorker) offline(lr *localResource, terminate bool) {
	a := w.a
	r := lr.rec
	ctx := context.WithoutCancel(w.ctx)
	var offErr error // the Offline entry point failed: the resource ends Failed (terminated)
	if terminate {
		a.opt.Runner.Terminate(ctx, r.Name)
	} else {
		w.setState(lr, clusterdb.StateOfflinePending, "")
		pt := time.Duration(r.PendingTimeout) * time.Millisecond
		if pt <= 0 {
			pt = 3 * time.Minute
		}
		octx, cancel := context.WithTimeout(ctx, pt)
		if err := a.opt.Runner.Offline(octx, r.Name); err != nil {
			a.log.Warn("resource did not go offline cleanly; terminated", "resource", r.Name, "err", err)
			a.opt.Runner.Terminate(ctx, r.Name)
			offErr = err
		}
		cancel()
		if f := w.getFence(); f.Revision != 0 {
			// Bounded: the final capture must not hold the node's shutdown when etcd is
			// out of reach.
			cctx, ccancel := context.WithTimeout(ctx, min(pt, 30*time.Second))
			if err := a.checkpointer().StopCapture(cctx, r, f); err != nil {
				a.log.Warn("final checkpoint failed", "resource", r.Name, "err", err)
			}
			ccancel()
		}
	}
	lr.running = false
	a.untrack(r.Name)
	w.mu.Lock()
	switch {
	case offErr != nil:
		// As in WSFC, an Offline that failed leaves the resource Failed (nothing of it
		// runs: it was terminated); the next /offline or /online clears it.
		lr.state, lr.err, lr.failed, lr.recovering = clusterdb.StateFailed, offErr.Error(), true, false
	case lr.state != clusterdb.StateFailed || !lr.failed:
		lr.state = clusterdb.StateOffline
	}
	st, errText := lr.state, lr.err
	w.mu.Unlock()
	if !terminate {
		w.setState(lr, st, errText)
	}
}

// stopLocal stops every resource of the group that runs here, dependents first.
func (w *groupWorker) stopLocal(ctx context.Context, terminate bool) {
	w.mu.Lock()
	var running []*localResource
	for _, lr := range w.res {
		if lr.running {
			running = append(running, lr)
		}
	}
	w.mu.Unlock()
	if len(running) == 0 {
		return
	}
	recs := make([]clusterdb.Resource, len(running))
	for i, lr := range running {
		recs[i] = lr.rec
	}
	for _, r := range slices.Backward(order(recs)) {
		w.mu.Lock()
		lr := w.res[clusterdb.Key(r.Name)]
		w.mu.Unlock()
		if lr != nil && lr.running {
			w.offline(lr, terminate)
		}
	}
}

// leave stops the group's local resources as the worker ends. When the node's cluster
// service stops cleanly (its session still holds), the group is handed over: the owner
// key is cleared under this node's fence, and the coordinator places the group at once,
// without waiting for this node's lease to go.
func (w *groupWorker) leave() {
	ctx := context.WithoutCancel(w.ctx)
	// The agent's own context ended (not just this worker's, as for a deleted group),
	// and the session still holds: a clean stop.
	clean := w.parent.Err() != nil && w.a.live.Load()
	w.mu.Lock()
	wasOnline := false
	for _, lr := range w.res {
		wasOnline = wasOnline || lr.running
	}
	w.mu.Unlock()
	w.stopLocal(ctx, !w.a.live.Load())
	f := w.getFence()
	if !clean || f.Revision == 0 {
		return
	}
	gs := clusterdb.GroupState{State: clusterdb.StatePending, Since: time.Now().UTC()}
	old, _ := w.groupState()
	gs.Failovers, gs.FailedOn = old.Failovers, old.FailedOn
	if err := w.fencedWrite(clusterdb.OpSetOwner(f.Group, ""), clusterdb.OpPutGroupState(f.Group, gs)); err != nil {
		return
	}
	w.a.log.Info("group handed over: the cluster service stops", "group", f.Group)
	if wasOnline {
		w.a.opt.Report(ctx, EventGroupOffline, f.Group)
	}
}

// handOver carries out a move request: the group goes offline here, then the target
// becomes its owner (or the coordinator chooses, when the target is "").
func (w *groupWorker) handOver(s *clusterdb.Snapshot, g clusterdb.Group, mv clusterdb.Move) {
	a := w.a
	w.stopLocal(w.ctx, false)
	target := mv.Target
	if target != "" && !s.Alive(target) {
		target = ""
	}
	gs, _ := w.groupState()
	gs.State, gs.Node, gs.Since = clusterdb.StatePending, target, time.Now().UTC()
	err := w.fencedWrite(
		clusterdb.OpSetOwner(g.Name, target),
		clusterdb.OpDeleteMove(g.Name),
		clusterdb.OpPutGroupState(g.Name, gs),
	)
	if err == nil {
		a.log.Info("group moved", "group", g.Name, "from", a.opt.Name, "to", target)
		a.opt.Report(w.ctx, EventGroupMoving, g.Name, a.opt.Name, target)
	}
}

// failover releases the group after a resource exceeded its restart threshold, unless
// the group has failed over FailoverThreshold times within FailoverPeriod hours.
func (w *groupWorker) failover(s *clusterdb.Snapshot, g clusterdb.Group, cause string) {
	a := w.a
	w.mu.Lock()
	w.failoverWanted = false
	w.mu.Unlock()
	gs, _ := w.groupState()
	now := time.Now().UTC()
	period := time.Duration(g.FailoverPeriod) * time.Hour
	recent := slices.DeleteFunc(slices.Clone(gs.Failovers), func(t time.Time) bool { return now.Sub(t) > period })
	if uint32(len(recent)) >= g.FailoverThreshold {
		w.groupFailed = true
		a.log.Error("group failed: failover threshold reached", "group", g.Name, "resource", cause)
		a.opt.Report(w.ctx, EventGroupFailoverLimit, g.Name)
		a.opt.Report(w.ctx, EventGroupFailed, g.Name)
		gs.Failovers = recent
		w.groupErr = fmt.Sprintf("failover threshold reached (%d failovers within %d hours, FailoverThreshold %d) after resource '%s' failed",
			len(recent), g.FailoverPeriod, g.FailoverThreshold, cause)
		w.writeGroupStateRecord(gs, clusterdb.StateFailed)
		// The group's reason first, then the resources' failures become final: a
		// reader never sees the group failed without it.
		w.mu.Lock()
		var failed []*localResource
		for _, lr := range w.res {
			if lr.recovering {
				lr.recovering = false
				if lr.state == clusterdb.StateFailed {
					failed = append(failed, lr)
				}
			}
		}
		w.mu.Unlock()
		for _, lr := range failed {
			w.setState(lr, clusterdb.StateFailed, lr.err) // no longer recovering
		}
		w.converge(s, g)
		return
	}
	w.stopLocal(w.ctx, false)
	gs.Failovers = append(recent, now)
	gs.FailedOn = a.opt.Name
	gs.State, gs.Node, gs.Since = clusterdb.StatePending, "", now
	if err := w.fencedWrite(
		clusterdb.OpSetOwner(g.Name, ""),
		clusterdb.OpPutGroupState(g.Name, gs),
	); err == nil {
		a.failovers.Add(1)
		a.log.Warn("group failing over", "group", g.Name, "resource", cause, "from", a.opt.Name)
	}
}

// report is a resource's state report, with the resource it is of.
type report struct {
	lr *localResource
	st clusterdb.ResourceState
}

// setState records a resource's state here and in the database (fenced), with the
// reports deferred so far. The error is the database write's (ErrFenced when the node no
// longer owns the group).
func (w *groupWorker) setState(lr *localResource, state, errText string) error {
	w.mu.Lock()
	r := w.reportLocked(lr, state, errText)
	w.mu.Unlock()
	return w.writeStates(map[string]report{clusterdb.Key(lr.rec.Name): r})
}

// reportLocked records a resource's state here and returns its report (under mu).
func (w *groupWorker) reportLocked(lr *localResource, state, errText string) report {
	lr.state, lr.err = state, errText
	if state != clusterdb.StateFailed {
		lr.recovering = false
	}
	return report{lr, clusterdb.ResourceState{State: state, Node: w.a.opt.Name, Error: errText, Since: time.Now().UTC(),
		Session: w.a.lease.Load(), Seq: lr.seenOn, Recovering: lr.recovering}}
}

// deferState records a resource's state here, and in the database with the worker's
// next write.
func (w *groupWorker) deferState(lr *localResource, state, errText string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.deferLocked(lr, state, errText)
}

func (w *groupWorker) deferLocked(lr *localResource, state, errText string) {
	if w.deferred == nil {
		w.deferred = map[string]report{}
	}
	w.deferred[clusterdb.Key(lr.rec.Name)] = w.reportLocked(lr, state, errText)
}

// writeStates writes resource state reports (by key name) with the deferred ones and
// extra ops, in one fenced transaction, and records them as the database's on success.
func (w *groupWorker) writeStates(reports map[string]report, extra ...clusterdb.Op) error {
	w.mu.Lock()
	f := w.fence
	all := map[string]report{}
	for k, r := range w.deferred {
		all[k] = r
	}
	for k, r := range reports {
		all[k] = r // a later report of the same resource replaces a deferred one
	}
	w.mu.Unlock()
	// Nothing is written while the worker ends (shutdown): the node's session ends too,
	// and reports of an ended session count as Offline.
	if f.Revision == 0 {
		return clusterdb.ErrFenced
	}
	if w.ctx.Err() != nil {
		return w.ctx.Err()
	}
	ops := make([]clusterdb.Op, 0, len(all)+len(extra))
	for k, r := range all {
		ops = append(ops, clusterdb.OpPutResourceState(k, r.st))
	}
	ops = append(ops, extra...)
	if len(ops) == 0 {
		return nil
	}
	err := w.fencedWrite(ops...)
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case err == nil:
		if w.dbStates == nil {
			w.dbStates = map[string]clusterdb.ResourceState{}
		}
		for k, r := range all {
			w.dbStates[k] = r.st
			r.lr.wroteSeq = r.st.Seq
			if d, ok := w.deferred[k]; ok && d.st == r.st {
				delete(w.deferred, k)
			}
		}
	case errors.Is(err, clusterdb.ErrFenced):
		w.deferred = nil // the group is no longer this node's: its reports are moot
	}
	return err
}

// setWaiting reports what an Online Pending resource waits for (the next state report
// clears it).
func (w *groupWorker) setWaiting(lr *localResource, what string, until time.Time) {
	w.mu.Lock()
	f, seq := w.fence, lr.seenOn
	w.mu.Unlock()
	if f.Revision == 0 || w.ctx.Err() != nil {
		return
	}
	w.a.log.Info("resource waiting", "resource", lr.rec.Name, "waiting", what, "until", until)
	st := clusterdb.ResourceState{State: clusterdb.StateOnlinePending, Node: w.a.opt.Name, Since: time.Now().UTC(),
		Session: w.a.lease.Load(), Seq: seq, Waiting: what, WaitUntil: until.UTC()}
	w.fencedWrite(clusterdb.OpPutResourceState(lr.rec.Name, st))
}

// GroupStateOf derives a group's state from its resources' states.
func GroupStateOf(states []string, persistent uint32) string {
	if len(states) == 0 {
		if persistent == 1 {
			return clusterdb.StateOnline
		}
		return clusterdb.StateOffline
	}
	var on, off, failed, pending int
	for _, s := range states {
		switch s {
		case clusterdb.StateOnline:
			on++
		case clusterdb.StateFailed:
			failed++
		case clusterdb.StateOnlinePending, clusterdb.StateOfflinePending:
			pending++
		default:
			off++
		}
	}
	switch {
	case failed > 0:
		return clusterdb.StateFailed
	case pending > 0:
		return clusterdb.StatePending
	case on == len(states):
		return clusterdb.StateOnline
	case off == len(states):
		return clusterdb.StateOffline
	}
	return clusterdb.StatePartialOnline
}

func (w *groupWorker) writeGroupState(s *clusterdb.Snapshot, g clusterdb.Group, rs []clusterdb.Resource) {
	states := make([]string, 0, len(rs))
	w.mu.Lock()
	for _, r := range rs {
		st := clusterdb.StateOffline
		if lr := w.res[clusterdb.Key(r.Name)]; lr != nil && lr.state != "" {
			st = lr.state
			if st == clusterdb.StateFailed && lr.recovering {
				st = clusterdb.StateOnlinePending
			}
		}
		states = append(states, st)
	}
	w.mu.Unlock()
	state := GroupStateOf(states, g.PersistentState)
	if w.groupFailed {
		state = clusterdb.StateFailed
	}
	gs, ok := w.groupState()
	if ok && gs.State == state && gs.Node == w.a.opt.Name && w.lastState == state && (state != clusterdb.StateFailed || gs.Error == w.groupErr) {
		w.mu.Lock()
		pending := len(w.deferred) > 0
		w.mu.Unlock()
		if pending {
			w.writeStates(nil)
		}
		return
	}
	w.writeGroupStateRecord(gs, state)
}

func (w *groupWorker) writeGroupStateRecord(gs clusterdb.GroupState, state string) {
	gs.State, gs.Node, gs.Since = state, w.a.opt.Name, time.Now().UTC()
	gs.Error = ""
	if state == clusterdb.StateFailed && w.groupFailed {
		gs.Error = w.groupErr
	}
	if w.writeStates(nil, clusterdb.OpPutGroupState(w.getFence().Group, gs)) == nil {
		w.lastState = state
		w.mu.Lock()
		w.dbGroup, w.dbGroupOK = gs, true
		w.mu.Unlock()
	}
}

// fencedWrite runs ops only while this node still owns the group.
func (w *groupWorker) fencedWrite(ops ...clusterdb.Op) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), 5*time.Second)
	defer cancel()
	f := w.getFence()
	_, err := w.a.db.FencedTxn(ctx, f, ops...)
	if err != nil && !errors.Is(err, clusterdb.ErrFenced) {
		w.a.log.Warn("cluster database write failed", "group", f.Group, "err", err)
	}
	return err
}

// event applies a change the runner decided on its own.
func (w *groupWorker) event(ev RunnerEvent) {
	k := clusterdb.Key(ev.Resource)
	w.mu.Lock()
	lr := w.res[k]
	w.mu.Unlock()
	if lr == nil {
		return
	}
	switch ev.State {
	case clusterdb.StateFailed:
		errText := "failed"
		if ev.Err != nil {
			errText = ev.Err.Error()
		}
		// The flags first: the state write below wakes the worker, whose next step
		// must already know that the resource is failed for good (or restarting) and
		// that a failover is wanted, or it would bring the resource online again.
		w.mu.Lock()
		lr.restarting = ev.Restarting
		lr.failed = !ev.Restarting
		lr.recovering = ev.Restarting || ev.Failover
		if ev.Failover {
			w.failoverWanted, w.failoverCause = true, ev.Resource
		}
		w.mu.Unlock()
		w.setState(lr, clusterdb.StateFailed, errText)
		w.a.log.Warn("resource failed", "resource", ev.Resource, "restarting", ev.Restarting, "failover", ev.Failover, "err", errText)
		w.a.opt.Report(w.ctx, EventResourceFailed, lr.rec.Name, lr.rec.Group, lr.rec.Type, errText)
	case clusterdb.StateOnline, clusterdb.StateOnlinePending:
		// Only the runner's own restarts: the agent records the states it asked for.
		w.mu.Lock()
		restarting := lr.restarting
		if ev.State == clusterdb.StateOnline {
			lr.restarting, lr.failed = false, false
		}
		w.mu.Unlock()
		if restarting {
			w.setState(lr, ev.State, "")
		}
	}
	w.poke()
}

func (w *groupWorker) setFence(f clusterdb.Fence) {
	w.mu.Lock()
	w.fence = f
	w.mu.Unlock()
}

func (w *groupWorker) getFence() clusterdb.Fence {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fence
}

// terminateAll stops the group's resources at once, from any goroutine (session lost).
func (w *groupWorker) terminateAll(ctx context.Context) {
	w.mu.Lock()
	var names []string
	for _, lr := range w.res {
		if lr.running {
			names = append(names, lr.rec.Name)
		}
	}
	w.mu.Unlock()
	for _, n := range names {
		w.a.opt.Runner.Terminate(ctx, n)
		w.a.untrack(n)
	}
	w.mu.Lock()
	for _, lr := range w.res {
		if lr.running {
			lr.running, lr.state, lr.restarting = false, clusterdb.StateOffline, false
		}
	}
	w.mu.Unlock()
	w.poke()
}

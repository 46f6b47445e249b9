package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"wolfpack/internal/clusterdb"
	"wolfpack/internal/fencing"
)

// DefaultSessionTTL is the lease TTL of a node's session, in seconds: a node that dies is
// noticed about this long after its last keep-alive.
const DefaultSessionTTL = 2

// Options configure an Agent.
type Options struct {
	Name    string // this node
	API     string // this node's API URL, published in its record
	Witness bool   // never runs resources
	// EtcdMemberID is this node's embedded etcd member (0: none, a non-voter), recorded
	// for eviction.
	EtcdMemberID uint64
	// PeerURL is where this node's etcd member listens for peers when it votes.
	PeerURL      string
	DB           *clusterdb.DB
	Runner       Runner
	Checkpointer Checkpointer // nil: NopCheckpointer
	Report       Reporter     // nil: events are only logged
	Log          *slog.Logger
	SessionTTL   int // seconds; 0: DefaultSessionTTL
	// Permit hears each permit this node earns: its resources may run under the
	// session's lease until until, and must be gone at killAt (fencing.Timing.Permit).
	// The resource host enforces it.
	Permit func(lease int64, until, killAt fencing.Instant)
	// ValidType says whether a resource type name is known (nil: any).
	ValidType ValidType
	// Embedded is true when the node runs an embedded etcd member (joins are possible).
	Embedded bool
	// ResourceTypes are registered in the database at start (cluster resourcetype /list).
	ResourceTypes []clusterdb.ResourceType
	// OnEvicted is called once when this node's record disappears from the database
	// (the node was evicted); the daemon stops the node.
	OnEvicted func()
	// Schema is the range of schema versions the node runs (zero: clusterdb.BuildSchema).
	Schema clusterdb.SchemaRange
}

// Agent is one node's cluster agent. Its exported methods (admin.go) are the cluster
// operations that the HTTP API offers.
type Agent struct {
	opt Options
	db  *clusterdb.DB
	log *slog.Logger

	cp atomic.Pointer[cpHolder]

	kick chan struct{}
	// props are the cluster's properties as the coordinator last read them.
	props atomic.Pointer[clusterdb.Properties]
	// learners: when the voter keeper first saw each learner (by member ID); only its
	// goroutine touches it.
	learners map[uint64]time.Time
	// voterKick wakes the voter keeper (membership changed).
	voterKick chan struct{}
	leader    atomic.Bool
	// election is the won election's key and revision: the coordinator's placements
	// compare it, so that a deposed coordinator places nothing.
	election atomic.Pointer[clusterdb.Election]
	// live is true while this node's session holds: its resources may run.
	live atomic.Bool
	// suspended is true while the session's last renewal is older than the permit
	// window: the resources are frozen, and workers and coordinator stand still.
	suspended atomic.Bool

	// scoped keeps this node's view of the database (clusterdb.ScopedFollower): the
	// membership, owners, moves and resource types, and the definitions of the groups
	// this node owns or still stops. full, while this node coordinates, is the whole
	// view (clusterdb.Follower): every definition, and the groups' states.
	scoped *clusterdb.ScopedFollower
	full   atomic.Pointer[clusterdb.Follower]

	mu     sync.Mutex
	snap   *clusterdb.Snapshot
	snapAt time.Time // when snap was read
	// snapWhole: snap is the coordinator's whole view, not a scoped one.
	snapWhole bool
	// lastView is the last whole snapshot a listing read (view), and when: a listing
	// answers from it when the database does not answer.
	lastView   *clusterdb.Snapshot
	lastViewAt time.Time
	groups     map[string]*groupWorker // by group ID (groupID)
	local      map[string]*localRef    // resources running here, by key name
	ready      chan struct{}
	// loopDone is closed when the loop and its group workers have ended.
	loopDone chan struct{}

	timing fencing.Timing
	// settle: when this coordinator first saw each dead owner gone (by node key), so
	// that it places their groups only Timing.Settle later.
	goneMu sync.Mutex
	gone   map[string]time.Time
	// placedAt: when this coordinator placed each new group that is still starting
	// (StartingLimit); only the loop's goroutine touches it.
	placedAt map[string]time.Time

	evicted   sync.Once
	failovers atomic.Int64 // groups failed over (metrics)
	// groupStates reads the groups' states for the metrics (db.GroupStates; tests
	// replace it).
	groupStates func(context.Context) (map[string]clusterdb.GroupState, error)
	// wholeView reads the whole database for the metrics of a node that does not
	// coordinate (db.Snapshot; tests replace it).
	wholeView func(context.Context) (*clusterdb.Snapshot, error)
	lease     atomic.Int64 // the current session's lease, stamped on state reports
	wg        sync.WaitGroup

	// schemaVersion is the cluster's schema version as this node last read it (upgrade.go).
	schemaVersion atomic.Int64
}

type cpHolder struct{ c Checkpointer }

// New returns an agent; Run starts it.
func New(opt Options) (*Agent, error) {
	if opt.DB == nil || opt.Runner == nil || opt.Name == "" {
		return nil, errors.New("agent: Name, DB and Runner are required")
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Report == nil {
		opt.Report = nopReporter
	}
	if opt.SessionTTL <= 0 {
		opt.SessionTTL = DefaultSessionTTL
	}
	a := &Agent{
		opt: opt, db: opt.DB, log: opt.Log,
		kick:      make(chan struct{}, 1),
		voterKick: make(chan struct{}, 1),
		learners:  map[uint64]time.Time{},
		groups:    map[string]*groupWorker{},
		local:     map[string]*localRef{},
		ready:     make(chan struct{}),
		loopDone:  make(chan struct{}),
		timing:    fencing.ForTTL(time.Duration(opt.SessionTTL) * time.Second),
		gone:      map[string]time.Time{},
		placedAt:  map[string]time.Time{},
	}
	a.scoped = a.db.NewScopedFollower(opt.Log, a.poke)
	a.groupStates = a.db.GroupStates
	a.wholeView = a.db.Snapshot
	if err := a.timing.Validate(); err != nil {
		return nil, fmt.Errorf("agent: --session-ttl %d: %w", opt.SessionTTL, err)
	}
	cp := opt.Checkpointer
	if cp == nil {
		cp = NopCheckpointer{}
	}
	a.cp.Store(&cpHolder{cp})
	return a, nil
}

// SetCheckpointer plugs in the checkpoint manager (nil restores the no-op one).
func (a *Agent) SetCheckpointer(c Checkpointer) {
	if c == nil {
		c = NopCheckpointer{}
	}
	a.cp.Store(&cpHolder{c})
}

func (a *Agent) checkpointer() Checkpointer { return a.cp.Load().c }

// Name returns this node's name.
func (a *Agent) Name() string { return a.opt.Name }

// DB returns the cluster database.
func (a *Agent) DB() *clusterdb.DB { return a.db }

// Ready is closed once the node is a member (its session holds and it is registered).
func (a *Agent) Ready() <-chan struct{} { return a.ready }

// Live reports whether this node's cluster session holds: its resources may run.
func (a *Agent) Live() bool { return a.live.Load() }

// IsCoordinator reports whether this node is the elected coordinator.
func (a *Agent) IsCoordinator() bool { return a.leader.Load() }

// FailoversTotal counts the groups this node failed over or moved off a dead node.
func (a *Agent) FailoversTotal() int64 { return a.failovers.Load() }

// Start registers the node and runs the agent in the background until ctx ends. It
// returns once the node is a member of the cluster.
func (a *Agent) Start(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := a.checkSchema(rctx); err != nil {
		return fmt.Errorf("agent: node %s: %w", a.opt.Name, err)
	}
	sr := a.schemaRange()
	if _, err := a.db.RegisterNode(rctx, clusterdb.Node{Name: a.opt.Name, API: a.opt.API, Witness: a.opt.Witness, EtcdMemberID: a.opt.EtcdMemberID, PeerURL: a.opt.PeerURL,
		SchemaMin: sr.Min, SchemaMax: sr.Max}); err != nil {
		return fmt.Errorf("agent: register node %s: %w", a.opt.Name, err)
	}
	if err := a.recheckSchema(rctx); err != nil {
		return fmt.Errorf("agent: node %s: %w", a.opt.Name, err)
	}
	for _, t := range a.opt.ResourceTypes {
		if err := a.db.PutResourceType(rctx, t); err != nil {
			return fmt.Errorf("agent: register resource type %s: %w", t.Name, err)
		}
	}
	if err := a.scoped.Run(ctx); err != nil {
		return fmt.Errorf("agent: read the cluster database: %w", err)
	}
	a.wg.Add(2)
	go func() { defer a.wg.Done(); a.sessions(ctx) }()
	go func() { defer a.wg.Done(); a.loop(ctx) }()
	select {
	case <-a.ready:
		return nil
	case <-rctx.Done():
		return fmt.Errorf("agent: node %s did not join the membership: %w", a.opt.Name, rctx.Err())
	}
}

// Wait waits for the agent's goroutines after ctx ended; resources are stopped by then.
func (a *Agent) Wait() { a.wg.Wait() }

// campaign runs for coordinator; while elected, the loop coordinates.
func (a *Agent) campaign(ctx context.Context, s *clusterdb.Session) {
	e, err := s.Campaign(ctx, a.opt.Name)
	if err != nil {
		return
	}
	// The coordinator follows every definition and the groups' states (their failover
	// history), and coordinates once it has them.
	fctx, stopFollow := context.WithCancel(ctx)
	defer stopFollow()
	full := a.db.NewFollower(a.log, a.poke)
	if err := full.Run(fctx); err != nil {
		return
	}
	full.FollowGroupStates(fctx, true)
	select {
	case <-full.GroupStatesReady():
	case <-ctx.Done():
		return
	case <-s.Done():
		return
	}
	el := e.Election()
	a.election.Store(&el)
	a.full.Store(full)
	defer a.full.Store(nil)
	a.leader.Store(true)
	a.log.Info("elected cluster coordinator", "node", a.opt.Name)
	a.poke()
	kctx, stopKeeper := context.WithCancel(ctx)
	keeperDone := make(chan struct{})
	go func() { defer close(keeperDone); a.keepVoters(kctx) }()
	select {
	case <-ctx.Done():
	case <-s.Done():
	}
	stopKeeper()
	<-keeperDone
	a.leader.Store(false)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	e.Resign(rctx)
	cancel()
}

// poke asks the loop to reconcile.
func (a *Agent) poke() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// loop reconciles on every change of this node's view (and every few seconds).
func (a *Agent) loop(ctx context.Context) {
	defer close(a.loopDone)
	tick := time.NewTicker(3 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			a.mu.Lock()
			ws := make([]*groupWorker, 0, len(a.groups))
			for _, w := range a.groups {
				ws = append(ws, w)
			}
			a.mu.Unlock()
			var wg sync.WaitGroup
			for _, w := range ws {
				wg.Add(1)
				go func() { defer wg.Done(); w.stop() }()
			}
			wg.Wait()
			return
		case <-a.kick:
		case <-tick.C:
		}
		// Let a burst of changes settle into one snapshot.
		sleep(ctx, 5*time.Millisecond)
		if snap, whole := a.view0(); snap != nil {
			a.reconcile(ctx, snap, whole)
		}
	}
}

// vanishGrace bounds how long a worker whose group left an incomplete scoped view is
// kept (reconcile).
const vanishGrace = 10 * time.Second

// view0 is the snapshot the loop acts on: the whole view while this node coordinates,
// else its scoped view.
func (a *Agent) view0() (s *clusterdb.Snapshot, whole bool) {
	if f := a.full.Load(); f != nil && a.leader.Load() {
		return f.Snapshot(), true
	}
	return a.scoped.Snapshot(), false
}

// reconcile acts on one snapshot: coordinate when elected, then run the groups this
// node owns. A node has a worker only for the groups it owns, or whose resources it is
// still stopping; its scoped view follows the definitions of those groups. whole: snap
// is the coordinator's whole view (only that one is coordinated on).
func (a *Agent) reconcile(ctx context.Context, snap *clusterdb.Snapshot, whole bool) {
	a.mu.Lock()
	prev := a.snap
	a.snap, a.snapAt, a.snapWhole = snap, time.Now(), whole
	a.mu.Unlock()
	if _, ok := snap.Nodes[clusterdb.Key(a.opt.Name)]; !ok && a.opt.OnEvicted != nil {
		// Registered at Start: only an eviction removes the record.
		a.evicted.Do(a.opt.OnEvicted)
	}
	if a.live.Load() {
		a.reportMembership(ctx, prev, snap)
	}
	if whole && a.leader.Load() && a.live.Load() && !a.suspended.Load() {
		a.coordinate(ctx, prev, snap)
		a.upgradeSchema(ctx, snap)
		a.repairIndexes(ctx)
	}
	// Workers follow a group by its ID, so that a renamed group keeps its worker and
	// its resources keep running.
	a.mu.Lock()
	present := map[string]bool{}
	for k, g := range snap.Groups {
		id := groupID(g)
		w := a.groups[id]
		mine := strings.EqualFold(snap.Owners[k].Node, a.opt.Name)
		if w == nil && !mine {
			continue
		}
		present[id] = true
		if w == nil {
			w = a.newGroupWorker(ctx, k)
			a.groups[id] = w
		}
		w.update(snap, k)
		if !mine && w.idle() {
			delete(a.groups, id)
			go w.stop()
		}
	}
	// A scoped view reads each group apart from the owners: a group this node owns
	// may be missing from it for a moment (just placed here, or renamed: its old record
	// gone, the new one not read yet). While one is, a worker whose group is not in the
	// view is kept (for at most vanishGrace): it may be that group's, renamed.
	incomplete := false
	if !whole {
		for k, own := range snap.Owners {
			if _, ok := snap.Groups[k]; !ok && strings.EqualFold(own.Node, a.opt.Name) {
				incomplete = true
				break
			}
		}
	}
	var gone []*groupWorker
	for id, w := range a.groups {
		if present[id] {
			w.vanished = time.Time{}
			continue
		}
		if incomplete {
			if w.vanished.IsZero() {
				w.vanished = time.Now()
			}
			if time.Since(w.vanished) < vanishGrace {
				continue
			}
		}
		gone = append(gone, w)
		delete(a.groups, id)
	}
	// Follow the groups this node owns (a group just placed here is read now, and
	// its worker starts with the next snapshot) and the ones it still has workers for.
	var want []string
	for k, own := range snap.Owners {
		if strings.EqualFold(own.Node, a.opt.Name) {
			want = append(want, k)
		}
	}
	for _, w := range a.groups {
		w.mu.Lock()
		want = append(want, w.latestKey)
		w.mu.Unlock()
	}
	a.mu.Unlock()
	a.scoped.Want(want)
	for _, w := range gone {
		go w.stop() // stops what runs here, then ends
	}
}

// Snapshot returns the latest snapshot the agent acted on (nil before the first).
func (a *Agent) Snapshot() *clusterdb.Snapshot {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.snap
}

// terminateAll stops every local resource at once (the session is lost); the group
// workers then see that the node is not live and record the resources as offline.
func (a *Agent) terminateAll(ctx context.Context) {
	a.mu.Lock()
	ws := make([]*groupWorker, 0, len(a.groups))
	for _, w := range a.groups {
		ws = append(ws, w)
	}
	a.mu.Unlock()
	for _, w := range ws {
		w.terminateAll(ctx)
	}
}

// track and untrack keep the map from resource to the worker that runs it, for Notify.
func (a *Agent) track(name string, w *groupWorker) {
	a.mu.Lock()
	a.local[clusterdb.Key(name)] = &localRef{w}
	a.mu.Unlock()
}

func (a *Agent) untrack(name string) {
	a.mu.Lock()
	delete(a.local, clusterdb.Key(name))
	a.mu.Unlock()
}

type localRef struct{ w *groupWorker }

// Notify passes a change that the runner decided on its own (a failure, a restart) to
// the worker of the resource's group.
func (a *Agent) Notify(ev RunnerEvent) {
	a.mu.Lock()
	ref := a.local[clusterdb.Key(ev.Resource)]
	a.mu.Unlock()
	if ref != nil {
		ref.w.event(ev)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// groupID identifies a group across renames (records made before IDs: by name).
func groupID(g clusterdb.Group) string {
	if g.ID != "" {
		return g.ID
	}
	return "name:" + clusterdb.Key(g.Name)
}

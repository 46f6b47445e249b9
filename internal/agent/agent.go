package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"wolfpack/internal/clusterdb"
)

// DefaultSessionTTL is the lease TTL of a node's session, in seconds: a node that dies is
// noticed about this long after its last keep-alive.
const DefaultSessionTTL = 2

// Options configure an Agent.
type Options struct {
	Name    string // this node
	API     string // this node's API URL, published in its record
	Witness bool   // never runs resources
	// EtcdMemberID is this node's embedded etcd member, recorded for eviction.
	EtcdMemberID uint64
	DB           *clusterdb.DB
	Runner       Runner
	Checkpointer Checkpointer // nil: NopCheckpointer
	Report       Reporter     // nil: events are only logged
	Log          *slog.Logger
	SessionTTL   int // seconds; 0: DefaultSessionTTL
	// ValidType says whether a resource type name is known (nil: any).
	ValidType ValidType
	// Embedded is true when the node runs an embedded etcd member (joins are possible).
	Embedded bool
	// ResourceTypes are registered in the database at start (cluster resourcetype /list).
	ResourceTypes []clusterdb.ResourceType
}

// Agent is one node's cluster agent. Its exported methods (admin.go) are the cluster
// operations that the HTTP API offers.
type Agent struct {
	opt Options
	db  *clusterdb.DB
	cli *clientv3.Client
	log *slog.Logger

	cp atomic.Pointer[cpHolder]

	kick   chan struct{}
	leader atomic.Bool
	// live is true while this node's session holds: its resources may run.
	live atomic.Bool

	mu     sync.Mutex
	snap   *clusterdb.Snapshot
	groups map[string]*groupWorker // by group ID (groupID)
	local  map[string]*localRef    // resources running here, by key name
	ready  chan struct{}
	// loopDone is closed when the loop and its group workers have ended.
	loopDone chan struct{}

	failovers atomic.Int64 // groups failed over (metrics)
	lease     atomic.Int64 // the current session's lease, stamped on state reports
	wg        sync.WaitGroup
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
		opt: opt, db: opt.DB, cli: opt.DB.Client(), log: opt.Log,
		kick:     make(chan struct{}, 1),
		groups:   map[string]*groupWorker{},
		local:    map[string]*localRef{},
		ready:    make(chan struct{}),
		loopDone: make(chan struct{}),
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

// IsCoordinator reports whether this node is the elected coordinator.
func (a *Agent) IsCoordinator() bool { return a.leader.Load() }

// FailoversTotal counts the groups this node failed over or moved off a dead node.
func (a *Agent) FailoversTotal() int64 { return a.failovers.Load() }

// Start registers the node and runs the agent in the background until ctx ends. It
// returns once the node is a member of the cluster.
func (a *Agent) Start(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := a.db.RegisterNode(rctx, clusterdb.Node{Name: a.opt.Name, API: a.opt.API, Witness: a.opt.Witness, EtcdMemberID: a.opt.EtcdMemberID}); err != nil {
		return fmt.Errorf("agent: register node %s: %w", a.opt.Name, err)
	}
	for _, t := range a.opt.ResourceTypes {
		if err := a.db.PutResourceType(rctx, t); err != nil {
			return fmt.Errorf("agent: register resource type %s: %w", t.Name, err)
		}
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

// sessions keeps a session and the membership key, campaigns for coordinator, and stops
// the local resources whenever the session is lost.
func (a *Agent) sessions(ctx context.Context) {
	var once sync.Once
	for ctx.Err() == nil {
		s, err := concurrency.NewSession(a.cli, concurrency.WithTTL(a.opt.SessionTTL), concurrency.WithContext(ctx))
		if err != nil {
			a.log.Warn("cluster session failed", "err", err)
			sleep(ctx, 500*time.Millisecond)
			continue
		}
		m := clusterdb.Member{Name: a.opt.Name, Since: time.Now().UTC(), Lease: int64(s.Lease())}
		a.lease.Store(int64(s.Lease()))
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err = a.cli.Put(pctx, clusterdb.MemberKey(a.opt.Name), string(mustJSON(m)), clientv3.WithLease(s.Lease()))
		cancel()
		if err != nil {
			a.log.Warn("cannot register membership", "err", err)
			s.Close()
			sleep(ctx, 500*time.Millisecond)
			continue
		}
		a.live.Store(true)
		once.Do(func() { close(a.ready) })
		a.poke()
		a.log.Info("cluster member", "node", a.opt.Name, "lease", fmt.Sprintf("%x", s.Lease()))
		ectx, ecancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); a.campaign(ectx, s) }()
		lost := a.guard(ctx, s)
		a.live.Store(false)
		a.leader.Store(false)
		if lost && ctx.Err() == nil {
			// First of all: nothing of this node's may keep running.
			a.log.Error("cluster session lost: stopping this node's resources")
			a.terminateAll(context.WithoutCancel(ctx))
			a.opt.Report(context.WithoutCancel(ctx), EventQuorumLost, LevelError)
		}
		ecancel()
		// Campaign resigns on the client's context when it is cancelled, which waits
		// for etcd: do not wait on it longer than a TTL when etcd is out of reach (the
		// client's Close at shutdown ends it).
		select {
		case <-done:
		case <-time.After(time.Duration(a.opt.SessionTTL) * time.Second):
		}
		if ctx.Err() != nil {
			// Shutdown: resources go offline gracefully (the group workers do it as
			// they end), then the session ends so that the other nodes see this
			// node leave at once.
			<-a.loopDone
			cctx, c := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			a.cli.Delete(cctx, clusterdb.MemberKey(a.opt.Name))
			c()
			s.Close()
			return
		}
		s.Orphan()
	}
}

// guard returns when the session ends (true) or ctx ends (false). It renews the
// session's lease once more every probe period (etcd answers a renewal with the full
// TTL, counted from a moment after the probe started), and also returns true when no
// renewal has succeeded for so long that the lease could expire within guardMargin:
// this node must have stopped its resources before the others can see it gone and place
// its groups elsewhere.
func (a *Agent) guard(ctx context.Context, s *concurrency.Session) bool {
	ttl := time.Duration(a.opt.SessionTTL) * time.Second
	probe := ttl / 8
	t := time.NewTicker(probe)
	defer t.Stop()
	expires := time.Now().Add(ttl)
	for {
		select {
		case <-ctx.Done():
			return false
		case <-s.Done():
			return true
		case <-t.C:
			start := time.Now()
			cctx, cancel := context.WithTimeout(ctx, ttl/4)
			resp, err := a.cli.KeepAliveOnce(cctx, s.Lease())
			cancel()
			if ctx.Err() != nil {
				return false
			}
			if errors.Is(err, rpctypes.ErrLeaseNotFound) {
				return true // expired
			}
			if err == nil && resp.TTL > 0 {
				expires = start.Add(time.Duration(resp.TTL) * time.Second)
			}
			if time.Until(expires) < guardMargin(ttl) {
				return true
			}
		}
	}
}

// guardMargin is how long before the lease's earliest expiry a node that cannot reach
// etcd stops its resources.
func guardMargin(ttl time.Duration) time.Duration { return ttl / 4 }

// campaign runs for coordinator; while elected, the loop coordinates.
func (a *Agent) campaign(ctx context.Context, s *concurrency.Session) {
	e := concurrency.NewElection(s, clusterdb.ElectionPrefix)
	if err := e.Campaign(ctx, a.opt.Name); err != nil {
		return
	}
	a.leader.Store(true)
	a.log.Info("elected cluster coordinator", "node", a.opt.Name)
	a.poke()
	select {
	case <-ctx.Done():
	case <-s.Done():
	}
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

// loop watches the database and reconciles on every change (and every few seconds).
func (a *Agent) loop(ctx context.Context) {
	defer close(a.loopDone)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, p := range []string{clusterdb.NodesPrefix, clusterdb.MembersPrefix, clusterdb.GroupsPrefix,
		clusterdb.ResourcesPrefix, clusterdb.OwnersPrefix, clusterdb.MovesPrefix, clusterdb.Prefix + "state/"} {
		go a.watch(wctx, p)
	}
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
		sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
		snap, err := a.db.Snapshot(sctx)
		scancel()
		if err != nil {
			if ctx.Err() == nil {
				a.log.Warn("read cluster database", "err", err)
				sleep(ctx, 200*time.Millisecond)
				a.poke()
			}
			continue
		}
		a.reconcile(ctx, snap)
	}
}

func (a *Agent) watch(ctx context.Context, prefix string) {
	for ctx.Err() == nil {
		wc := a.cli.Watch(clientv3.WithRequireLeader(ctx), prefix, clientv3.WithPrefix())
		for wr := range wc {
			if wr.Err() != nil {
				break
			}
			a.poke()
		}
		sleep(ctx, 200*time.Millisecond)
		a.poke()
	}
}

// reconcile acts on one snapshot: coordinate when elected, then run the owned groups.
func (a *Agent) reconcile(ctx context.Context, snap *clusterdb.Snapshot) {
	a.mu.Lock()
	prev := a.snap
	a.snap = snap
	a.mu.Unlock()
	if a.live.Load() {
		a.reportMembership(ctx, prev, snap)
	}
	if a.leader.Load() && a.live.Load() {
		a.coordinate(ctx, prev, snap)
	}
	// Workers follow a group by its ID, so that a renamed group keeps its worker and
	// its resources keep running.
	a.mu.Lock()
	present := map[string]bool{}
	for k, g := range snap.Groups {
		id := groupID(g)
		present[id] = true
		w := a.groups[id]
		if w == nil {
			w = a.newGroupWorker(ctx, k)
			a.groups[id] = w
		}
		w.update(snap, k)
	}
	var gone []*groupWorker
	for id, w := range a.groups {
		if !present[id] {
			gone = append(gone, w)
			delete(a.groups, id)
		}
	}
	a.mu.Unlock()
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

package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"wolfpack/internal/agent"
	"wolfpack/internal/clusterdb"
	"wolfpack/internal/pki"
)

// etcdMember is the node's place in its cluster's embedded etcd: a voting member that it
// runs (emb != nil), or a client of the voting members (emb == nil), and the changes
// between the two that the coordinator's voter keeper asks for (roles/<node>). A voter's
// client talks to its own member; a non-voter's to the voters' client URLs, which it keeps
// current (and in the data directory's etcd-endpoints, where it finds them at its next
// start).
type etcdMember struct {
	n    *Node
	log  *slog.Logger
	db   *clusterdb.DB
	tls  pki.Paths
	dir  string // <data-dir>/etcd
	peer string // https://--peer

	mu       sync.Mutex
	emb      *clusterdb.Embedded
	id       uint64
	agent    *agent.Agent // set once the agent runs
	closing  bool
	changing bool // a promotion or demotion is under way
}

// openEtcd starts the node's part of the embedded etcd: its member when it votes (a new
// cluster, a restart, or a join as a voter), else a client of the voters.
func (n *Node) openEtcd(ctx context.Context) (*etcdMember, error) {
	cfg := n.Cfg
	m := &etcdMember{n: n, log: n.Log.With("part", "etcd"), tls: pki.PathsIn(cfg.DataDir),
		dir: filepath.Join(cfg.DataDir, "etcd"), peer: "https://" + cfg.Peer}
	tlsInfo := clusterdb.ClientTLSInfo(m.tls)
	ans := n.pendingJoin
	urls, urlsErr := clusterdb.ReadEndpoints(cfg.DataDir)
	voter := false
	switch {
	case ans != nil:
		voter = ans.Role != clusterdb.RoleNonVoter
		if !voter {
			urls, urlsErr = ans.Endpoints, nil
			n.pendingJoin = nil
			n.Log.Info("joined the cluster as a non-voter: a client of the voting members", "endpoints", urls)
		}
	case clusterdb.HasData(m.dir):
		voter = true
		if urlsErr == nil {
			e, id, removed, err := m.restart(ctx, urls)
			if err != nil {
				return nil, err
			}
			if !removed {
				return m.voting(e, id)
			}
			n.Log.Warn("this node's etcd member was removed from the cluster while the node was down (another node votes in its place): it runs as a non-voter")
			if err := m.retireDir(); err != nil {
				return nil, err
			}
			voter = false
		}
	case urlsErr == nil:
		// A non-voter.
	case errors.Is(urlsErr, os.ErrNotExist) && n.firstNode():
		voter = true // the first start of a new cluster's first node
	default:
		return nil, fmt.Errorf("data directory %s has the cluster's certificates but neither an etcd member (%s) nor the voters' addresses (%s): the node's membership is lost; start it on a new data directory with --join",
			cfg.DataDir, m.dir, filepath.Join(cfg.DataDir, clusterdb.EndpointsFile))
	}
	if voter {
		e, id, err := n.startEtcd(ctx)
		if err != nil {
			return nil, err
		}
		return m.voting(e, id)
	}
	db, err := clusterdb.Dial(urls, tlsInfo)
	if err != nil {
		return nil, err
	}
	m.db = db
	if err := clusterdb.WriteEndpoints(cfg.DataDir, urls); err != nil {
		db.Close()
		return nil, err
	}
	return m, nil
}

// firstNode reports whether this data directory made the cluster (it holds the join token
// the first node writes; a node that joined never has one).
func (n *Node) firstNode() bool {
	_, err := os.Stat(filepath.Join(n.Cfg.DataDir, clusterdb.JoinTokenFile))
	return err == nil
}

// voting makes m the node's voting member e, with a client of it.
func (m *etcdMember) voting(e *clusterdb.Embedded, id uint64) (*etcdMember, error) {
	db, err := clusterdb.Dial([]string{e.ClientURL}, clusterdb.ClientTLSInfo(m.tls))
	if err != nil {
		e.Close()
		return nil, err
	}
	m.emb, m.id, m.db = e, id, db
	go m.watchStop(e)
	return m, nil
}

// restart starts the member of a voter that restarts while it asks the other voters
// (urls) whether the member was removed while the node was down; removed reports that it
// was, and the start is then stopped. The two run at once: when the whole cluster
// restarts, the others answer only once they have a quorum, which may need this member
// (asking first, every node waited for its question's 3 s timeout before it started its
// member, so a cluster took 3.5 s to start instead of 0.7 s). A member that becomes ready
// is one (its start went through the quorum, which a removed member's cannot).
func (m *etcdMember) restart(ctx context.Context, urls []string) (e *clusterdb.Embedded, id uint64, removed bool, err error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type started struct {
		e   *clusterdb.Embedded
		id  uint64
		err error
	}
	sc := make(chan started, 1)
	go func() {
		e, id, err := m.n.startEtcd(sctx)
		sc <- started{e, id, err}
	}()
	rc := make(chan bool, 1)
	go func() { rc <- m.removedWhileDown(sctx, urls) }()
	for {
		select {
		case s := <-sc:
			return s.e, s.id, false, s.err
		case r := <-rc:
			rc = nil
			if !r {
				continue
			}
			cancel()
			if s := <-sc; s.err == nil {
				return s.e, s.id, false, nil // ready all the same: a member after all
			}
			return nil, 0, true, nil
		}
	}
}

// removedWhileDown asks the other voters, until they answer or ctx ends, whether this
// node's member is still one of theirs (false when they never tell).
func (m *etcdMember) removedWhileDown(ctx context.Context, urls []string) bool {
	own := "https://" + m.n.Cfg.Client
	others := slices.DeleteFunc(slices.Clone(urls), func(u string) bool { return u == own })
	if len(others) == 0 {
		return false
	}
	cli, err := clusterdb.Dial(others, clusterdb.ClientTLSInfo(m.tls))
	if err != nil {
		return false
	}
	defer cli.Close()
	for {
		lctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		members, err := cli.Members(lctx)
		cancel()
		if err == nil {
			_, ok := clusterdb.MemberOf(members, m.n.Cfg.Name, m.peer)
			return !ok
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// retireDir removes the etcd member's data directory of a node that no longer votes: its
// data lives on in the voters.
func (m *etcdMember) retireDir() error {
	if err := os.RemoveAll(m.dir); err != nil {
		return fmt.Errorf("remove the etcd member's data of a node that no longer votes: %w", err)
	}
	return nil
}

// role is the node's role now.
func (m *etcdMember) role() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.emb != nil {
		return clusterdb.RoleVoter
	}
	return clusterdb.RoleNonVoter
}

// memberID is the node's etcd member (0: none).
func (m *etcdMember) memberID() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.id
}

// run follows the voters' addresses and this node's role requests until ctx ends.
func (m *etcdMember) run(ctx context.Context, a *agent.Agent) {
	m.mu.Lock()
	m.agent = a
	m.mu.Unlock()
	go m.syncEndpoints(ctx)
	m.followRoleRequests(ctx)
}

// syncEndpoints keeps the voters' client URLs current: in the client of a non-voter, and
// in etcd-endpoints on every node.
func (m *etcdMember) syncEndpoints(ctx context.Context) {
	var last []string
	for {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		members, err := m.db.LocalMembers(lctx) // no round of the quorum: every node asks
		cancel()
		if err == nil {
			urls := clusterdb.VoterClientURLs(members)
			if len(urls) > 0 && !slices.Equal(urls, last) {
				m.mu.Lock()
				if m.emb == nil && !m.changing {
					m.db.SetEndpoints(urls...)
				}
				m.mu.Unlock()
				if err := clusterdb.WriteEndpoints(m.n.Cfg.DataDir, urls); err != nil {
					m.log.Warn("cannot write the voters' addresses", "err", err)
				} else {
					last = urls
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Second):
		}
	}
}

// followRoleRequests carries out the coordinator's requests to this node.
func (m *etcdMember) followRoleRequests(ctx context.Context) {
	key := clusterdb.RoleKey(m.n.Cfg.Name)
	for ctx.Err() == nil {
		wctx, cancel := context.WithCancel(ctx)
		changes := m.db.Changes(wctx, key, false)
		m.checkRoleRequest(ctx)
		for range changes {
			m.checkRoleRequest(ctx)
		}
		cancel()
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (m *etcdMember) checkRoleRequest(ctx context.Context) {
	db := m.db
	gctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	reqs, err := db.RoleRequests(gctx)
	cancel()
	if err != nil {
		return
	}
	r, ok := reqs[clusterdb.Key(m.n.Cfg.Name)]
	if !ok {
		return
	}
	var cerr error
	switch {
	case r.Role == clusterdb.RoleVoter && m.role() != clusterdb.RoleVoter:
		m.log.Info("becoming a voter, as the coordinator asked", "by", r.By)
		cerr = m.promote(ctx)
	case r.Role == clusterdb.RoleNonVoter && m.role() == clusterdb.RoleVoter:
		m.log.Info("ceasing to vote, as the coordinator asked", "by", r.By)
		cerr = m.demote(ctx)
	}
	if ctx.Err() != nil {
		return
	}
	if cerr != nil {
		m.log.Error("role change failed", "role", r.Role, "err", cerr)
	}
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	db.DeleteRoleRequest(dctx, m.n.Cfg.Name)
	cancel()
}

// promote makes this node a voter: it adds itself as a learner, starts its member, which
// catches up with the cluster, and promotes it.
func (m *etcdMember) promote(ctx context.Context) error {
	m.mu.Lock()
	if m.emb != nil || m.closing {
		m.mu.Unlock()
		return nil
	}
	m.changing = true
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.changing = false
		m.mu.Unlock()
	}()
	pctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	var ans clusterdb.JoinAnswer
	for {
		var err error
		ans, err = m.db.AddLearner(pctx, clusterdb.JoinRequest{Name: m.n.Cfg.Name, PeerURL: m.peer})
		if err == nil {
			break
		}
		if !clusterdb.IsMembershipBusy(err) || pctx.Err() != nil {
			return err
		}
		sleepCtx(pctx, time.Second)
	}
	if err := m.retireDir(); err != nil {
		m.db.RemoveLearner(context.WithoutCancel(ctx), ans.MemberID)
		return err
	}
	e, err := clusterdb.StartEmbedded(pctx, clusterdb.EmbedConfig{Name: m.n.Cfg.Name, Dir: m.dir, Peer: m.n.Cfg.Peer,
		Client: m.n.Cfg.Client, Log: m.log, TLS: m.tls, InitialCluster: ans.InitialCluster,
		SessionTTL: time.Duration(m.n.Cfg.SessionTTL) * time.Second})
	if err != nil {
		m.db.RemoveLearner(context.WithoutCancel(ctx), ans.MemberID)
		m.retireDir()
		return err
	}
	err = m.db.Promote(pctx, ans.MemberID)
	for err == nil && e.Etcd.Server.IsLearner() {
		if !sleepCtx(pctx, 50*time.Millisecond) {
			err = fmt.Errorf("local member still a learner: %w", pctx.Err())
		}
	}
	if err != nil {
		e.Close()
		m.db.RemoveLearner(context.WithoutCancel(ctx), ans.MemberID)
		m.retireDir()
		return err
	}
	m.mu.Lock()
	closing := m.closing
	if !closing {
		m.emb, m.id = e, ans.MemberID
	}
	a := m.agent
	m.mu.Unlock()
	if closing {
		e.Close()
		return nil
	}
	go m.watchStop(e)
	if a != nil {
		if err := a.SetEtcdMember(ctx, ans.MemberID); err != nil {
			m.log.Warn("cannot record the node's etcd member", "err", err)
		}
	}
	m.log.Info("this node is a voter", "member", fmt.Sprintf("%x", ans.MemberID))
	return nil
}

// demote makes this node a non-voter: its client moves to the other voters, then it
// removes its own member (quorum is kept: the keeper asks only while there are more
// voters than wanted) and deletes the member's data.
func (m *etcdMember) demote(ctx context.Context) error {
	m.mu.Lock()
	e, id := m.emb, m.id
	if e == nil || m.closing {
		m.mu.Unlock()
		return nil
	}
	m.changing = true
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.changing = false
		m.mu.Unlock()
	}()
	dctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	members, err := m.db.Members(dctx)
	if err != nil {
		return err
	}
	var others []string
	for _, mb := range members {
		if mb.ID != id && !mb.Learner {
			others = append(others, mb.ClientURLs...)
		}
	}
	if len(others) == 0 {
		return errors.New("this node runs the only voting member: it cannot stop voting")
	}
	slices.Sort(others)
	m.db.SetEndpoints(others...)
	if err := clusterdb.WriteEndpoints(m.n.Cfg.DataDir, others); err != nil {
		return err
	}
	// The client reaches the others before the member goes.
	for {
		sctx, c := context.WithTimeout(dctx, 2*time.Second)
		err := m.db.Probe(sctx)
		c()
		if err == nil {
			break
		}
		if !sleepCtx(dctx, 100*time.Millisecond) {
			return fmt.Errorf("the other voters do not answer: %w", err)
		}
	}
	for {
		err := m.db.RemoveMember(dctx, id)
		if err == nil {
			break
		}
		if !clusterdb.IsMembershipBusy(err) || !sleepCtx(dctx, time.Second) {
			m.db.SetEndpoints(e.ClientURL)
			return err
		}
	}
	m.mu.Lock()
	m.emb, m.id = nil, 0
	a := m.agent
	m.mu.Unlock()
	e.Close()
	if err := m.retireDir(); err != nil {
		m.log.Warn("cannot remove the old member's data", "err", err)
	}
	if a != nil {
		if err := a.SetEtcdMember(ctx, 0); err != nil {
			m.log.Warn("cannot record the node's etcd member", "err", err)
		}
	}
	m.log.Info("this node no longer votes: a client of the voting members", "endpoints", others)
	return nil
}

// watchStop notices a member that stops by itself. Removed from the cluster — by the
// coordinator, which took the node for dead and had another vote in its place, or by an
// eviction (the node record goes next, and the agent stops the node) — the node goes on
// as a non-voter. Any other stop (a failure of the member) stops the node.
func (m *etcdMember) watchStop(e *clusterdb.Embedded) {
	<-e.Stopped()
	m.mu.Lock()
	if m.closing || m.changing || m.emb != e {
		m.mu.Unlock()
		return
	}
	m.emb, m.id = nil, 0
	m.mu.Unlock()
	if !e.Removed() {
		m.log.Error("the embedded etcd member stopped: stopping the node")
		m.n.quit()
		return
	}
	m.log.Warn("this node's etcd member was removed from the cluster: the node goes on as a non-voter")
	e.Close()
	m.retireDir()
	if urls, err := clusterdb.ReadEndpoints(m.n.Cfg.DataDir); err == nil {
		own := e.ClientURL
		urls = slices.DeleteFunc(urls, func(u string) bool { return u == own })
		if len(urls) > 0 {
			m.db.SetEndpoints(urls...)
		}
	}
	m.mu.Lock()
	a := m.agent
	m.mu.Unlock()
	if a != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		a.SetEtcdMember(ctx, 0)
		cancel()
	}
}

// close closes the database and stops the member.
func (m *etcdMember) close() {
	m.mu.Lock()
	m.closing = true
	e := m.emb
	m.mu.Unlock()
	m.db.Close()
	if e != nil {
		e.Close()
	}
}

// sleepCtx waits d; false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

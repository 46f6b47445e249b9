package agent

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"wolfpack/internal/clusterdb"
)

// The voter keeper: the elected coordinator keeps an odd number of etcd voting members
// (Voting.Voters, fewer while fewer nodes may vote), each on its own node, and replaces
// a voter whose node has been gone for Voting.ReplaceAfter by promoting another node.
// It changes one thing at a time and never touches etcd's membership for a live node
// itself: it asks the node (a role request), and the node adds, starts and promotes its
// member, or moves its client away and removes it. Only a dead voter's member is removed
// by the coordinator, and only once another node votes in its place.

// voterNode is a node as the keeper sees it.
type voterNode struct {
	Name    string
	ID      int
	Alive   bool
	GoneFor time.Duration // how long it has been gone (0 while alive)
	Witness bool
	NoVote  bool // NodeWeight=0
	Pinned  bool
	Member  *clusterdb.EtcdMember // nil: no member (a non-voter)
	// LearnerFor is how long the keeper has seen its member as a learner.
	LearnerFor time.Duration
}

func (n voterNode) voter() bool   { return n.Member != nil && !n.Member.Learner }
func (n voterNode) learner() bool { return n.Member != nil && n.Member.Learner }

// voterAction is one step of the keeper.
type voterAction struct {
	Kind   string // actPromote, actDemote, actRemove, actRemoveLearner, actCancel; "" nothing
	Node   string
	Member uint64
	Why    string
}

const (
	actPromote       = "promote"        // ask Node to become a voter
	actDemote        = "demote"         // ask Node to stop voting
	actRemove        = "remove"         // remove the dead Node's voting member
	actRemoveLearner = "remove-learner" // remove a learner whose node is gone
	actCancel        = "cancel"         // delete a request that can no longer be carried out
)

// voterInput is everything one decision looks at.
type voterInput struct {
	Cfg     clusterdb.Voting
	Nodes   []voterNode
	Pending map[string]clusterdb.RoleRequest // by node key name
	Now     time.Time
	// ExcessFor is how long there have been more voters than wanted.
	ExcessFor time.Duration
}

// requestTimeout bounds how long a node may take to carry out a role request.
const requestTimeout = 2 * time.Minute

// learnerTimeout is how long a learner whose node is not up may stay: a joining node
// has a learner before its session, and a learner catches up in seconds.
const learnerTimeout = time.Minute

// wantedVoters is how many voters the cluster should have: Voting.Voters, but no more
// than the nodes that may vote (the voters, whether up or not, and the live nodes that
// may be promoted), made odd.
func wantedVoters(in voterInput) int {
	capable := 0
	for _, n := range in.Nodes {
		if n.NoVote {
			continue
		}
		if n.Member != nil || n.Alive {
			capable++
		}
	}
	d := min(in.Cfg.Voters, capable)
	if d%2 == 0 {
		d--
	}
	return max(d, 1)
}

// planVoters decides the keeper's next step.
func planVoters(in voterInput) voterAction {
	replace := in.Cfg.ReplaceDelay()
	for _, n := range in.Nodes {
		r, ok := in.Pending[clusterdb.Key(n.Name)]
		if !ok {
			continue
		}
		if !n.Alive || in.Now.Sub(r.Since) > requestTimeout {
			return voterAction{Kind: actCancel, Node: n.Name, Why: "the node is gone or did not carry out the request in time"}
		}
		return voterAction{} // one change at a time
	}
	for _, n := range in.Nodes {
		if n.learner() {
			// A learner is a node on its way to voting: one that joins (not a member
			// yet, its session to come) or one the keeper promoted. Only one stuck for
			// long, its node gone, is removed.
			if !n.Alive && n.LearnerFor > learnerTimeout {
				return voterAction{Kind: actRemoveLearner, Node: n.Name, Member: n.Member.ID, Why: "the learner's node is gone"}
			}
			return voterAction{} // it is being promoted
		}
	}
	var voters, good []voterNode
	pinnedVoters := 0
	for _, n := range in.Nodes {
		if !n.voter() {
			continue
		}
		voters = append(voters, n)
		if n.Pinned {
			pinnedVoters++
		}
		if !n.NoVote && (n.Alive || n.GoneFor < replace) {
			good = append(good, n)
		}
	}
	var cands []voterNode
	for _, n := range in.Nodes {
		if n.Member == nil && n.Alive && !n.NoVote {
			cands = append(cands, n)
		}
	}
	// Pinned nodes first, then witnesses (they exist to vote), then in join order.
	slices.SortFunc(cands, func(x, y voterNode) int {
		return cmp.Or(-cmp.Compare(b2i(x.Pinned), b2i(y.Pinned)), -cmp.Compare(b2i(x.Witness), b2i(y.Witness)), cmp.Compare(x.ID, y.ID))
	})
	want := wantedVoters(in)
	// A voter gone too long is removed first when another node can take its place: etcd
	// adds no member, not even a learner, while a majority of the voters and the new
	// one together would not be connected (its strict reconfiguration check), so with
	// one of three voters gone the replacement can only come after the removal.
	if len(cands) > 0 {
		for _, v := range voters {
			if !v.Alive && v.GoneFor >= replace {
				return voterAction{Kind: actRemove, Node: v.Name, Member: v.Member.ID, Why: "its node has been gone too long: another node will vote in its place"}
			}
		}
	}
	if len(good) < want && len(cands) > 0 {
		why := "fewer voters than wanted"
		if len(good) < len(voters) {
			why = "a voter's node has been gone too long"
		}
		return voterAction{Kind: actPromote, Node: cands[0].Name, Why: why}
	}
	if len(cands) > 0 && cands[0].Pinned && pinnedVoters < want {
		for _, v := range voters {
			if !v.Pinned && !v.Witness {
				return voterAction{Kind: actPromote, Node: cands[0].Name, Why: "a pinned voter"}
			}
		}
	}
	if len(voters) <= want {
		return voterAction{}
	}
	// More voters than wanted: a dead one first (its replacement votes), then one the
	// administrator took the vote from, then — once the excess has lasted, or at once
	// when the administrator pinned voters — the newest one neither pinned nor a witness.
	for _, v := range voters {
		if !v.Alive && v.GoneFor >= replace {
			return voterAction{Kind: actRemove, Node: v.Name, Member: v.Member.ID, Why: "its node has been gone too long and another node votes in its place"}
		}
	}
	for _, v := range voters {
		if v.Alive && v.NoVote {
			return voterAction{Kind: actDemote, Node: v.Name, Why: "NodeWeight is 0"}
		}
	}
	if pinnedVoters == 0 && in.ExcessFor < replace {
		return voterAction{}
	}
	var victim *voterNode
	for i, v := range voters {
		if v.Alive && !v.Pinned && !v.Witness && (victim == nil || v.ID > victim.ID) {
			victim = &voters[i]
		}
	}
	if victim == nil {
		return voterAction{}
	}
	return voterAction{Kind: actDemote, Node: victim.Name, Why: "more voters than wanted"}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// keepVoters runs the keeper (and refreshes the cluster's properties, which the
// placements read) while this node is the coordinator (ctx ends when it is no
// longer).
func (a *Agent) keepVoters(ctx context.Context) {
	var excessSince time.Time
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-a.voterKick:
		}
		if !a.live.Load() || a.suspended.Load() {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if !a.opt.Embedded {
			if p, _, err := a.db.Properties(cctx); err == nil {
				a.props.Store(&p)
			}
			cancel()
			continue
		}
		act, excess, err := a.voterStep(cctx, excessSince)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				a.log.Warn("voter keeper", "err", err)
			}
			continue
		}
		switch {
		case !excess:
			excessSince = time.Time{}
		case excessSince.IsZero():
			excessSince = time.Now()
		}
		_ = act
	}
}

// voterStep reads the cluster, decides one step and carries it out.
func (a *Agent) voterStep(ctx context.Context, excessSince time.Time) (voterAction, bool, error) {
	s := a.Snapshot()
	el := a.election.Load()
	if s == nil || el == nil {
		return voterAction{}, false, nil
	}
	props, _, err := a.db.Properties(ctx)
	if err != nil {
		return voterAction{}, false, err
	}
	a.props.Store(&props)
	cfg := props.Voting()
	members, err := a.db.Members(ctx)
	if err != nil {
		return voterAction{}, false, err
	}
	pending, err := a.db.RoleRequests(ctx)
	if err != nil {
		return voterAction{}, false, err
	}
	a.noteGone(s)
	in := voterInput{Cfg: cfg, Pending: pending, Now: time.Now()}
	if !excessSince.IsZero() {
		in.ExcessFor = time.Since(excessSince)
	}
	for _, n := range s.Nodes {
		vn := voterNode{Name: n.Name, ID: n.ID, Alive: s.Alive(n.Name), Witness: n.Witness, NoVote: n.NoVote, Pinned: n.PinnedVoter}
		if !vn.Alive {
			vn.GoneFor = a.goneFor(n.Name)
		}
		if n.Evicted {
			continue
		}
		if m, ok := clusterdb.MemberOf(members, n.Name, n.PeerURL); ok {
			vn.Member = &m
			if m.Learner {
				if _, ok := a.learners[m.ID]; !ok {
					a.learners[m.ID] = time.Now()
				}
				vn.LearnerFor = time.Since(a.learners[m.ID])
			}
		}
		in.Nodes = append(in.Nodes, vn)
	}
	for id := range a.learners {
		if !slices.ContainsFunc(members, func(m clusterdb.EtcdMember) bool { return m.ID == id && m.Learner }) {
			delete(a.learners, id)
		}
	}
	voters := 0
	for _, n := range in.Nodes {
		if n.voter() {
			voters++
		}
	}
	excess := voters > wantedVoters(in)
	act := planVoters(in)
	if act.Kind == "" {
		return act, excess, nil
	}
	a.log.Info("voter keeper", "action", act.Kind, "node", act.Node, "why", act.Why)
	switch act.Kind {
	case actPromote, actDemote:
		role := clusterdb.RoleVoter
		if act.Kind == actDemote {
			role = clusterdb.RoleNonVoter
		}
		err = a.db.RequestRole(ctx, act.Node, clusterdb.RoleRequest{Role: role, Since: time.Now().UTC(), By: a.opt.Name}, *el)
	case actRemove:
		err = a.db.RemoveMember(ctx, act.Member)
	case actRemoveLearner:
		err = a.db.RemoveLearner(ctx, act.Member)
	case actCancel:
		err = a.db.DeleteRoleRequest(ctx, act.Node)
	}
	if clusterdb.IsMembershipBusy(err) {
		err = nil // tried again on the next pass
	}
	return act, excess, err
}

// goneFor is how long this coordinator has seen node gone.
func (a *Agent) goneFor(node string) time.Duration {
	a.goneMu.Lock()
	defer a.goneMu.Unlock()
	since, ok := a.gone[clusterdb.Key(node)]
	if !ok {
		return 0
	}
	return time.Since(since)
}

// Role returns node's role in the etcd cluster as members shows it.
func Role(members []clusterdb.EtcdMember, n clusterdb.Node, embedded bool) string {
	if !embedded {
		return clusterdb.RoleExternal
	}
	m, ok := clusterdb.MemberOf(members, n.Name, n.PeerURL)
	switch {
	case !ok:
		return clusterdb.RoleNonVoter
	case m.Learner:
		return clusterdb.RoleLearner
	}
	return clusterdb.RoleVoter
}

// SetEtcdMember records this node's etcd member (0: none) after a role change.
func (a *Agent) SetEtcdMember(ctx context.Context, id uint64) error {
	_, err := a.db.ModifyNode(ctx, a.opt.Name, func(n *clusterdb.Node) error {
		n.EtcdMemberID = id
		return nil
	})
	if errors.Is(err, clusterdb.ErrNotFound) {
		return nil // not registered yet: Start records it
	}
	return err
}

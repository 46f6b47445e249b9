package agent

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"wolfpack/internal/api/wire"
	"wolfpack/internal/clusterdb"
	"wolfpack/internal/winerr"
)

// ValidType, when set in Options, says whether a resource type name is known (resmon's
// lookup, which also knows "ocf:provider:agent").
type ValidType func(name string) bool

// NodeAction carries out `cluster node NAME /action`.
func (a *Agent) NodeAction(ctx context.Context, name, action string, act wire.ClusterAction) (any, error) {
	if action == "status" || (action == "prop" && len(act.Props) == 0 && len(act.UseDefault) == 0) {
		s, stale, err := a.viewStale(ctx)
		if err != nil {
			return nil, err
		}
		n, err := viewNode(s, name)
		if err != nil {
			return nil, err
		}
		return a.nodeStatus(s, n, a.viewCoordinator(ctx, stale), a.etcdMembers(ctx)), nil
	}
	n, rev, err := a.db.Node(ctx, name)
	if err != nil {
		return nil, dbErr(err)
	}
	switch action {
	case "prop":
		props := withDefaults(act.Props, act.UseDefault, map[string]string{"nodeweight": "1", "pinnedvoter": "0"})
		if n, err = a.setNodeProperties(ctx, n.Name, props); err != nil {
			return nil, err
		}
	case "pause", "resume":
		n.Paused = action == "pause"
		if _, err := a.db.UpdateNode(ctx, n, rev); err != nil {
			return nil, dbErr(err)
		}
	case "evict":
		s, err := a.freshSnapshot(ctx)
		if err != nil {
			return nil, err
		}
		if s.Alive(n.Name) && len(s.Members) == 1 {
			return nil, errCode(ErrorInvalidState, "cannot evict the last node")
		}
		rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err = a.db.RemoveMember(rctx, n.EtcdMemberID)
		cancel()
		if err != nil {
			return nil, &Error{Code: ErrorInvalidState, Status: wire.StatusConflict, Msg: winerr.Message(ErrorInvalidState), Detail: err.Error()}
		}
		if err := a.db.DeleteNode(ctx, n.Name); err != nil {
			return nil, err
		}
		a.opt.Report(ctx, EventNodeEvicted, n.Name)
		n.Evicted = true
		return wire.ClusterNode{Name: n.Name, ID: n.ID, State: "Evicted"}, nil
	default:
		return nil, badParam("unknown node action %q", action)
	}
	s, err := a.freshSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	return a.nodeStatus(s, n, a.coordinatorName(ctx), a.etcdMembers(ctx)), nil
}

// setNodeProperties sets a node's settable common properties: NodeWeight (WSFC's: 0
// takes the node's vote away, 1 gives it back) and PinnedVoter (1: the node votes
// whenever it is up). The voter keeper acts on them at once.
func (a *Agent) setNodeProperties(ctx context.Context, name string, props map[string]string) (clusterdb.Node, error) {
	n, err := a.db.ModifyNode(ctx, name, func(n *clusterdb.Node) error {
		for k, v := range props {
			key := strings.ToLower(k)
			if key != "nodeweight" && key != "pinnedvoter" {
				return badParam("unknown or read-only node property %s (settable: NodeWeight, PinnedVoter)", k)
			}
			b, err := parseFlag(k, v)
			if err != nil {
				return err
			}
			if key == "nodeweight" {
				n.NoVote = !b
			} else {
				n.PinnedVoter = b
			}
		}
		if n.NoVote && n.PinnedVoter {
			return badParam("a node with NodeWeight=0 cannot be a pinned voter")
		}
		return nil
	})
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) {
			return n, err
		}
		return n, dbErr(err)
	}
	select {
	case a.voterKick <- struct{}{}:
	default:
	}
	return n, nil
}

// withDefaults adds to props the properties named in useDefault with their defaults
// (by lower-case name); a name without a default is kept as given, to be refused.
func withDefaults(props map[string]string, useDefault []string, defaults map[string]string) map[string]string {
	if len(useDefault) == 0 {
		return props
	}
	out := maps.Clone(props)
	if out == nil {
		out = map[string]string{}
	}
	for _, name := range useDefault {
		v, ok := defaults[strings.ToLower(name)]
		if !ok {
			v = "" // refused as unknown or read-only by the caller
		}
		out[name] = v
	}
	return out
}

// parseFlag parses a 0/1 DWORD property.
func parseFlag(name, v string) (bool, error) {
	switch strings.TrimSpace(v) {
	case "0":
		return false, nil
	case "1":
		return true, nil
	}
	return false, badParam("property %s: %q is not 0 or 1", name, v)
}

// ClusterProperties lists the cluster's common properties, after setting props: Voters
// (how many etcd voting members the cluster keeps: 1, 3, 5 or 7), VoterReplaceAfter
// (seconds a voter's node may be gone before another node votes in its place) and
// ClusterEnforcedAntiAffinity (WSFC's: 1 keeps a group offline rather than beside a
// group of a common AntiAffinityClassNames entry). VotingMembers is read-only.
func (a *Agent) ClusterProperties(ctx context.Context, props map[string]string, useDefault []string) ([]wire.ClusterProperty, error) {
	d := clusterdb.DefaultProperties()
	props = withDefaults(props, useDefault, map[string]string{"voters": strconv.Itoa(d.Voters),
		"voterreplaceafter": strconv.Itoa(d.VoterReplaceAfter), "clusterenforcedantiaffinity": "0"})
	if len(props) > 0 {
		for {
			p, rev, err := a.db.Properties(ctx)
			if err != nil {
				return nil, err
			}
			for k, val := range props {
				n, err := strconv.Atoi(strings.TrimSpace(val))
				if err != nil {
					return nil, badParam("property %s: %q is not a number", k, val)
				}
				switch strings.ToLower(k) {
				case "voters", "voterreplaceafter":
					if !a.opt.Embedded {
						return nil, badParam("this cluster uses an external etcd: its voters are the administrator's")
					}
					if strings.EqualFold(k, "voters") {
						p.Voters = n
					} else {
						p.VoterReplaceAfter = n
					}
				case "clusterenforcedantiaffinity":
					b, err := parseFlag(k, val)
					if err != nil {
						return nil, err
					}
					p.EnforcedAntiAffinity = b
				default:
					return nil, badParam("unknown or read-only cluster property %s (settable: Voters, VoterReplaceAfter, ClusterEnforcedAntiAffinity)", k)
				}
			}
			if err := p.Validate(); err != nil {
				return nil, badParam("%v", strings.TrimPrefix(err.Error(), "clusterdb: invalid cluster property: "))
			}
			err = a.db.SetProperties(ctx, p, rev)
			if err == nil {
				a.props.Store(&p)
				break
			}
			if !errors.Is(err, clusterdb.ErrConflict) && !errors.Is(err, clusterdb.ErrExists) {
				return nil, err
			}
		}
		select {
		case a.voterKick <- struct{}{}:
		default:
		}
		a.poke()
	}
	p, _, err := a.db.Properties(ctx)
	if err != nil {
		return nil, err
	}
	voters := 0
	for _, m := range a.etcdMembers(ctx) {
		if !m.Learner {
			voters++
		}
	}
	return []wire.ClusterProperty{
		{Name: "Voters", Type: "D", Value: strconv.Itoa(p.Voters)},
		{Name: "VoterReplaceAfter", Type: "D", Value: strconv.Itoa(p.VoterReplaceAfter)},
		{Name: "VotingMembers", Type: "D", Value: strconv.Itoa(voters)},
		{Name: "ClusterEnforcedAntiAffinity", Type: "D", Value: strconv.Itoa(int(b2u(p.EnforcedAntiAffinity)))},
		a.schemaProperty(ctx),
	}, nil
}

func (a *Agent) groupStatusNow(ctx context.Context, name string) (wire.ClusterGroup, error) {
	s, err := a.freshSnapshot(ctx)
	if err != nil {
		return wire.ClusterGroup{}, err
	}
	g, ok := s.Groups[clusterdb.Key(name)]
	if !ok {
		return wire.ClusterGroup{}, errCode(ErrorGroupNotFound, name)
	}
	return groupStatus(s, g), nil
}

func (a *Agent) resourceStatusNow(ctx context.Context, name string) (wire.ClusterResource, error) {
	vctx, cancel := context.WithTimeout(ctx, ViewTimeout)
	s, err := a.db.ResourceView(vctx, name)
	cancel()
	if err != nil && !errors.Is(err, clusterdb.ErrNotFound) && ctx.Err() == nil {
		s, err = a.view(ctx) // the database does not answer: this node's own view
	}
	if err != nil {
		return wire.ClusterResource{}, dbErr(err)
	}
	if _, ok := s.Resources[clusterdb.Key(name)]; !ok {
		return wire.ClusterResource{}, errCode(ErrorResourceNotFound, name)
	}
	return resourceStatus(s, s.Resources[clusterdb.Key(name)]), nil
}

func validName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return badParam("a name cannot be empty or blank")
	case strings.ContainsAny(name, "/\\\x00"):
		return badParam("the name '%s' holds a / or \\ (or NUL), which names cannot hold", name)
	case utf8.RuneCountInString(name) > 255:
		return badParam("the name '%s' is %d characters long; names are at most 255", name, utf8.RuneCountInString(name))
	}
	return nil
}

// checkNode says whether node names a cluster node that can take groups.
func (a *Agent) checkNode(ctx context.Context, node string) (string, error) {
	n, _, err := a.db.Node(ctx, node)
	if err != nil {
		return "", dbErr(err)
	}
	s, err := a.freshSnapshot(ctx)
	if err != nil {
		return "", err
	}
	if !s.Alive(n.Name) {
		return "", errCode(ErrorNodeDown, n.Name)
	}
	if n.Witness || n.Paused {
		return "", errCode(ErrorHostNodeNotAvailable, n.Name)
	}
	return n.Name, nil
}

// GroupAction carries out `cluster group NAME /action`.
func (a *Agent) GroupAction(ctx context.Context, name, action string, act wire.ClusterAction) (any, error) {
	if do, ok := groupActions[action]; ok {
		return do(a, ctx, name, action, act)
	}
	return nil, badParam("unknown group action %q", action)
}

// actionFunc carries out one action of GroupAction or ResourceAction on the object
// named name; action is the action's name, for handlers that carry out several.
type actionFunc func(a *Agent, ctx context.Context, name, action string, act wire.ClusterAction) (any, error)

// groupActions are the actions of `cluster group NAME /action`, by name (the API's
// {action}, lower-case).
var groupActions = map[string]actionFunc{
	"create":     (*Agent).groupCreate,
	"status":     (*Agent).groupShow,
	"delete":     (*Agent).groupDelete,
	"rename":     (*Agent).groupRename,
	"online":     (*Agent).groupSetOnline,
	"offline":    (*Agent).groupSetOnline,
	"move":       (*Agent).groupMove,
	"setowners":  (*Agent).groupSetOwners,
	"prop":       (*Agent).groupProperties,
	"listowners": (*Agent).groupProperties,
}

// groupCreate creates a group; as in WSFC it belongs to the node it was created on when that node can own it.
func (a *Agent) groupCreate(ctx context.Context, name, action string, act wire.ClusterAction) (any, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	if _, ok, _ := a.findResource(ctx, name); ok {
		return nil, errCode(ErrorObjectExists, name)
	}
	g := clusterdb.NewGroup(name)
	// As in WSFC, a new group belongs to the node it was created on when it can own
	// groups: created with its owner in one transaction, so that the coordinator, which
	// places groups without an owner, cannot place it elsewhere first. Else the node
	// picks as the coordinator would.
	s, err := a.freshSnapshot(ctx)
	if err == nil && a.eligible(s, g, a.opt.Name) {
		if err := a.db.CreateGroupOwned(ctx, g, a.opt.Name); err != nil {
			return nil, dbErr(err)
		}
		return a.groupStatusNow(ctx, name)
	}
	if err := a.db.CreateGroup(ctx, g); err != nil {
		return nil, dbErr(err)
	}
	if s, err := a.freshSnapshot(ctx); err == nil {
		if owner := a.newPlacer(s).pick(g, ""); owner != "" {
			a.db.SetOwner(ctx, g.Name, owner, 0)
		}
	}
	return a.groupStatusNow(ctx, name)
}

// groupShow shows the group.
func (a *Agent) groupShow(ctx context.Context, name, action string, act wire.ClusterAction) (any, error) {
	s, err := a.view(ctx)
	if err != nil {
		return nil, err
	}
	g, ok := s.Groups[clusterdb.Key(name)]
	if !ok {
		return nil, errCode(ErrorGroupNotFound, name)
	}
	return groupStatus(s, g), nil
}

// groupDelete deletes an empty group.
func (a *Agent) groupDelete(ctx context.Context, name, action string, act wire.ClusterAction) (any, error) {
	g, rev, err := a.db.Group(ctx, name)
	if err != nil {
		return nil, dbErr(err)
	}
	s, err := a.freshSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	if rs := s.GroupResources(g.Name); len(rs) > 0 {
		e := errCode(ErrorDirNotEmpty, g.Name)
		names := make([]string, len(rs))
		for i, r := range rs {
			names[i] = r.Name
		}
		slices.Sort(names)
		// Names from the database, not from the request: the list is bounded by
		// MaxErrorMessage where the API writes it.
		noun, them := "resources", "them"
		if len(rs) == 1 {
			noun, them = "resource", "it"
		}
		e.Detail = fmt.Sprintf("group '%s' still has %d %s: %s; delete %s or move %s to another group first",
			g.Name, len(rs), noun, strings.Join(names, ", "), them, them)
		return nil, e
	}
	if err := a.db.DeleteGroup(ctx, g.Name, rev); err != nil {
		return nil, dbErr(err)
	}
	return wire.ClusterGroup{Name: g.Name, State: "Deleted"}, nil
}

// groupRename renames a group.
func (a *Agent) groupRename(ctx context.Context, name, action string, act wire.ClusterAction) (any, error) {
	if err := validName(act.Name); err != nil {
		return nil, err
	}
	g, rev, err := a.db.Group(ctx, name)
	if err != nil {
		return nil, dbErr(err)
	}
	if err := a.db.RenameGroup(ctx, g, rev, act.Name); err != nil {
		return nil, dbErr(err)
	}
	return a.groupStatusNow(ctx, act.Name)
}

// groupSetOnline sets a group and its resources online or offline (online:NODE moves it there first).
func (a *Agent) groupSetOnline(ctx context.Context, name, action string, act wire.ClusterAction) (any, error) {
	on := action == "online"
	if on && act.Node != "" {
		// The move is requested before the group is set online: an owner's step
		// that sees a pending move hands the group over without converging, and
		// every snapshot that shows the group online also shows the move, so the
		// current owner never brings the group online (nor captures its
		// checkpoints) on its way to the target.
		node, err := a.checkNode(ctx, act.Node)
		if err != nil {
			return nil, err
		}
		g, _, err := a.db.Group(ctx, name)
		if err != nil {
			return nil, dbErr(err)
		}
		s, err := a.freshSnapshot(ctx)
		if err != nil {
			return nil, err
		}
		if own := s.Owners[clusterdb.Key(g.Name)]; !strings.EqualFold(own.Node, node) {
			if err := a.db.RequestMove(ctx, g.Name, clusterdb.Move{Target: node}); err != nil {
				return nil, err
			}
		}
	}
	g, err := a.db.ModifyGroup(ctx, name, func(g *clusterdb.Group) error {
		g.PersistentState = b2u(on)
		return nil
	})
	if err != nil {
		return nil, dbErr(err)
	}
	s, err := a.freshSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range s.GroupResources(g.Name) {
		if _, err := a.db.ModifyResource(ctx, r.Name, func(r *clusterdb.Resource) error {
			r.PersistentState = b2u(on)
			r.OnlineSeq++ // a request the owner acts on, and reports that it did
			return nil
		}); err != nil {
			return nil, dbErr(err)
		}
	}
	return a.groupStatusNow(ctx, g.Name)
}

// groupMove moves a group to a node, or to the best other node.
func (a *Agent) groupMove(ctx context.Context, name, action string, act wire.ClusterAction) (any, error) {
	g, _, err := a.db.Group(ctx, name)
	if err != nil {
		return nil, dbErr(err)
	}
	target := ""
	if act.Node != "" {
		if target, err = a.checkNode(ctx, act.Node); err != nil {
			return nil, err
		}
	} else {
		// cluster.exe without a node: the best other node.
		s, err := a.freshSnapshot(ctx)
		if err != nil {
			return nil, err
		}
		own := s.Owners[clusterdb.Key(g.Name)]
		target = a.newPlacer(s).pick(g, own.Node)
		if target == "" || strings.EqualFold(target, own.Node) {
			return nil, errCode(ErrorHostNodeNotAvailable, g.Name)
		}
	}
	s, err := a.freshSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	if !a.eligible(s, g, target) {
		return nil, errCode(ErrorNodeCantHost, target)
	}
	if own := s.Owners[clusterdb.Key(g.Name)]; strings.EqualFold(own.Node, target) {
		return groupStatus(s, g), nil
	}
	if err := a.db.RequestMove(ctx, g.Name, clusterdb.Move{Target: target}); err != nil {
		return nil, err
	}
	return a.groupStatusNow(ctx, g.Name)
}

// groupSetOwners sets the preferred owners.
func (a *Agent) groupSetOwners(ctx context.Context, name, action string, act wire.ClusterAction) (any, error) {
	for _, n := range act.List {
		if _, _, err := a.db.Node(ctx, n); err != nil {
			return nil, dbErr(err)
		}
	}
	if _, err := a.db.ModifyGroup(ctx, name, func(g *clusterdb.Group) error {
		g.PreferredOwners = slices.Clone(act.List)
		return nil
	}); err != nil {
		return nil, dbErr(err)
	}
	return a.groupStatusNow(ctx, name)
}

// groupProperties sets common properties (when given) and shows the group.
func (a *Agent) groupProperties(ctx context.Context, name, action string, act wire.ClusterAction) (any, error) {
	if len(act.Props) > 0 || len(act.UseDefault) > 0 {
		if _, err := a.db.ModifyGroup(ctx, name, func(g *clusterdb.Group) error {
			if err := setProperties(g, act.Props); err != nil {
				return err
			}
			return resetProperties(g, clusterdb.NewGroup(g.Name), act.UseDefault)
		}); err != nil {
			return nil, dbErr(err)
		}
	}
	return a.groupStatusNow(ctx, name)
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

func (a *Agent) findResource(ctx context.Context, name string) (clusterdb.Resource, bool, error) {
	r, _, err := a.db.Resource(ctx, name)
	if errors.Is(err, clusterdb.ErrNotFound) {
		return r, false, nil
	}
	return r, err == nil, err
}

// ResourceAction carries out `cluster resource NAME /action`.
func (a *Agent) ResourceAction(ctx context.Context, name, action string, act wire.ClusterAction) (any, error) {
	if do, ok := resourceActions[action]; ok {
		return do(a, ctx, name, action, act)
	}
	return nil, badParam("unknown resource action %q", action)
}

// resourceActions are the actions of `cluster resource NAME /action`, by name (the API's
// {action}, lower-case).
var resourceActions = map[string]actionFunc{
	"create":      (*Agent).resourceCreate,
	"status":      (*Agent).resourceProperties,
	"prop":        (*Agent).resourceProperties,
	"priv":        (*Agent).resourceProperties,
	"listdep":     (*Agent).resourceProperties,
	"listowners":  (*Agent).resourceProperties,
	"delete":      (*Agent).resourceDelete,
	"online":      (*Agent).resourceOnline,
	"offline":     (*Agent).resourceOffline,
	"fail":        (*Agent).resourceFail,
	"move":        (*Agent).resourceMove,
	"adddep":      (*Agent).resourceDependency,
	"removedep":   (*Agent).resourceDependency,
	"addowner":    (*Agent).resourcePossibleOwner,
	"removeowner": (*Agent).resourcePossibleOwner,
}

// resourceCreate creates a resource in a group.
func (a *Agent) resourceCreate(ctx context.Context, name, action string, act wire.ClusterAction) (any, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	if act.Group == "" {
		return nil, badParam("/create needs /group:GROUP")
	}
	if act.Type == "" {
		return nil, badParam("/create needs /type:TYPE")
	}
	if a.opt.ValidType != nil && !a.opt.ValidType(act.Type) {
		return nil, unknownType(act.Type)
	}
	g, _, err := a.db.Group(ctx, act.Group)
	if err != nil {
		return nil, dbErr(err)
	}
	if _, _, err := a.db.Group(ctx, name); err == nil {
		return nil, errCode(ErrorObjectExists, name)
	}
	if err := a.db.CreateResource(ctx, clusterdb.NewResource(name, act.Type, g.Name)); err != nil {
		return nil, dbErr(err)
	}
	return a.resourceStatusNow(ctx, name)
}

// resourceProperties sets common or private properties (when given) and shows the resource.
func (a *Agent) resourceProperties(ctx context.Context, name, action string, act wire.ClusterAction) (any, error) {
	if (action != "prop" && action != "priv") || (len(act.Props) == 0 && len(act.UseDefault) == 0) {
		return a.resourceStatusNow(ctx, name)
	}
	rec, err := a.db.ModifyResource(ctx, name, func(r *clusterdb.Resource) error {
		if action == "priv" {
			return setPrivate(r, act.Props, act.UseDefault)
		}
		if err := setProperties(r, act.Props); err != nil {
			return err
		}
		return resetProperties(r, clusterdb.NewResource(r.Name, r.Type, r.Group), act.UseDefault)
	})
	if err != nil {
		return nil, dbErr(err)
	}
	st, err := a.resourceStatusNow(ctx, name)
	if err != nil {
		return nil, err
	}
	if s, err := a.freshSnapshot(ctx); err == nil {
		changed := append(slices.Collect(maps.Keys(act.Props)), act.UseDefault...)
		if action == "priv" {
			changed = append(changed, "private") // every private property applies at the next online
		}
		st.Warning = storedNotice(s, rec, changed)
	}
	return st, nil
}

// resourceDelete deletes a resource.
func (a *Agent) resourceDelete(ctx context.Context, name, action string, act wire.ClusterAction) (any, error) {
	s, r, err := a.resourceIn(ctx, name)
	if err != nil {
		return nil, err
	}
	if st, _, _ := resourceState(s, r); st != clusterdb.StateOffline && st != clusterdb.StateFailed {
		return nil, errCode(ErrorResourceOnline, r.Name)
	}
	for _, o := range s.Resources {
		if containsFold(o.Dependencies, r.Name) {
			return nil, errCode(ErrorDependentExists, o.Name)
		}
	}
	_, rev, err := a.db.Resource(ctx, r.Name)
	if err != nil {
		return nil, dbErr(err)
	}
	if err := a.db.DeleteResource(ctx, r.Name, rev); err != nil {
		return nil, dbErr(err)
	}
	return wire.ClusterResource{Name: r.Name, Group: r.Group, State: "Deleted"}, nil
}

// resourceOnline brings a resource online.
func (a *Agent) resourceOnline(ctx context.Context, name, action string, act wire.ClusterAction) (any, error) {
	s, r, err := a.resourceIn(ctx, name)
	if err != nil {
		return nil, err
	}
	// The resource and everything it depends on.
	for _, d := range closure(s, r.Name, func(x clusterdb.Resource) []string { return x.Dependencies }) {
		if _, err := a.db.ModifyResource(ctx, d, func(r *clusterdb.Resource) error {
			r.PersistentState = 1
			r.OnlineSeq++
			return nil
		}); err != nil {
			return nil, dbErr(err)
		}
	}
	if _, err := a.db.ModifyGroup(ctx, r.Group, func(g *clusterdb.Group) error { g.PersistentState = 1; return nil }); err != nil {
		return nil, dbErr(err)
	}
	return a.resourceStatusNow(ctx, name)
}

// resourceOffline takes a resource offline.
func (a *Agent) resourceOffline(ctx context.Context, name, action string, act wire.ClusterAction) (any, error) {
	s, r, err := a.resourceIn(ctx, name)
	if err != nil {
		return nil, err
	}
	// The resource and everything that depends on it.
	for _, d := range closure(s, r.Name, func(x clusterdb.Resource) []string { return dependents(s, x.Name) }) {
		if _, err := a.db.ModifyResource(ctx, d, func(r *clusterdb.Resource) error {
			r.PersistentState = 0
			r.OnlineSeq++
			return nil
		}); err != nil {
			return nil, dbErr(err)
		}
	}
	return a.resourceStatusNow(ctx, name)
}

// resourceFail fails a resource, as a test of its failure policy.
func (a *Agent) resourceFail(ctx context.Context, name, action string, act wire.ClusterAction) (any, error) {
	s, r, err := a.resourceIn(ctx, name)
	if err != nil {
		return nil, err
	}
	if st, _, _ := resourceState(s, r); st != clusterdb.StateOnline {
		return nil, errCode(ErrorInvalidState, r.Name)
	}
	if _, err := a.db.ModifyResource(ctx, name, func(r *clusterdb.Resource) error { r.FailSeq++; return nil }); err != nil {
		return nil, dbErr(err)
	}
	return a.resourceStatusNow(ctx, name)
}

// resourceMove moves a resource to another group.
func (a *Agent) resourceMove(ctx context.Context, name, action string, act wire.ClusterAction) (any, error) {
	s, r, err := a.resourceIn(ctx, name)
	if err != nil {
		return nil, err
	}
	g, ok := s.Groups[clusterdb.Key(act.Group)]
	if !ok {
		return nil, errCode(ErrorGroupNotFound, act.Group)
	}
	if len(r.Dependencies) > 0 || len(dependents(s, r.Name)) > 0 {
		return nil, errCode(ErrorDependentExists, r.Name)
	}
	if _, err := a.db.ModifyResource(ctx, name, func(r *clusterdb.Resource) error { r.Group = g.Name; return nil }); err != nil {
		return nil, dbErr(err)
	}
	return a.resourceStatusNow(ctx, name)
}

// resourceDependency adds or removes a dependency.
func (a *Agent) resourceDependency(ctx context.Context, name, action string, act wire.ClusterAction) (any, error) {
	s, r, err := a.resourceIn(ctx, name)
	if err != nil {
		return nil, err
	}
	dep, ok := s.Resources[clusterdb.Key(act.Value)]
	if !ok {
		return nil, errCode(ErrorResourceNotFound, act.Value)
	}
	if action == "adddep" {
		if containsFold(r.Dependencies, dep.Name) {
			return nil, errCode(ErrorDependencyExists, dep.Name)
		}
		if !strings.EqualFold(r.Group, dep.Group) {
			return nil, errCode(ErrorDependencyNotAllowed, dep.Name)
		}
		if strings.EqualFold(r.Name, dep.Name) || slices.ContainsFunc(
			closure(s, dep.Name, func(x clusterdb.Resource) []string { return x.Dependencies }),
			func(n string) bool { return strings.EqualFold(n, r.Name) }) {
			return nil, errCode(ErrorCircularDependency, dep.Name)
		}
	} else if !containsFold(r.Dependencies, dep.Name) {
		return nil, errCode(ErrorDependencyNotFound, dep.Name)
	}
	if _, err := a.db.ModifyResource(ctx, name, func(r *clusterdb.Resource) error {
		r.Dependencies = slices.DeleteFunc(r.Dependencies, func(d string) bool { return strings.EqualFold(d, dep.Name) })
		if action == "adddep" {
			r.Dependencies = append(r.Dependencies, dep.Name)
		}
		return nil
	}); err != nil {
		return nil, dbErr(err)
	}
	return a.resourceStatusNow(ctx, name)
}

// resourcePossibleOwner adds or removes a possible owner.
func (a *Agent) resourcePossibleOwner(ctx context.Context, name, action string, act wire.ClusterAction) (any, error) {
	n, _, err := a.db.Node(ctx, act.Value)
	if err != nil {
		return nil, dbErr(err)
	}
	if _, err := a.db.ModifyResource(ctx, name, func(r *clusterdb.Resource) error {
		r.PossibleOwners = slices.DeleteFunc(r.PossibleOwners, func(o string) bool { return strings.EqualFold(o, n.Name) })
		if action == "addowner" {
			r.PossibleOwners = append(r.PossibleOwners, n.Name)
		}
		return nil
	}); err != nil {
		return nil, dbErr(err)
	}
	return a.resourceStatusNow(ctx, name)
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

// dependents lists the resources that depend on name directly.
func dependents(s *clusterdb.Snapshot, name string) []string {
	var out []string
	for _, r := range s.Resources {
		if containsFold(r.Dependencies, name) {
			out = append(out, r.Name)
		}
	}
	slices.Sort(out)
	return out
}

// closure returns name and everything reachable from it through next.
func closure(s *clusterdb.Snapshot, name string, next func(clusterdb.Resource) []string) []string {
	seen := map[string]bool{}
	var out []string
	var visit func(n string)
	visit = func(n string) {
		r, ok := s.Resources[clusterdb.Key(n)]
		if !ok || seen[clusterdb.Key(n)] {
			return
		}
		seen[clusterdb.Key(n)] = true
		out = append(out, r.Name)
		for _, m := range next(r) {
			visit(m)
		}
	}
	visit(name)
	return out
}

// Join admits a node to the cluster's embedded etcd (POST /v1/cluster/join): as a learner
// that it promotes once it has caught up, while the cluster has fewer voters than it wants
// (a witness always: it exists to vote), else as a non-voter, a client of the voters.
func (a *Agent) Join(ctx context.Context, req wire.ClusterJoinRequest) (wire.ClusterJoinAnswer, error) {
	if err := validName(req.Name); err != nil || req.PeerURL == "" {
		return wire.ClusterJoinAnswer{}, badParam("join needs a node name and a peer URL")
	}
	if err := a.checkJoinSchema(ctx, req); err != nil {
		return wire.ClusterJoinAnswer{}, err
	}
	if !a.opt.Embedded {
		return wire.ClusterJoinAnswer{}, badParam("this cluster uses an external etcd: start the node with --etcd-endpoints")
	}
	cfg, err := a.db.Voting(ctx)
	if err != nil {
		return wire.ClusterJoinAnswer{}, err
	}
	members, err := a.db.Members(ctx)
	if err != nil {
		return wire.ClusterJoinAnswer{}, err
	}
	// A member left by an earlier, failed join of this node does not count.
	counted := 0
	for _, m := range members {
		if !slices.Contains(m.PeerURLs, req.PeerURL) {
			counted++
		}
	}
	noVote := false
	if n, _, err := a.db.Node(ctx, req.Name); err == nil {
		noVote = n.NoVote
	}
	if !req.Witness && (noVote || counted >= cfg.Voters) {
		a.log.Info("node joining as a non-voter", "node", req.Name, "voters", counted)
		return wire.ClusterJoinAnswer{Role: clusterdb.RoleNonVoter, Endpoints: clusterdb.VoterClientURLs(members)}, nil
	}
	ans, err := a.db.AddLearner(ctx, clusterdb.JoinRequest{Name: req.Name, PeerURL: req.PeerURL, Witness: req.Witness})
	if clusterdb.IsMembershipBusy(err) {
		// etcd adds a member only to a cluster whose members have all been connected for
		// a few seconds, and one learner at a time: the joining node tries again.
		return wire.ClusterJoinAnswer{}, &Error{Code: ErrorRetry, Status: wire.StatusServiceUnavailable, Msg: err.Error()}
	}
	if err != nil {
		return wire.ClusterJoinAnswer{}, &Error{Code: ErrorInvalidState, Status: 409, Msg: err.Error()}
	}
	a.log.Info("node joining as a voter", "node", req.Name, "peer", req.PeerURL, "witness", req.Witness)
	return wire.ClusterJoinAnswer{Role: clusterdb.RoleVoter, MemberID: ans.MemberID, InitialCluster: ans.InitialCluster, Endpoints: ans.Endpoints}, nil
}

// resourceIn reads a fresh snapshot and the resource name in it (ERROR_RESOURCE_NOT_FOUND
// when there is none): what most resource actions start from.
func (a *Agent) resourceIn(ctx context.Context, name string) (*clusterdb.Snapshot, clusterdb.Resource, error) {
	s, err := a.freshSnapshot(ctx)
	if err != nil {
		return nil, clusterdb.Resource{}, err
	}
	r, ok := s.Resources[clusterdb.Key(name)]
	if !ok {
		return nil, clusterdb.Resource{}, errCode(ErrorResourceNotFound, name)
	}
	return s, r, nil
}

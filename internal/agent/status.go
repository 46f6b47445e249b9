package agent

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"wolfpack/internal/api/wire"
	"wolfpack/internal/clusterdb"
)

// freshSnapshot reads the database now (the API answers with current data).
func (a *Agent) freshSnapshot(ctx context.Context) (*clusterdb.Snapshot, error) {
	return a.db.Snapshot(ctx)
}

func (a *Agent) nodeStatus(s *clusterdb.Snapshot, n clusterdb.Node, coordinator string, members []clusterdb.EtcdMember) wire.ClusterNode {
	st := "Down"
	if s.Alive(n.Name) {
		st = "Up"
		if n.Paused {
			st = "Paused"
		}
	}
	cn := wire.ClusterNode{Name: n.Name, ID: n.ID, API: n.API, State: st, Witness: n.Witness, Paused: n.Paused,
		Coordinator: strings.EqualFold(coordinator, n.Name), NodeWeight: uint32(b2u(!n.NoVote)), PinnedVoter: n.PinnedVoter,
		SchemaMin: clusterdb.NodeSchema(n).Min, SchemaMax: clusterdb.NodeSchema(n).Max}
	if members != nil || !a.opt.Embedded {
		cn.Role = Role(members, n, a.opt.Embedded)
	}
	return cn
}

// etcdMembers lists the etcd members for the node listings (nil when they cannot be
// read, or with an external etcd): the serializable list of the member the node talks
// to, so that a listing answers at once when quorum is lost.
func (a *Agent) etcdMembers(ctx context.Context) []clusterdb.EtcdMember {
	if !a.opt.Embedded {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, ViewTimeout/2)
	defer cancel()
	members, err := a.db.LocalMembers(ctx)
	if err != nil {
		return nil
	}
	return members
}

// resourceState is a resource's state as the cluster sees it: what its group's owner
// reported, or Offline when the report comes from elsewhere or the owner is down.
func resourceState(s *clusterdb.Snapshot, r clusterdb.Resource) (state, node, errText string) {
	rep, node := resourceReport(s, r)
	return rep.State, node, rep.Error
}

// resourceReport is the owner's report of a resource (state, error, what it waits for),
// or an Offline one when the report comes from elsewhere or the owner is down; node is
// the group's owner.
func resourceReport(s *clusterdb.Snapshot, r clusterdb.Resource) (rep clusterdb.ResourceState, node string) {
	own := s.Owners[clusterdb.Key(r.Group)]
	st, ok := s.ResourceStates[clusterdb.Key(r.Name)]
	m, alive := s.Members[clusterdb.Key(own.Node)]
	if !ok || own.Node == "" || !strings.EqualFold(st.Node, own.Node) || !alive || st.Session != m.Lease {
		return clusterdb.ResourceState{State: clusterdb.StateOffline}, own.Node
	}
	if st.Seq < r.OnlineSeq {
		// An /online or /offline the owner has not acted on yet: what it reported
		// before (a failure, say) is history, and the request is pending.
		pending := clusterdb.StateOnlinePending
		if r.PersistentState == 0 {
			pending = clusterdb.StateOfflinePending
		}
		return clusterdb.ResourceState{State: pending, Node: st.Node, Session: st.Session, Seq: st.Seq}, own.Node
	}
	if st.State != clusterdb.StateOnlinePending {
		st.Waiting, st.WaitUntil = "", time.Time{}
	}
	if st.State != clusterdb.StateFailed {
		st.Recovering = false
	}
	return st, own.Node
}

func groupStatus(s *clusterdb.Snapshot, g clusterdb.Group) wire.ClusterGroup {
	k := clusterdb.Key(g.Name)
	own := s.Owners[k]
	var states, reasons, waits []string
	var until time.Time
	requested := false // an administrator's request the owner has not acted on yet
	for _, r := range s.GroupResources(g.Name) {
		rep, _ := resourceReport(s, r)
		requested = requested || rep.Seq < r.OnlineSeq && (rep.State == clusterdb.StateOnlinePending || rep.State == clusterdb.StateOfflinePending)
		st := rep.State
		if st == clusterdb.StateFailed && rep.Recovering {
			st = clusterdb.StateOnlinePending // the owner restarts it or fails the group over
		}
		states = append(states, st)
		if rep.State == clusterdb.StateFailed && rep.Error != "" {
			if rep.Recovering {
				reasons = append(reasons, fmt.Sprintf("resource '%s' failed (recovering): %s", r.Name, rep.Error))
			} else {
				reasons = append(reasons, fmt.Sprintf("resource '%s' failed: %s", r.Name, rep.Error))
			}
		}
		if rep.Waiting != "" {
			waits = append(waits, fmt.Sprintf("resource '%s' %s", r.Name, rep.Waiting))
			if until.IsZero() || rep.WaitUntil.After(until) {
				until = rep.WaitUntil
			}
		}
	}
	state := GroupStateOf(states, g.PersistentState)
	gs, hasGS := s.GroupStates[k]
	// The group's own failure (its failover threshold reached) is in its state record; a
	// resource's failure is in that resource's report, which is newer than the record
	// when the owner has acted on a request (the record follows in a later write).
	if hasGS && gs.State == clusterdb.StateFailed && gs.Error != "" && strings.EqualFold(gs.Node, own.Node) && !requested {
		state = clusterdb.StateFailed
		reasons = append([]string{gs.Error}, reasons...)
	}
	if own.Node == "" {
		if len(states) > 0 && g.PersistentState == 1 {
			state = clusterdb.StatePending
		} else {
			state = clusterdb.StateOffline
		}
	}
	if _, moving := s.Moves[k]; moving {
		state = clusterdb.StatePending
	}
	out := wire.ClusterGroup{Name: g.Name, Node: own.Node, State: state, Properties: properties(g),
		PreferredOwners: nonNil(g.PreferredOwners)}
	if state == clusterdb.StateFailed || state == clusterdb.StatePending {
		out.Error = strings.Join(reasons, "; ")
	}
	if len(waits) > 0 {
		out.Waiting = strings.Join(waits, "; ")
		if !until.IsZero() {
			out.WaitUntil = &until
		}
	}
	return out
}

func resourceStatus(s *clusterdb.Snapshot, r clusterdb.Resource) wire.ClusterResource {
	rep, node := resourceReport(s, r)
	priv := make([]wire.ClusterProperty, 0, len(r.Private))
	for k, v := range r.Private {
		priv = append(priv, wire.ClusterProperty{Name: k, Type: "S", Value: v})
	}
	slices.SortFunc(priv, func(x, y wire.ClusterProperty) int { return strings.Compare(x.Name, y.Name) })
	out := wire.ClusterResource{Name: r.Name, Group: r.Group, Node: node, State: rep.State, Type: r.Type, Error: rep.Error,
		Recovering: rep.Recovering, Waiting: rep.Waiting,
		Dependencies: nonNil(r.Dependencies), PossibleOwners: nonNil(r.PossibleOwners), Checkpoints: nonNil(r.Checkpoints),
		Properties: properties(r), Private: priv}
	if !rep.WaitUntil.IsZero() {
		out.WaitUntil = &rep.WaitUntil
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Common properties are the records' exported scalar fields, named as WSFC names them.
var notProperties = map[string]bool{"Name": true, "ID": true, "Type": true, "Group": true, "OnlineSeq": true, "FailSeq": true}

func properties(rec any) []wire.ClusterProperty {
	v := reflect.ValueOf(rec)
	t := v.Type()
	var out []wire.ClusterProperty
	for i := range t.NumField() {
		f := t.Field(i)
		if notProperties[f.Name] {
			continue
		}
		fv := v.Field(i)
		switch fv.Kind() {
		case reflect.String:
			out = append(out, wire.ClusterProperty{Name: f.Name, Type: "S", Value: fv.String()})
		case reflect.Uint32:
			out = append(out, wire.ClusterProperty{Name: f.Name, Type: "D", Value: strconv.FormatUint(fv.Uint(), 10)})
		case reflect.Int32:
			out = append(out, wire.ClusterProperty{Name: f.Name, Type: "I", Value: strconv.FormatInt(fv.Int(), 10)})
		case reflect.Slice:
			if multiStrings[f.Name] {
				out = append(out, wire.ClusterProperty{Name: f.Name, Type: "M", Value: strings.Join(fv.Interface().([]string), ",")})
			}
		}
	}
	return out
}

// multiStrings are the list fields that are common properties (REG_MULTI_SZ in WSFC:
// given and shown comma-separated); the other lists have their own options
// (/setowners, /adddep, /addowner, /addcheckpoints).
var multiStrings = map[string]bool{"AntiAffinityClassNames": true}

// setProperties sets common properties of the record rec points to from K=V pairs.
func setProperties(rec any, props map[string]string) error {
	v := reflect.ValueOf(rec).Elem()
	t := v.Type()
	for name, val := range props {
		var f reflect.StructField
		found := false
		for i := range t.NumField() {
			if strings.EqualFold(t.Field(i).Name, name) && !notProperties[t.Field(i).Name] {
				f, found = t.Field(i), true
				break
			}
		}
		if !found {
			return propertyError(fmt.Sprintf("no property '%s'; the properties are %s", wire.Clip(name), strings.Join(propertyNames(v.Interface()), ", ")))
		}
		fv := v.FieldByIndex(f.Index)
		switch fv.Kind() {
		case reflect.String:
			fv.SetString(val)
		case reflect.Uint32:
			n, err := strconv.ParseUint(strings.TrimSpace(val), 0, 32)
			if err != nil {
				return badParam("property %s: %q is not a DWORD", f.Name, val)
			}
			fv.SetUint(n)
		case reflect.Int32:
			n, err := strconv.ParseInt(strings.TrimSpace(val), 0, 32)
			if err != nil {
				return badParam("property %s: %q is not a number", f.Name, val)
			}
			fv.SetInt(n)
		case reflect.Slice:
			if !multiStrings[f.Name] {
				return badParam("property %s cannot be set with /prop", f.Name)
			}
			var list []string
			for _, v := range strings.Split(val, ",") {
				if v = strings.TrimSpace(v); v != "" {
					list = append(list, v)
				}
			}
			fv.Set(reflect.ValueOf(list))
		default:
			return badParam("property %s cannot be set with /prop", f.Name)
		}
	}
	return nil
}

// Nodes lists the cluster's nodes (GET /v1/nodes).
func (a *Agent) Nodes(ctx context.Context) ([]wire.ClusterNode, error) {
	s, stale, err := a.viewStale(ctx)
	if err != nil {
		return nil, err
	}
	coord := a.viewCoordinator(ctx, stale)
	members := a.etcdMembers(ctx)
	out := make([]wire.ClusterNode, 0, len(s.Nodes))
	for _, n := range s.Nodes {
		out = append(out, a.nodeStatus(s, n, coord, members))
	}
	slices.SortFunc(out, func(x, y wire.ClusterNode) int { return x.ID - y.ID })
	return out, nil
}

// Groups lists the groups (GET /v1/groups).
func (a *Agent) Groups(ctx context.Context) ([]wire.ClusterGroup, error) {
	s, err := a.view(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]wire.ClusterGroup, 0, len(s.Groups))
	for _, g := range s.Groups {
		out = append(out, groupStatus(s, g))
	}
	slices.SortFunc(out, func(x, y wire.ClusterGroup) int {
		return strings.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name))
	})
	return out, nil
}

// Resources lists the resources (GET /v1/resources).
func (a *Agent) Resources(ctx context.Context) ([]wire.ClusterResource, error) {
	s, err := a.view(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]wire.ClusterResource, 0, len(s.Resources))
	for _, r := range s.Resources {
		out = append(out, resourceStatus(s, r))
	}
	slices.SortFunc(out, func(x, y wire.ClusterResource) int {
		return strings.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name))
	})
	return out, nil
}

// ResourceTypes lists the resource types with their private properties (GET
// /v1/resourcetypes).
func (a *Agent) ResourceTypes(ctx context.Context) ([]wire.ClusterResourceType, error) {
	ts, err := a.db.ResourceTypes(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]wire.ClusterResourceType, 0, len(ts))
	for _, t := range ts {
		rt := wire.ClusterResourceType{Name: t.Name, DisplayName: t.DisplayName, DLL: t.DLL}
		if info, err := typeInfo(t.Name); err == nil {
			rt = apiType(info, t)
		}
		out = append(out, rt)
	}
	slices.SortFunc(out, func(x, y wire.ClusterResourceType) int { return strings.Compare(x.Name, y.Name) })
	return out, nil
}

// View reads the nodes, groups and resources from one snapshot (the web console).
func (a *Agent) View(ctx context.Context) (wire.ClusterView, error) {
	s, err := a.freshSnapshot(ctx)
	if err != nil {
		return wire.ClusterView{}, err
	}
	coord := a.coordinatorName(ctx)
	v := wire.ClusterView{Revision: s.Revision,
		Nodes:     make([]wire.ClusterNode, 0, len(s.Nodes)),
		Groups:    make([]wire.ClusterGroup, 0, len(s.Groups)),
		Resources: make([]wire.ClusterResource, 0, len(s.Resources))}
	members := a.etcdMembers(ctx)
	for _, n := range s.Nodes {
		v.Nodes = append(v.Nodes, a.nodeStatus(s, n, coord, members))
	}
	slices.SortFunc(v.Nodes, func(x, y wire.ClusterNode) int { return x.ID - y.ID })
	for _, g := range s.Groups {
		v.Groups = append(v.Groups, groupStatus(s, g))
	}
	slices.SortFunc(v.Groups, func(x, y wire.ClusterGroup) int {
		return strings.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name))
	})
	for _, r := range s.Resources {
		v.Resources = append(v.Resources, resourceStatus(s, r))
	}
	slices.SortFunc(v.Resources, func(x, y wire.ClusterResource) int {
		return strings.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name))
	})
	return v, nil
}

// coordinatorName returns the elected coordinator's name ("" when unknown).
func (a *Agent) coordinatorName(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, ViewTimeout/2)
	defer cancel()
	name, err := a.db.Coordinator(ctx)
	if err != nil {
		return ""
	}
	return name
}

package clusterdb

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// The keys every node follows, and the ones it does not.
//
// The definitions — nodes, members, groups, resources, owners, move requests and
// resource types — change when an administrator acts, a node joins or leaves, or the
// coordinator places a group: every node needs them, and they sit next to each other
// in the key space, from groups/ to resourcetypes/, so one watch of that range follows
// them in revision order. The states the owners report (state/), which change with
// every resource state change, and the checkpoints are outside it: a node reads the
// states of the groups it takes over once, and writes them from then on, and only the
// coordinator follows the groups' states (FollowGroupStates). So a resource state change
// costs etcd one fenced write and no watch event to any other node (one, to the
// coordinator, when the group's state changes with it), whatever the number of nodes.
const (
	DefinitionsStart = GroupsPrefix
	DefinitionsEnd   = Prefix + "resourcetypes0" // just past resourcetypes/
)

// Follower keeps a node's view of the cluster database: the definitions, and the
// groups' states when asked (the coordinator), loaded once and then followed by watches.
// Snapshot returns an immutable Snapshot of it, renewed after each change; a Snapshot of
// a Follower has no ResourceStates, and GroupStates only while FollowGroupStates is on.
//
// Invariants: cur reflects the definitions at defRev (and the group states at stRev when
// following them): one read, then every watch event after it, in revision order.
type Follower struct {
	cli      *clientv3.Client
	log      *slog.Logger
	onChange func()

	mu sync.Mutex
	cowView
	// resGroup maps each resource's key to its group's key (the follower's own index,
	// to find the group of a deleted resource).
	resGroup map[string]string
	defRev   int64
	stRev    int64
	states   bool          // following state/groups/
	stStop   func()        // stops that watch
	stReady  chan struct{} // closed once the group states are loaded
	revCond  *sync.Cond    // broadcast when defRev moves

	// The groups' resource indexes (GroupIndexPrefix) as followed, and each resource
	// record's ModRevision, by key name: what IndexRepairs compares.
	ixList  map[string][]string
	ixRev   map[string]int64
	resMod  map[string]int64
	ixDirty bool // an index or a resource changed since IndexRepairs last looked
}

// NewFollower returns a Follower on cli; onChange (which must not block) is called after
// every change it applies.
func NewFollower(cli *clientv3.Client, log *slog.Logger, onChange func()) *Follower {
	f := &Follower{cli: cli, log: log, onChange: onChange}
	f.revCond = sync.NewCond(&f.mu)
	return f
}

// Run loads the definitions and follows them until ctx ends; it returns once the first
// load is done (or ctx ended first), and goes on in the background.
func (f *Follower) Run(ctx context.Context) error {
	rev, err := loadUntil(ctx, f.log, f.loadDefinitions)
	if err != nil {
		return err
	}
	go f.followDefinitions(ctx, rev)
	return nil
}

// Snapshot returns the current view (nil before Run's first load). It has no Resources
// map: GroupResources gives each group's resources.
func (f *Follower) Snapshot() *Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.handOut()
}

// Revision is the etcd revision the definitions reflect.
func (f *Follower) Revision() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.defRev
}

// WaitRevision waits until the view reflects every definition written up to rev. When
// no definition changed since the view's revision, a progress notification of the
// watch brings the view to the current revision.
func (f *Follower) WaitRevision(ctx context.Context, rev int64) error {
	stop := context.AfterFunc(ctx, func() {
		f.mu.Lock()
		f.revCond.Broadcast()
		f.mu.Unlock()
	})
	defer stop()
	f.mu.Lock()
	defer f.mu.Unlock()
	asked := time.Time{}
	for f.defRev < rev {
		if ctx.Err() != nil {
			return fmt.Errorf("clusterdb: the view is behind revision %d: %w", rev, ctx.Err())
		}
		if time.Since(asked) > 100*time.Millisecond {
			asked = time.Now()
			// The watch's own stream: its context carries the same metadata.
			go f.cli.RequestProgress(clientv3.WithRequireLeader(ctx))
			go func() {
				sleepCtx(ctx, 110*time.Millisecond)
				f.mu.Lock()
				f.revCond.Broadcast()
				f.mu.Unlock()
			}()
		}
		f.revCond.Wait()
	}
	return nil
}

// definition prefixes, the maps they fill.
var definitionPrefixes = []string{NodesPrefix, MembersPrefix, GroupsPrefix, ResourcesPrefix, OwnersPrefix, MovesPrefix, ResourceTypesPrefix}

func (f *Follower) loadDefinitions(ctx context.Context) (int64, error) {
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := f.cli.Get(lctx, DefinitionsStart, clientv3.WithRange(DefinitionsEnd))
	if err != nil {
		return 0, fmt.Errorf("clusterdb: read the definitions: %w", err)
	}
	s := emptySnapshot(resp.Header.Revision)
	resGroup := map[string]string{}
	ixList, ixRev, resMod := map[string][]string{}, map[string]int64{}, map[string]int64{}
	for _, kv := range resp.Kvs {
		trackIndex(ixList, ixRev, resMod, kv, false)
		if err := applyDefinition(s, resGroup, kv, false); err != nil {
			f.log.Warn("ignoring a damaged record", "key", string(kv.Key), "err", err)
		}
	}
	for _, rs := range s.idx.byGroup {
		sortByName(rs, func(r Resource) string { return r.Name })
	}
	f.mu.Lock()
	if f.cur != nil && f.states {
		s.GroupStates = f.cur.GroupStates
	}
	f.cur, f.defRev, f.resGroup, f.owned = s, resp.Header.Revision, resGroup, map[string]bool{}
	f.ixList, f.ixRev, f.resMod, f.ixDirty = ixList, ixRev, resMod, true
	f.revCond.Broadcast()
	f.mu.Unlock()
	f.onChange()
	return resp.Header.Revision, nil
}

// followDefinitions watches the definitions from rev+1; a broken watch (a compaction,
// etcd out of reach) reads them again.
func (f *Follower) followDefinitions(ctx context.Context, rev int64) {
	for ctx.Err() == nil {
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		wc := f.cli.Watch(wctx, DefinitionsStart, clientv3.WithRange(DefinitionsEnd), clientv3.WithRev(rev+1))
		for wr := range wc {
			if wr.Err() != nil {
				break
			}
			if len(wr.Events) > 0 {
				f.applyEvents(wr.Events, wr.Header.Revision, false)
			} else if wr.IsProgressNotify() {
				f.setRevision(wr.Header.Revision)
			}
		}
		cancel()
		if ctx.Err() != nil {
			return
		}
		sleepCtx(ctx, 200*time.Millisecond)
		var err error
		if rev, err = loadUntil(ctx, f.log, f.loadDefinitions); err != nil {
			return
		}
	}
}

func (f *Follower) setRevision(rev int64) {
	f.mu.Lock()
	if rev > f.defRev {
		f.defRev = rev
		f.revCond.Broadcast()
	}
	f.mu.Unlock()
}

// applyEvents makes the next Snapshot: the current one with the events applied. A map
// the follower has handed out is copied before it changes (once until the next hand-out);
// the resources are indexed by group, and only the changed groups' lists are copied.
func (f *Follower) applyEvents(evs []*clientv3.Event, rev int64, states bool) {
	f.mu.Lock()
	if states && !f.states {
		f.mu.Unlock()
		return
	}
	next := f.edit()
	for _, ev := range evs {
		key := string(ev.Kv.Key)
		if !states && trackIndex(f.ixList, f.ixRev, f.resMod, ev.Kv, ev.Type == mvccpb.DELETE) {
			f.ixDirty = true
		}
		prefix := prefixOf(key)
		if prefix == "" {
			continue
		}
		next = f.edit(prefix)
		var err error
		if ev.Type == mvccpb.DELETE {
			deleteKey(next, f.resGroup, prefix, strings.TrimPrefix(key, prefix))
		} else {
			err = applyDefinition(next, f.resGroup, ev.Kv, states)
		}
		if err != nil {
			f.log.Warn("ignoring a damaged record", "key", key, "err", err)
		}
	}
	if states {
		next.Revision = max(next.Revision, rev)
		f.stRev = rev
	} else {
		next.Revision = rev
		f.defRev = rev
		f.revCond.Broadcast()
	}
	f.mu.Unlock()
	f.onChange()
}

func prefixOf(key string) string {
	for _, p := range definitionPrefixes {
		if strings.HasPrefix(key, p) {
			return p
		}
	}
	if strings.HasPrefix(key, GroupStatePrefix) {
		return GroupStatePrefix
	}
	return ""
}

func cloneMap(s *Snapshot, prefix string) {
	switch prefix {
	case NodesPrefix:
		s.Nodes = maps.Clone(s.Nodes)
	case MembersPrefix:
		s.Members = maps.Clone(s.Members)
	case GroupsPrefix:
		s.Groups = maps.Clone(s.Groups)
	case ResourcesPrefix:
		s.idx = builtIndex(maps.Clone(s.idx.byGroup))
	case OwnersPrefix:
		s.Owners = maps.Clone(s.Owners)
	case MovesPrefix:
		s.Moves = maps.Clone(s.Moves)
	case ResourceTypesPrefix:
		s.ResourceTypes = maps.Clone(s.ResourceTypes)
	case GroupStatePrefix:
		s.GroupStates = maps.Clone(s.GroupStates)
	}
}

func deleteKey(s *Snapshot, resGroup map[string]string, prefix, name string) {
	switch prefix {
	case NodesPrefix:
		delete(s.Nodes, name)
	case MembersPrefix:
		delete(s.Members, name)
	case GroupsPrefix:
		delete(s.Groups, name)
	case ResourcesPrefix:
		if g, ok := resGroup[name]; ok {
			s.idx.remove(g, name)
			delete(resGroup, name)
		}
	case OwnersPrefix:
		delete(s.Owners, name)
	case MovesPrefix:
		delete(s.Moves, name)
	case ResourceTypesPrefix:
		delete(s.ResourceTypes, name)
	case GroupStatePrefix:
		delete(s.GroupStates, name)
	}
}

// applyDefinition puts one record into s (whose maps the caller owns).
func applyDefinition(s *Snapshot, resGroup map[string]string, kv *mvccpb.KeyValue, states bool) error {
	key := string(kv.Key)
	prefix := prefixOf(key)
	name := strings.TrimPrefix(key, prefix)
	switch prefix {
	case NodesPrefix:
		return decodeInto(kv.Value, name, s.Nodes)
	case MembersPrefix:
		return decodeInto(kv.Value, name, s.Members)
	case GroupsPrefix:
		return decodeInto(kv.Value, name, s.Groups)
	case ResourcesPrefix:
		var r Resource
		if err := json.Unmarshal(kv.Value, &r); err != nil {
			return err
		}
		if g, ok := resGroup[name]; ok {
			s.idx.remove(g, name)
		}
		g := keyName(r.Group)
		resGroup[name] = g
		s.idx.add(g, r)
	case OwnersPrefix:
		s.Owners[name] = Owner{Node: string(kv.Value), Revision: kv.ModRevision}
	case MovesPrefix:
		return decodeInto(kv.Value, name, s.Moves)
	case ResourceTypesPrefix:
		return decodeInto(kv.Value, name, s.ResourceTypes)
	case GroupStatePrefix:
		if states {
			return decodeInto(kv.Value, name, s.GroupStates)
		}
	}
	return nil
}

// FollowGroupStates starts (on) or stops following state/groups/: the coordinator's
// placements read the groups' failover history from them.
func (f *Follower) FollowGroupStates(ctx context.Context, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if on == f.states {
		return
	}
	f.states = on
	if !on {
		f.stStop()
		f.stStop = nil
		if f.cur != nil {
			next := *f.cur
			next.GroupStates = map[string]GroupState{}
			f.cur = &next
		}
		return
	}
	sctx, cancel := context.WithCancel(ctx)
	f.stStop = cancel
	ready := make(chan struct{})
	f.stReady = ready
	go f.followStates(sctx, ready)
}

// GroupStatesReady is closed once the group states are loaded (nil when not followed).
func (f *Follower) GroupStatesReady() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.states {
		return nil
	}
	return f.stReady
}

func (f *Follower) followStates(ctx context.Context, ready chan struct{}) {
	once := sync.OnceFunc(func() { close(ready) })
	for ctx.Err() == nil {
		lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		resp, err := f.cli.Get(lctx, GroupStatePrefix, clientv3.WithPrefix())
		cancel()
		if err != nil {
			f.log.Warn("cannot read the groups' states", "err", err)
			sleepCtx(ctx, 500*time.Millisecond)
			continue
		}
		states := map[string]GroupState{}
		for _, kv := range resp.Kvs {
			if err := decodeInto(kv.Value, strings.TrimPrefix(string(kv.Key), GroupStatePrefix), states); err != nil {
				f.log.Warn("ignoring a damaged record", "key", string(kv.Key), "err", err)
			}
		}
		f.mu.Lock()
		if ctx.Err() != nil || f.cur == nil {
			f.mu.Unlock()
			return
		}
		next := *f.cur
		next.GroupStates = states
		f.cur, f.stRev = &next, resp.Header.Revision
		f.mu.Unlock()
		once()
		f.onChange()
		wctx, wcancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		wc := f.cli.Watch(wctx, GroupStatePrefix, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1))
		for wr := range wc {
			if wr.Err() != nil {
				break
			}
			if len(wr.Events) > 0 && ctx.Err() == nil {
				f.applyEvents(wr.Events, wr.Header.Revision, true)
			}
		}
		wcancel()
		sleepCtx(ctx, 200*time.Millisecond)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// resIndex indexes a Snapshot's resources by group, built on first use (a Snapshot read
// whole), or kept by a Follower (builtIndex).
type resIndex struct {
	once    sync.Once
	byGroup map[string][]Resource // by group key; each list sorted by name
}

func builtIndex(byGroup map[string][]Resource) *resIndex {
	x := &resIndex{byGroup: byGroup}
	x.once.Do(func() {})
	return x
}

func (x *resIndex) build(s *Snapshot) {
	x.byGroup = map[string][]Resource{}
	for _, r := range s.Resources {
		k := keyName(r.Group)
		x.byGroup[k] = append(x.byGroup[k], r)
	}
	for _, rs := range x.byGroup {
		sortByName(rs, func(r Resource) string { return r.Name })
	}
}

// add puts r into group g's list (a new list: the old one may be shared), in order.
func (x *resIndex) add(g string, r Resource) {
	old := x.byGroup[g]
	k := keyName(r.Name)
	i, _ := slices.BinarySearchFunc(old, k, func(e Resource, k string) int { return strings.Compare(keyName(e.Name), k) })
	rs := make([]Resource, 0, len(old)+1)
	rs = append(append(append(rs, old[:i]...), r), old[i:]...)
	x.byGroup[g] = rs
}

// remove takes resource key k out of group g's list (a new list).
func (x *resIndex) remove(g, k string) {
	old := x.byGroup[g]
	rs := slices.DeleteFunc(slices.Clone(old), func(r Resource) bool { return keyName(r.Name) == k })
	if len(rs) == 0 {
		delete(x.byGroup, g)
		return
	}
	x.byGroup[g] = rs
}

// trackIndex notes an index record or a resource record's revision (deleted: its
// removal); it reports whether kv was one of them.
func trackIndex(ixList map[string][]string, ixRev, resMod map[string]int64, kv *mvccpb.KeyValue, deleted bool) bool {
	key := string(kv.Key)
	switch {
	case strings.HasPrefix(key, GroupIndexPrefix):
		g := key[len(GroupIndexPrefix):]
		var gi GroupIndex
		if deleted {
			delete(ixList, g)
			delete(ixRev, g)
		} else if json.Unmarshal(kv.Value, &gi) == nil {
			ixList[g], ixRev[g] = gi.Resources, kv.ModRevision
		} else {
			ixList[g], ixRev[g] = nil, kv.ModRevision // damaged: repaired
		}
		return true
	case strings.HasPrefix(key, ResourcesPrefix):
		if deleted {
			delete(resMod, key[len(ResourcesPrefix):])
		} else {
			resMod[key[len(ResourcesPrefix):]] = kv.ModRevision
		}
		return true
	}
	return false
}

// IndexRepair is a group whose resource index is missing, wrong, or older than one of
// its resources (a write that did not write it), with what RepairGroupIndex needs.
type IndexRepair struct {
	Group     string
	Rev       int64 // the index's ModRevision (0: none)
	Resources []Resource
}

// IndexRepairs returns the groups whose index needs repair: none unless an index or a
// resource changed since the last call (MarkIndexesDirty makes the next call look again).
func (f *Follower) IndexRepairs() []IndexRepair {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.ixDirty || f.cur == nil {
		return nil
	}
	f.ixDirty = false
	var out []IndexRepair
	for k, g := range f.cur.Groups {
		rs := f.cur.idx.byGroup[k]
		rev, ok := f.ixRev[k]
		stale := !ok || !slices.Equal(indexOf(rs), f.ixList[k])
		for _, r := range rs {
			stale = stale || f.resMod[keyName(r.Name)] > rev
		}
		if stale {
			out = append(out, IndexRepair{Group: g.Name, Rev: rev, Resources: rs})
		}
	}
	return out
}

// MarkIndexesDirty makes the next IndexRepairs look at every group again (a repair failed).
func (f *Follower) MarkIndexesDirty() {
	f.mu.Lock()
	f.ixDirty = true
	f.mu.Unlock()
}

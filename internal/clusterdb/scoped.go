package clusterdb

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// What a node that does not coordinate follows (ScopedFollower).
//
// Every node needs the membership (nodes/, members/), the groups' owners (owners/), the
// move requests (moves/) and the resource types: they lie next to each other in the key
// space, from members/ to owners/, so one watch of [SharedStart, SharedEnd) and one of
// resourcetypes/ follow them. Of the groups and resources it needs only the ones it
// owns: for each such group it watches two keys, the group's record and its resource
// index (index/groups/<group>), which every write of one of the group's resources
// rewrites in the same transaction. So writing a resource's definition costs a watch
// event to its group's owner and to the coordinator (which follows everything,
// Follower), not one to every node.
const (
	SharedStart = MembersPrefix
	SharedEnd   = ResourcesPrefix // members/, moves/, nodes/, owners/ sort before it
)

// indexPoll is how often a followed group without an index (records written before
// indexes) is read again: its resources' changes send no event.
const indexPoll = 3 * time.Second

// ScopedFollower keeps the view of a node that does not coordinate: the keys every node
// needs, and the definitions of the groups it is told to follow (Want). Its Snapshot has
// no ResourceStates nor GroupStates, and only the followed groups in Groups and
// GroupResources.
//
// Invariants: the shared maps reflect one read and every watch event after it; each
// followed group reflects its record and its resources as of one read at one revision,
// read again after each change of its record or index. A Snapshot handed out never
// changes.
type ScopedFollower struct {
	db       *DB
	log      *slog.Logger
	onChange func()

	mu sync.Mutex
	cowView
	groups map[string]context.CancelFunc // the followed groups' watches, by key name
	// resGroup maps each resource in the view to its group (key names).
	resGroup map[string]string
	ctx      context.Context // Run's
}

// NewScopedFollower returns a ScopedFollower on db; onChange (which must not block) is
// called after every change it applies.
func (db *DB) NewScopedFollower(log *slog.Logger, onChange func()) *ScopedFollower {
	return &ScopedFollower{db: db, log: log, onChange: onChange, groups: map[string]context.CancelFunc{}, resGroup: map[string]string{}}
}

// Run reads the shared keys and follows them until ctx ends; it returns once the first
// read is done (or ctx ended first), and goes on in the background.
func (f *ScopedFollower) Run(ctx context.Context) error {
	f.mu.Lock()
	f.ctx = ctx
	f.mu.Unlock()
	rev, err := loadUntil(ctx, f.log, f.loadShared)
	if err != nil {
		return err
	}
	go f.followShared(ctx, rev)
	return nil
}

// Snapshot returns the current view (nil before Run's first read).
func (f *ScopedFollower) Snapshot() *Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.handOut()
}

// Want sets the groups to follow (by key name): the ones not followed yet are read and
// watched, and the ones no longer wanted leave the view. Run must have been called.
func (f *ScopedFollower) Want(keys []string) {
	want := map[string]bool{}
	for _, k := range keys {
		want[keyName(k)] = true
	}
	f.mu.Lock()
	changed := false
	for k, stop := range f.groups {
		if !want[k] {
			stop()
			delete(f.groups, k)
			f.setGroupLocked(k, nil, nil)
			changed = true
		}
	}
	for k := range want {
		if f.groups[k] == nil && f.ctx != nil {
			gctx, cancel := context.WithCancel(f.ctx)
			f.groups[k] = cancel
			go f.followGroup(gctx, k)
		}
	}
	f.mu.Unlock()
	if changed {
		f.onChange()
	}
}

// loadShared reads the shared keys at one revision, keeping the followed groups.
func (f *ScopedFollower) loadShared(ctx context.Context) (int64, error) {
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := f.db.cli.Txn(lctx).Then(
		clientv3.OpGet(SharedStart, clientv3.WithRange(SharedEnd)),
		clientv3.OpGet(ResourceTypesPrefix, clientv3.WithPrefix()),
	).Commit()
	if err != nil {
		return 0, fmt.Errorf("clusterdb: read the membership and owners: %w", err)
	}
	s := emptySnapshot(resp.Header.Revision)
	for _, r := range resp.Responses {
		for _, kv := range r.GetResponseRange().Kvs {
			if err := applyDefinition(s, nil, kv, false); err != nil {
				f.log.Warn("ignoring a damaged record", "key", string(kv.Key), "err", err)
			}
		}
	}
	f.mu.Lock()
	if f.cur != nil {
		s.Groups, s.idx = f.cur.Groups, f.cur.idx
	}
	f.cur, f.owned = s, map[string]bool{}
	f.mu.Unlock()
	f.onChange()
	return resp.Header.Revision, nil
}

// followShared watches the shared keys from rev+1; a broken watch reads them again.
func (f *ScopedFollower) followShared(ctx context.Context, rev int64) {
	for ctx.Err() == nil {
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		shared := f.db.cli.Watch(wctx, SharedStart, clientv3.WithRange(SharedEnd), clientv3.WithRev(rev+1))
		types := f.db.cli.Watch(wctx, ResourceTypesPrefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
		for {
			var wr clientv3.WatchResponse
			var ok bool
			select {
			case wr, ok = <-shared:
			case wr, ok = <-types:
			}
			if !ok || wr.Err() != nil {
				break
			}
			if len(wr.Events) > 0 {
				f.apply(wr.Events)
			}
		}
		cancel()
		if ctx.Err() != nil {
			return
		}
		sleepCtx(ctx, 200*time.Millisecond)
		var err error
		if rev, err = loadUntil(ctx, f.log, f.loadShared); err != nil {
			return
		}
	}
}

// apply puts the shared keys' events into the next Snapshot.
func (f *ScopedFollower) apply(evs []*clientv3.Event) {
	f.mu.Lock()
	for _, ev := range evs {
		key := string(ev.Kv.Key)
		prefix := prefixOf(key)
		if prefix == "" || prefix == GroupsPrefix || prefix == ResourcesPrefix || prefix == GroupStatePrefix {
			continue
		}
		next := f.edit(prefix)
		var err error
		if ev.Type == clientv3.EventTypeDelete {
			deleteKey(next, nil, prefix, key[len(prefix):])
		} else {
			err = applyDefinition(next, nil, ev.Kv, false)
		}
		if err != nil {
			f.log.Warn("ignoring a damaged record", "key", key, "err", err)
		}
		next.Revision = max(next.Revision, ev.Kv.ModRevision)
	}
	f.mu.Unlock()
	f.onChange()
}

// followGroup reads group k's definitions and reads them again after each change of its
// record or index, until ctx ends (Want dropped it). The watches are opened first, at
// etcd's current revision, and the group read after they are: a watch opened at a past
// revision makes etcd read the whole key space's history since then to catch it up,
// which a thousand groups placed at once would make it do a thousand times.
func (f *ScopedFollower) followGroup(ctx context.Context, k string) {
	ticker := time.NewTicker(indexPoll)
	defer ticker.Stop()
	for ctx.Err() == nil {
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		grp := f.db.cli.Watch(wctx, GroupsPrefix+k, clientv3.WithCreatedNotify())
		idx := f.db.cli.Watch(wctx, GroupIndexPrefix+k, clientv3.WithCreatedNotify())
		if created(grp) && created(idx) {
			f.watchGroup(ctx, k, grp, idx, ticker.C)
		}
		cancel()
		// A broken watch (etcd without a leader, a compaction) is not retried at once:
		// every node would retry together.
		sleepCtx(ctx, 200*time.Millisecond)
	}
}

// created waits for a watch's creation notice.
func created(wc clientv3.WatchChan) bool {
	wr, ok := <-wc
	return ok && wr.Created && wr.Err() == nil
}

// watchGroup reads group k, then again after each change the watches grp and idx report
// (and at each poll while the group has no index); it returns when a watch breaks or a
// read fails.
func (f *ScopedFollower) watchGroup(ctx context.Context, k string, grp, idx clientv3.WatchChan, poll <-chan time.Time) {
	rev, indexed, err := f.loadGroup(ctx, k)
	if err != nil {
		if ctx.Err() == nil {
			f.log.Warn("cannot read a group's definitions", "group", k, "err", err)
		}
		return
	}
	for {
		var wr clientv3.WatchResponse
		var ok bool
		select {
		case wr, ok = <-grp:
		case wr, ok = <-idx:
		case <-poll:
			if !indexed {
				if rev, indexed, err = f.loadGroup(ctx, k); err != nil {
					return
				}
			}
			continue
		}
		if !ok || wr.Err() != nil {
			return
		}
		changed := false
		for _, ev := range wr.Events {
			changed = changed || ev.Kv.ModRevision > rev
		}
		if !changed {
			continue
		}
		// Let a burst of writes to the group settle into one read.
		sleepCtx(ctx, 2*time.Millisecond)
		if rev, indexed, err = f.loadGroup(ctx, k); err != nil {
			return
		}
	}
}

// loadGroup reads group k's record, index and resources at one revision and puts them in
// the view. indexed is false when the group has no index (its resources were found by
// reading them all).
func (f *ScopedFollower) loadGroup(ctx context.Context, k string) (rev int64, indexed bool, err error) {
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := f.db.cli.Txn(lctx).Then(clientv3.OpGet(GroupsPrefix+k), clientv3.OpGet(GroupIndexPrefix+k)).Commit()
	if err != nil {
		return 0, false, fmt.Errorf("clusterdb: read group %s: %w", k, err)
	}
	rev = resp.Header.Revision
	var g *Group
	if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) > 0 {
		var rec Group
		if err := json.Unmarshal(kvs[0].Value, &rec); err != nil {
			f.log.Warn("ignoring a damaged record", "key", string(kvs[0].Key), "err", err)
		} else {
			g = &rec
		}
	}
	var rs []Resource
	kvs := resp.Responses[1].GetResponseRange().Kvs
	var gi GroupIndex
	indexed = len(kvs) > 0 && json.Unmarshal(kvs[0].Value, &gi) == nil
	switch {
	case g == nil:
	case indexed:
		for start := 0; start < len(gi.Resources); start += maxTxnOps {
			keys := gi.Resources[start:min(start+maxTxnOps, len(gi.Resources))]
			get := func(opts ...clientv3.OpOption) (*clientv3.TxnResponse, error) {
				ops := make([]clientv3.Op, 0, len(keys))
				for _, rk := range keys {
					ops = append(ops, clientv3.OpGet(ResourcesPrefix+rk, append([]clientv3.OpOption{clientv3.WithRev(rev)}, opts...)...))
				}
				return f.db.cli.Txn(lctx).Then(ops...).Commit()
			}
			// At the revision just read, the records cannot change: the member the
			// client talks to answers alone (no round of the quorum), unless it has not
			// applied that revision yet.
			rr, err := get(clientv3.WithSerializable())
			if err != nil {
				rr, err = get()
			}
			if err != nil {
				return 0, false, fmt.Errorf("clusterdb: read the resources of group %s: %w", k, err)
			}
			for _, r := range rr.Responses {
				for _, kv := range r.GetResponseRange().Kvs {
					var res Resource
					if err := json.Unmarshal(kv.Value, &res); err != nil {
						f.log.Warn("ignoring a damaged record", "key", string(kv.Key), "err", err)
						continue
					}
					if keyName(res.Group) == k { // an index behind a raw write: the record decides
						rs = append(rs, res)
					}
				}
			}
		}
	default:
		all, err := f.db.scanGroupResources(lctx, k, rev)
		if err != nil {
			return 0, false, err
		}
		rs = all
	}
	sortByName(rs, func(r Resource) string { return r.Name })
	f.mu.Lock()
	if ctx.Err() == nil { // still wanted
		f.setGroupLocked(k, g, rs)
	}
	f.mu.Unlock()
	f.onChange()
	return rev, indexed || g == nil, nil
}

// setGroupLocked puts group k (nil: none) and its resources into the view. f.mu is held.
func (f *ScopedFollower) setGroupLocked(k string, g *Group, rs []Resource) {
	if f.cur == nil {
		return
	}
	next := f.edit(GroupsPrefix, ResourcesPrefix)
	for _, r := range next.idx.byGroup[k] {
		if rk := keyName(r.Name); f.resGroup[rk] == k {
			delete(f.resGroup, rk)
		}
	}
	if g == nil {
		delete(next.Groups, k)
		delete(next.idx.byGroup, k)
		return
	}
	next.Groups[k] = *g
	if len(rs) == 0 {
		delete(next.idx.byGroup, k)
	} else {
		next.idx.byGroup[k] = slices.Clip(rs)
	}
	// A resource that moved here from another followed group leaves that one now, even
	// if that group is not read again yet: its record, read later, says it is here. So
	// no view has a resource in two groups.
	for _, r := range rs {
		rk := keyName(r.Name)
		if og, ok := f.resGroup[rk]; ok && og != k {
			next.idx.remove(og, rk)
		}
		f.resGroup[rk] = k
	}
}

// FollowedGroups returns the key names of the groups being followed.
func (f *ScopedFollower) FollowedGroups() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.groups))
}

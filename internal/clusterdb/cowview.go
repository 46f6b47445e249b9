package clusterdb

import (
	"context"
	"log/slog"
	"time"
)

// cowView is a follower's current Snapshot, copied on write: a Snapshot handed out never
// changes. owned lists the maps of cur (by key prefix; "" for cur itself) copied since cur
// was last handed out: only those may change in place. The follower's mutex guards it.
type cowView struct {
	cur   *Snapshot
	owned map[string]bool
}

// handOut returns cur, which from now on does not change.
func (v *cowView) handOut() *Snapshot {
	v.owned = map[string]bool{}
	return v.cur
}

// edit returns cur, owned by the follower, with the maps of prefixes copied if they were
// handed out.
func (v *cowView) edit(prefixes ...string) *Snapshot {
	if !v.owned[""] {
		next := *v.cur
		v.cur = &next
		v.owned[""] = true
	}
	for _, p := range prefixes {
		if !v.owned[p] {
			v.owned[p] = true
			cloneMap(v.cur, p)
		}
	}
	return v.cur
}

// emptySnapshot is a Snapshot at rev with every map made.
func emptySnapshot(rev int64) *Snapshot {
	return &Snapshot{Revision: rev, idx: builtIndex(map[string][]Resource{}),
		Nodes: map[string]Node{}, Members: map[string]Member{}, Groups: map[string]Group{},
		Owners: map[string]Owner{}, GroupStates: map[string]GroupState{},
		ResourceStates: map[string]ResourceState{}, Moves: map[string]Move{}, ResourceTypes: map[string]ResourceType{}}
}

// loadUntil calls load until it succeeds or ctx ends (a follower's read of its keys,
// retried while etcd does not answer).
func loadUntil(ctx context.Context, log *slog.Logger, load func(context.Context) (int64, error)) (int64, error) {
	for {
		rev, err := load(ctx)
		if err == nil {
			return rev, nil
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		log.Warn("cannot read the cluster database", "err", err)
		sleepCtx(ctx, 500*time.Millisecond)
	}
}

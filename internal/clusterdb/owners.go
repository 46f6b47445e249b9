package clusterdb

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Fence identifies a node's ownership of a group: the ModRevision of owners/<group> when
// the node took the group. Writes made on behalf of the group's owner compare it.
type Fence struct {
	Node     string
	Group    string
	Revision int64
}

// Cmps returns the comparisons of a fenced transaction: owners/<group> still names
// f.Node and has not been rewritten since f.Revision.
func (f Fence) Cmps() []clientv3.Cmp {
	k := OwnerKey(f.Group)
	return []clientv3.Cmp{
		clientv3.Compare(clientv3.Value(k), "=", f.Node),
		clientv3.Compare(clientv3.ModRevision(k), "=", f.Revision),
	}
}

// FencedTxn runs ops only if f still holds (ErrFenced otherwise), and returns the
// revision of the write.
func (db *DB) FencedTxn(ctx context.Context, f Fence, ops ...Op) (int64, error) {
	resp, err := db.cli.Txn(ctx).If(f.Cmps()...).Then(etcdOps(ops)...).Commit()
	if err != nil {
		return 0, fmt.Errorf("clusterdb: fenced write for group %s: %w", f.Group, err)
	}
	if !resp.Succeeded {
		return 0, objErr("group", f.Group, ErrFenced)
	}
	return resp.Header.Revision, nil
}

// Owner returns the owner of group and the fencing revision ("" and 0 when unowned).
func (db *DB) Owner(ctx context.Context, group string) (Owner, error) {
	resp, err := db.cli.Get(ctx, OwnerKey(group))
	if err != nil {
		return Owner{}, fmt.Errorf("clusterdb: owner of %s: %w", group, err)
	}
	if len(resp.Kvs) == 0 {
		return Owner{}, nil
	}
	return Owner{Node: string(resp.Kvs[0].Value), Revision: resp.Kvs[0].ModRevision}, nil
}

// SetOwner makes node the owner of group if owners/<group> is still at prev (0: absent),
// and runs extra ops in the same transaction. It returns the new fencing revision.
func (db *DB) SetOwner(ctx context.Context, group, node string, prev int64, extra ...Op) (int64, error) {
	return db.Place(ctx, Placement{Group: group, Node: node, Prev: prev}, extra...)
}

// Placement is a coordinator's decision to give a group to a node, with the conditions
// under which it still holds.
type Placement struct {
	Group string
	Node  string // the new owner; "" releases the group
	Prev  int64  // owners/<group>'s ModRevision the decision saw (0: absent)
	// DeadOwner, when set, is the previous owner the decision takes for dead: its
	// membership key must be absent (its lease expired or was revoked), so that a node
	// that came back in the meantime keeps its group.
	DeadOwner string
	// Election is the coordinator's election key and its CreateRevision: a coordinator
	// that lost its election (its key gone or replaced) places nothing.
	Election Election
}

// Election identifies a won election: the winner's key and its CreateRevision.
type Election struct {
	Key string
	Rev int64
}

// Place makes p.Node the owner of p.Group if every condition of p still holds, and runs
// extra ops in the same transaction; ErrConflict otherwise. It returns the new fencing
// revision.
func (db *DB) Place(ctx context.Context, p Placement, extra ...Op) (int64, error) {
	k := OwnerKey(p.Group)
	cmps := []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(GroupKey(p.Group)), ">", 0)}
	if p.Prev == 0 {
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(k), "=", 0))
	} else {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(k), "=", p.Prev))
	}
	if p.DeadOwner != "" {
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(MemberKey(p.DeadOwner)), "=", 0))
	}
	if p.Election.Key != "" {
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(p.Election.Key), "=", p.Election.Rev))
	}
	ops := append([]clientv3.Op{clientv3.OpPut(k, p.Node)}, etcdOps(extra)...)
	group := p.Group
	resp, err := db.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		return 0, fmt.Errorf("clusterdb: set owner of %s: %w", group, err)
	}
	if !resp.Succeeded {
		return 0, objErr("group", group, ErrConflict)
	}
	return resp.Header.Revision, nil
}

// PlaceBatch makes each placement of ps, with its move request deleted, in one
// transaction, if every condition of every one still holds (ErrConflict otherwise: the
// caller places them one by one). A coordinator places a cluster's new groups so, a
// batch at a time, rather than in a transaction each. At most MaxPlaceBatch placements;
// the election is compared once (the placements share the coordinator's).
func (db *DB) PlaceBatch(ctx context.Context, ps []Placement) error {
	if len(ps) > MaxPlaceBatch {
		return fmt.Errorf("clusterdb: %d placements in one transaction (at most %d)", len(ps), MaxPlaceBatch)
	}
	var cmps []clientv3.Cmp
	var ops []clientv3.Op
	for i, p := range ps {
		k := OwnerKey(p.Group)
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(GroupKey(p.Group)), ">", 0))
		if p.Prev == 0 {
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(k), "=", 0))
		} else {
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(k), "=", p.Prev))
		}
		if p.DeadOwner != "" {
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(MemberKey(p.DeadOwner)), "=", 0))
		}
		if i == 0 && p.Election.Key != "" {
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(p.Election.Key), "=", p.Election.Rev))
		}
		ops = append(ops, clientv3.OpPut(k, p.Node), clientv3.OpDelete(MoveKey(p.Group)))
	}
	resp, err := db.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		return fmt.Errorf("clusterdb: place %d groups: %w", len(ps), err)
	}
	if !resp.Succeeded {
		return ErrConflict
	}
	return nil
}

// MaxPlaceBatch bounds PlaceBatch: three comparisons and two operations a placement,
// within etcd's 128 of each per transaction.
const MaxPlaceBatch = 40

func sortByName[T any](s []T, name func(T) string) {
	slices.SortFunc(s, func(a, b T) int { return strings.Compare(keyName(name(a)), keyName(name(b))) })
}

// maxTxnOps is etcd's default bound on the operations of one transaction (--max-txn-ops).
const maxTxnOps = 128

// States reads a group's state record (ok false when it has none) and its resources'
// states (absent ones left out), in transactions of at most maxTxnOps reads.
func (db *DB) States(ctx context.Context, group string, resources []string) (gs GroupState, ok bool, states map[string]ResourceState, err error) {
	states = map[string]ResourceState{}
	keys := []string{GroupStateKey(group)}
	for _, r := range resources {
		keys = append(keys, ResourceStateKey(r))
	}
	for start := 0; start < len(keys); start += maxTxnOps {
		end := min(start+maxTxnOps, len(keys))
		ops := make([]clientv3.Op, 0, end-start)
		for _, k := range keys[start:end] {
			ops = append(ops, clientv3.OpGet(k))
		}
		resp, err := db.cli.Txn(ctx).Then(ops...).Commit()
		if err != nil {
			return gs, false, nil, fmt.Errorf("clusterdb: states of group %s: %w", group, err)
		}
		for _, r := range resp.Responses {
			for _, kv := range r.GetResponseRange().Kvs {
				k := string(kv.Key)
				if k == GroupStateKey(group) {
					if err := json.Unmarshal(kv.Value, &gs); err != nil {
						return gs, false, nil, fmt.Errorf("clusterdb: decode %s: %w", k, err)
					}
					ok = true
					continue
				}
				if err := decodeInto(kv.Value, strings.TrimPrefix(k, ResourceStatePrefix), states); err != nil {
					return gs, false, nil, fmt.Errorf("clusterdb: decode %s: %w", k, err)
				}
			}
		}
	}
	return gs, ok, states, nil
}

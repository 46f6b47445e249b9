package clusterdb

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// GroupIndexPrefix holds each group's resource index (index/groups/<group>): the key
// names of the group's resources. Resource records are keyed by resource name, so no
// key range holds one group's resources; the index is what lets a node follow only the
// groups it owns (ScopedFollower). Every write of a resource record writes its group's
// index in the same transaction, even when the list is unchanged, so that the index's
// ModRevision is never older than any of its resources': a watch of the index sees
// every change to the group's resources. The coordinator repairs an index that a
// writer without it (an older build, a raw etcd write) left behind (RepairGroupIndex).
const GroupIndexPrefix = Prefix + "index/groups/"

// GroupIndexKey returns the key of group's resource index.
func GroupIndexKey(group string) string { return GroupIndexPrefix + keyName(group) }

// GroupIndex is the record at index/groups/<group>.
type GroupIndex struct {
	Resources []string `json:"resources"` // key names, sorted
}

// indexRead is a group's index as read: its list and ModRevision (0: absent, in which
// case list was built from the resource records).
type indexRead struct {
	group string
	list  []string
	rev   int64
}

// readIndex reads group's index; when there is none (records written before indexes, or
// without them), it builds the list from the resource records.
func (db *DB) readIndex(ctx context.Context, group string) (indexRead, error) {
	ix := indexRead{group: keyName(group)}
	resp, err := db.cli.Get(ctx, GroupIndexKey(group))
	if err != nil {
		return ix, fmt.Errorf("clusterdb: read the resource index of group %s: %w", group, err)
	}
	if len(resp.Kvs) > 0 {
		var gi GroupIndex
		if err := json.Unmarshal(resp.Kvs[0].Value, &gi); err == nil {
			ix.list, ix.rev = gi.Resources, resp.Kvs[0].ModRevision
			return ix, nil
		}
		// A damaged index is rebuilt, compared on its revision like a good one.
		ix.rev = resp.Kvs[0].ModRevision
	}
	rs, err := db.scanGroupResources(ctx, group, 0)
	if err != nil {
		return ix, err
	}
	for _, r := range rs {
		ix.list = append(ix.list, keyName(r.Name))
	}
	slices.Sort(ix.list)
	return ix, nil
}

// scanGroupResources reads every resource record and keeps group's (at revision rev; 0:
// the current one): the way to a group's resources when it has no index.
func (db *DB) scanGroupResources(ctx context.Context, group string, rev int64) ([]Resource, error) {
	opts := []clientv3.OpOption{clientv3.WithPrefix()}
	if rev > 0 {
		opts = append(opts, clientv3.WithRev(rev))
	}
	resp, err := db.cli.Get(ctx, ResourcesPrefix, opts...)
	if err != nil {
		return nil, fmt.Errorf("clusterdb: read the resources of group %s: %w", group, err)
	}
	var out []Resource
	for _, kv := range resp.Kvs {
		var r Resource
		if err := json.Unmarshal(kv.Value, &r); err != nil {
			continue // a damaged record is nobody's resource
		}
		if keyName(r.Group) == keyName(group) {
			out = append(out, r)
		}
	}
	return out, nil
}

// cmp is the condition that the index is still as read.
func (ix indexRead) cmp() clientv3.Cmp {
	if ix.rev == 0 {
		return clientv3.Compare(clientv3.CreateRevision(GroupIndexKey(ix.group)), "=", 0)
	}
	return clientv3.Compare(clientv3.ModRevision(GroupIndexKey(ix.group)), "=", ix.rev)
}

// with returns the list with resource key k in it; without, with k out of it.
func (ix indexRead) with(k string) []string {
	if i, found := slices.BinarySearch(ix.list, k); !found {
		return slices.Insert(slices.Clone(ix.list), i, k)
	}
	return ix.list
}

func (ix indexRead) without(k string) []string {
	return slices.DeleteFunc(slices.Clone(ix.list), func(e string) bool { return e == k })
}

// opPutIndex writes group's index with list (sorted key names).
func opPutIndex(group string, list []string) clientv3.Op {
	if list == nil {
		list = []string{}
	}
	return opPutJSON(GroupIndexKey(group), GroupIndex{Resources: list})
}

// indexOf returns the sorted key names of rs.
func indexOf(rs []Resource) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, keyName(r.Name))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// RepairGroupIndex rewrites group's index from the resources the caller sees in it, if
// the index is still at rev (0: absent): the coordinator's repair of an index that a
// write without it left wrong or behind. It returns false when the index changed
// meanwhile (the caller looks again).
func (db *DB) RepairGroupIndex(ctx context.Context, group string, rev int64, rs []Resource) (bool, error) {
	ix := indexRead{group: keyName(group), rev: rev}
	resp, err := db.cli.Txn(ctx).If(ix.cmp(), clientv3.Compare(clientv3.CreateRevision(GroupKey(group)), ">", 0)).
		Then(opPutIndex(group, indexOf(rs))).Commit()
	if err != nil {
		return false, fmt.Errorf("clusterdb: repair the resource index of group %s: %w", group, err)
	}
	return resp.Succeeded, nil
}

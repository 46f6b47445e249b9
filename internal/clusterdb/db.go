package clusterdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// DB is the typed view of the cluster database on one etcd client.
type DB struct {
	cli *clientv3.Client
}

// New returns a DB on cli (a test's own client, typically); the caller keeps ownership of
// cli. The daemon dials its DB (Dial), which it closes.
func New(cli *clientv3.Client) *DB { return &DB{cli: cli} }

// get reads key into v and returns its ModRevision; ErrNotFound when absent.
func (db *DB) get(ctx context.Context, key string, v any) (int64, error) {
	resp, err := db.cli.Get(ctx, key)
	if err != nil {
		return 0, fmt.Errorf("clusterdb: get %s: %w", key, err)
	}
	if len(resp.Kvs) == 0 {
		return 0, ErrNotFound
	}
	if err := json.Unmarshal(resp.Kvs[0].Value, v); err != nil {
		return 0, fmt.Errorf("clusterdb: decode %s: %w", key, err)
	}
	return resp.Kvs[0].ModRevision, nil
}

// put writes v at key. rev < 0: unconditional; rev == 0: only when the key does not
// exist (ErrExists); rev > 0: only when the key's ModRevision is rev (ErrConflict, or
// ErrNotFound when it was deleted). Extra ops run in the same transaction.
func (db *DB) put(ctx context.Context, key string, v any, rev int64, extra ...clientv3.Op) (int64, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("clusterdb: encode %s: %w", key, err)
	}
	ops := append([]clientv3.Op{clientv3.OpPut(key, string(b))}, extra...)
	var cmps []clientv3.Cmp
	switch {
	case rev == 0:
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(key), "=", 0))
	case rev > 0:
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(key), "=", rev))
	}
	resp, err := db.cli.Txn(ctx).If(cmps...).Then(ops...).Else(clientv3.OpGet(key, clientv3.WithCountOnly())).Commit()
	if err != nil {
		return 0, fmt.Errorf("clusterdb: put %s: %w", key, err)
	}
	if !resp.Succeeded {
		if rev == 0 {
			return 0, ErrExists
		}
		if resp.Responses[0].GetResponseRange().Count == 0 {
			return 0, ErrNotFound
		}
		return 0, ErrConflict
	}
	return resp.Header.Revision, nil
}

// list decodes every value under prefix with newItem/append.
func list[T any](ctx context.Context, db *DB, prefix string) ([]T, error) {
	resp, err := db.cli.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("clusterdb: list %s: %w", prefix, err)
	}
	out := make([]T, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		var v T
		if err := json.Unmarshal(kv.Value, &v); err != nil {
			return nil, fmt.Errorf("clusterdb: decode %s: %w", kv.Key, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// Node reads a node record.
func (db *DB) Node(ctx context.Context, name string) (Node, int64, error) {
	var n Node
	rev, err := db.get(ctx, NodeKey(name), &n)
	if err != nil {
		return n, 0, objErr("node", name, err)
	}
	return n, rev, nil
}

// Nodes lists the node records.
func (db *DB) Nodes(ctx context.Context) ([]Node, error) { return list[Node](ctx, db, NodesPrefix) }

// RegisterNode creates or refreshes this node's record, keeping its ID (assigned once,
// in join order, from a counter that concurrent joins cannot both take) and the
// administrator's settings (Paused, NodeWeight, PinnedVoter).
func (db *DB) RegisterNode(ctx context.Context, n Node) (Node, error) {
	for range 100 {
		old, rev, err := db.Node(ctx, n.Name)
		switch {
		case err == nil:
			n.ID, n.Paused, n.NoVote, n.PinnedVoter = old.ID, old.Paused, old.NoVote, old.PinnedVoter
			n.Evicted = false
			if _, err := db.put(ctx, NodeKey(n.Name), n, rev); err == nil {
				return n, nil
			} else if err != ErrConflict && err != ErrNotFound {
				return n, err
			}
		case isNotFound(err):
			id, err := db.newNodeID(ctx, n)
			if err == nil {
				n.ID = id
				return n, nil
			}
			if err != ErrConflict && err != ErrExists {
				return n, err
			}
		default:
			return n, err
		}
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
	}
	return n, objErr("node", n.Name, ErrConflict)
}

// newNodeID writes n's first record with the next node ID: one more than the counter
// (and than every node's ID, for clusters made before the counter), compared in the same
// transaction, so that two nodes joining at once never get the same ID.
func (db *DB) newNodeID(ctx context.Context, n Node) (int, error) {
	resp, err := db.cli.Txn(ctx).Then(clientv3.OpGet(counterNodeIDKey), clientv3.OpGet(NodesPrefix, clientv3.WithPrefix())).Commit()
	if err != nil {
		return 0, fmt.Errorf("clusterdb: node IDs: %w", err)
	}
	id, counterRev := 0, int64(0)
	if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) > 0 {
		fmt.Sscan(string(kvs[0].Value), &id)
		counterRev = kvs[0].ModRevision
	}
	for _, kv := range resp.Responses[1].GetResponseRange().Kvs {
		var o Node
		if json.Unmarshal(kv.Value, &o) == nil {
			id = max(id, o.ID)
		}
	}
	id++
	n.ID = id
	cmps := []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(NodeKey(n.Name)), "=", 0)}
	if counterRev == 0 {
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(counterNodeIDKey), "=", 0))
	} else {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(counterNodeIDKey), "=", counterRev))
	}
	tr, err := db.cli.Txn(ctx).If(cmps...).Then(opPutJSON(NodeKey(n.Name), n), clientv3.OpPut(counterNodeIDKey, fmt.Sprint(id))).Commit()
	if err != nil {
		return 0, fmt.Errorf("clusterdb: register node %s: %w", n.Name, err)
	}
	if !tr.Succeeded {
		return 0, ErrConflict
	}
	return id, nil
}

// ModifyNode reads a node record, applies f and writes it back, retrying when another
// writer came first.
func (db *DB) ModifyNode(ctx context.Context, name string, f func(*Node) error) (Node, error) {
	for {
		n, rev, err := db.Node(ctx, name)
		if err != nil {
			return n, err
		}
		if err := f(&n); err != nil {
			return n, err
		}
		if _, err := db.UpdateNode(ctx, n, rev); err == nil {
			return n, nil
		} else if !isConflict(err) {
			return n, err
		}
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
	}
}

// LeaveCleanly records that node's cluster service stops cleanly and ends its
// membership in one transaction, so that the other nodes see both together: a node that
// left this way was stopped, not lost (no EVENT_NODE_DOWN for it).
func (db *DB) LeaveCleanly(ctx context.Context, node string) error {
	for range 5 {
		n, rev, err := db.Node(ctx, node)
		if err != nil {
			break // evicted meanwhile: just end the membership
		}
		n.Stopped = true
		if _, err = db.put(ctx, NodeKey(node), n, rev, clientv3.OpDelete(MemberKey(node))); err == nil {
			return nil
		} else if err != ErrConflict {
			return err
		}
	}
	_, err := db.cli.Delete(ctx, MemberKey(node))
	return err
}

// UpdateNode writes a node record read at rev.
func (db *DB) UpdateNode(ctx context.Context, n Node, rev int64) (int64, error) {
	r, err := db.put(ctx, NodeKey(n.Name), n, rev)
	if err != nil {
		return 0, objErr("node", n.Name, err)
	}
	return r, nil
}

// DeleteNode removes a node record (evict) and the node's own API token with it, in one
// transaction: an evicted node's token opens no other node's API.
func (db *DB) DeleteNode(ctx context.Context, name string) error {
	_, err := db.cli.Txn(ctx).Then(
		clientv3.OpDelete(NodeKey(name)),
		clientv3.OpDelete(TokenKey(NodeTokenName(name))),
		clientv3.OpDelete(TokenUseKey(NodeTokenName(name))),
	).Commit()
	if err != nil {
		return fmt.Errorf("clusterdb: delete node %s: %w", name, err)
	}
	return nil
}

// Group reads a group record and its revision.
func (db *DB) Group(ctx context.Context, name string) (Group, int64, error) {
	var g Group
	rev, err := db.get(ctx, GroupKey(name), &g)
	if err != nil {
		return g, 0, objErr("group", name, err)
	}
	return g, rev, nil
}

// Groups lists the group records.
func (db *DB) Groups(ctx context.Context) ([]Group, error) { return list[Group](ctx, db, GroupsPrefix) }

// CreateGroup creates a group; ErrExists when a group of that name exists. A group
// without an ID gets a random one.
func (db *DB) CreateGroup(ctx context.Context, g Group) error {
	if g.ID == "" {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		g.ID = hex.EncodeToString(b[:])
	}
	if _, err := db.put(ctx, GroupKey(g.Name), g, 0, opPutIndex(g.Name, nil)); err != nil {
		return objErr("group", g.Name, err)
	}
	return nil
}

// CreateGroupOwned creates a group that node owns from the start, in one transaction,
// so that no coordinator places it elsewhere meanwhile (WSFC: a new group belongs to
// the node it was created on); ErrExists when a group of that name exists.
func (db *DB) CreateGroupOwned(ctx context.Context, g Group, node string) error {
	if g.ID == "" {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		g.ID = hex.EncodeToString(b[:])
	}
	if _, err := db.put(ctx, GroupKey(g.Name), g, 0, clientv3.OpPut(OwnerKey(g.Name), node), opPutIndex(g.Name, nil)); err != nil {
		return objErr("group", g.Name, err)
	}
	return nil
}

// CreateGroupWithResources creates a group and its resources in one transaction (at most
// maxTxnOps-2 resources): the coordinator never sees the group without them. ErrExists
// when the group or one of the resources exists.
func (db *DB) CreateGroupWithResources(ctx context.Context, g Group, rs []Resource) error {
	return db.CreateGroupsWithResources(ctx, []GroupDefinition{{Group: g, Resources: rs}})
}

// GroupDefinition is a group and its resources, to create together.
type GroupDefinition struct {
	Group     Group
	Resources []Resource
}

// CreateGroupsWithResources creates groups and their resources, as many groups in one
// transaction as etcd takes (maxTxnOps operations; a group takes two and one per
// resource), each group in one. ErrExists when a group or a resource of a transaction
// exists: that transaction writes nothing, and the ones before it stay written.
func (db *DB) CreateGroupsWithResources(ctx context.Context, defs []GroupDefinition) error {
	var cmps []clientv3.Cmp
	var ops []clientv3.Op
	var names []string
	flush := func() error {
		if len(ops) == 0 {
			return nil
		}
		resp, err := db.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
		if err != nil {
			return fmt.Errorf("clusterdb: create groups %s: %w", strings.Join(names, ", "), err)
		}
		if !resp.Succeeded {
			return objErr("group", strings.Join(names, ", "), ErrExists)
		}
		cmps, ops, names = nil, nil, nil
		return nil
	}
	for _, d := range defs {
		g := d.Group
		n := 2 + len(d.Resources)
		if n > maxTxnOps {
			return fmt.Errorf("clusterdb: create group %s: %d resources in one transaction (at most %d)", g.Name, len(d.Resources), maxTxnOps-2)
		}
		for _, r := range d.Resources {
			if keyName(r.Group) != keyName(g.Name) {
				return fmt.Errorf("clusterdb: create group %s: resource %s is of group %s", g.Name, r.Name, r.Group)
			}
		}
		if len(ops)+n > maxTxnOps {
			if err := flush(); err != nil {
				return err
			}
		}
		if g.ID == "" {
			var b [8]byte
			if _, err := rand.Read(b[:]); err != nil {
				return err
			}
			g.ID = hex.EncodeToString(b[:])
		}
		names = append(names, g.Name)
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(GroupKey(g.Name)), "=", 0))
		ops = append(ops, opPutJSON(GroupKey(g.Name), g), opPutIndex(g.Name, indexOf(d.Resources)))
		for _, r := range d.Resources {
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(ResourceKey(r.Name)), "=", 0))
			ops = append(ops, opPutJSON(ResourceKey(r.Name), r))
		}
	}
	return flush()
}

// UpdateGroup writes a group read at rev (ErrConflict when it changed since).
func (db *DB) UpdateGroup(ctx context.Context, g Group, rev int64) (int64, error) {
	r, err := db.put(ctx, GroupKey(g.Name), g, rev)
	if err != nil {
		return 0, objErr("group", g.Name, err)
	}
	return r, nil
}

// DeleteGroup deletes a group read at rev, with its owner, state and move request.
func (db *DB) DeleteGroup(ctx context.Context, name string, rev int64) error {
	resp, err := db.cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(GroupKey(name)), "=", rev)).Then(
		clientv3.OpDelete(GroupKey(name)),
		clientv3.OpDelete(GroupIndexKey(name)),
		clientv3.OpDelete(OwnerKey(name)),
		clientv3.OpDelete(GroupStateKey(name)),
		clientv3.OpDelete(MoveKey(name)),
	).Commit()
	if err != nil {
		return fmt.Errorf("clusterdb: delete group %s: %w", name, err)
	}
	if !resp.Succeeded {
		return objErr("group", name, ErrConflict)
	}
	return nil
}

// RenameGroup renames a group read at rev and moves its resources, owner and state along.
func (db *DB) RenameGroup(ctx context.Context, g Group, rev int64, newName string) error {
	oldName := g.Name
	res, err := db.Resources(ctx)
	if err != nil {
		return err
	}
	g.Name = newName
	b, _ := json.Marshal(g)
	cmps := []clientv3.Cmp{
		clientv3.Compare(clientv3.ModRevision(GroupKey(oldName)), "=", rev),
		clientv3.Compare(clientv3.CreateRevision(GroupKey(newName)), "=", 0),
	}
	ops := []clientv3.Op{clientv3.OpDelete(GroupKey(oldName)), clientv3.OpPut(GroupKey(newName), string(b))}
	var moved []Resource
	for _, r := range res {
		if keyName(r.Group) == keyName(oldName) {
			r.Group = newName
			rb, _ := json.Marshal(r)
			ops = append(ops, clientv3.OpPut(ResourceKey(r.Name), string(rb)))
			moved = append(moved, r)
		}
	}
	// The index moves with the group (a rename that changes only the case keeps its key).
	if keyName(oldName) != keyName(newName) {
		ops = append(ops, clientv3.OpDelete(GroupIndexKey(oldName)))
	}
	ops = append(ops, opPutIndex(newName, indexOf(moved)))
	for _, pair := range [][2]string{{OwnerKey(oldName), OwnerKey(newName)}, {GroupStateKey(oldName), GroupStateKey(newName)}} {
		resp, err := db.cli.Get(ctx, pair[0])
		if err != nil {
			return err
		}
		if len(resp.Kvs) > 0 {
			ops = append(ops, clientv3.OpDelete(pair[0]), clientv3.OpPut(pair[1], string(resp.Kvs[0].Value)))
		}
	}
	resp, err := db.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		return fmt.Errorf("clusterdb: rename group %s: %w", oldName, err)
	}
	if !resp.Succeeded {
		return objErr("group", newName, ErrExists)
	}
	return nil
}

// Resource reads a resource record and its revision.
func (db *DB) Resource(ctx context.Context, name string) (Resource, int64, error) {
	var r Resource
	rev, err := db.get(ctx, ResourceKey(name), &r)
	if err != nil {
		return r, 0, objErr("resource", name, err)
	}
	return r, rev, nil
}

// Resources lists the resource records.
func (db *DB) Resources(ctx context.Context) ([]Resource, error) {
	return list[Resource](ctx, db, ResourcesPrefix)
}

// CreateResource creates a resource; its group must exist. Its group's index takes it in
// the same transaction.
func (db *DB) CreateResource(ctx context.Context, r Resource) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	for {
		ix, err := db.readIndex(ctx, r.Group)
		if err != nil {
			return err
		}
		resp, err := db.cli.Txn(ctx).If(
			clientv3.Compare(clientv3.CreateRevision(ResourceKey(r.Name)), "=", 0),
			clientv3.Compare(clientv3.CreateRevision(GroupKey(r.Group)), ">", 0),
			ix.cmp(),
		).Then(clientv3.OpPut(ResourceKey(r.Name), string(b)), opPutIndex(r.Group, ix.with(keyName(r.Name)))).Commit()
		if err != nil {
			return fmt.Errorf("clusterdb: create resource %s: %w", r.Name, err)
		}
		if resp.Succeeded {
			return nil
		}
		if _, _, err := db.Group(ctx, r.Group); isNotFound(err) {
			return err
		}
		if _, _, err := db.Resource(ctx, r.Name); err == nil {
			return objErr("resource", r.Name, ErrExists)
		}
		if ctx.Err() != nil { // the index changed: read it again
			return ctx.Err()
		}
	}
}

// UpdateResource writes a resource read at rev (ErrConflict when it changed since) and
// returns the new revision. Its group's index is written in the same transaction (with
// the same list, or, when the resource moves to another group, both groups' indexes):
// the owner of the group follows the index, not the resource records.
func (db *DB) UpdateResource(ctx context.Context, r Resource, rev int64) (int64, error) {
	return db.updateResource(ctx, r, rev, "")
}

// updateResource is UpdateResource; oldGroup is the group of the record at rev when the
// caller has just read it ("": read it here).
func (db *DB) updateResource(ctx context.Context, r Resource, rev int64, oldGroup string) (int64, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return 0, objErr("resource", r.Name, err)
	}
	k := keyName(r.Name)
	for {
		if oldGroup == "" {
			var old Resource
			oldRev, err := db.get(ctx, ResourceKey(r.Name), &old)
			if err != nil {
				return 0, objErr("resource", r.Name, err)
			}
			if oldRev != rev {
				return 0, objErr("resource", r.Name, ErrConflict)
			}
			oldGroup = old.Group
		}
		cmps := []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(ResourceKey(r.Name)), "=", rev)}
		ops := []clientv3.Op{clientv3.OpPut(ResourceKey(r.Name), string(b))}
		to, err := db.readIndex(ctx, r.Group)
		if err != nil {
			return 0, err
		}
		cmps = append(cmps, to.cmp())
		ops = append(ops, opPutIndex(r.Group, to.with(k)))
		if keyName(oldGroup) != keyName(r.Group) {
			from, err := db.readIndex(ctx, oldGroup)
			if err != nil {
				return 0, err
			}
			cmps = append(cmps, from.cmp(), clientv3.Compare(clientv3.CreateRevision(GroupKey(r.Group)), ">", 0))
			ops = append(ops, opPutIndex(oldGroup, from.without(k)))
		}
		resp, err := db.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
		if err != nil {
			return 0, fmt.Errorf("clusterdb: put %s: %w", ResourceKey(r.Name), err)
		}
		if resp.Succeeded {
			return resp.Header.Revision, nil
		}
		if keyName(oldGroup) != keyName(r.Group) {
			if _, _, err := db.Group(ctx, r.Group); isNotFound(err) {
				return 0, err
			}
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		// The resource (then the next get says so) or an index changed: again.
		oldGroup = ""
	}
}

// ModifyResource reads a resource, applies f and writes it back, retrying when another
// writer came first. f may return an error to abandon the change.
func (db *DB) ModifyResource(ctx context.Context, name string, f func(*Resource) error) (Resource, error) {
	for {
		r, rev, err := db.Resource(ctx, name)
		if err != nil {
			return r, err
		}
		group := r.Group
		if err := f(&r); err != nil {
			return r, err
		}
		if _, err := db.updateResource(ctx, r, rev, group); err == nil {
			return r, nil
		} else if !isConflict(err) {
			return r, err
		}
		if ctx.Err() != nil {
			return r, ctx.Err()
		}
	}
}

// ModifyGroup is ModifyResource for groups.
func (db *DB) ModifyGroup(ctx context.Context, name string, f func(*Group) error) (Group, error) {
	for {
		g, rev, err := db.Group(ctx, name)
		if err != nil {
			return g, err
		}
		if err := f(&g); err != nil {
			return g, err
		}
		if _, err := db.UpdateGroup(ctx, g, rev); err == nil {
			return g, nil
		} else if !isConflict(err) {
			return g, err
		}
		if ctx.Err() != nil {
			return g, ctx.Err()
		}
	}
}

// DeleteResource deletes a resource read at rev, its state and its checkpoints, and takes
// it out of its group's index, in one transaction: a resource re-created at once never
// shows the old one's checkpoint versions.
func (db *DB) DeleteResource(ctx context.Context, name string, rev int64) error {
	for {
		var r Resource
		cur, err := db.get(ctx, ResourceKey(name), &r)
		if err != nil && !isNotFound(err) {
			return fmt.Errorf("clusterdb: delete resource %s: %w", name, err)
		}
		if err != nil || cur != rev {
			return objErr("resource", name, ErrConflict)
		}
		ix, err := db.readIndex(ctx, r.Group)
		if err != nil {
			return err
		}
		ops := []clientv3.Op{
			clientv3.OpDelete(ResourceKey(name)),
			clientv3.OpDelete(ResourceStateKey(name)),
			clientv3.OpDelete(CheckpointResourcePrefix(name), clientv3.WithPrefix()),
		}
		if list := ix.without(keyName(name)); ix.rev != 0 || len(list) > 0 {
			ops = append(ops, opPutIndex(r.Group, list)) // (no index made for a group gone)
		}
		resp, err := db.cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(ResourceKey(name)), "=", rev), ix.cmp()).Then(ops...).Commit()
		if err != nil {
			return fmt.Errorf("clusterdb: delete resource %s: %w", name, err)
		}
		if resp.Succeeded {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// ResourceTypes lists the registered resource types.
func (db *DB) ResourceTypes(ctx context.Context) ([]ResourceType, error) {
	return list[ResourceType](ctx, db, ResourceTypesPrefix)
}

// PutResourceType registers (or refreshes) a resource type.
func (db *DB) PutResourceType(ctx context.Context, t ResourceType) error {
	_, err := db.put(ctx, ResourceTypeKey(t.Name), t, -1)
	return err
}

// RequestMove asks the owner of group to move it (see Move).
func (db *DB) RequestMove(ctx context.Context, group string, m Move) error {
	_, err := db.put(ctx, MoveKey(group), m, -1)
	return err
}

func isNotFound(err error) bool { return errorsIs(err, ErrNotFound) }
func isConflict(err error) bool { return errorsIs(err, ErrConflict) }

// GroupStates reads every group's state record, by group key name.
func (db *DB) GroupStates(ctx context.Context) (map[string]GroupState, error) {
	resp, err := db.cli.Get(ctx, GroupStatePrefix, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("clusterdb: group states: %w", err)
	}
	out := map[string]GroupState{}
	for _, kv := range resp.Kvs {
		if err := decodeInto(kv.Value, strings.TrimPrefix(string(kv.Key), GroupStatePrefix), out); err != nil {
			return nil, fmt.Errorf("clusterdb: decode %s: %w", kv.Key, err)
		}
	}
	return out, nil
}

// ResourceState returns the state record of a resource (false when there is none).
func (db *DB) ResourceState(ctx context.Context, name string) (ResourceState, bool, error) {
	var st ResourceState
	if _, err := db.get(ctx, ResourceStateKey(name), &st); err != nil {
		if isNotFound(err) {
			return st, false, nil
		}
		return st, false, err
	}
	return st, true, nil
}

// ResourceDeletions sends the key names (Key) of the resource records deleted from now
// on. The channel is closed when ctx ends or the watch fails (etcd without a leader, a
// compaction): a caller that must not miss one looks at the whole set and watches again.
func (db *DB) ResourceDeletions(ctx context.Context) <-chan string {
	out := make(chan string)
	wch := db.cli.Watch(clientv3.WithRequireLeader(ctx), ResourcesPrefix, clientv3.WithPrefix(), clientv3.WithFilterPut())
	go func() {
		defer close(out)
		for wr := range wch {
			if wr.Err() != nil {
				return
			}
			for _, ev := range wr.Events {
				select {
				case out <- strings.TrimPrefix(string(ev.Kv.Key), ResourcesPrefix):
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

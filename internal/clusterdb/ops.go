package clusterdb

import (
	"encoding/json"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Op is a write that a caller adds to a transaction that clusterdb runs on its behalf
// (FencedTxn, Place, SetOwner): the transaction's conditions stay clusterdb's, and the
// caller names what to write in the schema's terms, never an etcd key.
type Op struct{ op clientv3.Op }

// OpSetOwner writes node as the owner of group ("": the group has no owner). A fenced
// transaction that releases the group writes it so.
func OpSetOwner(group, node string) Op { return Op{clientv3.OpPut(OwnerKey(group), node)} }

// OpDeleteMove deletes the move request of group: the move is done (or moot).
func OpDeleteMove(group string) Op { return Op{clientv3.OpDelete(MoveKey(group))} }

// OpPutGroupState writes the state record of group.
func OpPutGroupState(group string, gs GroupState) Op {
	return Op{opPutJSON(GroupStateKey(group), gs)}
}

// OpPutResourceState writes the state record of a resource (by its name, or its Key).
func OpPutResourceState(resource string, st ResourceState) Op {
	return Op{opPutJSON(ResourceStateKey(resource), st)}
}

// etcdOps returns the etcd operations of ops.
func etcdOps(ops []Op) []clientv3.Op {
	out := make([]clientv3.Op, len(ops))
	for i, o := range ops {
		out[i] = o.op
	}
	return out
}

// opPutJSON is a put of v as JSON.
func opPutJSON(key string, v any) clientv3.Op {
	b, _ := json.Marshal(v) // records are plain structs: never fails
	return clientv3.OpPut(key, string(b))
}

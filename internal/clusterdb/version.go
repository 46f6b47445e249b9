package clusterdb

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Rolling upgrade: the cluster's schema version.
//
// The cluster database records the schema version the cluster runs (SchemaKey), as a
// Windows cluster records its functional level and etcd its cluster version. Each node
// records in its node record the range of versions its build runs (Node.SchemaMin,
// SchemaMax). A node runs only in a cluster whose version is in its range: it is refused
// at join and at start otherwise (*SchemaError). A node whose build runs N and N+1 joins a
// cluster at N and writes records as N does (mixed mode). The coordinator raises the
// version to the lowest SchemaMax of the registered nodes, up or down, when that is
// higher (RaiseSchema): every node of the cluster must have been upgraded, as WSFC
// waits for every node before Update-ClusterFunctionalLevel. The version never goes
// down: once raised, a build that cannot run it is refused.

// SchemaKey holds the cluster's schema version (ClusterSchema).
const SchemaKey = Prefix + "cluster/schema"

// SchemaInitial is the first recorded schema version. A cluster made before versions were
// recorded (no SchemaKey) runs it, and so does a node record without a range.
const SchemaInitial = 1

// SchemaRange is the range of schema versions a build runs.
type SchemaRange struct {
	Min int `json:"min"`
	Max int `json:"max"`
}

// BuildSchema is the range of schema versions this build runs: SchemaInitial up to 1, or
// 2 in a build with -tags wolfpack_schema_next (the next schema: version_next.go).
func BuildSchema() SchemaRange { return SchemaRange{Min: SchemaInitial, Max: buildSchemaMax} }

// Contains reports whether the range holds version v.
func (r SchemaRange) Contains(v int) bool { return r.Min <= v && v <= r.Max }

func (r SchemaRange) String() string {
	if r.Min == r.Max {
		return fmt.Sprint(r.Min)
	}
	return fmt.Sprintf("%d to %d", r.Min, r.Max)
}

// NodeSchema is the range of schema versions n's build runs (SchemaInitial for a record
// written before ranges were recorded).
func NodeSchema(n Node) SchemaRange {
	if n.SchemaMax == 0 {
		return SchemaRange{Min: SchemaInitial, Max: SchemaInitial}
	}
	return SchemaRange{Min: max(n.SchemaMin, SchemaInitial), Max: n.SchemaMax}
}

// ClusterSchema is the value of SchemaKey.
type ClusterSchema struct {
	Version int       `json:"version"`
	Since   time.Time `json:"since"`
	// By is the node that recorded the version: the first node of the cluster, or the
	// coordinator that raised it.
	By string `json:"by,omitempty"`
}

// SchemaError says that a node's build cannot run the cluster's schema version. It is
// ErrSchema.
type SchemaError struct {
	Node    string
	Range   SchemaRange // the versions the node's build runs
	Cluster int         // the cluster's version
}

func (e *SchemaError) Error() string {
	if e.Range.Max < e.Cluster {
		return fmt.Sprintf("node %s runs schema version %s, and the cluster runs schema version %d: "+
			"the cluster was upgraded past this build, which cannot join it (start a build that runs version %d)",
			e.Node, e.Range, e.Cluster, e.Cluster)
	}
	return fmt.Sprintf("node %s runs schema version %s, and the cluster runs schema version %d: "+
		"this build is too new for the cluster (upgrade the cluster one release at a time)",
		e.Node, e.Range, e.Cluster)
}

func (e *SchemaError) Is(target error) bool { return target == ErrSchema }

// Schema reads the cluster's schema version and the revision of SchemaKey (0: never
// recorded; the cluster runs SchemaInitial).
func (db *DB) Schema(ctx context.Context) (ClusterSchema, int64, error) {
	var s ClusterSchema
	rev, err := db.get(ctx, SchemaKey, &s)
	if isNotFound(err) {
		return ClusterSchema{Version: SchemaInitial}, 0, nil
	}
	if err != nil {
		return s, 0, err
	}
	if s.Version < SchemaInitial {
		s.Version = SchemaInitial
	}
	return s, rev, nil
}

// CheckSchema returns the cluster's schema version when node's build, which runs r, can
// run it, and a *SchemaError when it cannot. The first node of a new cluster (no version
// recorded, no node registered) records r.Max: a new cluster starts at the build's
// highest version. A cluster made before versions were recorded is recorded at
// SchemaInitial.
func (db *DB) CheckSchema(ctx context.Context, node string, r SchemaRange) (ClusterSchema, error) {
	s, rev, err := db.Schema(ctx)
	if err != nil {
		return s, err
	}
	if rev == 0 {
		if s, err = db.initSchema(ctx, node, r); err != nil {
			return s, err
		}
	}
	if !r.Contains(s.Version) {
		return s, &SchemaError{Node: node, Range: r, Cluster: s.Version}
	}
	return s, nil
}

// initSchema records the schema version of a cluster that has none.
func (db *DB) initSchema(ctx context.Context, node string, r SchemaRange) (ClusterSchema, error) {
	resp, err := db.cli.Get(ctx, NodesPrefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return ClusterSchema{}, fmt.Errorf("clusterdb: schema version: %w", err)
	}
	s := ClusterSchema{Version: r.Max, Since: time.Now().UTC(), By: node}
	if resp.Count > 0 {
		s.Version = SchemaInitial
	}
	if _, err := db.put(ctx, SchemaKey, s, 0); err == ErrExists {
		s, _, err := db.Schema(ctx) // another node recorded it first
		return s, err
	} else if err != nil {
		return s, err
	}
	return s, nil
}

// SchemaRaise is a raise of the cluster's schema version that RaiseSchema made.
type SchemaRaise struct {
	From, To int
	// Lowest is the node whose build's highest version set To (one of them).
	Lowest string
}

// RaiseSchema raises the cluster's schema version to the lowest SchemaMax over the
// registered nodes — every node with a record, up or down; an evicted node no longer
// counts — when that is higher than the current version. by is the coordinator. The
// raise is one transaction that compares the schema key and that no node record changed
// or appeared since they were read, so that a node of an older build registering at the
// same moment is never missed: ErrConflict then, and the caller tries again on its next
// pass. ok is false when there is nothing to raise; s is the version after the call.
func (db *DB) RaiseSchema(ctx context.Context, by string) (r SchemaRaise, ok bool, s ClusterSchema, err error) {
	return db.raiseSchema(ctx, by, nil)
}

// raiseSchema is RaiseSchema; beforeCommit (tests) runs between the read and the
// transaction.
func (db *DB) raiseSchema(ctx context.Context, by string, beforeCommit func()) (r SchemaRaise, ok bool, s ClusterSchema, err error) {
	resp, err := db.cli.Txn(ctx).Then(clientv3.OpGet(SchemaKey), clientv3.OpGet(NodesPrefix, clientv3.WithPrefix())).Commit()
	if err != nil {
		return r, false, s, fmt.Errorf("clusterdb: read the schema version: %w", err)
	}
	read := resp.Header.Revision
	s = ClusterSchema{Version: SchemaInitial}
	var schemaRev int64
	if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) > 0 {
		if err := json.Unmarshal(kvs[0].Value, &s); err != nil {
			return r, false, s, fmt.Errorf("clusterdb: decode %s: %w", SchemaKey, err)
		}
		schemaRev = kvs[0].ModRevision
	}
	lowest, who := 0, ""
	for _, kv := range resp.Responses[1].GetResponseRange().Kvs {
		var n Node
		if err := json.Unmarshal(kv.Value, &n); err != nil {
			return r, false, s, fmt.Errorf("clusterdb: decode %s: %w", kv.Key, err)
		}
		if n.Evicted {
			continue
		}
		if m := NodeSchema(n).Max; who == "" || m < lowest {
			lowest, who = m, n.Name
		}
	}
	if who == "" || lowest <= s.Version {
		return r, false, s, nil
	}
	if beforeCommit != nil {
		beforeCommit()
	}
	next := ClusterSchema{Version: lowest, Since: time.Now().UTC(), By: by}
	cmps := []clientv3.Cmp{
		clientv3.Compare(clientv3.ModRevision(SchemaKey), "=", schemaRev),
		// Every node record (existing or new) is as read: none changed its range and
		// none appeared, whatever its name.
		clientv3.Compare(clientv3.ModRevision(NodesPrefix), "<", read+1).WithPrefix(),
	}
	tr, err := db.cli.Txn(ctx).If(cmps...).Then(opPutJSON(SchemaKey, next)).Commit()
	if err != nil {
		return r, false, s, fmt.Errorf("clusterdb: raise the schema version: %w", err)
	}
	if !tr.Succeeded {
		return r, false, s, ErrConflict
	}
	return SchemaRaise{From: s.Version, To: lowest, Lowest: who}, true, next, nil
}

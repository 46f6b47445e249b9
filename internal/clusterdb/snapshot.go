package clusterdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

var errorsIs = errors.Is

// Snapshot is a consistent view of the cluster database at one revision: everything the
// agent and the status commands need, read in one transaction (checkpoints excluded).
type Snapshot struct {
	Revision       int64
	Nodes          map[string]Node // by key name (lower case)
	Members        map[string]Member
	Groups         map[string]Group
	Resources      map[string]Resource
	Owners         map[string]Owner // by group key name
	GroupStates    map[string]GroupState
	ResourceStates map[string]ResourceState
	Moves          map[string]Move
	ResourceTypes  map[string]ResourceType
}

// Owner is a group's owner and the ModRevision of owners/<group>: the fencing revision.
type Owner struct {
	Node     string
	Revision int64
}

// Snapshot reads the cluster database.
func (db *DB) Snapshot(ctx context.Context) (*Snapshot, error) {
	prefixes := []string{NodesPrefix, MembersPrefix, GroupsPrefix, ResourcesPrefix, OwnersPrefix,
		GroupStatePrefix, ResourceStatePrefix, MovesPrefix, ResourceTypesPrefix}
	ops := make([]clientv3.Op, len(prefixes))
	for i, p := range prefixes {
		ops[i] = clientv3.OpGet(p, clientv3.WithPrefix())
	}
	resp, err := db.cli.Txn(ctx).Then(ops...).Commit()
	if err != nil {
		return nil, fmt.Errorf("clusterdb: snapshot: %w", err)
	}
	s := &Snapshot{
		Revision: resp.Header.Revision,
		Nodes:    map[string]Node{}, Members: map[string]Member{}, Groups: map[string]Group{},
		Resources: map[string]Resource{}, Owners: map[string]Owner{}, GroupStates: map[string]GroupState{},
		ResourceStates: map[string]ResourceState{}, Moves: map[string]Move{}, ResourceTypes: map[string]ResourceType{},
	}
	for i, r := range resp.Responses {
		for _, kv := range r.GetResponseRange().Kvs {
			name := strings.TrimPrefix(string(kv.Key), prefixes[i])
			var err error
			switch prefixes[i] {
			case NodesPrefix:
				err = decodeInto(kv.Value, name, s.Nodes)
			case MembersPrefix:
				err = decodeInto(kv.Value, name, s.Members)
			case GroupsPrefix:
				err = decodeInto(kv.Value, name, s.Groups)
			case ResourcesPrefix:
				err = decodeInto(kv.Value, name, s.Resources)
			case OwnersPrefix:
				s.Owners[name] = Owner{Node: string(kv.Value), Revision: kv.ModRevision}
			case GroupStatePrefix:
				err = decodeInto(kv.Value, name, s.GroupStates)
			case ResourceStatePrefix:
				err = decodeInto(kv.Value, name, s.ResourceStates)
			case MovesPrefix:
				err = decodeInto(kv.Value, name, s.Moves)
			case ResourceTypesPrefix:
				err = decodeInto(kv.Value, name, s.ResourceTypes)
			}
			if err != nil {
				return nil, fmt.Errorf("clusterdb: decode %s: %w", kv.Key, err)
			}
		}
	}
	return s, nil
}

func decodeInto[T any](b []byte, name string, m map[string]T) error {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	m[name] = v
	return nil
}

// Key returns the key form of a name, to index the Snapshot's maps.
func Key(name string) string { return keyName(name) }

// GroupResources returns the resources of group, sorted by name.
func (s *Snapshot) GroupResources(group string) []Resource {
	var out []Resource
	for _, r := range s.Resources {
		if keyName(r.Group) == keyName(group) {
			out = append(out, r)
		}
	}
	sortByName(out, func(r Resource) string { return r.Name })
	return out
}

// Alive reports whether the node has a live session (members/<name> exists).
func (s *Snapshot) Alive(node string) bool {
	_, ok := s.Members[keyName(node)]
	return ok
}

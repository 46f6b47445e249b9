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

	idx *resIndex // resources by group; nil: GroupResources scans
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
		Revision: resp.Header.Revision, idx: &resIndex{},
		Nodes: map[string]Node{}, Members: map[string]Member{}, Groups: map[string]Group{},
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

// GroupResources returns the resources of group, sorted by name. The slice may be shared:
// callers do not change it.
func (s *Snapshot) GroupResources(group string) []Resource {
	if s.idx != nil {
		s.idx.once.Do(func() { s.idx.build(s) })
		return s.idx.byGroup[keyName(group)]
	}
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

// ResourceView reads what the status of one resource needs — the resource, its group's
// owner, its state and whether the owner is up — as a small Snapshot, at one revision.
func (db *DB) ResourceView(ctx context.Context, name string) (*Snapshot, error) {
	var r Resource
	if _, err := db.get(ctx, ResourceKey(name), &r); err != nil {
		return nil, objErr("resource", name, err)
	}
	resp, err := db.cli.Txn(ctx).Then(
		clientv3.OpGet(ResourceKey(name)),
		clientv3.OpGet(OwnerKey(r.Group)),
		clientv3.OpGet(ResourceStateKey(name)),
	).Commit()
	if err != nil {
		return nil, fmt.Errorf("clusterdb: resource view %s: %w", name, err)
	}
	s := &Snapshot{Revision: resp.Header.Revision, Resources: map[string]Resource{}, Owners: map[string]Owner{},
		ResourceStates: map[string]ResourceState{}, Members: map[string]Member{}}
	rr := resp.Responses[0].GetResponseRange().Kvs
	if len(rr) == 0 {
		return nil, objErr("resource", name, ErrNotFound)
	}
	if err := json.Unmarshal(rr[0].Value, &r); err != nil {
		return nil, fmt.Errorf("clusterdb: decode %s: %w", rr[0].Key, err)
	}
	s.Resources[keyName(name)] = r
	if kvs := resp.Responses[1].GetResponseRange().Kvs; len(kvs) > 0 {
		own := Owner{Node: string(kvs[0].Value), Revision: kvs[0].ModRevision}
		s.Owners[keyName(r.Group)] = own
		if own.Node != "" {
			m, err := db.cli.Get(ctx, MemberKey(own.Node), clientv3.WithRev(resp.Header.Revision))
			if err != nil {
				return nil, fmt.Errorf("clusterdb: resource view %s: %w", name, err)
			}
			if len(m.Kvs) > 0 {
				if err := decodeInto(m.Kvs[0].Value, keyName(own.Node), s.Members); err != nil {
					return nil, fmt.Errorf("clusterdb: decode %s: %w", m.Kvs[0].Key, err)
				}
			}
		}
	}
	if kvs := resp.Responses[2].GetResponseRange().Kvs; len(kvs) > 0 {
		if err := decodeInto(kvs[0].Value, keyName(name), s.ResourceStates); err != nil {
			return nil, fmt.Errorf("clusterdb: decode %s: %w", kvs[0].Key, err)
		}
	}
	return s, nil
}

package clusterdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// ErrLeaseGone: the session's lease expired or was revoked; nothing that hangs from it
// (the member key, the campaign) is left.
var ErrLeaseGone = errors.New("clusterdb: the session's lease expired or was revoked")

// Session is a node's membership in the cluster database: a lease kept alive (etcd's
// concurrency.Session), under which the node's member key lives and its campaign for
// coordinator runs. internal/fencing and internal/agent's session.go say how the agent
// renews it itself, beside the session's own keep-alive, to grant permits.
type Session struct {
	db *DB
	s  *concurrency.Session
}

// NewSession grants a lease of ttl seconds and keeps it alive until the session is closed or
// orphaned, or ctx ends.
func (db *DB) NewSession(ctx context.Context, ttl int) (*Session, error) {
	s, err := concurrency.NewSession(db.cli, concurrency.WithTTL(ttl), concurrency.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("clusterdb: session: %w", err)
	}
	return &Session{db: db, s: s}, nil
}

// Lease is the session's lease.
func (s *Session) Lease() int64 { return int64(s.s.Lease()) }

// Done is closed when the session's keep-alive ends.
func (s *Session) Done() <-chan struct{} { return s.s.Done() }

// Close revokes the lease: the member key goes at once, and the other nodes see the node
// leave.
func (s *Session) Close() error { return s.s.Close() }

// Orphan stops the keep-alive without revoking the lease, which expires by itself.
func (s *Session) Orphan() { s.s.Orphan() }

// RegisterMember writes the node's member key under the session's lease (m.Lease is
// set to it).
func (s *Session) RegisterMember(ctx context.Context, m Member) error {
	m.Lease = s.Lease()
	if _, err := s.db.cli.Put(ctx, MemberKey(m.Name), string(mustJSON(m)), clientv3.WithLease(s.s.Lease())); err != nil {
		return fmt.Errorf("clusterdb: register member %s: %w", m.Name, err)
	}
	return nil
}

// Renew sends one keep-alive of the lease and returns the TTL etcd answered with;
// ErrLeaseGone when the lease is gone.
func (s *Session) Renew(ctx context.Context) (ttl int64, err error) {
	resp, err := s.db.cli.KeepAliveOnce(ctx, s.s.Lease())
	if err != nil {
		if errors.Is(err, rpctypes.ErrLeaseNotFound) {
			return 0, ErrLeaseGone
		}
		return 0, err
	}
	return resp.TTL, nil
}

// Campaign is a won election for coordinator, held while the session lasts.
type Campaign struct {
	e   *concurrency.Election
	won Election
}

// Campaign runs for coordinator under the session's lease with value name, and returns
// once it won (or ctx ended: the error).
func (s *Session) Campaign(ctx context.Context, name string) (*Campaign, error) {
	e := concurrency.NewElection(s.s, ElectionPrefix)
	if err := e.Campaign(ctx, name); err != nil {
		return nil, err
	}
	return &Campaign{e: e, won: Election{Key: e.Key(), Rev: e.Rev()}}, nil
}

// Election is what the coordinator's placements compare (Placement.Election).
func (c *Campaign) Election() Election { return c.won }

// Resign gives the election up, so that another node wins at once.
func (c *Campaign) Resign(ctx context.Context) error { return c.e.Resign(ctx) }

// Coordinator returns the elected coordinator's name ("" when there is none): the
// value of the oldest key under the election prefix, as concurrency.Election's Leader
// reads it.
func (db *DB) Coordinator(ctx context.Context) (string, error) {
	resp, err := db.cli.Get(ctx, ElectionPrefix+"/", clientv3.WithFirstCreate()...)
	if err != nil {
		return "", fmt.Errorf("clusterdb: coordinator: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return "", nil
	}
	return string(resp.Kvs[0].Value), nil
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v) // records are plain structs: never fails
	return b
}

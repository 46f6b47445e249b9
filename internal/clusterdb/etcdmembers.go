package clusterdb

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// The etcd cluster's members, as the agent sees and manages them through its DB.

// Members lists the etcd cluster's members (a round of the quorum).
func (db *DB) Members(ctx context.Context) ([]EtcdMember, error) { return Members(ctx, db.cli) }

// LocalMembers lists the members as the member the client talks to knows them, without a
// round of the quorum: it answers when quorum is lost.
func (db *DB) LocalMembers(ctx context.Context) ([]EtcdMember, error) {
	return Members(ctx, db.cli, clientv3.WithSerializable())
}

// AddLearner adds a joining node as a learner (see the function AddLearner).
func (db *DB) AddLearner(ctx context.Context, req JoinRequest) (JoinAnswer, error) {
	return AddLearner(ctx, db.cli, req)
}

// RemoveMember removes the etcd member of an evicted node (see the function RemoveMember).
func (db *DB) RemoveMember(ctx context.Context, id uint64) error {
	return RemoveMember(ctx, db.cli, id)
}

// RemoveLearner removes a learner, never a voter (see the function RemoveLearner).
func (db *DB) RemoveLearner(ctx context.Context, id uint64) error {
	return RemoveLearner(ctx, db.cli, id)
}

// NewFollower returns a Follower of the database (see the function NewFollower).
func (db *DB) NewFollower(log *slog.Logger, onChange func()) *Follower {
	return NewFollower(db.cli, log, onChange)
}

// ReachableVoters counts the voting members this node's member knows of (list bounds
// the listing) and how many of them answer a status request within each (asked all at
// once). voters is 0 when the listing fails.
func (db *DB) ReachableVoters(ctx context.Context, list, each time.Duration) (reached, voters int) {
	mctx, cancel := context.WithTimeout(ctx, list)
	ml, err := db.cli.MemberList(mctx, clientv3.WithSerializable())
	cancel()
	if err != nil {
		return 0, 0
	}
	var n atomic.Int32
	var wg sync.WaitGroup
	for _, m := range ml.Members {
		if m.IsLearner || len(m.ClientURLs) == 0 {
			continue
		}
		voters++
		wg.Add(1)
		go func(url string) {
			defer wg.Done()
			sctx, cancel := context.WithTimeout(ctx, each)
			defer cancel()
			if _, err := db.cli.Status(sctx, url); err == nil {
				n.Add(1)
			}
		}(m.ClientURLs[0])
	}
	wg.Wait()
	return int(n.Load()), voters
}

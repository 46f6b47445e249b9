package clusterdb

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Members lists the etcd cluster's members (a round of the quorum).
func (db *DB) Members(ctx context.Context) ([]EtcdMember, error) { return db.members(ctx) }

// LocalMembers lists the members as the member the client talks to knows them, without a
// round of the quorum: it answers when quorum is lost.
func (db *DB) LocalMembers(ctx context.Context) ([]EtcdMember, error) {
	return db.members(ctx, clientv3.WithSerializable())
}

// NewFollower returns a Follower of the database (see the function NewFollower).
func (db *DB) NewFollower(log *slog.Logger, onChange func()) *Follower {
	return NewFollower(db.cli, log, onChange)
}

// MemberStatus is what one etcd member says of itself.
type MemberStatus struct {
	Errors    []string // the member's alarms and errors; none when it is healthy
	Leader    uint64   // the member ID of the leader it follows
	Version   string
	DBSize    int64
	RaftTerm  uint64
	RaftIndex uint64
}

// MemberStatus asks the member at url for its status.
func (db *DB) MemberStatus(ctx context.Context, url string) (MemberStatus, error) {
	st, err := db.cli.Status(ctx, url)
	if err != nil {
		return MemberStatus{}, err
	}
	return MemberStatus{Errors: st.Errors, Leader: st.Leader, Version: st.Version, DBSize: st.DbSize,
		RaftTerm: st.RaftTerm, RaftIndex: st.RaftIndex}, nil
}

// ReachableVoters counts the voting members this node's member knows of (list bounds
// the listing) and how many of them answer a status request within each (asked all at
// once). voters is 0 when the listing fails.
func (db *DB) ReachableVoters(ctx context.Context, list, each time.Duration) (reached, voters int) {
	mctx, cancel := context.WithTimeout(ctx, list)
	ms, err := db.LocalMembers(mctx)
	cancel()
	if err != nil {
		return 0, 0
	}
	var n atomic.Int32
	var wg sync.WaitGroup
	for _, m := range ms {
		if m.Learner || len(m.ClientURLs) == 0 {
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

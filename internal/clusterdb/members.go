package clusterdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// JoinRequest is what a joining node sends to a node of the cluster (through that
// node's API, authenticated by the token derived from the join token).
type JoinRequest struct {
	Name    string `json:"name"`
	PeerURL string `json:"peerURL"`
	Witness bool   `json:"witness,omitempty"`
}

// JoinAnswer tells the joining node how to start its etcd member.
type JoinAnswer struct {
	MemberID       uint64   `json:"memberID"`
	InitialCluster string   `json:"initialCluster"` // name=peerURL,… including the new member
	Endpoints      []string `json:"endpoints"`      // client URLs of the existing members
}

// AddLearner adds the joining node as a learner member of the cluster. A member of the
// same name that never started (an earlier, failed join) is removed first.
func (db *DB) AddLearner(ctx context.Context, req JoinRequest) (JoinAnswer, error) {
	cli := db.cli
	list, err := cli.MemberList(ctx)
	if err != nil {
		return JoinAnswer{}, fmt.Errorf("clusterdb: member list: %w", err)
	}
	for _, m := range list.Members {
		for _, u := range m.PeerURLs {
			if u == req.PeerURL && (m.Name == "" || m.Name == req.Name) && m.IsLearner {
				if _, err := cli.MemberRemove(ctx, m.ID); err != nil {
					return JoinAnswer{}, fmt.Errorf("clusterdb: remove stale member: %w", err)
				}
			} else if u == req.PeerURL {
				return JoinAnswer{}, fmt.Errorf("clusterdb: peer URL %s is already member %s of the cluster", u, m.Name)
			}
		}
		if m.Name == req.Name && !m.IsLearner {
			return JoinAnswer{}, fmt.Errorf("clusterdb: a member named %s is already in the cluster", req.Name)
		}
	}
	resp, err := cli.MemberAddAsLearner(ctx, []string{req.PeerURL})
	if err != nil {
		return JoinAnswer{}, fmt.Errorf("clusterdb: add learner %s: %w", req.Name, err)
	}
	ans := JoinAnswer{MemberID: resp.Member.ID}
	var parts []string
	for _, m := range resp.Members {
		name := m.Name
		if m.ID == resp.Member.ID {
			name = req.Name
		} else {
			ans.Endpoints = append(ans.Endpoints, m.ClientURLs...)
		}
		if name == "" {
			continue // another member that has not started yet
		}
		for _, u := range m.PeerURLs {
			parts = append(parts, name+"="+u)
		}
	}
	ans.InitialCluster = strings.Join(parts, ",")
	return ans, nil
}

// Promote promotes the learner id to a voting member, retrying while it catches up.
func (db *DB) Promote(ctx context.Context, id uint64) error {
	cli := db.cli
	for {
		_, err := cli.MemberPromote(ctx, id)
		if err == nil || errors.Is(err, rpctypes.ErrGRPCMemberNotLearner) || errors.Is(err, rpctypes.ErrMemberNotLearner) {
			return nil
		}
		notReady := errors.Is(err, rpctypes.ErrGRPCLearnerNotReady) || errors.Is(rpctypes.Error(err), rpctypes.ErrMemberLearnerNotReady)
		if !notReady && ctx.Err() != nil {
			return fmt.Errorf("clusterdb: promote member %x: %w", id, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("clusterdb: promote member %x: %w (last: %v)", id, ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// RemoveMember removes the etcd member of an evicted node.
func (db *DB) RemoveMember(ctx context.Context, id uint64) error {
	cli := db.cli
	if id == 0 {
		return nil
	}
	for {
		_, err := cli.MemberRemove(ctx, id)
		switch {
		case err == nil || errors.Is(err, rpctypes.ErrMemberNotFound) || errors.Is(err, rpctypes.ErrGRPCMemberNotFound):
			return nil
		case errors.Is(err, rpctypes.ErrGRPCUnhealthy) || errors.Is(err, rpctypes.ErrUnhealthy):
			// etcd removes a voting member only once the others have been connected
			// for a few seconds (a node that just joined or restarted): wait for that,
			// as long as the caller lets us.
			t := time.NewTimer(500 * time.Millisecond)
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("clusterdb: remove member %x: the cluster's members have not been connected long enough to remove one (%w); try again in a few seconds", id, err)
			case <-t.C:
			}
		default:
			return fmt.Errorf("clusterdb: remove member %x: %w", id, err)
		}
	}
}

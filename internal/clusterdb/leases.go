package clusterdb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// ClientURLs lists the client URLs of every voting member of the etcd cluster, sorted, as
// the member the client talks to knows them (no round of the quorum: 64 nodes asking
// every second at start made the etcd leader's work).
func (db *DB) ClientURLs(ctx context.Context) ([]string, error) {
	resp, err := db.cli.MemberList(ctx, clientv3.WithSerializable())
	if err != nil {
		return nil, fmt.Errorf("clusterdb: member list: %w", err)
	}
	var urls []string
	for _, m := range resp.Members {
		if !m.IsLearner {
			urls = append(urls, m.ClientURLs...)
		}
	}
	slices.Sort(urls)
	return urls, nil
}

// RevokeLease revokes a node's lease (its resource host does it when the daemon died and
// its resources are gone). It retries until ctx ends while etcd has no leader (each try
// bounded, so that a member that died with the daemon does not hold it); a lease already
// gone is success.
func (db *DB) RevokeLease(ctx context.Context, lease int64) error {
	cli := db.cli
	for {
		tctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		_, err := cli.Revoke(clientv3.WithRequireLeader(tctx), clientv3.LeaseID(lease))
		cancel()
		if err == nil || errors.Is(err, rpctypes.ErrLeaseNotFound) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("clusterdb: revoke lease %x: %w", lease, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

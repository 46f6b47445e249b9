package clusterdb

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Dial connects to etcd at endpoints with tlsInfo: the node's certificate for the
// embedded members (ClientTLSInfo), the administrator's for an external etcd (empty:
// plain http). The DB owns its client: Close closes it.
func Dial(endpoints []string, tlsInfo transport.TLSInfo) (*DB, error) {
	var tlsConfig *tls.Config
	if !tlsInfo.Empty() || tlsInfo.TrustedCAFile != "" {
		var err error
		if tlsConfig, err = tlsInfo.ClientConfig(); err != nil {
			return nil, fmt.Errorf("etcd client TLS: %w", err)
		}
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:            endpoints,
		TLS:                  tlsConfig,
		DialTimeout:          5 * time.Second,
		DialKeepAliveTime:    2 * time.Second,
		DialKeepAliveTimeout: 2 * time.Second,
		Logger:               zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("etcd client %s: %w", strings.Join(endpoints, ","), err)
	}
	return &DB{cli: cli}, nil
}

// Close closes the DB's etcd client.
func (db *DB) Close() error { return db.cli.Close() }

// Endpoints are the client URLs the DB talks to.
func (db *DB) Endpoints() []string { return db.cli.Endpoints() }

// SetEndpoints makes the DB talk to urls (a non-voter follows the voters so).
func (db *DB) SetEndpoints(urls ...string) { db.cli.SetEndpoints(urls...) }

// Probe reads through the cluster (a linearizable read): nil once the database answers.
func (db *DB) Probe(ctx context.Context) error {
	_, err := db.cli.Get(ctx, Prefix+"probe")
	return err
}

// CheckpointStore returns the checkpoint store on the DB's client.
func (db *DB) CheckpointStore() *CheckpointStore { return NewCheckpointStore(db.cli) }

// Changes sends the keys that change under key (every key under it when prefix), one
// batch per revision, from now on. The channel is closed when ctx ends or the watch
// fails (etcd without a leader, a compaction): a caller that must not miss a change
// reads what it follows and calls Changes again.
func (db *DB) Changes(ctx context.Context, key string, prefix bool) <-chan []string {
	out := make(chan []string)
	var opts []clientv3.OpOption
	if prefix {
		opts = append(opts, clientv3.WithPrefix())
	}
	wch := db.cli.Watch(clientv3.WithRequireLeader(ctx), key, opts...)
	go func() {
		defer close(out)
		for wr := range wch {
			if wr.Err() != nil {
				return
			}
			keys := make([]string, len(wr.Events))
			for i, ev := range wr.Events {
				keys[i] = string(ev.Kv.Key)
			}
			select {
			case out <- keys:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

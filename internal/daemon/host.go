package daemon

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"

	"wolfpack/internal/clusterdb"
	"wolfpack/internal/fencing"
	"wolfpack/internal/pki"
	"wolfpack/internal/reshost"
)

// startHost starts the node's resource host (internal/reshost), which runs the
// resources' processes under the permits the agent grants.
func (n *Node) startHost(ctx context.Context, db *clusterdb.DB, t fencing.Timing) (*reshost.Client, error) {
	hello := reshost.Hello{Node: n.Cfg.Name, Kill: t.Kill, Stop: t.Stop, Etcd: n.hostEtcdAccess(ctx, db)}
	if n.Cfg.Watchdog != "" {
		hello.Watchdog = n.Cfg.Watchdog
		hello.WatchdogTimeout = time.Second
	}
	hc, err := reshost.NewClient(ctx, reshost.ClientOptions{Hello: hello, Log: n.Log.With("part", "reshost")})
	if err != nil {
		return nil, fmt.Errorf("resource host: %w", err)
	}
	// The host needs every member's client URL: the local member dies with the daemon
	// (it is embedded), and that is when the host revokes the lease. Right after the
	// start the list grows as the other members join (a host that knew only its own
	// member could not revoke, and the groups waited for the TTL): a look every second
	// until it knows another member (at most 30 s), then every 10 s, as the voters
	// change rarely and one at a time; a revocation tries every URL.
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		last, fast := hello.Etcd, true
		for i := 1; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if e := n.hostEtcdAccess(ctx, db); !slices.Equal(e.Endpoints, last.Endpoints) {
				last = e
				hc.SetEtcd(e)
			}
			// Once it knows a member besides its own, the host can revoke through it.
			if fast && (i > 30 || len(last.Endpoints) > 1) {
				fast = false
				tick.Reset(10 * time.Second)
			}
		}
	}()
	return hc, nil
}

// hostEtcdAccess is the node's own etcd access, for its host: the client URLs of every
// member (the configured endpoints for an external etcd).
func (n *Node) hostEtcdAccess(ctx context.Context, db *clusterdb.DB) reshost.EtcdAccess {
	if len(n.Cfg.EtcdEndpoints) > 0 {
		return reshost.EtcdAccess{Endpoints: n.Cfg.EtcdEndpoints, CertFile: n.Cfg.EtcdCert, KeyFile: n.Cfg.EtcdKey, CAFile: n.Cfg.EtcdCA}
	}
	p := pki.PathsIn(n.Cfg.DataDir)
	e := reshost.EtcdAccess{Endpoints: db.Endpoints(), CertFile: p.NodeCert, KeyFile: p.NodeKey, CAFile: p.CACert}
	mctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if urls, err := db.ClientURLs(mctx); err == nil && len(urls) > 0 {
		e.Endpoints = urls
	}
	return e
}

// newHostRevoker is the host's way to etcd: a client with the node's access.
func newHostRevoker(ctx context.Context, e reshost.EtcdAccess) (reshost.Revoker, error) {
	db, err := clusterdb.Dial(e.Endpoints, transport.TLSInfo{CertFile: e.CertFile, KeyFile: e.KeyFile, TrustedCAFile: e.CAFile})
	if err != nil {
		return nil, err
	}
	return hostRevoker{db}, nil
}

type hostRevoker struct{ db *clusterdb.DB }

func (r hostRevoker) Revoke(ctx context.Context, lease int64) error {
	return r.db.RevokeLease(ctx, lease)
}

func (r hostRevoker) Close() error { return r.db.Close() }

package daemon

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"

	"wolfpack/internal/clusterdb"
	"wolfpack/internal/fencing"
	"wolfpack/internal/pki"
	"wolfpack/internal/reshost"
)

// startHost starts the node's resource host (internal/reshost), which runs the
// resources' processes under the permits the agent grants.
func (n *Node) startHost(ctx context.Context, cli *clientv3.Client, t fencing.Timing) (*reshost.Client, error) {
	hello := reshost.Hello{Node: n.Cfg.Name, Kill: t.Kill, Stop: t.Stop, Etcd: n.hostEtcdAccess(ctx, cli)}
	if n.Cfg.Watchdog != "" {
		hello.Watchdog = n.Cfg.Watchdog
		hello.WatchdogTimeout = time.Second
	}
	hc, err := reshost.NewClient(ctx, reshost.ClientOptions{Hello: hello, Log: n.Log.With("part", "reshost")})
	if err != nil {
		return nil, fmt.Errorf("resource host: %w", err)
	}
	// The host needs every member's client URL: the local member dies with the daemon
	// (it is embedded), and that is when the host revokes the lease.
	go func() {
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		last := hello.Etcd
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if e := n.hostEtcdAccess(ctx, cli); !slices.Equal(e.Endpoints, last.Endpoints) {
				last = e
				hc.SetEtcd(e)
			}
		}
	}()
	return hc, nil
}

// hostEtcdAccess is the node's own etcd access, for its host: the client URLs of every
// member (the configured endpoints for an external etcd).
func (n *Node) hostEtcdAccess(ctx context.Context, cli *clientv3.Client) reshost.EtcdAccess {
	if len(n.Cfg.EtcdEndpoints) > 0 {
		return reshost.EtcdAccess{Endpoints: n.Cfg.EtcdEndpoints, CertFile: n.Cfg.EtcdCert, KeyFile: n.Cfg.EtcdKey, CAFile: n.Cfg.EtcdCA}
	}
	p := pki.PathsIn(n.Cfg.DataDir)
	e := reshost.EtcdAccess{Endpoints: cli.Endpoints(), CertFile: p.NodeCert, KeyFile: p.NodeKey, CAFile: p.CACert}
	mctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if urls, err := clusterdb.ClientURLs(mctx, cli); err == nil && len(urls) > 0 {
		e.Endpoints = urls
	}
	return e
}

// newHostRevoker is the host's way to etcd: a client with the node's access.
func newHostRevoker(ctx context.Context, e reshost.EtcdAccess) (reshost.Revoker, error) {
	cli, err := newEtcdClient(e.Endpoints, transport.TLSInfo{CertFile: e.CertFile, KeyFile: e.KeyFile, TrustedCAFile: e.CAFile})
	if err != nil {
		return nil, err
	}
	return hostRevoker{cli}, nil
}

type hostRevoker struct{ cli *clientv3.Client }

func (r hostRevoker) Revoke(ctx context.Context, lease int64) error {
	return clusterdb.RevokeLease(ctx, r.cli, lease)
}

func (r hostRevoker) Close() error { return r.cli.Close() }

package checkpoint

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"wolfpack/internal/clusterdb"
	"wolfpack/internal/pki"
)

// startEtcd starts an embedded etcd member on loopback ports in a temporary directory
// (etcd's default request limit of 1.5 MiB applies) and returns a client.
func startEtcd(t testing.TB) *clientv3.Client {
	cli, _ := startEtcdDir(t)
	return cli
}

// startEtcdDir is startEtcd that also returns the data directory whose TLS files (a
// cluster CA and a node certificate) the member and its clients use.
func startEtcdDir(t testing.TB) (*clientv3.Client, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	if _, err := pki.Bootstrap(dir, "test", pki.Hosts("test", "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	e, err := clusterdb.StartEmbedded(ctx, clusterdb.EmbedConfig{
		Name:   "test",
		Dir:    filepath.Join(dir, "etcd"),
		Peer:   freeAddr(t),
		Client: freeAddr(t),
		TLS:    pki.PathsIn(dir),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{e.ClientURL}, TLS: e.ClientTLS, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli, dir
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// takeOwnership makes node the owner of group the way clusterdb does and returns the fence.
func takeOwnership(t testing.TB, cli *clientv3.Client, group, node string) Fence {
	t.Helper()
	ctx := context.Background()
	if _, err := cli.Put(ctx, clusterdb.GroupKey(group), fmt.Sprintf(`{"name":%q}`, group)); err != nil {
		t.Fatal(err)
	}
	resp, err := cli.Put(ctx, clusterdb.OwnerKey(group), node)
	if err != nil {
		t.Fatal(err)
	}
	return Fence{Node: node, Group: group, Revision: resp.Header.Revision}
}

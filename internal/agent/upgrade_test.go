package agent

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"wolfpack/internal/api/wire"
	"wolfpack/internal/clusterdb"
	"wolfpack/internal/pki"
)

// TestRollingUpgrade: nodes of two builds in one cluster. A node of a newer build starts
// in a cluster at the older version and leaves it there; once every registered node runs
// the newer one, the coordinator's pass raises it (and reports 1905); then an older build
// is refused at start and at join, naming both versions.
func TestRollingUpgrade(t *testing.T) {
	cli := startTestEtcd(t)
	ctx := context.Background()
	db := clusterdb.New(cli)
	// N1, of the old build, made the cluster; it is down now, but registered.
	if _, err := db.CheckSchema(ctx, "N1", clusterdb.SchemaRange{Min: 1, Max: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RegisterNode(ctx, clusterdb.Node{Name: "N1", SchemaMin: 1, SchemaMax: 1}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var events []string
	report := func(_ context.Context, id uint32, s ...string) {
		mu.Lock()
		events = append(events, fmt.Sprint(id, s))
		mu.Unlock()
	}
	reported := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(events) }
	start := func(name string, r clusterdb.SchemaRange) (*Agent, error) {
		a, err := New(Options{Name: name, DB: db, Runner: &recordingRunner{}, Schema: r, Report: report})
		if err != nil {
			t.Fatal(err)
		}
		actx, stop := context.WithCancel(ctx)
		err = a.Start(actx)
		t.Cleanup(func() { stop(); a.Wait() })
		return a, err
	}
	next := clusterdb.SchemaRange{Min: 1, Max: 2}
	a1, err := start("N2", next)
	if err != nil {
		t.Fatalf("a node of the next build in a cluster at 1: %v", err)
	}
	if _, err := start("N3", next); err != nil {
		t.Fatal(err)
	}
	version := func() int { v, _ := a1.SchemaVersion(ctx); return v }
	// N1 (old build) is registered: the cluster stays at 1 while it is, even down.
	time.Sleep(500 * time.Millisecond)
	if v := version(); v != 1 {
		t.Fatalf("with N1 of the old build: version %d", v)
	}
	// N1 upgraded (its record as its next start writes it): the coordinator raises.
	if _, err := db.ModifyNode(ctx, "N1", func(n *clusterdb.Node) error { n.SchemaMin, n.SchemaMax = 1, 2; return nil }); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "version 2", func() bool { return version() == 2 })
	waitFor(t, "event 1905", func() bool { return slices.Contains(reported(), fmt.Sprint(EventSchemaRaised, []string{"1", "2"})) })
	// An old build is refused at start …
	_, err = start("N4", clusterdb.SchemaRange{Min: 1, Max: 1})
	var se *clusterdb.SchemaError
	if !errors.As(err, &se) || se.Cluster != 2 || !strings.Contains(err.Error(), "schema version 1,") {
		t.Fatalf("an old build's start: %v", err)
	}
	// … and at join, with a typed error.
	_, err = a1.Join(ctx, wire.ClusterJoinRequest{Name: "N5", PeerURL: "https://127.0.0.1:1", SchemaMin: 1, SchemaMax: 1})
	var ae *wire.Error
	if !errors.As(err, &ae) || ae.Code != ErrorIncompatibleVersions || !strings.Contains(ae.Message, "schema version 2") {
		t.Fatalf("an old build's join: %v", err)
	}
	// The node listing shows each node's range, cluster /prop the version.
	nodes, err := a1.Nodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if n.Name == "N3" && (n.SchemaMin != 1 || n.SchemaMax != 2) {
			t.Errorf("N3 listed with %d..%d", n.SchemaMin, n.SchemaMax)
		}
	}
	props, err := a1.ClusterProperties(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p := props[len(props)-1]; p.Name != "ClusterSchemaVersion" || p.Value != "2" {
		t.Errorf("cluster /prop: %+v", props)
	}
	n := 0
	for _, e := range reported() {
		if strings.HasPrefix(e, fmt.Sprint(EventSchemaRaised)) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("events %q, want one 1905", reported())
	}
}

// startTestEtcd runs a one-member embedded etcd and returns a client of it.
func startTestEtcd(t *testing.T) *clientv3.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	if _, err := pki.Bootstrap(dir, "N1", pki.Hosts("N1", "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	e, err := clusterdb.StartEmbedded(ctx, clusterdb.EmbedConfig{Name: "N1", Dir: filepath.Join(dir, "etcd"),
		Peer: agentTestAddr(t), Client: agentTestAddr(t), TLS: pki.PathsIn(dir)})
	if err != nil {
		t.Fatal(err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{e.ClientURL}, TLS: e.ClientTLS, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		e.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close(); e.Close() })
	return cli
}

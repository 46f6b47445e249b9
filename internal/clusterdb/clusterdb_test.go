package clusterdb

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"wolfpack/internal/pki"
)

// testPKI returns the TLS files of dataDir, making a CA and a node certificate there the
// first time.
func testPKI(t *testing.T, dataDir string) pki.Paths {
	t.Helper()
	p := pki.PathsIn(dataDir)
	if !p.HasCA() {
		if _, err := pki.Bootstrap(dataDir, "N1", pki.Hosts("N1", "127.0.0.1")); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func embedTestAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startEmbeddedTestDB starts a one-node embedded etcd in dir and returns a DB on it.
func startEmbeddedTestDB(t *testing.T, dir string) (*DB, *Embedded) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e, err := StartEmbedded(ctx, EmbedConfig{Name: "N1", Dir: dir, Peer: embedTestAddr(t), Client: embedTestAddr(t),
		TLS: testPKI(t, filepath.Dir(dir))})
	if err != nil {
		t.Fatal(err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{e.ClientURL}, TLS: e.ClientTLS, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		e.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close(); e.Close() })
	return New(cli), e
}

func TestFencedWrites(t *testing.T) {
	db, _ := startEmbeddedTestDB(t, filepath.Join(t.TempDir(), "etcd"))
	ctx := context.Background()
	if err := db.CreateGroup(ctx, NewGroup("G1")); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateGroup(ctx, NewGroup("g1")); !errors.Is(err, ErrExists) {
		t.Fatalf("second group of the same name (other case): %v, want ErrExists", err)
	}
	rev1, err := db.SetOwner(ctx, "G1", "N1", 0)
	if err != nil {
		t.Fatal(err)
	}
	f1 := Fence{Node: "N1", Group: "G1", Revision: rev1}
	if _, err := db.FencedTxn(ctx, f1, OpPutGroupState("G1", GroupState{State: StateOnline, Node: "N1"})); err != nil {
		t.Fatalf("owner's write: %v", err)
	}
	if _, err := db.SetOwner(ctx, "G1", "N2", 0); !errors.Is(err, ErrConflict) {
		t.Fatalf("SetOwner with a stale revision: %v, want ErrConflict", err)
	}
	rev2, err := db.SetOwner(ctx, "G1", "N2", rev1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.FencedTxn(ctx, f1, OpPutGroupState("G1", GroupState{State: StateFailed})); !errors.Is(err, ErrFenced) {
		t.Fatalf("old owner's write after the move: %v, want ErrFenced", err)
	}
	// Same node, new ownership: the old fence no longer holds either.
	rev3, err := db.SetOwner(ctx, "G1", "N1", rev2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.FencedTxn(ctx, f1); !errors.Is(err, ErrFenced) {
		t.Fatalf("fence of an earlier ownership by the same node: %v, want ErrFenced", err)
	}
	if _, err := db.FencedTxn(ctx, Fence{Node: "N1", Group: "G1", Revision: rev3}); err != nil {
		t.Fatal(err)
	}
	own, err := db.Owner(ctx, "g1")
	if err != nil || own.Node != "N1" || own.Revision != rev3 {
		t.Fatalf("Owner = %+v, %v; want N1 at %d", own, err, rev3)
	}
	var gs GroupState
	if _, err := db.get(ctx, GroupStateKey("G1"), &gs); err != nil || gs.State != StateOnline {
		t.Fatalf("the fenced-out write changed the state: %+v %v", gs, err)
	}
}

func TestResourceRevisions(t *testing.T) {
	db, _ := startEmbeddedTestDB(t, filepath.Join(t.TempDir(), "etcd"))
	ctx := context.Background()
	if err := db.CreateResource(ctx, NewResource("R1", "Test", "NoGroup")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("resource in a missing group: %v, want ErrNotFound", err)
	}
	if err := db.CreateGroup(ctx, NewGroup("G1")); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateResource(ctx, NewResource("R1", "Test", "G1")); err != nil {
		t.Fatal(err)
	}
	r, rev, err := db.Resource(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if r.RestartThreshold != 3 || r.RestartPeriod != 900000 || r.PendingTimeout != 180000 ||
		r.LooksAlivePollInterval != 5000 || r.IsAlivePollInterval != 60000 || r.RestartAction != RestartNotify {
		t.Fatalf("defaults are not WSFC's: %+v", r)
	}
	r.Checkpoints = []string{`SYSTEM\CurrentControlSet\Services\X`}
	rev2, err := db.UpdateResource(ctx, r, rev)
	if err != nil {
		t.Fatal(err)
	}
	r.Checkpoints = nil
	if _, err := db.UpdateResource(ctx, r, rev); !errors.Is(err, ErrConflict) {
		t.Fatalf("update at a stale revision: %v, want ErrConflict", err)
	}
	got, rev3, err := db.Resource(ctx, "R1")
	if err != nil || rev3 != rev2 || len(got.Checkpoints) != 1 {
		t.Fatalf("Resource = %+v at %d, %v; want the checkpoint at %d", got, rev3, err, rev2)
	}
	if _, _, err := db.Resource(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing resource: %v", err)
	}
	if err := db.DeleteResource(ctx, "R1", rev); !errors.Is(err, ErrConflict) {
		t.Fatalf("delete at a stale revision: %v", err)
	}
	if err := db.DeleteResource(ctx, "R1", rev2); err != nil {
		t.Fatal(err)
	}
}

func TestNodeIDsAndRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etcd")
	db, e := startEmbeddedTestDB(t, dir)
	ctx := context.Background()
	for i, name := range []string{"N1", "N2", "N1"} {
		n, err := db.RegisterNode(ctx, Node{Name: name, API: "http://x"})
		if err != nil {
			t.Fatal(err)
		}
		want := []int{1, 2, 1}[i]
		if n.ID != want {
			t.Fatalf("register %s: ID %d, want %d", name, n.ID, want)
		}
	}
	db.cli.Close()
	e.Close()
	if !HasData(dir) {
		t.Fatal("HasData is false after a run")
	}
	start := time.Now()
	db2, _ := startEmbeddedTestDB(t, dir)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("restart took %v", d)
	}
	s, err := db2.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Nodes) != 2 || s.Nodes["n2"].ID != 2 {
		t.Fatalf("after restart: nodes %+v", s.Nodes)
	}
}

// TestDeleteResourceDropsCheckpoints: deleting a resource removes its checkpoints in the
// same transaction (a resource re-created at once shows no old version), and only its own.
func TestDeleteResourceDropsCheckpoints(t *testing.T) {
	db, _ := startEmbeddedTestDB(t, filepath.Join(t.TempDir(), "etcd"))
	ctx := context.Background()
	if err := db.CreateGroup(ctx, NewGroup("G1")); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"R1", "R10"} {
		if err := db.CreateResource(ctx, NewResource(n, "Test", "G1")); err != nil {
			t.Fatal(err)
		}
	}
	rev, err := db.SetOwner(ctx, "G1", "N1", 0)
	if err != nil {
		t.Fatal(err)
	}
	f := Fence{Node: "N1", Group: "G1", Revision: rev}
	cs := NewCheckpointStore(db.cli)
	for _, n := range []string{"R1", "R10"} {
		if _, err := cs.Put(ctx, f, n, `SOFTWARE\App`, []byte("state of "+n), CheckpointVersion{Node: "N1"}, 0); err != nil {
			t.Fatal(err)
		}
	}
	count := func(res string) int64 {
		t.Helper()
		resp, err := db.cli.Get(ctx, CheckpointResourcePrefix(res), clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			t.Fatal(err)
		}
		return resp.Count
	}
	if count("R1") == 0 || count("R10") == 0 {
		t.Fatalf("checkpoints not written: R1 %d keys, R10 %d keys", count("R1"), count("R10"))
	}
	_, rrev, err := db.Resource(ctx, "R1")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteResource(ctx, "R1", rrev); err != nil {
		t.Fatal(err)
	}
	if n := count("R1"); n != 0 {
		t.Fatalf("%d checkpoint keys of R1 remain after DeleteResource", n)
	}
	if _, _, err := cs.Latest(ctx, "R1", `SOFTWARE\App`); err == nil {
		t.Fatal("Latest of the deleted resource's key found a version")
	}
	if count("R10") == 0 {
		t.Fatal("deleting R1 removed R10's checkpoints")
	}
	// A failed (stale) delete leaves the checkpoints alone.
	_, rrev10, err := db.Resource(ctx, "R10")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteResource(ctx, "R10", rrev10-1); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale delete: %v, want ErrConflict", err)
	}
	if count("R10") == 0 {
		t.Fatal("a failed delete removed R10's checkpoints")
	}
}

// TestPlacementConditions: a coordinator's placement holds only while its election key is
// the one it won with, and, for a dead owner's group, while that owner's membership key
// is absent (a node back from a freeze keeps its group).
func TestPlacementConditions(t *testing.T) {
	db, _ := startEmbeddedTestDB(t, filepath.Join(t.TempDir(), "etcd"))
	ctx := context.Background()
	if err := db.CreateGroup(ctx, NewGroup("G1")); err != nil {
		t.Fatal(err)
	}
	rev, err := db.SetOwner(ctx, "G1", "N1", 0)
	if err != nil {
		t.Fatal(err)
	}
	cli := db.cli
	el := ElectionPrefix + "/coordinator-a"
	put, err := cli.Put(ctx, el, "N2")
	if err != nil {
		t.Fatal(err)
	}
	won := Election{Key: el, Rev: put.Header.Revision}
	// N1 is back (its membership key exists): the group stays.
	if _, err := cli.Put(ctx, MemberKey("N1"), "{}"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Place(ctx, Placement{Group: "G1", Node: "N2", Prev: rev, DeadOwner: "N1", Election: won}); !errors.Is(err, ErrConflict) {
		t.Fatalf("placement away from a live owner: %v, want ErrConflict", err)
	}
	if _, err := cli.Delete(ctx, MemberKey("N1")); err != nil {
		t.Fatal(err)
	}
	// A deposed coordinator (its key gone, or re-created by a later campaign) places nothing.
	if _, err := cli.Delete(ctx, el); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Place(ctx, Placement{Group: "G1", Node: "N2", Prev: rev, DeadOwner: "N1", Election: won}); !errors.Is(err, ErrConflict) {
		t.Fatalf("placement by a deposed coordinator: %v, want ErrConflict", err)
	}
	put, err = cli.Put(ctx, el, "N2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Place(ctx, Placement{Group: "G1", Node: "N2", Prev: rev, DeadOwner: "N1", Election: won}); !errors.Is(err, ErrConflict) {
		t.Fatalf("placement with an election key of an earlier term: %v, want ErrConflict", err)
	}
	won.Rev = put.Header.Revision
	if _, err := db.Place(ctx, Placement{Group: "G1", Node: "N2", Prev: rev, DeadOwner: "N1", Election: won}); err != nil {
		t.Fatalf("placement by the coordinator of a dead owner's group: %v", err)
	}
	if own, _ := db.Owner(ctx, "G1"); own.Node != "N2" {
		t.Fatalf("owner %+v, want N2", own)
	}
}

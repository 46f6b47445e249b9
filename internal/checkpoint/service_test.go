package checkpoint

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"wolfpack/internal/api"
	"wolfpack/internal/api/client"
	"wolfpack/internal/api/wire"
	"wolfpack/internal/clusterdb"
	"wolfpack/internal/pki"
	"wolfpack/internal/registry"
)

// apiNode is one node's checkpoint routes on a real API server.
type apiNode struct {
	*benchNode
	srv *httptest.Server
	c   *client.Client
}

// The nodes' API servers serve TLS with node certificates of one cluster CA, and
// forward to each other trusting that CA alone, as wolfpackd does.
func newAPINode(t *testing.T, name string, db *clusterdb.DB, store *clusterdb.CheckpointStore, ca *pki.CA) *apiNode {
	t.Helper()
	n := newBenchNode(t, name, store)
	s := api.NewServer("secret", slog.Default())
	api.RegisterCheckpoint(s, &Service{Node: name, DB: db, Store: store, Manager: n.m, Log: slog.Default()})
	p := pki.PathsIn(t.TempDir())
	if err := p.WriteCA(ca); err != nil {
		t.Fatal(err)
	}
	if _, err := p.EnsureNode(ca, name, pki.Hosts(name, "127.0.0.1"), time.Now()); err != nil {
		t.Fatal(err)
	}
	cert, err := p.ServerCertificate()
	if err != nil {
		t.Fatal(err)
	}
	peer, err := p.ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	s.SetPeerTLS(peer)
	srv := httptest.NewUnstartedServer(s)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	if _, err := db.RegisterNode(context.Background(), clusterdb.Node{Name: name, API: srv.URL}); err != nil {
		t.Fatal(err)
	}
	roots, err := p.RootTLS()
	if err != nil {
		t.Fatal(err)
	}
	return &apiNode{benchNode: n, srv: srv, c: client.New(srv.URL, "secret", roots)}
}

func newTestCA(t *testing.T) *pki.CA {
	t.Helper()
	ca, err := pki.NewCA(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// TestRoutes drives the checkpoint routes on two nodes sharing one cluster database: N2
// runs the resource; requests made to N1 that need the running node are forwarded.
func TestRoutes(t *testing.T) {
	ctx := context.Background()
	cli := startEtcd(t)
	db := clusterdb.New(cli)
	store := clusterdb.NewCheckpointStore(cli)
	ca := newTestCA(t)
	n1 := newAPINode(t, "N1", db, store, ca)
	n2 := newAPINode(t, "N2", db, store, ca)
	if err := db.CreateGroup(ctx, clusterdb.NewGroup("G")); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateResource(ctx, clusterdb.NewResource("R", "Generic Application", "G")); err != nil {
		t.Fatal(err)
	}
	base := "/v1/resources/R/checkpoints"
	var list []wire.CheckpointInfo
	if err := n1.c.Do(ctx, http.MethodPost, base, wire.CheckpointKeys{Keys: []string{imcKey}}, &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Key != imcKey || list[0].Version != 0 {
		t.Fatalf("after add: %+v", list)
	}
	for _, bad := range []struct {
		keys []string
		code uint32
	}{{[]string{strings.ToUpper(imcKey)}, 183}, {[]string{`\SYSTEM`}, 87}, {[]string{`HKLM\SYSTEM`}, 87}, {nil, 87}} {
		err := n1.c.Do(ctx, http.MethodPost, base, wire.CheckpointKeys{Keys: bad.keys}, nil)
		if !wire.IsCode(err, bad.code) {
			t.Fatalf("add %q: %v, want error %d", bad.keys, err, bad.code)
		}
	}
	if err := n1.c.Do(ctx, http.MethodGet, "/v1/resources/Nope/checkpoints", nil, nil); !wire.IsCode(err, 5007) {
		t.Fatalf("unknown resource: %v", err)
	}

	// N2 owns the group and runs the resource: it captures.
	rev, err := db.SetOwner(ctx, "G", "N2", 0)
	if err != nil {
		t.Fatal(err)
	}
	f := Fence{Node: "N2", Group: "G", Revision: rev}
	h := n2.create(t, `HKLM\`+imcKey+`\Parameters`)
	n2.prog.SetValue(h, "SmartHost", registry.REG_SZ, utf16z("a"))
	r, _, _ := db.Resource(ctx, "R")
	res := Resource{Name: r.Name, Group: r.Group, Keys: r.Checkpoints}
	if err := n2.m.BeforeOnline(ctx, res, f); err != nil {
		t.Fatal(err)
	}
	n2.m.Online(ctx, res, f)
	<-n2.committed
	n2.prog.SetValue(h, "SmartHost", registry.REG_SZ, utf16z("b"))
	for v := range n2.committed {
		if v.Number == 2 {
			break
		}
	}
	if err := n1.c.Do(ctx, http.MethodGet, base, nil, &list); err != nil || list[0].Version != 2 || list[0].Node != "N2" {
		t.Fatalf("list: %+v, %v", list, err)
	}
	var hist []wire.CheckpointVersion
	if err := n1.c.Do(ctx, http.MethodGet, base+"/history?key="+strings.ToLower(imcKey), nil, &hist); err != nil || len(hist) != 2 {
		t.Fatalf("history: %+v, %v", hist, err)
	}
	var d wire.CheckpointDiff
	if err := n1.c.Do(ctx, http.MethodGet, base+"/diff?key="+imcKey+"&v1=1", nil, &d); err != nil {
		t.Fatal(err)
	}
	if d.V2 != 2 || !strings.Contains(d.Text, `"SmartHost"="b"`) {
		t.Fatalf("diff: %+v", d)
	}

	// Verify asked of N1 is answered by N2, the owner.
	var drift []wire.CheckpointDrift
	if err := n1.c.Do(ctx, http.MethodGet, base+"/verify", nil, &drift); err != nil {
		t.Fatal(err)
	}
	if len(drift) != 1 || !drift[0].InSync || drift[0].Node != "N2" || drift[0].Version != 2 {
		t.Fatalf("verify: %+v", drift)
	}

	// Rollback asked of N1: version 1 becomes 3 and is restored on N2 at once.
	n2.prog.CloseKey(h)
	var rb wire.CheckpointRollbackAnswer
	if err := n1.c.Do(ctx, http.MethodPost, base+"/rollback", wire.CheckpointRollback{Key: imcKey, Version: 1}, &rb); err != nil {
		t.Fatal(err)
	}
	if !rb.Restored || rb.Node != "N2" || rb.Version.Number != 3 || rb.Version.RolledBackFrom != 1 {
		t.Fatalf("rollback: %+v", rb)
	}
	h2 := n2.create(t, `HKLM\`+imcKey+`\Parameters`)
	if _, data, err := n2.prog.QueryValue(h2, "SmartHost"); err != nil || fromUTF16z(data) != "a" {
		t.Fatalf("after rollback N2 reads %q, %v", fromUTF16z(data), err)
	}
	// A holder on N2 makes the restore of a rollback fail, and the answer says why.
	n2.prog.CloseKey(h2)
	holder := n2.reg.NewSession(registry.Owner{PID: 99, Exe: "winlogon"})
	defer holder.Close()
	if _, err := holder.OpenPath(`HKLM\SYSTEM\ControlSet001\Services\MSExchangeIMC\Parameters`); err != nil {
		t.Fatal(err)
	}
	if err := n1.c.Do(ctx, http.MethodPost, base+"/rollback", wire.CheckpointRollback{Key: imcKey, Version: 2}, &rb); err != nil {
		t.Fatal(err)
	}
	if rb.Restored || !strings.Contains(rb.RestoreError, "winlogon (pid 99") {
		t.Fatalf("rollback with a holder: %+v", rb)
	}

	// Remove deletes the stored versions.
	if err := n1.c.Do(ctx, http.MethodDelete, base+"?key="+imcKey, nil, &list); err != nil || len(list) != 0 {
		t.Fatalf("remove: %+v, %v", list, err)
	}
	if _, _, err := store.Latest(ctx, "R", imcKey); err == nil {
		t.Fatal("versions left after remove")
	}
	if err := n1.c.Do(ctx, http.MethodDelete, base+"?key="+imcKey, nil, nil); !wire.IsCode(err, 2) {
		t.Fatalf("remove twice: %v", err)
	}
}

// TestJanitor: at start it deletes checkpoints of keys no longer listed and of resources
// that are gone; afterwards, a resource's deletion deletes its checkpoints.
func TestJanitor(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cli := startEtcd(t)
	db := clusterdb.New(cli)
	store := clusterdb.NewCheckpointStore(cli)
	f := takeOwnership(t, cli, "G", "N1")
	r := clusterdb.NewResource("R", "Generic Application", "G")
	r.Checkpoints = []string{imcKey}
	if err := db.CreateResource(ctx, r); err != nil {
		t.Fatal(err)
	}
	put := func(res, key string) {
		if _, err := store.Put(ctx, f, res, key, []byte("x"), clusterdb.CheckpointVersion{}, 3); err != nil {
			t.Fatal(err)
		}
	}
	put("R", imcKey)
	put("R", `SOFTWARE\Removed`)
	put("Gone", imcKey)
	svc := &Service{Node: "N1", DB: db, Store: store, Log: slog.Default()}
	done := make(chan struct{})
	go func() { defer close(done); svc.RunJanitor(ctx) }()
	gone := func(res, key string) bool {
		_, _, err := store.Latest(ctx, res, key)
		return err != nil
	}
	if !eventually(func() bool { return gone("R", `SOFTWARE\Removed`) && gone("Gone", imcKey) }) {
		t.Fatal("the start-up sweep left orphans")
	}
	if gone("R", imcKey) {
		t.Fatal("the sweep deleted a listed checkpoint")
	}
	_, rev, _ := db.Resource(ctx, "R")
	if err := db.DeleteResource(ctx, "R", rev); err != nil {
		t.Fatal(err)
	}
	if !eventually(func() bool { return gone("R", imcKey) }) {
		t.Fatal("a deleted resource's checkpoints remain")
	}
	cancel()
	<-done
}

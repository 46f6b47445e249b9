package clusterdb

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// checkIndexes asserts that every group's resource index lists exactly its resources and
// is no older than any of them.
func checkIndexes(t *testing.T, db *DB, when string) {
	t.Helper()
	ctx := context.Background()
	resp, err := db.cli.Txn(ctx).Then(
		clientv3.OpGet(GroupsPrefix, clientv3.WithPrefix()),
		clientv3.OpGet(ResourcesPrefix, clientv3.WithPrefix()),
		clientv3.OpGet(GroupIndexPrefix, clientv3.WithPrefix()),
	).Commit()
	if err != nil {
		t.Fatal(err)
	}
	want, newest := map[string][]string{}, map[string]int64{}
	for _, kv := range resp.Responses[0].GetResponseRange().Kvs {
		want[strings.TrimPrefix(string(kv.Key), GroupsPrefix)] = []string{}
	}
	for _, kv := range resp.Responses[1].GetResponseRange().Kvs {
		var r Resource
		if err := json.Unmarshal(kv.Value, &r); err != nil {
			t.Fatal(err)
		}
		g := keyName(r.Group)
		want[g] = append(want[g], keyName(r.Name))
		newest[g] = max(newest[g], kv.ModRevision)
	}
	have, rev := map[string][]string{}, map[string]int64{}
	for _, kv := range resp.Responses[2].GetResponseRange().Kvs {
		var gi GroupIndex
		if err := json.Unmarshal(kv.Value, &gi); err != nil {
			t.Fatalf("%s: index %s: %v", when, kv.Key, err)
		}
		g := strings.TrimPrefix(string(kv.Key), GroupIndexPrefix)
		have[g], rev[g] = gi.Resources, kv.ModRevision
	}
	for g, list := range want {
		slices.Sort(list)
		h, ok := have[g]
		if !ok {
			t.Errorf("%s: group %s has no index", when, g)
			continue
		}
		if !slices.Equal(h, list) {
			t.Errorf("%s: group %s's index lists %v, its resources are %v", when, g, h, list)
		}
		if rev[g] < newest[g] {
			t.Errorf("%s: group %s's index (revision %d) is older than one of its resources (%d)", when, g, rev[g], newest[g])
		}
	}
	for g := range have {
		if _, ok := want[g]; !ok {
			t.Errorf("%s: an index is left for group %s, which is gone", when, g)
		}
	}
}

// TestGroupIndexKeptByEveryWrite: every write of a group or a resource keeps the groups'
// resource indexes exact and no older than their resources, concurrent creates included.
func TestGroupIndexKeptByEveryWrite(t *testing.T) {
	db, _ := startEmbeddedTestDB(t, filepath.Join(t.TempDir(), "etcd"))
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.CreateGroup(ctx, NewGroup("G1")))
	must(db.CreateGroupOwned(ctx, NewGroup("G2"), "N1"))
	must(db.CreateGroupWithResources(ctx, NewGroup("G3"), []Resource{NewResource("c1", "Test", "G3"), NewResource("C2", "Test", "G3")}))
	must(db.CreateGroupsWithResources(ctx, []GroupDefinition{
		{Group: NewGroup("G4"), Resources: []Resource{NewResource("d1", "Test", "G4")}},
		{Group: NewGroup("G5")},
	}))
	checkIndexes(t, db, "after the creates")
	must(db.CreateResource(ctx, NewResource("a", "Test", "G1")))
	checkIndexes(t, db, "after CreateResource")
	_, err := db.ModifyResource(ctx, "c1", func(r *Resource) error { r.Description = "changed"; return nil })
	must(err)
	checkIndexes(t, db, "after a change of c1")
	_, err = db.ModifyResource(ctx, "C2", func(r *Resource) error { r.Group = "G1"; return nil })
	must(err)
	checkIndexes(t, db, "after C2 moved to G1")
	_, rev, err := db.Resource(ctx, "a")
	must(err)
	must(db.DeleteResource(ctx, "a", rev))
	checkIndexes(t, db, "after a was deleted")
	g, rev, err := db.Group(ctx, "G1")
	must(err)
	must(db.RenameGroup(ctx, g, rev, "G1b"))
	checkIndexes(t, db, "after G1 was renamed G1b")
	_, rev, err = db.Group(ctx, "G5")
	must(err)
	must(db.DeleteGroup(ctx, "G5", rev))
	checkIndexes(t, db, "after G5 was deleted")
	// Twenty writers create resources in one group at once, while another changes one.
	var wg sync.WaitGroup
	errs := make(chan error, 21)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- db.CreateResource(ctx, NewResource(fmt.Sprintf("p%02d", i), "Test", "G2"))
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, err := db.ModifyResource(ctx, "d1", func(r *Resource) error { r.Group = "G2"; return nil })
		errs <- err
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		must(err)
	}
	checkIndexes(t, db, "after 20 concurrent creates")
	// A resource of a group that does not exist is refused, and writes no index.
	if err := db.CreateResource(ctx, NewResource("x", "Test", "NoSuchGroup")); !isNotFound(err) {
		t.Errorf("resource in a missing group: %v, want not found", err)
	}
	checkIndexes(t, db, "after a refused create")
}

// etcdEvents is the in-process etcd's count of events sent to watchers.
func etcdEvents(t *testing.T) float64 {
	t.Helper()
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "etcd_debugging_mvcc_events_total" {
			sum := 0.0
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
			return sum
		}
	}
	t.Fatal("the embedded etcd has no etcd_debugging_mvcc_events_total")
	return 0
}

// TestScopedFollower: a node's scoped view has the shared keys and only the groups it
// wants, follows their changes, and etcd sends it no event for another group's
// definitions (a full Follower, the peer, receives each); a group without an index (a
// write without it) is still read whole, and its repaired index followed.
func TestScopedFollower(t *testing.T) {
	db, _ := startEmbeddedTestDB(t, filepath.Join(t.TempDir(), "etcd"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.CreateGroupWithResources(ctx, NewGroup("G1"), []Resource{NewResource("b", "Test", "G1"), NewResource("A", "Test", "G1")}))
	must(db.CreateGroupWithResources(ctx, NewGroup("G2"), []Resource{NewResource("c", "Test", "G2")}))
	_, err := db.SetOwner(ctx, "G1", "N1", 0)
	must(err)
	_, err = db.SetOwner(ctx, "G2", "N2", 0)
	must(err)
	vw := newViewWatcher()
	f := db.NewScopedFollower(slog.Default(), vw.onChange)
	must(f.Run(ctx))
	waitFor := func(what string, ok func(*Snapshot) bool) *Snapshot {
		t.Helper()
		return vw.wait(t, f.Snapshot, what, ok)
	}
	s0 := waitFor("the shared keys", func(s *Snapshot) bool { return s != nil && len(s.Owners) == 2 })
	if len(s0.Groups) != 0 {
		t.Fatalf("groups in the view before any was wanted: %v", s0.Groups)
	}
	f.Want([]string{"g1"})
	s1 := waitFor("G1", func(s *Snapshot) bool { _, ok := s.Groups["g1"]; return ok })
	if got := resourceNames(s1.GroupResources("G1")); !slices.Equal(got, []string{"A", "b"}) {
		t.Errorf("G1's resources %v, want [A b]", got)
	}
	if _, ok := s1.Groups["g2"]; ok || len(s1.GroupResources("G2")) != 0 {
		t.Error("G2 is in the view: it was not wanted")
	}
	// A change of one of G1's resources, and a new one, reach the view.
	_, err = db.ModifyResource(ctx, "b", func(r *Resource) error { r.Description = "new"; return nil })
	must(err)
	must(db.CreateResource(ctx, NewResource("d", "Test", "G1")))
	_, err = db.ModifyGroup(ctx, "G1", func(g *Group) error { g.Description = "g1 changed"; return nil })
	must(err)
	waitFor("G1's changes", func(s *Snapshot) bool {
		rs := s.GroupResources("G1")
		return len(rs) == 3 && rs[1].Description == "new" && s.Groups["g1"].Description == "g1 changed"
	})
	if got := resourceNames(s1.GroupResources("G1")); !slices.Equal(got, []string{"A", "b"}) {
		t.Errorf("a snapshot handed out changed: %v", got)
	}
	// Writes of G2's definitions send this node nothing…
	time.Sleep(300 * time.Millisecond)
	e0 := etcdEvents(t)
	for i := range 10 {
		_, err = db.ModifyResource(ctx, "c", func(r *Resource) error { r.Description = fmt.Sprint(i); return nil })
		must(err)
	}
	time.Sleep(300 * time.Millisecond)
	if n := etcdEvents(t) - e0; n != 0 {
		t.Errorf("etcd sent %v events for 10 writes of a group this node does not follow: want 0", n)
	}
	// …and each is sent to a full Follower (the peer, and the proof that the count sees
	// a watcher).
	full := NewFollower(db.cli, slog.Default(), func() {})
	fctx, fcancel := context.WithCancel(ctx)
	must(full.Run(fctx))
	time.Sleep(300 * time.Millisecond)
	e0 = etcdEvents(t)
	for i := range 10 {
		_, err = db.ModifyResource(ctx, "c", func(r *Resource) error { r.Description = fmt.Sprint("full", i); return nil })
		must(err)
	}
	time.Sleep(300 * time.Millisecond)
	if n := etcdEvents(t) - e0; n < 10 {
		t.Errorf("a full follower got %v events for 10 writes: the count does not see watchers", n)
	}
	// A resource written without the index (an older build, a raw write) is read whole,
	// and the coordinator's view names the repair; once repaired, changes come as events.
	b, _ := json.Marshal(NewResource("raw", "Test", "G1"))
	_, err = db.cli.Put(ctx, ResourceKey("raw"), string(b))
	must(err)
	var repairs []IndexRepair
	deadline := time.Now().Add(10 * time.Second)
	for len(repairs) == 0 && time.Now().Before(deadline) {
		repairs = full.IndexRepairs()
		time.Sleep(20 * time.Millisecond)
	}
	if len(repairs) != 1 || repairs[0].Group != "G1" || len(repairs[0].Resources) != 4 {
		t.Fatalf("repairs %+v, want G1 with 4 resources", repairs)
	}
	if more := full.IndexRepairs(); len(more) != 0 {
		t.Errorf("repairs named again with nothing changed: %+v", more)
	}
	ok, err := db.RepairGroupIndex(ctx, repairs[0].Group, repairs[0].Rev, repairs[0].Resources)
	if err != nil || !ok {
		t.Fatalf("repair: %v %v", ok, err)
	}
	waitFor("the raw resource", func(s *Snapshot) bool { return len(s.GroupResources("G1")) == 4 })
	checkIndexes(t, db, "after the repair")
	full.MarkIndexesDirty()
	if more := full.IndexRepairs(); len(more) != 0 {
		t.Errorf("repairs named after the repair: %+v", more)
	}
	fcancel()
	// A group without an index at all is read by a scan, and polled.
	_, err = db.cli.Delete(ctx, GroupIndexKey("G2"))
	must(err)
	f.Want([]string{"g1", "g2"})
	waitFor("G2 without an index", func(s *Snapshot) bool { return len(s.GroupResources("G2")) == 1 })
	b, _ = json.Marshal(NewResource("raw2", "Test", "G2"))
	_, err = db.cli.Put(ctx, ResourceKey("raw2"), string(b))
	must(err)
	waitFor("a raw write to G2, by the poll", func(s *Snapshot) bool { return len(s.GroupResources("G2")) == 2 })
	// A group no longer wanted leaves the view.
	f.Want([]string{"g2"})
	waitFor("G1 gone", func(s *Snapshot) bool { _, ok := s.Groups["g1"]; return !ok && len(s.GroupResources("G1")) == 0 })
	if got := f.FollowedGroups(); !slices.Equal(got, []string{"g2"}) {
		t.Errorf("followed %v, want [g2]", got)
	}
}

// TestScopedViewNeverHasAResourceInTwoGroups: a resource read in one followed group
// leaves the other followed group it was in, before that group is read again.
func TestScopedViewNeverHasAResourceInTwoGroups(t *testing.T) {
	f := (&DB{}).NewScopedFollower(slog.Default(), func() {})
	f.cur, f.owned = emptySnapshot(1), map[string]bool{}
	g1, g2 := NewGroup("G1"), NewGroup("G2")
	f.setGroupLocked("g1", &g1, []Resource{NewResource("A", "Test", "G1"), NewResource("R", "Test", "G1")})
	f.setGroupLocked("g2", &g2, []Resource{NewResource("B", "Test", "G2")})
	before := f.Snapshot()
	// R moved to G2: G2 is read first.
	f.setGroupLocked("g2", &g2, []Resource{NewResource("B", "Test", "G2"), NewResource("R", "Test", "G2")})
	s := f.Snapshot()
	if n := len(s.GroupResources("G1")); n != 1 {
		t.Errorf("G1 has %d resources after R moved to G2, want 1 (A)", n)
	}
	if n := len(s.GroupResources("G2")); n != 2 {
		t.Errorf("G2 has %d resources, want 2", n)
	}
	if n := len(before.GroupResources("G1")); n != 2 {
		t.Errorf("a snapshot handed out changed: G1 has %d resources", n)
	}
	// G1 dropped: R stays G2's.
	f.setGroupLocked("g1", nil, nil)
	if n := len(f.Snapshot().GroupResources("G2")); n != 2 || f.resGroup["r"] != "g2" {
		t.Errorf("G2 has %d resources after G1 left, R in %q", n, f.resGroup["r"])
	}
}

// TestCreateGroupOwnedIsOneWrite: a group created with its owner has the owner (and its
// resource index) at the very revision the group appears, so no coordinator ever sees it
// unowned and places it elsewhere.
func TestCreateGroupOwnedIsOneWrite(t *testing.T) {
	db, _ := startEmbeddedTestDB(t, filepath.Join(t.TempDir(), "etcd"))
	ctx := context.Background()
	if err := db.CreateGroupOwned(ctx, NewGroup("G"), "N2"); err != nil {
		t.Fatal(err)
	}
	resp, err := db.cli.Get(ctx, GroupKey("G"))
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("group record: %v %v", resp, err)
	}
	at := resp.Kvs[0].CreateRevision
	for key, want := range map[string]string{OwnerKey("G"): "N2", GroupIndexKey("G"): `{"resources":[]}`} {
		r, err := db.cli.Get(ctx, key, clientv3.WithRev(at))
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Kvs) != 1 || string(r.Kvs[0].Value) != want {
			t.Errorf("%s at the group's creation (revision %d): %v, want %q", key, at, r.Kvs, want)
		}
	}
}

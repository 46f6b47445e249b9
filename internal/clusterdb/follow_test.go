package clusterdb

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestDefinitionsRange: every definition prefix lies in the range a node follows, and the
// states and checkpoints (which change all the time) lie outside it.
func TestDefinitionsRange(t *testing.T) {
	in := func(k string) bool { return k >= DefinitionsStart && k < DefinitionsEnd }
	for _, p := range definitionPrefixes {
		if !in(p) || !in(p+"zzzz") {
			t.Errorf("%s is outside the followed range [%s, %s)", p, DefinitionsStart, DefinitionsEnd)
		}
	}
	for _, p := range []string{GroupStatePrefix, ResourceStatePrefix, CheckpointsPrefix, TokensPrefix, RolesPrefix, PropertiesKey, ElectionPrefix + "/x", JoinSecretKey} {
		if in(p) {
			t.Errorf("%s is inside the followed range: every node would receive its changes", p)
		}
	}
}

// TestFollower: a Follower's Snapshot has the definitions, indexes the resources by group,
// follows changes and deletions, never changes a Snapshot it handed out, and follows the
// groups' states only while asked.
func TestFollower(t *testing.T) {
	db, _ := startEmbeddedTestDB(t, filepath.Join(t.TempDir(), "etcd"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.CreateGroupWithResources(ctx, NewGroup("G1"), []Resource{NewResource("B", "Test", "G1"), NewResource("a", "Test", "G1")}))
	must(db.CreateGroup(ctx, NewGroup("G2")))
	_, err := db.SetOwner(ctx, "G1", "N1", 0)
	must(err)
	vw := newViewWatcher()
	f := NewFollower(db.cli, slog.Default(), vw.onChange)
	must(f.Run(ctx))
	s0 := f.Snapshot()
	if len(s0.Groups) != 2 || s0.Owners["g1"].Node != "N1" || s0.Resources != nil {
		t.Fatalf("first snapshot: groups %v owners %v resources %v", s0.Groups, s0.Owners, s0.Resources)
	}
	if got := resourceNames(s0.GroupResources("g1")); !slices.Equal(got, []string{"a", "B"}) {
		t.Fatalf("G1's resources %v, want [a B]", got)
	}
	waitFor := func(what string, ok func(*Snapshot) bool) *Snapshot {
		t.Helper()
		return vw.wait(t, f.Snapshot, what, ok)
	}
	// A resource moves to G2, another is added, one is deleted; an owner changes.
	_, err = db.ModifyResource(ctx, "B", func(r *Resource) error { r.Group = "G2"; return nil })
	must(err)
	must(db.CreateResource(ctx, NewResource("C", "Test", "G2")))
	_, rev, err := db.Resource(ctx, "a")
	must(err)
	must(db.DeleteResource(ctx, "a", rev))
	_, err = db.SetOwner(ctx, "G2", "N2", 0)
	must(err)
	s1 := waitFor("the changes", func(s *Snapshot) bool {
		return s.Owners["g2"].Node == "N2" && len(s.GroupResources("G2")) == 2 && len(s.GroupResources("G1")) == 0
	})
	if got := resourceNames(s1.GroupResources("G2")); !slices.Equal(got, []string{"B", "C"}) {
		t.Errorf("G2's resources %v, want [B C]", got)
	}
	// The first snapshot is as it was.
	if got := resourceNames(s0.GroupResources("g1")); !slices.Equal(got, []string{"a", "B"}) || s0.Owners["g2"].Node != "" {
		t.Errorf("a snapshot handed out changed: G1 %v, G2's owner %q", got, s0.Owners["g2"].Node)
	}
	// States are not followed…
	_, err = db.cli.Put(ctx, GroupStateKey("G1"), `{"state":"Online","node":"N1"}`)
	must(err)
	_, err = db.cli.Put(ctx, ResourceStateKey("B"), `{"state":"Online","node":"N2"}`)
	must(err)
	must(db.CreateGroup(ctx, NewGroup("G3")))
	s2 := waitFor("G3", func(s *Snapshot) bool { _, ok := s.Groups["g3"]; return ok })
	if len(s2.GroupStates) != 0 || len(s2.ResourceStates) != 0 {
		t.Errorf("states followed without being asked: %v %v", s2.GroupStates, s2.ResourceStates)
	}
	// …until the coordinator asks for the groups' states (and never the resources').
	f.FollowGroupStates(ctx, true)
	select {
	case <-f.GroupStatesReady():
	case <-time.After(10 * time.Second):
		t.Fatal("group states not loaded")
	}
	if s := f.Snapshot(); s.GroupStates["g1"].State != "Online" {
		t.Errorf("group states %v", s.GroupStates)
	}
	_, err = db.cli.Put(ctx, GroupStateKey("G2"), `{"state":"Failed","node":"N2"}`)
	must(err)
	waitFor("G2's state", func(s *Snapshot) bool { return s.GroupStates["g2"].State == "Failed" && len(s.ResourceStates) == 0 })
	f.FollowGroupStates(ctx, false)
	if s := f.Snapshot(); len(s.GroupStates) != 0 {
		t.Errorf("group states kept after the coordinator stopped: %v", s.GroupStates)
	}
	// WaitRevision: the view catches up with a write made elsewhere.
	resp, err := db.cli.Put(ctx, GroupKey("G4"), `{"name":"G4"}`)
	must(err)
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	must(f.WaitRevision(wctx, resp.Header.Revision))
	if _, ok := f.Snapshot().Groups["g4"]; !ok {
		t.Error("WaitRevision returned before the view had G4")
	}
	// and with a write outside the definitions, which no event brings: a progress
	// notification does.
	resp, err = db.cli.Put(ctx, ResourceStateKey("C"), `{"state":"Online","node":"N2"}`)
	must(err)
	must(f.WaitRevision(wctx, resp.Header.Revision))
}

// TestRegisterNodeIDs: nodes that join at once get distinct IDs, and a node keeps its
// ID (and the administrator's settings) when it registers again.
func TestRegisterNodeIDs(t *testing.T) {
	db, _ := startEmbeddedTestDB(t, filepath.Join(t.TempDir(), "etcd"))
	ctx := context.Background()
	const n = 24
	ids := make(chan int, n)
	errs := make(chan error, n)
	for i := range n {
		go func() {
			nd, err := db.RegisterNode(ctx, Node{Name: fmt.Sprintf("N%d", i)})
			errs <- err
			ids <- nd.ID
		}()
	}
	seen := map[int]bool{}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		id := <-ids
		if seen[id] || id < 1 || id > n {
			t.Errorf("ID %d given twice or out of 1…%d", id, n)
		}
		seen[id] = true
	}
	old, _, err := db.Node(ctx, "N3")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ModifyNode(ctx, "N3", func(x *Node) error { x.NoVote, x.PinnedVoter = true, false; return nil }); err != nil {
		t.Fatal(err)
	}
	again, err := db.RegisterNode(ctx, Node{Name: "N3", API: "https://x"})
	if err != nil || again.ID != old.ID || !again.NoVote {
		t.Errorf("re-registered N3: %+v %v, want ID %d and NodeWeight 0 kept", again, err, old.ID)
	}
}

// viewWatcher is a follower's onChange in a test, and the wait for the follower's view.
type viewWatcher struct{ changed chan struct{} }

func newViewWatcher() *viewWatcher { return &viewWatcher{changed: make(chan struct{}, 1)} }

func (w *viewWatcher) onChange() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// wait waits up to 10 s until ok holds for a snapshot, and returns it.
func (w *viewWatcher) wait(t *testing.T, snapshot func() *Snapshot, what string, ok func(*Snapshot) bool) *Snapshot {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if s := snapshot(); ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			var groups []string
			if s := snapshot(); s != nil {
				groups = slices.Sorted(maps.Keys(s.Groups))
			}
			t.Fatalf("%s: not within 10 s (groups in the view: %v)", what, groups)
		}
		select {
		case <-w.changed:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// resourceNames lists the names of rs.
func resourceNames(rs []Resource) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

package agent

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"wolfpack/internal/clusterdb"
)

// Every live node logs the membership changes it sees: 1062 for a node that joined,
// 1135 for one that left (the coordinator's death included); none for itself, none on
// the first snapshot.
func TestReportMembership(t *testing.T) {
	var got []string
	report := func(_ context.Context, id uint32, strs ...string) {
		got = append(got, fmt.Sprint(id, strs))
	}
	a, err := New(Options{Name: "N2", DB: clusterdb.New(nil), Runner: nopRunner{}, Report: report})
	if err != nil {
		t.Fatal(err)
	}
	nodes := []clusterdb.Node{{Name: "N1", ID: 1}, {Name: "N2", ID: 2}, {Name: "N3", ID: 3}}
	s1 := snapshot(nodes, []string{"N1", "N2"})
	a.reportMembership(context.Background(), nil, s1)
	if len(got) != 0 {
		t.Fatalf("first snapshot reported %q", got)
	}
	s2 := snapshot(nodes, []string{"N2", "N3"}) // N1 (say, the coordinator) left, N3 joined
	a.reportMembership(context.Background(), s1, s2)
	slices.Sort(got)
	want := []string{
		fmt.Sprint(EventNodeJoined, []string{"N3", "wolfpack"}),
		fmt.Sprint(EventNodeRemoved, []string{"N1"}),
	}
	if !slices.Equal(got, want) {
		t.Errorf("reported %q, want %q", got, want)
	}
	got = nil
	a.reportMembership(context.Background(), s2, snapshot(nodes, []string{"N3"})) // its own session lost
	a.reportMembership(context.Background(), s2, s2)
	if len(got) != 0 {
		t.Errorf("reported %q for itself or no change", got)
	}
}

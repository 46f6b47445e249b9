package agent

import (
	"context"
	"testing"

	"wolfpack/internal/clusterdb"
)

type nopRunner struct{}

func (nopRunner) Online(context.Context, clusterdb.Resource) error { return nil }
func (nopRunner) Offline(context.Context, string) error            { return nil }
func (nopRunner) Terminate(context.Context, string)                {}

func snapshot(nodes []clusterdb.Node, alive []string) *clusterdb.Snapshot {
	s := &clusterdb.Snapshot{Nodes: map[string]clusterdb.Node{}, Members: map[string]clusterdb.Member{},
		Groups: map[string]clusterdb.Group{}, Resources: map[string]clusterdb.Resource{}, Owners: map[string]clusterdb.Owner{}}
	for _, n := range nodes {
		s.Nodes[clusterdb.Key(n.Name)] = n
	}
	for _, a := range alive {
		s.Members[clusterdb.Key(a)] = clusterdb.Member{Name: a}
	}
	return s
}

func TestPick(t *testing.T) {
	a, err := New(Options{Name: "N1", DB: clusterdb.New(nil), Runner: nopRunner{}})
	if err != nil {
		t.Fatal(err)
	}
	nodes := []clusterdb.Node{{Name: "N1", ID: 1}, {Name: "N2", ID: 2}, {Name: "N3", ID: 3}, {Name: "W", ID: 4, Witness: true}, {Name: "P", ID: 5, Paused: true}}
	s := snapshot(nodes, []string{"N1", "N2", "N3", "W", "P"})
	g := clusterdb.NewGroup("G")
	tests := []struct {
		name      string
		preferred []string
		load      map[string]int
		avoid     string
		possible  []string
		alive     []string
		want      string
	}{
		{name: "least loaded, then lowest ID", load: map[string]int{"n1": 2, "n2": 1, "n3": 1}, want: "N2"},
		{name: "preferred owner first", preferred: []string{"N3", "N1"}, load: map[string]int{"n3": 9}, want: "N3"},
		{name: "preferred owner down", preferred: []string{"N3", "N1"}, alive: []string{"N1", "N2"}, want: "N1"},
		{name: "witness and paused never", preferred: []string{"W", "P"}, load: map[string]int{"n1": 1, "n2": 1, "n3": 1}, want: "N1"},
		{name: "avoid the node it failed on", preferred: []string{"N1"}, avoid: "N1", want: "N2"},
		{name: "avoided node when it is the only one", avoid: "N1", alive: []string{"N1"}, want: "N1"},
		{name: "possible owners", possible: []string{"N3"}, want: "N3"},
		{name: "nobody", possible: []string{"N3"}, alive: []string{"N1"}, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := s
			if tc.alive != nil {
				s = snapshot(nodes, tc.alive)
			}
			s.Resources = map[string]clusterdb.Resource{"r": {Name: "R", Group: "G", PossibleOwners: tc.possible}}
			g.PreferredOwners = tc.preferred
			if got := a.pick(s, g, tc.load, tc.avoid); got != tc.want {
				t.Errorf("pick = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOrderAndGroupState(t *testing.T) {
	rs := []clusterdb.Resource{
		{Name: "App", Dependencies: []string{"ip", "Disk"}},
		{Name: "IP", Dependencies: []string{"Disk"}},
		{Name: "Disk"},
	}
	var got []string
	for _, r := range order(rs) {
		got = append(got, r.Name)
	}
	if want := []string{"Disk", "IP", "App"}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("order = %v, want %v", got, want)
	}
	for _, tc := range []struct {
		states []string
		want   string
	}{
		{[]string{"Online", "Online"}, "Online"},
		{[]string{"Online", "Offline"}, "PartialOnline"},
		{[]string{"Offline", "Offline"}, "Offline"},
		{[]string{"Online", "Failed"}, "Failed"},
		{[]string{"Online", "OnlinePending"}, "Pending"},
	} {
		if got := GroupStateOf(tc.states, 1); got != tc.want {
			t.Errorf("GroupStateOf(%v) = %s, want %s", tc.states, got, tc.want)
		}
	}
	if got := GroupStateOf(nil, 0); got != "Offline" {
		t.Errorf("empty offline group: %s", got)
	}
}

func TestInWindow(t *testing.T) {
	for _, tc := range []struct {
		hour       int
		start, end int32
		want       bool
	}{{3, -1, -1, true}, {3, 1, 5, true}, {5, 1, 5, false}, {23, 22, 2, true}, {1, 22, 2, true}, {12, 22, 2, false}} {
		if got := inWindow(tc.hour, tc.start, tc.end); got != tc.want {
			t.Errorf("inWindow(%d, %d, %d) = %v", tc.hour, tc.start, tc.end, got)
		}
	}
}

package agent

import (
	"context"
	"fmt"
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
			p := &placer{a: a, s: s, load: tc.load, classes: map[string]map[string]int{}}
			if got := p.pick(g, tc.avoid); got != tc.want {
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

// TestPlacerAntiAffinity: groups that share an AntiAffinityClassNames entry avoid each
// other's nodes; preferred owners apply among the free nodes; when every node hosts one,
// the group goes to one anyway, unless the cluster enforces anti-affinity.
func TestPlacerAntiAffinity(t *testing.T) {
	a, err := New(Options{Name: "N1", DB: clusterdb.New(nil), Runner: nopRunner{}})
	if err != nil {
		t.Fatal(err)
	}
	nodes := []clusterdb.Node{{Name: "N1", ID: 1}, {Name: "N2", ID: 2}, {Name: "N3", ID: 3}}
	s := snapshot(nodes, []string{"N1", "N2", "N3"})
	s.Groups = map[string]clusterdb.Group{
		"sql1": {Name: "SQL1", AntiAffinityClassNames: []string{"SQL"}},
		"sql2": {Name: "SQL2", AntiAffinityClassNames: []string{"sql", "Other"}},
		"web":  {Name: "Web"},
	}
	s.Owners = map[string]clusterdb.Owner{"sql1": {Node: "N1"}, "sql2": {Node: "N2"}, "web": {Node: "N3"}}
	g := clusterdb.Group{Name: "SQL3", AntiAffinityClassNames: []string{"SQL"}, PreferredOwners: []string{"N1", "N2", "N3"}}
	p := a.newPlacer(s)
	if got := p.pick(g, ""); got != "N3" {
		t.Errorf("SQL3 placed on %q, want N3 (N1 and N2 host SQL groups; class names are case-insensitive)", got)
	}
	p.placed(g, "N3")
	g4 := clusterdb.Group{Name: "SQL4", AntiAffinityClassNames: []string{"SQL"}}
	if got := p.pick(g4, ""); got != "N1" {
		t.Errorf("SQL4 with every node hosting an SQL group: %q, want N1 (the least loaded, anyway)", got)
	}
	p.enforced = true
	if got := p.pick(g4, ""); got != "" {
		t.Errorf("SQL4 under ClusterEnforcedAntiAffinity: %q, want none (stays offline)", got)
	}
	// A group does not conflict with itself: SQL1 stays a candidate for N1.
	p.enforced = false
	sql1 := s.Groups["sql1"]
	if p.conflicts(sql1, "N1") {
		t.Error("SQL1 conflicts with itself on N1")
	}
}

// TestPlacerSpreads: the groups of a lost node go to the least loaded survivors, one
// placement at a time, weighted by their resources.
func TestPlacerSpreads(t *testing.T) {
	a, err := New(Options{Name: "N1", DB: clusterdb.New(nil), Runner: nopRunner{}})
	if err != nil {
		t.Fatal(err)
	}
	var nodes []clusterdb.Node
	var alive []string
	for i := 1; i <= 10; i++ {
		n := fmt.Sprintf("N%d", i)
		nodes = append(nodes, clusterdb.Node{Name: n, ID: i})
		if i != 10 {
			alive = append(alive, n)
		}
	}
	s := snapshot(nodes, alive)
	var lost []clusterdb.Group
	for i := range 90 {
		g := clusterdb.Group{Name: fmt.Sprintf("G%02d", i)}
		s.Groups[clusterdb.Key(g.Name)] = g
		owner := fmt.Sprintf("N%d", i%10+1)
		s.Owners[clusterdb.Key(g.Name)] = clusterdb.Owner{Node: owner}
		for j := range 10 {
			r := fmt.Sprintf("%s-R%d", g.Name, j)
			s.Resources[clusterdb.Key(r)] = clusterdb.Resource{Name: r, Group: g.Name}
		}
		if owner == "N10" {
			lost = append(lost, g)
		}
	}
	// N1 also runs a group of 50 resources: it is the most loaded.
	s.Groups["big"] = clusterdb.Group{Name: "Big"}
	s.Owners["big"] = clusterdb.Owner{Node: "N1"}
	for j := range 50 {
		r := fmt.Sprintf("Big-R%d", j)
		s.Resources[clusterdb.Key(r)] = clusterdb.Resource{Name: r, Group: "Big"}
	}
	p := a.newPlacer(s)
	got := map[string]int{}
	for _, g := range lost {
		n := p.pick(g, "")
		got[n]++
		p.placed(g, n)
	}
	if len(got) != 8 || got["N1"] != 0 || got["N10"] != 0 {
		t.Errorf("the lost node's 9 groups went to %v: want them spread over N2…N9 (N1 is loaded, N10 is down)", got)
	}
}

package agent

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"wolfpack/internal/clusterdb"
)

func TestCollector(t *testing.T) {
	a, err := New(Options{Name: "N1", DB: clusterdb.New(nil), Runner: nopRunner{}})
	if err != nil {
		t.Fatal(err)
	}
	s := snapshot([]clusterdb.Node{{Name: "N1", ID: 1}, {Name: "N2", ID: 2}}, []string{"N1", "N2"})
	s.Members["n1"] = clusterdb.Member{Name: "N1", Lease: 7}
	s.Groups = map[string]clusterdb.Group{"g1": {Name: "G1"}, "g2": {Name: "G2"}, "g3": {Name: "G3", PersistentState: 1}}
	s.Owners = map[string]clusterdb.Owner{"g1": {Node: "N1", Revision: 5}, "g2": {Node: "N1", Revision: 6}}
	s.Resources = map[string]clusterdb.Resource{"r1": {Name: "R1", Group: "G1"}, "r2": {Name: "R2", Group: "G2"}, "r3": {Name: "R3", Group: "G3"}}
	states := map[string]clusterdb.GroupState{
		"g1": {State: clusterdb.StateOnline, Node: "N1"},
		"g2": {State: clusterdb.StateOnline, Node: "N2"}, // not the owner's report: stale
	}
	a.groupStates = func(context.Context) (map[string]clusterdb.GroupState, error) { return states, nil }
	s.GroupStates = map[string]clusterdb.GroupState{}
	s.Moves = map[string]clusterdb.Move{}
	a.wholeView = func(context.Context) (*clusterdb.Snapshot, error) { return s, nil }
	a.failovers.Add(3)
	reg := prometheus.NewRegistry()
	reg.MustRegister(a.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "{" + l.GetName() + "=" + l.GetValue() + "}"
			}
			switch {
			case m.GetGauge() != nil:
				got[name] = m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				got[name] = m.GetCounter().GetValue()
			}
		}
	}
	want := map[string]float64{
		"wolfpack_cluster_nodes_up":                    2,
		"wolfpack_cluster_failovers_total":             3,
		"wolfpack_cluster_groups{state=Online}":        1, // G1
		"wolfpack_cluster_groups{state=Offline}":       1, // G2: its report is not its owner's
		"wolfpack_cluster_groups{state=Pending}":       1, // G3: wanted online, no owner yet
		"wolfpack_cluster_groups{state=Failed}":        0,
		"wolfpack_cluster_groups{state=PartialOnline}": 0,
		"wolfpack_cluster_coordinator":                 0,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}

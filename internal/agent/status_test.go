package agent

import (
	"testing"

	"wolfpack/internal/clusterdb"
)

// TestGroupStatusFailedFromRecordOnlyForGroupFailure: a group shows Failed from its state
// record only for the group's own failure (its failover threshold, which the record's
// Error says); a Failed record without one — an owner's record written before the
// resources' newer reports, which say Offline — does not make the group Failed.
func TestGroupStatusFailedFromRecordOnlyForGroupFailure(t *testing.T) {
	s := snapshot([]clusterdb.Node{{Name: "N1", ID: 1}}, nil)
	s.Members["n1"] = clusterdb.Member{Name: "N1", Lease: 7}
	g := clusterdb.NewGroup("G")
	s.Groups["g"] = g
	s.Owners["g"] = clusterdb.Owner{Node: "N1", Revision: 5}
	s.Resources["r"] = clusterdb.NewResource("R", "Test", "G")
	s.ResourceStates = map[string]clusterdb.ResourceState{"r": {State: clusterdb.StateOffline, Node: "N1", Session: 7}}
	s.Moves = map[string]clusterdb.Move{}
	for _, tc := range []struct {
		name string
		gs   clusterdb.GroupState
		want string
	}{
		{"a stale Failed record, no group failure", clusterdb.GroupState{State: clusterdb.StateFailed, Node: "N1"}, clusterdb.StateOffline},
		{"the group's failover threshold", clusterdb.GroupState{State: clusterdb.StateFailed, Node: "N1", Error: "failover threshold reached"}, clusterdb.StateFailed},
		{"another node's record", clusterdb.GroupState{State: clusterdb.StateFailed, Node: "N2", Error: "failover threshold reached"}, clusterdb.StateOffline},
	} {
		s.GroupStates = map[string]clusterdb.GroupState{"g": tc.gs}
		if got := groupStatus(s, g).State; got != tc.want {
			t.Errorf("%s: group state %s, want %s", tc.name, got, tc.want)
		}
	}
}

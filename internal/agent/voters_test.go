package agent

import (
	"testing"
	"time"

	"wolfpack/internal/clusterdb"
)

// TestPlanVoters pins the voter keeper's decisions, one step at a time.
func TestPlanVoters(t *testing.T) {
	voter := func(id uint64) *clusterdb.EtcdMember { return &clusterdb.EtcdMember{ID: id} }
	learner := func(id uint64) *clusterdb.EtcdMember { return &clusterdb.EtcdMember{ID: id, Learner: true} }
	up := func(name string, id int, m *clusterdb.EtcdMember) voterNode {
		return voterNode{Name: name, ID: id, Alive: true, Member: m}
	}
	down := func(name string, id int, m *clusterdb.EtcdMember, gone time.Duration) voterNode {
		return voterNode{Name: name, ID: id, GoneFor: gone, Member: m}
	}
	pinned := func(n voterNode) voterNode { n.Pinned = true; return n }
	novote := func(n voterNode) voterNode { n.NoVote = true; return n }
	witness := func(n voterNode) voterNode { n.Witness = true; return n }
	stuck := func(n voterNode) voterNode { n.LearnerFor = 2 * learnerTimeout; return n }
	cfg3 := clusterdb.Voting{Voters: 3, ReplaceAfter: 30}
	cfg5 := clusterdb.Voting{Voters: 5, ReplaceAfter: 30}
	now := time.Now()
	tests := []struct {
		name    string
		cfg     clusterdb.Voting
		nodes   []voterNode
		pending map[string]clusterdb.RoleRequest
		excess  time.Duration
		want    voterAction
	}{
		{name: "one node: nothing to do", cfg: cfg3, nodes: []voterNode{up("N1", 1, voter(1))}},
		{name: "two voters, not for long: wait", cfg: cfg3, excess: 10 * time.Second,
			nodes: []voterNode{up("N1", 1, voter(1)), up("N2", 2, voter(2))}},
		{name: "two voters for long: the newer stops voting", cfg: cfg3, excess: 31 * time.Second,
			nodes: []voterNode{up("N1", 1, voter(1)), up("N2", 2, voter(2))},
			want:  voterAction{Kind: actDemote, Node: "N2"}},
		{name: "three nodes, two voters: promote the third", cfg: cfg3,
			nodes: []voterNode{up("N1", 1, voter(1)), up("N2", 2, nil), up("N3", 3, voter(3))},
			want:  voterAction{Kind: actPromote, Node: "N2"}},
		{name: "three voters, two non-voters: nothing", cfg: cfg3,
			nodes: []voterNode{up("N1", 1, voter(1)), up("N2", 2, voter(2)), up("N3", 3, voter(3)), up("N4", 4, nil), up("N5", 5, nil)}},
		{name: "a voter gone, not for long: wait", cfg: cfg3,
			nodes: []voterNode{up("N1", 1, voter(1)), down("N2", 2, voter(2), 10*time.Second), up("N3", 3, voter(3)), up("N4", 4, nil)}},
		{name: "a voter gone for long with a replacement: remove it first", cfg: cfg3,
			nodes: []voterNode{up("N1", 1, voter(1)), down("N2", 2, voter(2), 31*time.Second), up("N3", 3, voter(3)), up("N4", 4, nil)},
			want:  voterAction{Kind: actRemove, Node: "N2", Member: 2}},
		{name: "then promote the replacement", cfg: cfg3,
			nodes: []voterNode{up("N1", 1, voter(1)), down("N2", 2, nil, 32*time.Second), up("N3", 3, voter(3)), up("N4", 4, nil)},
			want:  voterAction{Kind: actPromote, Node: "N4"}},
		{name: "a voter gone for long without a replacement: kept", cfg: cfg3,
			nodes: []voterNode{up("N1", 1, voter(1)), down("N2", 2, voter(2), time.Hour), up("N3", 3, voter(3))}},
		{name: "a learner on its way: wait", cfg: cfg3,
			nodes: []voterNode{up("N1", 1, voter(1)), up("N2", 2, learner(2)), up("N3", 3, nil)}},
		{name: "a learner of a node not up yet (it joins): wait", cfg: cfg3,
			nodes: []voterNode{up("N1", 1, voter(1)), down("N2", 2, learner(2), time.Hour), up("N3", 3, nil)}},
		{name: "a learner stuck, its node gone: removed", cfg: cfg3,
			nodes: []voterNode{up("N1", 1, voter(1)), stuck(down("N2", 2, learner(2), time.Hour)), up("N3", 3, nil)},
			want:  voterAction{Kind: actRemoveLearner, Node: "N2", Member: 2}},
		{name: "a pending request: wait", cfg: cfg3, pending: map[string]clusterdb.RoleRequest{"n2": {Role: clusterdb.RoleVoter, Since: now}},
			nodes: []voterNode{up("N1", 1, voter(1)), up("N2", 2, nil), up("N3", 3, voter(3))}},
		{name: "a request to a dead node: cancelled", cfg: cfg3, pending: map[string]clusterdb.RoleRequest{"n2": {Role: clusterdb.RoleVoter, Since: now}},
			nodes: []voterNode{up("N1", 1, voter(1)), down("N2", 2, nil, time.Second), up("N3", 3, voter(3))},
			want:  voterAction{Kind: actCancel, Node: "N2"}},
		{name: "a request too old: cancelled", cfg: cfg3, pending: map[string]clusterdb.RoleRequest{"n2": {Role: clusterdb.RoleVoter, Since: now.Add(-3 * time.Minute)}},
			nodes: []voterNode{up("N1", 1, voter(1)), up("N2", 2, nil), up("N3", 3, voter(3))},
			want:  voterAction{Kind: actCancel, Node: "N2"}},
		{name: "pinned non-voter: promoted", cfg: cfg3,
			nodes: []voterNode{up("N1", 1, voter(1)), up("N2", 2, voter(2)), up("N3", 3, voter(3)), pinned(up("N4", 4, nil)), up("N5", 5, nil)},
			want:  voterAction{Kind: actPromote, Node: "N4"}},
		{name: "then the newest unpinned voter stops, at once", cfg: cfg3,
			nodes: []voterNode{up("N1", 1, voter(1)), up("N2", 2, voter(2)), up("N3", 3, voter(3)), pinned(up("N4", 4, voter(4)))},
			want:  voterAction{Kind: actDemote, Node: "N3"}},
		{name: "NodeWeight=0 on a voter: a replacement first", cfg: cfg3,
			nodes: []voterNode{novote(up("N1", 1, voter(1))), up("N2", 2, voter(2)), up("N3", 3, voter(3)), up("N4", 4, nil)},
			want:  voterAction{Kind: actPromote, Node: "N4"}},
		{name: "then it stops voting", cfg: cfg3,
			nodes: []voterNode{novote(up("N1", 1, voter(1))), up("N2", 2, voter(2)), up("N3", 3, voter(3)), up("N4", 4, voter(4))},
			want:  voterAction{Kind: actDemote, Node: "N1"}},
		{name: "NodeWeight=0 never promoted", cfg: cfg3,
			nodes: []voterNode{up("N1", 1, voter(1)), novote(up("N2", 2, nil)), up("N3", 3, voter(3))}},
		{name: "five wanted, four capable: three", cfg: cfg5,
			nodes: []voterNode{up("N1", 1, voter(1)), up("N2", 2, voter(2)), up("N3", 3, voter(3)), up("N4", 4, nil)}},
		{name: "five wanted, five capable: promote", cfg: cfg5,
			nodes: []voterNode{up("N1", 1, voter(1)), up("N2", 2, voter(2)), up("N3", 3, voter(3)), up("N4", 4, nil), up("N5", 5, nil)},
			want:  voterAction{Kind: actPromote, Node: "N4"}},
		{name: "a witness is promoted before other nodes", cfg: cfg3,
			nodes: []voterNode{up("N1", 1, voter(1)), up("N2", 2, nil), witness(up("W", 3, nil))},
			want:  voterAction{Kind: actPromote, Node: "W"}},
		{name: "a witness is never the one to stop", cfg: cfg3, excess: time.Hour,
			nodes: []voterNode{up("N1", 1, voter(1)), witness(up("W", 9, voter(9))), up("N2", 2, voter(2)), up("N3", 3, voter(3))},
			want:  voterAction{Kind: actDemote, Node: "N3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := planVoters(voterInput{Cfg: tc.cfg, Nodes: tc.nodes, Pending: tc.pending, Now: now, ExcessFor: tc.excess})
			got.Why = ""
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

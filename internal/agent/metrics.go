package agent

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"wolfpack/internal/clusterdb"
)

// Collector returns the agent's Prometheus metrics: nodes up, groups per state (as this
// node last saw the database) and the failovers this node carried out.
func (a *Agent) Collector() prometheus.Collector { return &collector{a: a} }

type collector struct{ a *Agent }

var (
	descNodesUp = prometheus.NewDesc("wolfpack_cluster_nodes_up", "Cluster nodes with a live session.", nil, nil)
	descGroups  = prometheus.NewDesc("wolfpack_cluster_groups", "Groups by state.", []string{"state"}, nil)
	descFailovr = prometheus.NewDesc("wolfpack_cluster_failovers_total", "Groups this node failed over (as owner or coordinator).", nil, nil)
	descCoord   = prometheus.NewDesc("wolfpack_cluster_coordinator", "1 when this node is the elected coordinator.", nil, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descNodesUp
	ch <- descGroups
	ch <- descFailovr
	ch <- descCoord
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	// The whole view: the coordinator's own, else read now (a node's own view has only
	// the groups it owns).
	var s *clusterdb.Snapshot
	if f := c.a.full.Load(); f != nil {
		s = f.Snapshot()
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s, _ = c.a.wholeView(ctx)
		cancel()
	}
	up := 0
	counts := map[string]int{}
	for _, st := range []string{clusterdb.StateOnline, clusterdb.StateOffline, clusterdb.StatePartialOnline, clusterdb.StateFailed, clusterdb.StatePending} {
		counts[st] = 0
	}
	if s != nil {
		up = len(s.Members)
		// The groups' states as their owners reported them, read now: no node but
		// the coordinator follows them.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		states, err := c.a.groupStates(ctx)
		cancel()
		if err == nil {
			for k, g := range s.Groups {
				counts[reportedGroupState(s, g, states[k])]++
			}
		}
	}
	ch <- prometheus.MustNewConstMetric(descNodesUp, prometheus.GaugeValue, float64(up))
	for st, n := range counts {
		ch <- prometheus.MustNewConstMetric(descGroups, prometheus.GaugeValue, float64(n), st)
	}
	ch <- prometheus.MustNewConstMetric(descFailovr, prometheus.CounterValue, float64(c.a.FailoversTotal()))
	coord := 0.0
	if c.a.IsCoordinator() {
		coord = 1
	}
	ch <- prometheus.MustNewConstMetric(descCoord, prometheus.GaugeValue, coord)
}

// reportedGroupState is a group's state from its owner's report: Offline when the report
// is not the current, live owner's; Pending while a move is asked for.
func reportedGroupState(s *clusterdb.Snapshot, g clusterdb.Group, st clusterdb.GroupState) string {
	k := clusterdb.Key(g.Name)
	own := s.Owners[k]
	if _, moving := s.Moves[k]; moving {
		return clusterdb.StatePending
	}
	if own.Node == "" {
		if g.PersistentState == 1 && len(s.GroupResources(g.Name)) > 0 {
			return clusterdb.StatePending // wanted online, no owner yet
		}
		return clusterdb.StateOffline
	}
	if !s.Alive(own.Node) || !strings.EqualFold(st.Node, own.Node) || st.State == "" {
		return clusterdb.StateOffline
	}
	return st.State
}

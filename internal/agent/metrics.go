package agent

import (
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
	s := c.a.Snapshot()
	up := 0
	counts := map[string]int{}
	for _, st := range []string{clusterdb.StateOnline, clusterdb.StateOffline, clusterdb.StatePartialOnline, clusterdb.StateFailed, clusterdb.StatePending} {
		counts[st] = 0
	}
	if s != nil {
		up = len(s.Members)
		for _, g := range s.Groups {
			counts[groupStatus(s, g).State]++
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

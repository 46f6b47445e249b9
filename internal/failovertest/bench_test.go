package failovertest

import (
	"testing"
	"time"
)

// BenchmarkFailover measures each failure's recovery, one failure per iteration, on one
// three-node cluster (set up outside the timer, which means nothing here: the figures
// are the reported metrics). Run with a count of failures:
//
//	go test -run '^$' -bench Failover -benchtime 20x -timeout 60m ./internal/failovertest
func BenchmarkFailover(b *testing.B) {
	report := func(b *testing.B, d durations, unit string) {
		b.ReportMetric(float64(d.quantile(0.5))/float64(time.Millisecond), "median-"+unit)
		b.ReportMetric(float64(d.quantile(0.99))/float64(time.Millisecond), "p99-"+unit)
		b.ReportMetric(float64(d.quantile(1))/float64(time.Millisecond), "max-"+unit)
		b.Logf("%s: %v", unit, d)
	}
	run := func(b *testing.B, o clusterOptions, s scenario, first, second string) {
		c := newGroupCluster(b, o)
		b.ResetTimer()
		d1, d2 := runCycles(c, b.N, s)
		b.StopTimer()
		report(b, d1, first)
		if second != "" {
			report(b, d2, second)
		}
	}
	b.Run("daemon-kill9", func(b *testing.B) { run(b, clusterOptions{}, crashScenario(false, false), "ms", "") })
	b.Run("coordinator-leader-kill9", func(b *testing.B) { run(b, clusterOptions{}, crashScenario(false, true), "ms", "") })
	b.Run("machine-loss", func(b *testing.B) { run(b, clusterOptions{}, crashScenario(true, false), "ms", "") })
	b.Run("freeze-8s", func(b *testing.B) { run(b, clusterOptions{}, freezeScenario(8*time.Second), "ms", "margin-ms") })
	b.Run("etcd-leader-loss", func(b *testing.B) { run(b, clusterOptions{}, leaderLossScenario, "pause-ms", "") })
	b.Run("partition", func(b *testing.B) {
		nn := newNetnet(b, 3)
		run(b, clusterOptions{addrs: nn.addrs, netns: nn.netns}, partitionScenario(nn), "ms", "margin-ms")
	})
}

package checkpoint

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Manager's Prometheus metrics. A nil *Metrics records nothing.
type Metrics struct {
	captures    *prometheus.CounterVec
	captureTime prometheus.Histogram
	bytes       prometheus.Counter
	restores    *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		captures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wolfpack_checkpoint_captures_total",
			Help: "Registry checkpoint captures by result: committed, unchanged, failed, fenced.",
		}, []string{"result"}),
		captureTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "wolfpack_checkpoint_capture_seconds",
			Help:    "Time to save a checkpointed subtree and commit it to the cluster database.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wolfpack_checkpoint_committed_bytes_total",
			Help: "Bytes of registry checkpoints committed to the cluster database.",
		}),
		restores: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wolfpack_checkpoint_restores_total",
			Help: "Registry checkpoint restores before online by result: restored, none, refused, forced, waited, failed.",
		}, []string{"result"}),
	}
	reg.MustRegister(m.captures, m.captureTime, m.bytes, m.restores)
	return m
}

func (m *Metrics) capture(result string, took time.Duration, size int64) {
	if m == nil {
		return
	}
	m.captures.WithLabelValues(result).Inc()
	if result == "committed" {
		m.captureTime.Observe(took.Seconds())
		m.bytes.Add(float64(size))
	}
}

func (m *Metrics) restore(result string) {
	if m == nil {
		return
	}
	m.restores.WithLabelValues(result).Inc()
}

package regipc

import (
	"github.com/prometheus/client_golang/prometheus"

	"wolfpack/internal/regipc/wire"
)

// metrics counts the socket's connections and requests. The per-op counters are resolved
// once, so counting a request costs an atomic add and no allocation.
type metrics struct {
	conns    prometheus.Gauge
	requests [wire.OpUnload + 1]prometheus.Counter
	failures [wire.OpUnload + 1]prometheus.Counter
	bad      prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		conns: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wolfpack_registry_socket_connections",
			Help: "Open connections (clients) of the registry socket.",
		}),
		bad: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wolfpack_registry_socket_malformed_requests_total",
			Help: "Requests on the registry socket that could not be decoded.",
		}),
	}
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wolfpack_registry_socket_requests_total",
		Help: "Requests on the registry socket by operation.",
	}, []string{"op"})
	failures := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wolfpack_registry_socket_failures_total",
		Help: "Requests on the registry socket answered with a Windows error, by operation.",
	}, []string{"op"})
	for op := wire.OpPing; op <= wire.OpUnload; op++ {
		m.requests[op] = requests.WithLabelValues(op.String())
		m.failures[op] = failures.WithLabelValues(op.String())
	}
	if reg != nil {
		reg.MustRegister(m.conns, m.bad, requests, failures)
	}
	return m
}

// request counts a decoded request and whether it failed.
func (m *metrics) request(op wire.Op, failed bool) {
	if op < wire.OpPing || op > wire.OpUnload {
		m.bad.Inc()
		return
	}
	m.requests[op].Inc()
	if failed {
		m.failures[op].Inc()
	}
}

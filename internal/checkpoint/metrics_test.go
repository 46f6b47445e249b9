package checkpoint

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// metricValue returns the value of the counter (or the sample count of the histogram)
// name with the label result=result ("" for none).
func metricValue(t *testing.T, reg *prometheus.Registry, name, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := result == ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					match = true
				}
			}
			if !match {
				continue
			}
			if h := m.GetHistogram(); h != nil {
				return float64(h.GetSampleCount())
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func TestMetrics(t *testing.T) {
	fx := newFixture(t, "Continue")
	reg := prometheus.NewRegistry()
	fx.m.cfg.Metrics = NewMetrics(reg)
	ctx := context.Background()
	fx.m.Online(ctx, fx.res, fx.fence)
	fx.reg.set(imcKey, "v1")
	if !eventually(func() bool { return metricValue(t, reg, "wolfpack_checkpoint_captures_total", "committed") == 1 }) {
		t.Fatal("committed capture not counted")
	}
	fx.m.Offline(ctx, fx.res, fx.fence)
	fx.reg.hold(imcKey, winlogon)
	if err := fx.m.BeforeOnline(ctx, fx.res, fx.fence); err != nil {
		t.Fatal(err)
	}
	if got := metricValue(t, reg, "wolfpack_checkpoint_restores_total", "refused"); got != 1 {
		t.Fatalf("refused restores: %v", got)
	}
	if got := metricValue(t, reg, "wolfpack_checkpoint_capture_seconds", ""); got != 1 {
		t.Fatalf("capture histogram samples: %v", got)
	}
	if got := metricValue(t, reg, "wolfpack_checkpoint_committed_bytes_total", ""); got != 2 {
		t.Fatalf("committed bytes: %v", got)
	}
}

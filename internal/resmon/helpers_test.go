package resmon

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"
)

// fastPolicy is a policy in milliseconds, for tests.
func fastPolicy() Policy {
	return Policy{
		LooksAlivePollInterval: 10 * time.Millisecond,
		IsAlivePollInterval:    40 * time.Millisecond,
		PendingTimeout:         5 * time.Second,
		RestartAction:          RestartNotify,
		RestartThreshold:       3,
		RestartPeriod:          time.Minute,
		RestartDelay:           time.Millisecond,
		RetryPeriodOnFailure:   0,
	}
}

// recorder collects a Monitor's events.
type recorder struct{ ch chan Event }

func newRecorder() *recorder { return &recorder{ch: make(chan Event, 4096)} }

func (r *recorder) record(e Event) { r.ch <- e }

// next returns the next event, failing the test after 10 s.
func (r *recorder) next(t *testing.T) Event {
	t.Helper()
	select {
	case e := <-r.ch:
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
		return Event{}
	}
}

// expect checks that the next event is name: old -> new and returns it.
func (r *recorder) expect(t *testing.T, name string, old, new State) Event {
	t.Helper()
	e := r.next(t)
	if e.Resource != name || e.Old != old || e.New != new {
		t.Fatalf("event %v, want %s: %s -> %s", e, name, old, new)
	}
	return e
}

// none checks that no event is queued.
func (r *recorder) none(t *testing.T) {
	t.Helper()
	select {
	case e := <-r.ch:
		t.Fatalf("unexpected event %v", e)
	default:
	}
}

func quietLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newTestMonitor returns a Monitor logging to a temporary directory, closed at the end.
func newTestMonitor(t *testing.T, rec *recorder) *Monitor {
	t.Helper()
	o := Options{LogDir: t.TempDir(), Logger: quietLogger(), StopGracePeriod: 2 * time.Second}
	if rec != nil {
		o.OnEvent = rec.record
	}
	m, err := NewMonitor(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return m
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond every 5 ms until it holds, failing after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func mustState(t *testing.T, m *Monitor, name string, want State) {
	t.Helper()
	got, err := m.State(name)
	if err != nil || got != want {
		t.Fatalf("State(%q) = %v, %v; want %v", name, got, err, want)
	}
}

func errIs(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v, want one that is %v", err, target)
	}
}

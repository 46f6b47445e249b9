package resmon

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func addTest(t *testing.T, m *Monitor, name string, p Policy, private map[string]string) *TestResource {
	t.Helper()
	if err := m.Add(Spec{Name: name, Type: "Test", Private: private, Policy: p}); err != nil {
		t.Fatal(err)
	}
	r, err := m.Resource(name)
	if err != nil {
		t.Fatal(err)
	}
	return r.(*TestResource)
}

func TestOnlineOffline(t *testing.T) {
	rec := newRecorder()
	m := newTestMonitor(t, rec)
	tr := addTest(t, m, "R1", fastPolicy(), nil)
	mustState(t, m, "R1", StateOffline)

	if err := m.Online(ctxT(t), "R1"); err != nil {
		t.Fatal(err)
	}
	mustState(t, m, "R1", StateOnline)
	rec.expect(t, "R1", StateOffline, StateOnlinePending)
	rec.expect(t, "R1", StateOnlinePending, StateOnline)
	if !tr.IsOnline() {
		t.Fatal("test resource not online")
	}
	// Online again is a no-op.
	if err := m.Online(ctxT(t), "R1"); err != nil {
		t.Fatal(err)
	}

	if err := m.Offline(ctxT(t), "R1"); err != nil {
		t.Fatal(err)
	}
	mustState(t, m, "R1", StateOffline)
	rec.expect(t, "R1", StateOnline, StateOfflinePending)
	rec.expect(t, "R1", StateOfflinePending, StateOffline)
	rec.none(t)
	if on, off, term := tr.Calls(); on != 1 || off != 1 || term != 0 {
		t.Fatalf("calls online %d offline %d terminate %d, want 1 1 0", on, off, term)
	}
	if tr.IsOnline() {
		t.Fatal("test resource still online")
	}
}

func TestPendingStateVisible(t *testing.T) {
	rec := newRecorder()
	m := newTestMonitor(t, rec)
	addTest(t, m, "Slow", fastPolicy(), map[string]string{"OnlineDelay": "300", "offlinedelay": "300"})
	done := make(chan error, 1)
	go func() { done <- m.Online(ctxT(t), "Slow") }()
	rec.expect(t, "Slow", StateOffline, StateOnlinePending)
	mustState(t, m, "Slow", StateOnlinePending)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "Slow", StateOnlinePending, StateOnline)

	go func() { done <- m.Offline(ctxT(t), "Slow") }()
	rec.expect(t, "Slow", StateOnline, StateOfflinePending)
	mustState(t, m, "Slow", StateOfflinePending)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "Slow", StateOfflinePending, StateOffline)
}

func TestFailureDetectedAndRestarted(t *testing.T) {
	rec := newRecorder()
	m := newTestMonitor(t, rec)
	tr := addTest(t, m, "R", fastPolicy(), nil)
	if err := m.Online(ctxT(t), "R"); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "R", StateOffline, StateOnlinePending)
	rec.expect(t, "R", StateOnlinePending, StateOnline)

	tr.Fail()
	e := rec.expect(t, "R", StateOnline, StateFailed)
	errIs(t, e.Err, ErrNotAlive)
	if !e.Restarting || e.Failover {
		t.Fatalf("event %v: want Restarting and no Failover", e)
	}
	rec.expect(t, "R", StateFailed, StateOnlinePending)
	rec.expect(t, "R", StateOnlinePending, StateOnline)
	on, _, term := tr.Calls()
	if on != 2 || term != 1 {
		t.Fatalf("onlines %d terminates %d, want 2 and 1", on, term)
	}
	st, _ := m.Status("R")
	if st.Restarts != 1 {
		t.Fatalf("Restarts = %d, want 1", st.Restarts)
	}
}

// checkResource counts checks and answers LooksAlive false, IsAlive true.
type checkResource struct {
	TestResource
	mu          sync.Mutex
	looks, isal int
}

func (c *checkResource) LooksAlive(ctx context.Context) bool {
	c.mu.Lock()
	c.looks++
	c.mu.Unlock()
	return false
}

func (c *checkResource) IsAlive(ctx context.Context) bool {
	c.mu.Lock()
	c.isal++
	c.mu.Unlock()
	return c.TestResource.IsAlive(ctx)
}

func (c *checkResource) counts() (int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.looks, c.isal
}

func TestLooksAliveConfirmedByIsAlive(t *testing.T) {
	rec := newRecorder()
	m := newTestMonitor(t, rec)
	p := fastPolicy()
	p.IsAlivePollInterval = time.Hour // every IsAlive call is a confirmation
	cr := &checkResource{}
	if err := m.AddResource("C", cr, p); err != nil {
		t.Fatal(err)
	}
	if err := m.Online(ctxT(t), "C"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "five LooksAlive calls", func() bool { l, _ := cr.counts(); return l >= 5 })
	l, i := cr.counts()
	if i < l-1 {
		t.Fatalf("%d LooksAlive but %d IsAlive: a false LooksAlive must be confirmed", l, i)
	}
	mustState(t, m, "C", StateOnline)
	rec.expect(t, "C", StateOffline, StateOnlinePending)
	rec.expect(t, "C", StateOnlinePending, StateOnline)
	rec.none(t)

	cr.SetHealth(false, false)
	e := rec.expect(t, "C", StateOnline, StateFailed)
	errIs(t, e.Err, ErrNotAlive)
}

func TestRestartThresholdThenFailover(t *testing.T) {
	for _, tc := range []struct {
		action   RestartAction
		failover bool
	}{{RestartNotify, true}, {RestartNoNotify, false}} {
		t.Run(tc.action.String(), func(t *testing.T) {
			rec := newRecorder()
			m := newTestMonitor(t, rec)
			p := fastPolicy()
			p.RestartAction = tc.action
			p.RestartThreshold = 2
			tr := addTest(t, m, "R", p, nil)
			if err := m.Online(ctxT(t), "R"); err != nil {
				t.Fatal(err)
			}
			rec.expect(t, "R", StateOffline, StateOnlinePending)
			rec.expect(t, "R", StateOnlinePending, StateOnline)
			for i := 1; i <= 2; i++ {
				tr.Fail()
				e := rec.expect(t, "R", StateOnline, StateFailed)
				if !e.Restarting || e.Failover {
					t.Fatalf("failure %d: %v, want a restart", i, e)
				}
				rec.expect(t, "R", StateFailed, StateOnlinePending)
				rec.expect(t, "R", StateOnlinePending, StateOnline)
			}
			tr.Fail()
			e := rec.expect(t, "R", StateOnline, StateFailed)
			if e.Restarting || e.Failover != tc.failover {
				t.Fatalf("third failure: %v, want no restart and Failover=%v", e, tc.failover)
			}
			errIs(t, e.Err, ErrRestartThresholdExceeded)
			errIs(t, e.Err, ErrNotAlive)
			time.Sleep(50 * time.Millisecond) // a restart would have happened by now (RestartDelay 1 ms)
			rec.none(t)
			mustState(t, m, "R", StateFailed)
			if on, _, _ := tr.Calls(); on != 3 {
				t.Fatalf("%d onlines, want 3", on)
			}
			// An administrator's Online starts afresh.
			if err := m.Online(ctxT(t), "R"); err != nil {
				t.Fatal(err)
			}
			rec.expect(t, "R", StateFailed, StateOnlinePending)
			rec.expect(t, "R", StateOnlinePending, StateOnline)
			tr.Fail()
			if e := rec.expect(t, "R", StateOnline, StateFailed); !e.Restarting {
				t.Fatalf("after a manual online: %v, want a restart", e)
			}
		})
	}
}

func TestRestartPeriodForgetsOldRestarts(t *testing.T) {
	rec := newRecorder()
	m := newTestMonitor(t, rec)
	p := fastPolicy()
	p.RestartThreshold = 1
	p.RestartPeriod = 100 * time.Millisecond
	tr := addTest(t, m, "R", p, nil)
	if err := m.Online(ctxT(t), "R"); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "R", StateOffline, StateOnlinePending)
	rec.expect(t, "R", StateOnlinePending, StateOnline)
	for i := range 3 {
		time.Sleep(150 * time.Millisecond) // the previous restart falls out of the period
		tr.Fail()
		if e := rec.expect(t, "R", StateOnline, StateFailed); !e.Restarting {
			t.Fatalf("failure %d: %v, want a restart", i, e)
		}
		rec.expect(t, "R", StateFailed, StateOnlinePending)
		rec.expect(t, "R", StateOnlinePending, StateOnline)
	}
	tr.Fail() // at once: the restart a moment ago is within the period
	if e := rec.expect(t, "R", StateOnline, StateFailed); e.Restarting || !e.Failover {
		t.Fatalf("%v: want the failover signal", e)
	}
}

func TestDontRestart(t *testing.T) {
	rec := newRecorder()
	m := newTestMonitor(t, rec)
	p := fastPolicy()
	p.RestartAction = RestartDontRestart
	tr := addTest(t, m, "R", p, nil)
	if err := m.Online(ctxT(t), "R"); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "R", StateOffline, StateOnlinePending)
	rec.expect(t, "R", StateOnlinePending, StateOnline)
	tr.Fail()
	if e := rec.expect(t, "R", StateOnline, StateFailed); e.Restarting || e.Failover {
		t.Fatalf("%v: want neither restart nor failover", e)
	}
	time.Sleep(50 * time.Millisecond)
	rec.none(t)
	// Offline of a Failed resource: it is already terminated.
	if err := m.Offline(ctxT(t), "R"); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "R", StateFailed, StateOffline)
}

func TestOnlineFailureRestartsThenGivesUp(t *testing.T) {
	rec := newRecorder()
	m := newTestMonitor(t, rec)
	p := fastPolicy()
	p.RestartThreshold = 1
	tr := addTest(t, m, "Bad", p, map[string]string{"FailOnline": "1"})
	err := m.Online(ctxT(t), "Bad")
	errIs(t, err, errTestOnline)
	rec.expect(t, "Bad", StateOffline, StateOnlinePending)
	if e := rec.expect(t, "Bad", StateOnlinePending, StateFailed); !e.Restarting {
		t.Fatalf("%v: want a restart", e)
	}
	rec.expect(t, "Bad", StateFailed, StateOnlinePending)
	e := rec.expect(t, "Bad", StateOnlinePending, StateFailed)
	if !e.Failover {
		t.Fatalf("%v: want failover", e)
	}
	errIs(t, e.Err, errTestOnline)
	if on, _, term := tr.Calls(); on != 2 || term != 2 {
		t.Fatalf("onlines %d terminates %d, want 2 and 2", on, term)
	}
}

func TestRetryPeriodOnFailure(t *testing.T) {
	rec := newRecorder()
	m := newTestMonitor(t, rec)
	p := fastPolicy()
	p.RestartThreshold = 0
	p.RetryPeriodOnFailure = 100 * time.Millisecond
	tr := addTest(t, m, "R", p, nil)
	tr.SetOnlineError(errors.New("disk not there yet"))
	if err := m.Online(ctxT(t), "R"); err == nil {
		t.Fatal("Online succeeded")
	}
	rec.expect(t, "R", StateOffline, StateOnlinePending)
	if e := rec.expect(t, "R", StateOnlinePending, StateFailed); !e.Failover || e.Restarting {
		t.Fatalf("%v: want failover at once (threshold 0)", e)
	}
	tr.SetOnlineError(nil)
	rec.expect(t, "R", StateFailed, StateOnlinePending)
	rec.expect(t, "R", StateOnlinePending, StateOnline)
}

// hangResource's Online ignores its context and never returns until released.
type hangResource struct {
	TestResource
	release chan struct{}
}

func (h *hangResource) Online(ctx context.Context) error {
	<-h.release
	return nil
}

func TestPendingTimeout(t *testing.T) {
	rec := newRecorder()
	m := newTestMonitor(t, rec)
	p := fastPolicy()
	p.PendingTimeout = 100 * time.Millisecond
	p.RestartAction = RestartDontRestart
	h := &hangResource{release: make(chan struct{})}
	defer close(h.release)
	if err := m.AddResource("Hang", h, p); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := m.Online(ctxT(t), "Hang")
	errIs(t, err, ErrPendingTimeout)
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("Online failed after %v, before PendingTimeout", d)
	}
	rec.expect(t, "Hang", StateOffline, StateOnlinePending)
	e := rec.expect(t, "Hang", StateOnlinePending, StateFailed)
	errIs(t, e.Err, ErrPendingTimeout)
	if _, _, term := h.Calls(); term != 1 {
		t.Fatalf("%d terminates, want 1", term)
	}

	// The same through a Test resource whose Online takes longer than PendingTimeout.
	addTest(t, m, "Slow", p, map[string]string{"OnlineDelay": "5000"})
	errIs(t, m.Online(ctxT(t), "Slow"), ErrPendingTimeout)
	mustState(t, m, "Slow", StateFailed)
}

func TestOfflineTimeoutTerminates(t *testing.T) {
	rec := newRecorder()
	m := newTestMonitor(t, rec)
	p := fastPolicy()
	p.PendingTimeout = 100 * time.Millisecond
	tr := addTest(t, m, "R", p, nil)
	if err := m.Online(ctxT(t), "R"); err != nil {
		t.Fatal(err)
	}
	tr.SetDelays(0, time.Hour)
	err := m.Offline(ctxT(t), "R")
	errIs(t, err, ErrPendingTimeout)
	mustState(t, m, "R", StateFailed)
	if _, _, term := tr.Calls(); term != 1 {
		t.Fatalf("%d terminates, want 1", term)
	}
	if tr.IsOnline() {
		t.Fatal("resource still online after Offline")
	}
}

func TestOfflineWhileOnlinePending(t *testing.T) {
	rec := newRecorder()
	m := newTestMonitor(t, rec)
	tr := addTest(t, m, "R", fastPolicy(), map[string]string{"OnlineDelay": "60000"})
	done := make(chan error, 1)
	go func() { done <- m.Online(ctxT(t), "R") }()
	rec.expect(t, "R", StateOffline, StateOnlinePending)
	if err := m.Offline(ctxT(t), "R"); err != nil {
		t.Fatal(err)
	}
	errIs(t, <-done, ErrSuperseded)
	rec.expect(t, "R", StateOnlinePending, StateOffline)
	mustState(t, m, "R", StateOffline)
	if tr.IsOnline() {
		t.Fatal("resource online")
	}
}

func TestOnlineWhileOfflinePending(t *testing.T) {
	rec := newRecorder()
	m := newTestMonitor(t, rec)
	tr := addTest(t, m, "R", fastPolicy(), map[string]string{"OfflineDelay": "200"})
	if err := m.Online(ctxT(t), "R"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Offline(ctxT(t), "R") }()
	rec.expect(t, "R", StateOffline, StateOnlinePending)
	rec.expect(t, "R", StateOnlinePending, StateOnline)
	rec.expect(t, "R", StateOnline, StateOfflinePending)
	if err := m.Online(ctxT(t), "R"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "R", StateOfflinePending, StateOffline)
	rec.expect(t, "R", StateOffline, StateOnlinePending)
	rec.expect(t, "R", StateOnlinePending, StateOnline)
	if !tr.IsOnline() {
		t.Fatal("resource not online")
	}
}

func TestTerminateRemoveClose(t *testing.T) {
	rec := newRecorder()
	m := newTestMonitor(t, rec)
	tr := addTest(t, m, "R", fastPolicy(), nil)
	if err := m.Online(ctxT(t), "R"); err != nil {
		t.Fatal(err)
	}
	errIs(t, m.Remove(ctxT(t), "R"), ErrNotOffline)
	if err := m.Terminate(ctxT(t), "R"); err != nil {
		t.Fatal(err)
	}
	mustState(t, m, "R", StateOffline)
	if _, off, term := tr.Calls(); off != 0 || term != 1 {
		t.Fatalf("offlines %d terminates %d, want 0 and 1", off, term)
	}
	if err := m.Remove(ctxT(t), "R"); err != nil {
		t.Fatal(err)
	}
	errIs(t, m.Online(ctxT(t), "R"), ErrUnknownResource)
	if _, err := m.State("R"); !errors.Is(err, ErrUnknownResource) {
		t.Fatalf("State after Remove: %v", err)
	}
	errIs(t, m.Add(Spec{Name: "X", Type: "No Such Type"}), ErrUnknownType)

	t2 := addTest(t, m, "R2", fastPolicy(), nil)
	if err := m.Online(ctxT(t), "R2"); err != nil {
		t.Fatal(err)
	}
	errIs(t, m.Add(Spec{Name: "R2", Type: "Test"}), ErrExists)
	if err := m.Close(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if t2.IsOnline() {
		t.Fatal("Close left the resource online")
	}
	errIs(t, m.Online(ctxT(t), "R2"), ErrClosed)
	errIs(t, m.Add(Spec{Name: "R3", Type: "Test"}), ErrClosed)
}

func TestSetPolicy(t *testing.T) {
	rec := newRecorder()
	m := newTestMonitor(t, rec)
	p := fastPolicy()
	p.LooksAlivePollInterval = time.Hour
	p.IsAlivePollInterval = time.Hour
	tr := addTest(t, m, "R", p, nil)
	if err := m.Online(ctxT(t), "R"); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "R", StateOffline, StateOnlinePending)
	rec.expect(t, "R", StateOnlinePending, StateOnline)
	tr.Fail() // not noticed for an hour
	if err := m.SetPolicy(ctxT(t), "R", fastPolicy()); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "R", StateOnline, StateFailed)
	if err := m.SetPolicy(ctxT(t), "R", Policy{}); err == nil {
		t.Fatal("SetPolicy accepted a zero policy")
	}
}

// panicResource's Online panics.
type panicResource struct{ TestResource }

func (p *panicResource) Online(ctx context.Context) error { panic("bug in a resource type") }

func TestPanickingResourceFails(t *testing.T) {
	m := newTestMonitor(t, nil)
	p := fastPolicy()
	p.RestartAction = RestartDontRestart
	if err := m.AddResource("P", &panicResource{}, p); err != nil {
		t.Fatal(err)
	}
	err := m.Online(ctxT(t), "P")
	if err == nil || !strings.Contains(err.Error(), "panicked: bug in a resource type") {
		t.Fatalf("Online: %v, want the panic as an error", err)
	}
	mustState(t, m, "P", StateFailed)
}

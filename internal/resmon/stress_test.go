package resmon

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// TestRandomCommands drives several resources with concurrent random Online, Offline,
// Terminate and failures, then checks that every resource's events form one unbroken
// chain (each Old is the previous New), that the calls answered only with the errors
// they may give, and that everything ends Offline with nothing running.
func TestRandomCommands(t *testing.T) {
	rec := newRecorder()
	m := newTestMonitor(t, rec)
	const n = 4
	p := fastPolicy()
	p.PendingTimeout = 30 * time.Millisecond
	p.RestartThreshold = 2
	p.RetryPeriodOnFailure = 20 * time.Millisecond
	trs := make([]*TestResource, n)
	for i := range n {
		trs[i] = addTest(t, m, fmt.Sprint("R", i), p, nil)
	}
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			for range 60 {
				i := rng.IntN(n)
				name := fmt.Sprint("R", i)
				tr := trs[i]
				var err error
				switch rng.IntN(6) {
				case 0, 1:
					err = m.Online(ctxT(t), name)
				case 2:
					err = m.Offline(ctxT(t), name)
				case 3:
					err = m.Terminate(ctxT(t), name)
				case 4:
					tr.Fail()
				case 5:
					tr.SetDelays(time.Duration(rng.IntN(40))*time.Millisecond, time.Duration(rng.IntN(40))*time.Millisecond)
				}
				if err != nil && !errors.Is(err, ErrSuperseded) && !errors.Is(err, ErrPendingTimeout) &&
					!errors.Is(err, ErrNotAlive) && !errors.Is(err, ErrRestartThresholdExceeded) {
					t.Errorf("%s: unexpected error %v", name, err)
				}
				time.Sleep(time.Duration(rng.IntN(5)) * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	for i := range n {
		trs[i].SetDelays(0, 0)
		name := fmt.Sprint("R", i)
		if err := m.Offline(ctxT(t), name); err != nil && !errors.Is(err, ErrPendingTimeout) {
			t.Errorf("final Offline %s: %v", name, err)
		}
		if err := m.Terminate(ctxT(t), name); err != nil {
			t.Errorf("final Terminate %s: %v", name, err)
		}
		mustState(t, m, name, StateOffline)
		if trs[i].IsOnline() {
			t.Errorf("%s still online", name)
		}
	}
	if err := m.Close(ctxT(t)); err != nil { // delivers every event
		t.Fatal(err)
	}
	last := map[string]State{}
	count := 0
	for {
		select {
		case e := <-rec.ch:
			count++
			prev, ok := last[e.Resource]
			if !ok {
				prev = StateOffline
			}
			if e.Old != prev {
				t.Fatalf("event %v: previous state was %s", e, prev)
			}
			if e.New == e.Old && e.New != StateFailed {
				t.Fatalf("event %v changes nothing", e)
			}
			last[e.Resource] = e.New
			continue
		default:
		}
		break
	}
	for name, s := range last {
		if s != StateOffline {
			t.Errorf("%s ends %s", name, s)
		}
	}
	t.Logf("%d events", count)
}

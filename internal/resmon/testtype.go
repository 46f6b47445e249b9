package resmon

import (
	"context"
	"errors"
	"sync"
	"time"
)

// TestResource is the in-memory "Test" resource type, for tests of the Monitor and of
// the agent: it does nothing but keep its state, and a test steers it. Get the instance
// the Monitor runs with Monitor.Resource(name).(*TestResource), or make one with
// NewTestResource and add it with Monitor.AddResource.
type TestResource struct {
	mu           sync.Mutex
	onlineDelay  time.Duration
	offlineDelay time.Duration
	onlineErr    error
	online       bool
	looksAlive   bool
	isAlive      bool
	onlines      int
	offlines     int
	terminates   int
}

// errTestOnline is what Online returns with FailOnline=1.
var errTestOnline = errors.New("resmon: test resource: online fails (FailOnline=1)")

// NewTestResource returns an offline test resource whose calls succeed at once.
func NewTestResource() *TestResource { return &TestResource{} }

func openTest(name string, p props, e *env) (Resource, error) {
	t := NewTestResource()
	on, err := p.dword("OnlineDelay", 0)
	if err != nil {
		return nil, err
	}
	off, err := p.dword("OfflineDelay", 0)
	if err != nil {
		return nil, err
	}
	fail, err := p.dword("FailOnline", 0)
	if err != nil {
		return nil, err
	}
	t.onlineDelay = time.Duration(on) * time.Millisecond
	t.offlineDelay = time.Duration(off) * time.Millisecond
	if fail != 0 {
		t.onlineErr = errTestOnline
	}
	return t, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Online waits OnlineDelay (or until ctx ends), then fails with the configured error or
// comes online healthy.
func (t *TestResource) Online(ctx context.Context) error {
	t.mu.Lock()
	t.onlines++
	d, failErr := t.onlineDelay, t.onlineErr
	t.mu.Unlock()
	if err := sleepCtx(ctx, d); err != nil {
		return err
	}
	if failErr != nil {
		return failErr
	}
	t.mu.Lock()
	t.online, t.looksAlive, t.isAlive = true, true, true
	t.mu.Unlock()
	return nil
}

// Offline waits OfflineDelay (or until ctx ends), then is offline.
func (t *TestResource) Offline(ctx context.Context) error {
	t.mu.Lock()
	t.offlines++
	d := t.offlineDelay
	t.mu.Unlock()
	if err := sleepCtx(ctx, d); err != nil {
		return err
	}
	t.mu.Lock()
	t.online = false
	t.mu.Unlock()
	return nil
}

func (t *TestResource) LooksAlive(ctx context.Context) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.online && t.looksAlive
}

func (t *TestResource) IsAlive(ctx context.Context) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.online && t.isAlive
}

func (t *TestResource) Terminate(ctx context.Context) {
	t.mu.Lock()
	t.terminates++
	t.online = false
	t.mu.Unlock()
}

// Fail simulates a crash: both checks answer false until the next successful Online.
func (t *TestResource) Fail() { t.SetHealth(false, false) }

// SetHealth sets what LooksAlive and IsAlive answer while the resource is online (until
// the next successful Online, which makes both true).
func (t *TestResource) SetHealth(looksAlive, isAlive bool) {
	t.mu.Lock()
	t.looksAlive, t.isAlive = looksAlive, isAlive
	t.mu.Unlock()
}

// SetOnlineError makes later Online calls fail with err (nil: succeed).
func (t *TestResource) SetOnlineError(err error) {
	t.mu.Lock()
	t.onlineErr = err
	t.mu.Unlock()
}

// SetDelays sets how long Online and Offline take.
func (t *TestResource) SetDelays(online, offline time.Duration) {
	t.mu.Lock()
	t.onlineDelay, t.offlineDelay = online, offline
	t.mu.Unlock()
}

// IsOnline reports whether the resource is online (Online succeeded and neither
// Offline nor Terminate came since).
func (t *TestResource) IsOnline() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.online
}

// Calls returns how often Online, Offline and Terminate were called.
func (t *TestResource) Calls() (onlines, offlines, terminates int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.onlines, t.offlines, t.terminates
}

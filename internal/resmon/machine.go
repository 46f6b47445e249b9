package resmon

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// machine is the state machine of one resource: a goroutine that owns the resource's
// state and is the only caller of its entry points (Terminate excepted, see Resource).
//
// Invariants, kept by the loop:
//   - at most one entry-point call (op) is in flight; its result is accepted only while
//     opGen matches, so a call abandoned at PendingTimeout or by Terminate is ignored;
//   - in StateFailed and StateOffline the resource has been terminated or taken offline:
//     nothing of it runs;
//   - health checks run only in StateOnline;
//   - want is StateOnline or StateOffline: what the caller last asked for. Restarts
//     happen only while want is StateOnline.
type machine struct {
	m    *Monitor
	name string
	res  Resource
	cmds chan command
	// exited is closed when the loop has returned.
	exited chan struct{}

	mu     sync.Mutex // guards status for readers outside the loop
	status Status

	// Owned by the loop.
	state    State
	want     State
	policy   Policy
	op       opKind
	opGen    uint64
	opCtx    context.Context
	opCancel context.CancelFunc
	opTimer  alarm
	results  chan result
	looks    alarm // next LooksAlive
	is       alarm // next IsAlive
	// ended is closed when the process of an Online resource ends (exitWatcher); nil
	// when the type has none or the resource is not Online.
	ended    <-chan struct{}
	restart  alarm // next restart (or retry after RetryPeriodOnFailure)
	retry    bool  // restart alarm is the RetryPeriodOnFailure retry
	restarts []time.Time
	onlineW  []chan error
	offlineW []chan error
}

type cmdKind int

const (
	cmdOnline cmdKind = iota
	cmdOffline
	cmdTerminate
	cmdPolicy
	cmdRemove
	cmdClose
)

type command struct {
	kind   cmdKind
	policy Policy
	reply  chan error // buffered, 1
}

type opKind int

const (
	opNone opKind = iota
	opOnline
	opOffline
	opLooksAlive
	opIsAlive // the periodic IsAlive
	opConfirm // IsAlive after a false LooksAlive
)

func (k opKind) String() string {
	switch k {
	case opOnline:
		return "Online"
	case opOffline:
		return "Offline"
	case opLooksAlive:
		return "LooksAlive"
	case opIsAlive, opConfirm:
		return "IsAlive"
	}
	return "none"
}

type result struct {
	gen uint64
	ok  bool
	err error
}

// alarm is a timer whose channel is nil while it is not set, for use in select.
type alarm struct {
	t *time.Timer
	c <-chan time.Time
}

func (a *alarm) set(d time.Duration) {
	if a.t == nil {
		a.t = time.NewTimer(d)
	} else {
		a.t.Reset(d) // Go ≥ 1.23: no stale tick after Reset
	}
	a.c = a.t.C
}

func (a *alarm) stop() {
	if a.t != nil {
		a.t.Stop()
	}
	a.c = nil
}

// intervalSetter is implemented by resource types that want to know their LooksAlive
// interval (OCF passes it to monitor as OCF_RESKEY_CRM_meta_interval).
type intervalSetter interface{ setInterval(time.Duration) }

// exitWatcher is implemented by resource types that run one process (Generic
// Application): the channel is closed when the process that Online started has ended,
// nil when none runs. The monitor fails the resource at once, not at the next poll.
type exitWatcher interface{ endedChan() <-chan struct{} }

// failureReporter is implemented by resource types that can say why their last check
// failed; the monitor puts it into the failure's error.
type failureReporter interface{ lastFailure() error }

func newMachine(m *Monitor, name string, r Resource, p Policy) *machine {
	mc := &machine{
		m: m, name: name, res: r,
		cmds:    make(chan command),
		exited:  make(chan struct{}),
		results: make(chan result),
		state:   StateOffline,
		want:    StateOffline,
		policy:  p,
	}
	mc.status.State = StateOffline
	if s, ok := r.(intervalSetter); ok {
		s.setInterval(p.LooksAlivePollInterval)
	}
	return mc
}

func (mc *machine) run() {
	defer close(mc.exited)
	for {
		select {
		case c := <-mc.cmds:
			if mc.handle(c) {
				return
			}
		case r := <-mc.results:
			switch {
			case r.gen != mc.opGen || mc.op == opNone:
				// A call abandoned earlier; its resource was terminated since.
			case errors.Is(mc.opCtx.Err(), context.DeadlineExceeded):
				mc.timedOut() // it returned because its time was up
			default:
				mc.finish(r)
			}
		case <-mc.opTimer.c:
			mc.opTimer.c = nil
			if mc.op != opNone {
				mc.timedOut()
			}
		case <-mc.ended:
			mc.ended = nil
			if mc.state == StateOnline {
				mc.endOp() // a check in flight says nothing more
				mc.fail(mc.processEnded())
			}
		case <-mc.looks.c:
			mc.looks.c = nil
			mc.poll(opLooksAlive, &mc.looks, mc.policy.LooksAlivePollInterval)
		case <-mc.is.c:
			mc.is.c = nil
			mc.poll(opIsAlive, &mc.is, mc.policy.IsAlivePollInterval)
		case <-mc.restart.c:
			mc.restart.c = nil
			if mc.want == StateOnline && mc.state == StateFailed && mc.op == opNone {
				if mc.retry {
					mc.restarts = nil
				}
				mc.startOnline()
			}
		}
	}
}

// handle runs one command; it returns true when the loop must end.
func (mc *machine) handle(c command) bool {
	switch c.kind {
	case cmdOnline:
		mc.want = StateOnline
		switch {
		case mc.state == StateOnline:
			c.reply <- nil
			return false
		case mc.op == opOnline || mc.op == opOffline:
			// Online in progress, or Offline finishing first: finish() goes on.
		default: // Offline or Failed, nothing in flight
			mc.restart.stop()
			mc.restarts = nil // an administrator's Online starts a fresh count
			mc.startOnline()
		}
		mc.onlineW = append(mc.onlineW, c.reply)
	case cmdOffline:
		mc.want = StateOffline
		mc.restart.stop()
		mc.replyOnline(ErrSuperseded)
		switch {
		case mc.state == StateOffline:
			c.reply <- nil
			return false
		case mc.op == opOnline:
			mc.opCancel() // finish() takes it offline when Online returns
		case mc.op == opOffline:
		case mc.state == StateFailed:
			mc.setState(StateOffline, Event{})
			c.reply <- nil
			return false
		default: // Online, maybe with a check in flight
			mc.endOp()
			mc.stopChecks()
			mc.startOffline()
		}
		mc.offlineW = append(mc.offlineW, c.reply)
	case cmdTerminate:
		mc.want = StateOffline
		mc.restart.stop()
		mc.stopChecks()
		mc.endOp()
		mc.terminate()
		mc.replyOnline(ErrSuperseded)
		mc.setState(StateOffline, Event{})
		mc.replyOffline(nil)
		c.reply <- nil
	case cmdPolicy:
		mc.policy = c.policy
		if s, ok := mc.res.(intervalSetter); ok {
			s.setInterval(c.policy.LooksAlivePollInterval)
		}
		if mc.state == StateOnline && mc.op == opNone {
			mc.armChecks()
		}
		c.reply <- nil
	case cmdRemove:
		if (mc.state != StateOffline && mc.state != StateFailed) || mc.op != opNone {
			c.reply <- fmt.Errorf("%w: %q is %s", ErrNotOffline, mc.name, mc.state)
			return false
		}
		mc.restart.stop()
		c.reply <- nil
		return true
	case cmdClose:
		mc.restart.stop()
		mc.stopChecks()
		mc.endOp()
		if mc.state != StateOffline {
			mc.terminate()
			mc.setState(StateOffline, Event{})
		}
		mc.replyOnline(ErrClosed)
		mc.replyOffline(ErrClosed)
		c.reply <- nil
		return true
	}
	return false
}

// startOp calls fn in its own goroutine, bounded by PendingTimeout.
func (mc *machine) startOp(kind opKind, fn func(context.Context) (bool, error)) {
	mc.opGen++
	gen := mc.opGen
	// The deadline tells the resource how long it has (OCF passes it to the agent);
	// opTimer is the backstop for calls that ignore their context.
	ctx, cancel := context.WithTimeout(context.Background(), mc.policy.PendingTimeout)
	mc.op, mc.opCtx, mc.opCancel = kind, ctx, cancel
	mc.opTimer.set(mc.policy.PendingTimeout)
	go func() {
		var (
			ok  bool
			err error
		)
		func() {
			// A resource type's bug must fail the resource, not the daemon.
			defer func() {
				if p := recover(); p != nil {
					ok, err = false, fmt.Errorf("resmon: %s panicked: %v", kind, p)
				}
			}()
			ok, err = fn(ctx)
		}()
		select {
		case mc.results <- result{gen: gen, ok: ok, err: err}:
		case <-mc.exited:
		}
	}()
}

// endOp forgets the call in flight (cancelling its context); a late result is ignored.
func (mc *machine) endOp() {
	if mc.op == opNone {
		return
	}
	mc.opCancel()
	mc.opTimer.stop()
	mc.op, mc.opCtx, mc.opCancel = opNone, nil, nil
	mc.opGen++
}

func (mc *machine) startOnline() {
	mc.setState(StateOnlinePending, Event{})
	mc.startOp(opOnline, func(ctx context.Context) (bool, error) { return true, mc.res.Online(ctx) })
}

func (mc *machine) startOffline() {
	mc.setState(StateOfflinePending, Event{})
	mc.startOp(opOffline, func(ctx context.Context) (bool, error) { return true, mc.res.Offline(ctx) })
}

func (mc *machine) startCheck(kind opKind) {
	mc.startOp(kind, func(ctx context.Context) (bool, error) {
		if kind == opLooksAlive {
			return mc.res.LooksAlive(ctx), nil
		}
		return mc.res.IsAlive(ctx), nil
	})
}

// poll runs a due check, or puts it off by one interval when another call is in flight.
func (mc *machine) poll(kind opKind, a *alarm, every time.Duration) {
	if mc.state != StateOnline {
		return
	}
	if mc.op != opNone {
		a.set(every)
		return
	}
	mc.startCheck(kind)
}

func (mc *machine) armChecks() {
	mc.looks.set(mc.policy.LooksAlivePollInterval)
	mc.is.set(mc.policy.IsAlivePollInterval)
	if w, ok := mc.res.(exitWatcher); ok {
		mc.ended = w.endedChan()
	}
}

func (mc *machine) stopChecks() {
	mc.looks.stop()
	mc.is.stop()
	mc.ended = nil
}

// processEnded is the failure of an Online resource whose process ended.
func (mc *machine) processEnded() error {
	if fr, ok := mc.res.(failureReporter); ok {
		if why := fr.lastFailure(); why != nil {
			return fmt.Errorf("%w: %w", ErrNotAlive, why)
		}
	}
	return fmt.Errorf("%w: its process ended", ErrNotAlive)
}

// terminate calls the Terminate entry point, bounded by PendingTimeout.
func (mc *machine) terminate() {
	ctx, cancel := context.WithTimeout(context.Background(), mc.policy.PendingTimeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			mc.m.log.Error("resmon: Terminate panicked", "resource", mc.name, "panic", p)
		}
	}()
	mc.res.Terminate(ctx)
}

// finish handles the result of the call in flight.
func (mc *machine) finish(r result) {
	kind := mc.op
	mc.endOp()
	switch kind {
	case opOnline:
		switch {
		case r.err != nil && mc.want == StateOffline:
			// Offline was asked for while Online ran; Online gave up.
			mc.terminate()
			mc.setState(StateOffline, Event{})
			mc.replyOffline(nil)
		case r.err != nil:
			mc.fail(fmt.Errorf("Online: %w", r.err))
		case mc.want == StateOffline:
			mc.startOffline()
		default:
			mc.setState(StateOnline, Event{})
			mc.replyOnline(nil)
			mc.armChecks()
		}
	case opOffline:
		if r.err != nil {
			mc.terminate()
			err := fmt.Errorf("Offline: %w", r.err)
			mc.setState(StateFailed, Event{Err: err})
			mc.replyOffline(err)
		} else {
			mc.setState(StateOffline, Event{})
			mc.replyOffline(nil)
		}
		if mc.want == StateOnline {
			mc.restarts = nil
			mc.startOnline()
		}
	case opLooksAlive:
		if r.ok {
			mc.looks.set(mc.policy.LooksAlivePollInterval)
		} else {
			mc.startCheck(opConfirm) // WSFC confirms a false LooksAlive with IsAlive
		}
	case opIsAlive, opConfirm:
		if !r.ok {
			mc.fail(mc.notAlive(kind))
			return
		}
		if kind == opIsAlive {
			mc.is.set(mc.policy.IsAlivePollInterval)
		} else {
			mc.looks.set(mc.policy.LooksAlivePollInterval)
		}
	}
}

func (mc *machine) notAlive(kind opKind) error {
	what := "IsAlive"
	if kind == opConfirm {
		what = "LooksAlive and IsAlive"
	}
	if fr, ok := mc.res.(failureReporter); ok {
		if why := fr.lastFailure(); why != nil {
			return fmt.Errorf("%w (%s failed): %w", ErrNotAlive, what, why)
		}
	}
	return fmt.Errorf("%w (%s failed)", ErrNotAlive, what)
}

// timedOut handles a call that overran PendingTimeout: it is abandoned and the resource
// terminated.
func (mc *machine) timedOut() {
	kind := mc.op
	mc.endOp()
	err := fmt.Errorf("%w: %s did not return within %v", ErrPendingTimeout, kind, mc.policy.PendingTimeout)
	switch {
	case kind == opOnline && mc.want == StateOffline:
		mc.terminate()
		mc.setState(StateOffline, Event{})
		mc.replyOffline(nil)
	case kind == opOffline:
		mc.terminate()
		mc.setState(StateFailed, Event{Err: err})
		mc.replyOffline(err)
		if mc.want == StateOnline {
			mc.restarts = nil
			mc.startOnline()
		}
	default:
		mc.fail(err)
	}
}

// fail handles a failure while the resource should be online: terminate it, mark it
// Failed, and restart it or give up by RestartAction, RestartThreshold and
// RestartPeriod.
func (mc *machine) fail(cause error) {
	mc.stopChecks()
	mc.terminate()
	p := mc.policy
	ev := Event{Err: cause}
	if p.RestartAction != RestartDontRestart {
		now := time.Now()
		kept := mc.restarts[:0]
		for _, t := range mc.restarts {
			if now.Sub(t) < p.RestartPeriod {
				kept = append(kept, t)
			}
		}
		mc.restarts = kept
		if len(mc.restarts) < p.RestartThreshold {
			mc.restarts = append(mc.restarts, now)
			mc.retry = false
			mc.restart.set(p.RestartDelay)
			ev.Restarting = true
		} else {
			ev.Err = fmt.Errorf("%w (%d restarts within %v): %w", ErrRestartThresholdExceeded, len(mc.restarts), p.RestartPeriod, cause)
			ev.Failover = p.RestartAction == RestartNotify
			if p.RetryPeriodOnFailure > 0 {
				mc.retry = true
				mc.restart.set(p.RetryPeriodOnFailure)
			}
		}
	}
	mc.setState(StateFailed, ev)
	mc.replyOnline(ev.Err)
}

// setState records the new state and reports it. Unchanged states are not reported,
// except Failed (each failure is news).
func (mc *machine) setState(s State, ev Event) {
	old := mc.state
	if s == old && s != StateFailed {
		return
	}
	mc.state = s
	mc.mu.Lock()
	mc.status = Status{State: s, Err: ev.Err, Restarts: len(mc.restarts)}
	mc.mu.Unlock()
	ev.Time, ev.Resource, ev.Old, ev.New = time.Now(), mc.name, old, s
	if s == StateFailed {
		mc.m.log.Warn("resmon: resource failed", "resource", mc.name, "from", old.String(), "err", ev.Err,
			"restarting", ev.Restarting, "failover", ev.Failover)
		mc.m.Note(mc.name, failureNote(ev))
	} else {
		mc.m.log.Info("resmon: resource state", "resource", mc.name, "from", old.String(), "to", s.String())
	}
	mc.m.events.push(ev)
}

func (mc *machine) replyOnline(err error) {
	for _, w := range mc.onlineW {
		w <- err
	}
	mc.onlineW = nil
}

func (mc *machine) replyOffline(err error) {
	for _, w := range mc.offlineW {
		w <- err
	}
	mc.offlineW = nil
}

// failureNote is the line a failure leaves in the resource's log.
func failureNote(ev Event) string {
	why := "failed"
	if ev.Err != nil {
		why = "failed: " + ev.Err.Error()
	}
	switch {
	case ev.Restarting:
		why += " (restarting)"
	case ev.Failover:
		why += " (its group fails over)"
	}
	return why
}

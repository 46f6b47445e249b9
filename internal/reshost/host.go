package reshost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"wolfpack/internal/fencing"
)

// Revoker revokes the node's lease in etcd (the host's one write to the cluster DB).
type Revoker interface {
	Revoke(ctx context.Context, lease int64) error
	Close() error
}

// Options configure Serve.
type Options struct {
	Log *slog.Logger
	// NewRevoker connects to etcd with the node's access from Hello; nil: the host never
	// revokes (tests of the process handling alone).
	NewRevoker func(ctx context.Context, e EtcdAccess) (Revoker, error)
	// RevokeTimeout bounds the revocation after the daemon died (etcd may be electing a
	// leader meanwhile); 0 means 10 s.
	RevokeTimeout time.Duration
}

// defaultKill is the kill budget before the daemon's Hello says otherwise.
const defaultKill = 250 * time.Millisecond

// tick is how often the host checks its permit and pets the watchdog.
const tick = 10 * time.Millisecond

// host is the state of a running resource host.
//
// Invariants: a process is started only under mu, with a permit of its epoch that has
// not run out; every started process is in procs (until reaped) and its process group
// in groups (until empty); messages to the daemon are queued under mu, so the daemon
// hears of a start before the exit, and never block mu (the daemon may be frozen).
//
// Its processes are in one of three phases, by the permit: running (before Until),
// frozen (SIGSTOP, from Until until a new permit of the same lease or KillAt), or gone
// (killed at KillAt, or when the daemon ends, or when the lease changes); fenced is set
// in the last phase until a new permit arrives.
type host struct {
	opt Options
	log *slog.Logger
	c   *conn
	out *outbox
	fk  *forker

	mu         sync.Mutex
	hello      Hello
	permit     Permit
	frozen     bool            // the permit ran out: the processes are stopped
	frozenAt   fencing.Instant // when they were
	deferred   []deferredStart // starts asked for while frozen
	fenced     bool            // the processes were killed: no starts until a new permit
	fenceCause string          // why, for the exit reports of the processes the fence killed
	survivors  bool            // the last fence left processes behind: the watchdog starves
	procs      map[int]*hproc
	groups     map[int]struct{}
	revoker    Revoker
	wd         *watchdog
}

type hproc struct {
	pid    int
	epoch  int64
	killed string // set when the host itself killed it: why
}

type deferredStart struct {
	req startReq
	out *os.File
}

// Serve runs the host on sock (its end of the socket pair) until the daemon says
// goodbye, the daemon ends (then it fences and revokes the lease), or ctx ends (then it
// fences). It returns nil on a clean end.
func Serve(ctx context.Context, sock *os.File, opt Options) error {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.RevokeTimeout <= 0 {
		opt.RevokeTimeout = 10 * time.Second
	}
	c, err := fileConn(sock)
	if err != nil {
		return err
	}
	defer c.c.Close()
	// Processes that detach from the resources (double fork, setsid) are re-parented to
	// the host, which can then find and kill them.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		opt.Log.Warn("resource host: cannot become a subreaper; detached processes escape the fence", "err", err)
	}
	h := &host{opt: opt, log: opt.Log, c: c, out: newOutbox(c), fk: newForker(),
		procs: map[int]*hproc{}, groups: map[int]struct{}{}}
	h.hello.Kill = defaultKill
	defer h.out.close()

	sigc := make(chan os.Signal, 16)
	signal.Notify(sigc, syscall.SIGCHLD, syscall.SIGTERM)
	signal.Ignore(syscall.SIGINT, syscall.SIGHUP, syscall.SIGPIPE)
	defer signal.Stop(sigc)

	msgs := make(chan received, 16)
	go h.read(msgs)

	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			h.fence("the resource host was stopped", true)
			h.shutdown(false)
			return nil
		case s := <-sigc:
			if s == syscall.SIGCHLD {
				h.reap()
				continue
			}
			h.log.Warn("resource host: terminated by signal; stopping every resource", "signal", s)
			h.fence("the resource host was terminated", true)
			h.shutdown(false)
			return nil
		case <-t.C:
			h.reap() // SIGCHLDs coalesce; a cheap WNOHANG sweep catches any left
			h.checkPermit()
			h.petWatchdog()
		case r := <-msgs:
			if r.err != nil {
				if errors.Is(r.err, errClosed) {
					h.daemonGone(ctx)
					return nil
				}
				h.log.Error("resource host: control connection failed; treating the daemon as gone", "err", r.err)
				h.daemonGone(ctx)
				return r.err
			}
			if done := h.handle(ctx, r.m, r.files); done {
				return nil
			}
		}
	}
}

type received struct {
	m     message
	files []*os.File
	err   error
}

func (h *host) read(out chan<- received) {
	for {
		m, files, err := h.c.recv()
		out <- received{m, files, err}
		if err != nil {
			return
		}
	}
}

// handle acts on one message from the daemon; it returns true when the host must end.
func (h *host) handle(ctx context.Context, m message, files []*os.File) bool {
	switch m.Kind {
	case kindHello:
		if m.Hello == nil {
			h.log.Error("resource host: hello without a body")
			return false
		}
		h.setHello(ctx, *m.Hello)
		h.out.send(message{Kind: kindReady})
	case kindPermit:
		if m.Permit != nil {
			h.grant(*m.Permit)
		}
	case kindStart:
		if m.Start == nil {
			closeAll(files)
			return false
		}
		var out *os.File
		if len(files) > 0 {
			out = files[0]
			closeAll(files[1:])
		}
		h.start(*m.Start, out) // start owns out
		return false
	case kindBye:
		h.fence("the daemon shut down", true)
		h.shutdown(true)
		return true
	default:
		h.log.Warn("resource host: unknown message", "kind", m.Kind)
	}
	closeAll(files)
	return false
}

func (h *host) setHello(ctx context.Context, hello Hello) {
	if hello.Kill <= 0 {
		hello.Kill = defaultKill
	}
	h.mu.Lock()
	h.hello = hello
	wdOpen := h.wd != nil
	h.mu.Unlock()
	if hello.Watchdog != "" && !wdOpen {
		wd, err := openWatchdog(hello.Watchdog, hello.WatchdogTimeout, h.log)
		if err != nil {
			h.log.Error("resource host: watchdog", "err", err)
		} else {
			h.mu.Lock()
			h.wd = wd
			h.mu.Unlock()
		}
	}
	if h.opt.NewRevoker != nil && len(hello.Etcd.Endpoints) > 0 {
		// Connect now: when the daemon dies, the revocation must not wait for a dial.
		go func() {
			r, err := h.opt.NewRevoker(ctx, hello.Etcd)
			if err != nil {
				h.log.Warn("resource host: cannot reach etcd; a dead daemon's lease will expire by its TTL", "err", err)
				return
			}
			h.mu.Lock()
			old := h.revoker
			h.revoker = r
			h.mu.Unlock()
			if old != nil {
				old.Close()
			}
		}()
	}
}

// grant takes a new permit. One of the same lease that has not run out lets frozen
// processes continue and deferred starts go; one of another lease (a new session) ends
// every process of the old one first.
func (h *host) grant(p Permit) {
	h.mu.Lock()
	old := h.permit
	if p.Lease == old.Lease && p.Until <= old.Until {
		h.mu.Unlock()
		return // out of order: never shorten
	}
	stale := false
	for _, pr := range h.procs {
		if pr.epoch != p.Lease {
			stale = true
		}
	}
	h.mu.Unlock()
	if stale && old.Lease != 0 && p.Lease != old.Lease {
		h.fence(fmt.Sprintf("the node's cluster session changed from %x to %x", old.Lease, p.Lease), false)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.permit = p
	if fencing.Now() >= p.Until {
		return
	}
	if h.frozen {
		h.frozen = false
		h.signalAllLocked(syscall.SIGCONT)
		h.log.Warn("resource host: permit renewed; resources continue", "frozen", fencing.Now().Sub(h.frozenAt))
	}
	if h.fenced {
		h.fenced = false
		h.log.Info("resource host: new permit; resources may start again", "lease", fmt.Sprintf("%x", p.Lease))
	}
	ds := h.deferred
	h.deferred = nil
	for _, d := range ds {
		h.startLocked(d.req, d.out)
	}
}

// mayStart says why a process of epoch may not start now ("" when it may).
func (h *host) mayStart(epoch int64) string {
	switch {
	case h.fenced:
		return "the node's permit ran out (" + h.fenceCause + ")"
	case h.permit.Lease == 0:
		return "the node has no permit yet (no cluster session)"
	case epoch != h.permit.Lease:
		return fmt.Sprintf("the resource was brought online under cluster session %x, and the node's session is now %x", epoch, h.permit.Lease)
	case fencing.Now() >= h.permit.KillAt:
		return "the node's permit has run out"
	}
	return ""
}

func (h *host) start(req startReq, out *os.File) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.startLocked(req, out)
}

// startLocked starts req, or defers it while the processes are frozen (it starts when
// the permit is renewed, or is refused when they are killed). It owns out.
func (h *host) startLocked(req startReq, out *os.File) {
	if why := h.mayStart(req.Epoch); why != "" {
		if out != nil {
			out.Close()
		}
		h.out.send(message{Kind: kindStarted, Started: &startedMsg{ID: req.ID, Refused: true, Err: "resource host refused to start " + argv0(req.Argv) + ": " + why}})
		return
	}
	if h.frozen || fencing.Now() >= h.permit.Until {
		h.deferred = append(h.deferred, deferredStart{req, out})
		return
	}
	pid, err := h.fk.start(req, out)
	if out != nil {
		out.Close()
	}
	if err != nil {
		h.out.send(message{Kind: kindStarted, Started: &startedMsg{ID: req.ID, Err: err.Error()}})
		return
	}
	h.procs[pid] = &hproc{pid: pid, epoch: req.Epoch}
	h.groups[pid] = struct{}{}
	h.out.send(message{Kind: kindStarted, Started: &startedMsg{ID: req.ID, Pid: pid}})
}

// refuseDeferred answers every deferred start with why.
func (h *host) refuseDeferredLocked(why string) {
	for _, d := range h.deferred {
		if d.out != nil {
			d.out.Close()
		}
		h.out.send(message{Kind: kindStarted, Started: &startedMsg{ID: d.req.ID, Refused: true, Err: "resource host refused to start " + argv0(d.req.Argv) + ": " + why}})
	}
	h.deferred = nil
}

func argv0(argv []string) string {
	if len(argv) == 0 {
		return "(nothing)"
	}
	return argv[0]
}

// reap collects every child that ended (its own and adopted ones) and reports the exits
// of the processes it started.
func (h *host) reap() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			break
		}
		p, ok := h.procs[pid]
		if !ok {
			continue // an adopted orphan
		}
		delete(h.procs, pid)
		e := exitMsg{Pid: pid, Cause: p.killed}
		if ws.Signaled() {
			e.Code, e.Signal = -1, int(ws.Signal())
		} else {
			e.Code = ws.ExitStatus()
		}
		h.out.send(message{Kind: kindExit, Exit: &e})
	}
	for g := range h.groups {
		if _, tracked := h.procs[g]; !tracked && !groupAlive(g) {
			delete(h.groups, g)
		}
	}
}

// groupAlive reports whether process group g has a member.
func groupAlive(g int) bool {
	return syscall.Kill(-g, 0) != syscall.ESRCH
}

// checkPermit freezes the processes when the permit has run out, and kills them at
// its KillAt.
func (h *host) checkPermit() {
	now := fencing.Now()
	h.mu.Lock()
	p := h.permit
	if p.Lease == 0 || h.fenced {
		h.mu.Unlock()
		return
	}
	if now < p.KillAt {
		if now >= p.Until && !h.frozen {
			h.frozen, h.frozenAt = true, now
			n := h.signalAllLocked(syscall.SIGSTOP)
			h.mu.Unlock()
			if n > 0 {
				h.log.Warn("resource host: permit ran out; resources frozen until it is renewed", "processes", n, "late", now.Sub(p.Until))
			}
			return
		}
		h.mu.Unlock()
		return
	}
	h.mu.Unlock()
	r := h.fence("the node's permit ran out: the daemon did not renew it in time", false)
	if r.Killed > 0 {
		h.out.send(message{Kind: kindFenced, Fenced: &r})
	}
}

// fence kills every process the host runs and refuses starts from its first moment.
// graceful sends SIGTERM first with half the kill budget of grace (processes that are
// frozen get SIGKILL at once: they could not act on SIGTERM); then SIGKILL, and a wait
// until they are gone or the budget is spent.
func (h *host) fence(reason string, graceful bool) FenceReport {
	begin := fencing.Now()
	h.mu.Lock()
	h.fenced, h.fenceCause = true, reason
	graceful = graceful && !h.frozen
	h.frozen = false
	budget := h.hello.Kill
	for _, p := range h.procs {
		p.killed = "killed by the resource host: " + reason
	}
	h.refuseDeferredLocked(reason)
	h.mu.Unlock()
	rep := FenceReport{Reason: reason}
	sig := syscall.SIGKILL
	if graceful {
		sig = syscall.SIGTERM
	}
	rep.Killed = h.signalAll(sig)
	if rep.Killed == 0 {
		return rep
	}
	h.log.Warn("resource host: stopping every resource", "reason", reason, "processes", rep.Killed)
	if !graceful || !h.waitEmpty(begin.Add(budget/2)) {
		h.signalAll(syscall.SIGKILL)
		h.waitEmpty(begin.Add(budget))
	}
	rep.Took = fencing.Now().Sub(begin)
	rep.Survivors = h.remaining()
	h.mu.Lock()
	h.survivors = len(rep.Survivors) > 0
	h.mu.Unlock()
	if len(rep.Survivors) > 0 {
		h.log.Error("resource host: processes survived the kill budget", "pids", rep.Survivors, "budget", budget)
	} else {
		h.log.Warn("resource host: every resource stopped", "reason", reason, "took", rep.Took)
	}
	return rep
}

// signalAll sends sig to every process group the host started and to every process
// below the host in the process tree (adopted ones and ones that left their group
// included; and their groups); it returns how many it signalled.
func (h *host) signalAll(sig syscall.Signal) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.signalAllLocked(sig)
}

func (h *host) signalAllLocked(sig syscall.Signal) int {
	groups := make([]int, 0, len(h.groups))
	for g := range h.groups {
		groups = append(groups, g)
	}
	n := 0
	for _, g := range groups {
		if syscall.Kill(-g, sig) == nil {
			n++
		}
	}
	self := os.Getpid()
	selfGroup := syscall.Getpgrp()
	for _, c := range descendants(self) {
		if syscall.Kill(c.pid, sig) == nil {
			n++
		}
		if c.pgid > 1 && c.pgid != selfGroup {
			syscall.Kill(-c.pgid, sig)
		}
	}
	return n
}

// remaining lists what is still alive of the host's processes: tracked processes,
// members of its groups (their leaders' pids) and live children.
func (h *host) remaining() []int {
	h.reap()
	h.mu.Lock()
	var out []int
	for pid := range h.procs {
		out = append(out, pid)
	}
	for g := range h.groups {
		if _, ok := h.procs[g]; !ok && groupAlive(g) {
			out = append(out, -g)
		}
	}
	h.mu.Unlock()
	for _, c := range descendants(os.Getpid()) {
		out = append(out, c.pid)
	}
	return out
}

// waitEmpty polls until nothing remains or the deadline passes; true when empty.
func (h *host) waitEmpty(deadline fencing.Instant) bool {
	for {
		if len(h.remaining()) == 0 {
			return true
		}
		if fencing.Now() >= deadline {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// daemonGone is the daemon's death: fence, then revoke the lease so that the other
// nodes take over at once — only when every process is gone.
func (h *host) daemonGone(ctx context.Context) {
	r := h.fence("the daemon ended", true)
	h.mu.Lock()
	lease, rv := h.permit.Lease, h.revoker
	h.mu.Unlock()
	switch {
	case len(r.Survivors) > 0:
		h.log.Error("resource host: daemon ended but processes survived; leaving the lease to expire", "pids", r.Survivors)
		h.shutdown(false)
		return
	case lease == 0:
		h.log.Info("resource host: daemon ended; it held no cluster session")
	case rv == nil:
		h.log.Warn("resource host: daemon ended; no etcd access to revoke its lease, which expires by its TTL", "lease", fmt.Sprintf("%x", lease))
	default:
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.opt.RevokeTimeout)
		err := rv.Revoke(rctx, lease)
		cancel()
		if err != nil {
			h.log.Error("resource host: daemon ended; cannot revoke its lease, which expires by its TTL", "lease", fmt.Sprintf("%x", lease), "err", err)
		} else {
			h.log.Warn("resource host: daemon ended; resources stopped and the node's lease revoked", "lease", fmt.Sprintf("%x", lease), "kill", r.Took)
		}
	}
	h.shutdown(true)
}

// shutdown ends the host: the revoker closes, and the watchdog is disarmed when clean
// (a host that leaves processes behind lets the watchdog reset the machine).
func (h *host) shutdown(clean bool) {
	h.mu.Lock()
	rv, wd := h.revoker, h.wd
	h.revoker, h.wd = nil, nil
	survivors := h.survivors
	h.mu.Unlock()
	if rv != nil {
		rv.Close()
	}
	if wd != nil {
		if clean && !survivors {
			wd.disarm()
		} else {
			wd.abandon()
		}
	}
}

// petWatchdog pets the watchdog while the host is healthy (mayPet).
func (h *host) petWatchdog() {
	h.mu.Lock()
	wd := h.wd
	ok := wd != nil && mayPet(fencing.Now(), h.permit, h.fenced || h.frozen, h.survivors, len(h.procs)+len(h.groups) > 0, h.hello.Stop, wd.timeout)
	h.mu.Unlock()
	if ok {
		wd.pet()
	}
}

// mayPet says whether the host may pet a watchdog of timeout at now: never after a
// fence left processes behind; always when none of its processes runs (the node is
// safe); else only while a reset by this pet would still come within the permit plus
// the stop budget — when the freeze would have ended — so that a host that hangs right
// after petting has the machine reset Timing.Margin before the lease can expire.
func mayPet(now fencing.Instant, p Permit, stopped, survivors, running bool, stop, timeout time.Duration) bool {
	switch {
	case survivors:
		return false
	case !running:
		return true
	case stopped || p.Lease == 0:
		return false
	}
	return now.Add(timeout) <= p.Until.Add(stop)
}

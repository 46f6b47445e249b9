package resmon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// genericApp is the "Generic Application" type: one supervised process in its own
// process group.
type genericApp struct {
	name string
	argv []string
	dir  string
	env  []string // Environment entries, added after the daemon's environment
	e    *env

	mu     sync.Mutex
	proc   Proc            // nil before the first Online
	exited <-chan struct{} // closed when proc has exited and was reaped
	status string          // how the last process ended
	// group is the process group of the last process until Offline or Terminate
	// killed it: processes the program forked may outlive it there.
	group int
}

func openGenericApp(name string, p props, e *env) (Resource, error) {
	cl, _ := p.get("CommandLine")
	argv, err := SplitCommandLine(cl)
	if err != nil {
		return nil, &PropertyError{Type: p.typ, Property: "CommandLine", Value: cl, Msg: err.Error()}
	}
	if len(argv) == 0 {
		return nil, &PropertyError{Type: p.typ, Property: "CommandLine", Value: cl, Msg: "no program named"}
	}
	a := &genericApp{name: name, argv: argv, e: e}
	a.dir, _ = p.get("CurrentDirectory")
	for _, kv := range p.multi("Environment") {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || !envName.MatchString(k) {
			return nil, &PropertyError{Type: p.typ, Property: "Environment", Value: kv, Msg: "entry is not NAME=VALUE"}
		}
		a.env = append(a.env, kv)
	}
	return a, nil
}

// running returns the current process and its exit channel when it has not exited.
func (a *genericApp) running() (Proc, <-chan struct{}) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.proc == nil {
		return nil, nil
	}
	select {
	case <-a.exited:
		return nil, nil
	default:
		return a.proc, a.exited
	}
}

// Online starts the process; the resource is online as soon as the program was
// executed (a missing program or directory fails here).
func (a *genericApp) Online(ctx context.Context) error {
	if p, _ := a.running(); p != nil {
		return nil
	}
	argv, err := lookArgv(a.argv)
	if err != nil {
		return fmt.Errorf("resmon: %s: start %q: %w", a.name, a.argv[0], err)
	}
	if a.dir != "" {
		if fi, err := os.Stat(a.dir); err != nil || !fi.IsDir() {
			return fmt.Errorf("resmon: %s: CurrentDirectory %q is not a directory", a.name, a.dir)
		}
	}
	logf, err := openLog(a.e.logDir, a.name, a.e.maxLog)
	if err != nil {
		return err
	}
	defer logf.Close() // the child has its own descriptor
	fmt.Fprintf(logf, "--- %s wolfpack: starting %q\n", time.Now().UTC().Format(time.RFC3339), a.argv)
	p, err := a.e.launch.Start(ctx, ProcSpec{Argv: argv, Env: append(a.e.processEnv(), a.env...), Dir: a.dir, Out: logf, Epoch: a.e.epoch})
	if err != nil {
		return fmt.Errorf("resmon: %s: start %q: %w", a.name, a.argv[0], err)
	}
	exited := make(chan struct{})
	a.mu.Lock()
	if ctx.Err() != nil {
		// The monitor gave up on this call (and may already have run Terminate, which
		// found nothing): do not leave a process behind.
		a.mu.Unlock()
		killGroup(p.Pid(), syscall.SIGKILL)
		<-p.Done()
		return fmt.Errorf("resmon: %s: start abandoned: %w", a.name, ctx.Err())
	}
	a.proc, a.exited, a.status, a.group = p, exited, "", p.Pid()
	a.mu.Unlock()
	go func() {
		<-p.Done()
		status := p.Exit().String()
		a.mu.Lock()
		a.status = status
		a.mu.Unlock()
		a.e.log.Info("resmon: process ended", "resource", a.name, "pid", p.Pid(), "status", status)
		close(exited)
	}()
	a.e.log.Info("resmon: process started", "resource", a.name, "pid", p.Pid(), "argv", a.argv)
	return nil
}

// Offline sends SIGTERM to the process group, then SIGKILL after the grace period (or
// when ctx ends), and finally SIGKILL to whatever is left in the group.
func (a *genericApp) Offline(ctx context.Context) error {
	p, exited := a.running()
	if p == nil {
		return a.killLeftovers()
	}
	pgid := p.Pid()
	if err := killGroup(pgid, syscall.SIGTERM); err != nil {
		return err
	}
	grace := time.NewTimer(a.e.grace)
	defer grace.Stop()
	select {
	case <-exited:
	case <-grace.C:
		a.e.log.Warn("resmon: process ignored SIGTERM, killing", "resource", a.name, "pid", pgid)
	case <-ctx.Done():
	}
	return a.kill(ctx, pgid, exited)
}

// Terminate kills the process group at once.
func (a *genericApp) Terminate(ctx context.Context) {
	p, exited := a.running()
	var err error
	if p == nil {
		err = a.killLeftovers()
	} else {
		err = a.kill(ctx, p.Pid(), exited)
	}
	if err != nil {
		a.e.log.Error("resmon: terminate", "resource", a.name, "err", err)
	}
}

// kill sends SIGKILL to the group of the running process, waits for the process, and
// kills the group once more for members that outlived it.
func (a *genericApp) kill(ctx context.Context, pgid int, exited <-chan struct{}) error {
	if err := killGroup(pgid, syscall.SIGKILL); err != nil {
		return err
	}
	select {
	case <-exited:
	case <-ctx.Done():
		// SIGKILL cannot be ignored; a process stuck in the kernel still goes when it
		// can. Do not block the caller past its deadline.
		return fmt.Errorf("resmon: %s: process %d did not exit after SIGKILL: %w", a.name, pgid, ctx.Err())
	}
	return a.killLeftovers()
}

// killLeftovers kills what is left in the last process's group after the process
// itself ended (a child it forked), once: the group number is forgotten afterwards.
func (a *genericApp) killLeftovers() error {
	a.mu.Lock()
	g := a.group
	a.group = 0
	a.mu.Unlock()
	if g == 0 {
		return nil
	}
	return killGroup(g, syscall.SIGKILL)
}

// endedChan is closed when the process Online started has ended (exitWatcher): the
// monitor fails the resource at once instead of at its next LooksAlive.
func (a *genericApp) endedChan() <-chan struct{} {
	_, exited := a.running()
	if exited == nil {
		// Ended already (or never started): a closed channel says so at once.
		c := make(chan struct{})
		close(c)
		return c
	}
	return exited
}

// LooksAlive: the process has not exited.
func (a *genericApp) LooksAlive(ctx context.Context) bool {
	p, _ := a.running()
	return p != nil
}

// IsAlive: LooksAlive, and /proc shows the process running (not a zombie).
func (a *genericApp) IsAlive(ctx context.Context) bool {
	p, _ := a.running()
	return p != nil && procRunning(p.Pid())
}

// lastFailure says how the process ended, for the monitor's failure message.
func (a *genericApp) lastFailure() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.status == "" {
		return nil
	}
	return errors.New("process ended: " + a.status)
}

// pid returns the pid of the running process, 0 when none (for tests and diagnostics).
func (a *genericApp) pid() int {
	if p, _ := a.running(); p != nil {
		return p.Pid()
	}
	return 0
}

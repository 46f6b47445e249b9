package reshost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v5"

	"wolfpack/internal/fencing"
	"wolfpack/internal/resmon"
)

// HostArg is the argument that makes wolfpackd run as the resource host.
const HostArg = "resource-host"

// HostEnv is set to "1" in the host's environment. A process that has it never starts a
// host of its own, so a binary that fails to dispatch HostArg (a test binary without
// IsHostProcess in its TestMain) cannot start hosts recursively.
const HostEnv = "WOLFPACK_RESOURCE_HOST"

// IsHostProcess reports whether this process was started as a resource host: test
// binaries that run wolfpackd in-process call it in TestMain and then run
// daemon.Main(os.Args[1:]).
func IsHostProcess() bool {
	return os.Getenv(HostEnv) == "1" && len(os.Args) > 1 && os.Args[1] == HostArg
}

// ErrRefused is wrapped by the error of a start the host refused (no valid permit for
// the resource's epoch).
var ErrRefused = errors.New("refused by the resource host")

// ErrHostDied ends the processes of a host that died, and the starts that waited on it.
var ErrHostDied = errors.New("the resource host died")

// ClientOptions say how the daemon starts and configures its host.
type ClientOptions struct {
	// Path and Args are the host's program and argv; default /proc/self/exe with the
	// daemon's argv[0], HostArg and "--node NAME".
	Path string
	Args []string
	Env  []string // default: the daemon's environment
	// Hello configures every host this client starts.
	Hello Hello
	Log   *slog.Logger
	// OnFenced hears the host's reports of fences (its permit ran out).
	OnFenced func(FenceReport)
}

// Client is the daemon's end: it starts the host (and a new one if it dies), grants
// permits, and implements resmon.Launcher.
type Client struct {
	opt ClientOptions
	log *slog.Logger

	mu      sync.Mutex
	out     *outbox // nil while no host runs
	cmd     *exec.Cmd
	up      chan struct{} // closed when the current host is ready; replaced on restart
	pending map[uint64]*pendingStart
	procs   map[int]*resmon.TrackedProc
	nextID  uint64
	permit  Permit
	closed  bool
	stopped chan struct{} // closed when the supervisor has ended

	noCleanup bool // tests: leave a dead host's process groups alone
}

type pendingStart struct {
	reply     chan startReply
	abandoned bool
}

type startReply struct {
	msg  startedMsg
	proc *resmon.TrackedProc // recorded before the reply, so no exit report is missed
	died bool                // the host died first
}

// NewClient starts a host and returns once it is ready.
func NewClient(ctx context.Context, opt ClientOptions) (*Client, error) {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if os.Getenv(HostEnv) == "1" {
		return nil, fmt.Errorf("reshost: this process was started as a resource host (%s=1) and starts none itself; its program did not dispatch %q", HostEnv, HostArg)
	}
	if opt.Env == nil {
		opt.Env = os.Environ()
	}
	opt.Env = append(opt.Env[:len(opt.Env):len(opt.Env)], HostEnv+"=1")
	if opt.Path == "" {
		opt.Path = "/proc/self/exe"
		opt.Args = []string{os.Args[0], HostArg, "--node", opt.Hello.Node}
	}
	c := &Client{opt: opt, log: opt.Log, pending: map[uint64]*pendingStart{}, procs: map[int]*resmon.TrackedProc{},
		stopped: make(chan struct{}), up: make(chan struct{})}
	first := make(chan error, 1)
	go c.supervise(first)
	select {
	case err := <-first:
		if err != nil {
			return nil, err
		}
		return c, nil
	case <-ctx.Done():
		c.Close(context.Background())
		return nil, fmt.Errorf("reshost: host not ready: %w", ctx.Err())
	}
}

// supervise runs hosts one after another until Close; first hears how the first one
// started.
func (c *Client) supervise(first chan<- error) {
	defer close(c.stopped)
	// Restarts wait 100 ms, doubling up to 5 s; a host that ran 10 s starts the series again.
	wait := backoff.ExponentialBackOff{InitialInterval: 100 * time.Millisecond, Multiplier: 2, MaxInterval: 5 * time.Second}
	for n := 0; ; n++ {
		started := time.Now()
		conn, cmd, err := c.spawn()
		if n == 0 {
			first <- err
			if err != nil {
				return
			}
		}
		if err == nil {
			c.serve(conn, cmd)
		} else {
			c.log.Error("resource host: cannot start", "err", err)
		}
		c.mu.Lock()
		closed := c.closed
		c.mu.Unlock()
		if closed {
			return
		}
		if time.Since(started) > 10*time.Second {
			wait.Reset()
		}
		time.Sleep(wait.NextBackOff())
		c.mu.Lock()
		closed = c.closed
		c.mu.Unlock()
		if closed {
			return
		}
	}
}

// spawn starts one host process and sends it Hello and the current permit.
func (c *Client) spawn() (*conn, *exec.Cmd, error) {
	mine, theirs, err := socketPair()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(c.opt.Path)
	cmd.Args = c.opt.Args
	cmd.Env = c.opt.Env
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.ExtraFiles = []*os.File{theirs} // fd 3
	// Its own process group: a terminal's ^C goes to the daemon, which shuts down in
	// order; and no parent-death signal: the host must outlive a daemon that dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	theirs.Close()
	if err != nil {
		mine.Close()
		return nil, nil, fmt.Errorf("reshost: start %s: %w", c.opt.Path, err)
	}
	cn, err := fileConn(mine)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, nil, err
	}
	c.mu.Lock()
	hello := c.opt.Hello
	c.mu.Unlock()
	if err := cn.send(message{Kind: kindHello, Hello: &hello}, nil); err != nil {
		cn.c.Close()
		cmd.Process.Kill()
		cmd.Wait()
		return nil, nil, err
	}
	cn.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	m, files, err := cn.recv()
	closeAll(files)
	cn.c.SetReadDeadline(time.Time{})
	if err != nil || m.Kind != kindReady {
		cn.c.Close()
		cmd.Process.Kill()
		cmd.Wait()
		if err == nil {
			err = fmt.Errorf("reshost: host answered %q to hello", m.Kind)
		}
		return nil, nil, fmt.Errorf("reshost: host not ready: %w", err)
	}
	c.log.Info("resource host started", "pid", cmd.Process.Pid)
	return cn, cmd, nil
}

// serve makes a ready host current, reads its messages until it ends, then cleans up
// after it.
func (c *Client) serve(cn *conn, cmd *exec.Cmd) {
	out := newOutbox(cn)
	c.mu.Lock()
	c.out, c.cmd = out, cmd
	if c.permit.Lease != 0 {
		p := c.permit
		out.send(message{Kind: kindPermit, Permit: &p})
	}
	close(c.up)
	c.mu.Unlock()
	var err error
	for {
		var m message
		var files []*os.File
		m, files, err = cn.recv()
		closeAll(files)
		if err != nil {
			break
		}
		c.handle(m)
	}
	c.mu.Lock()
	closed := c.closed
	c.out, c.cmd, c.up = nil, nil, make(chan struct{})
	pend := c.pending
	c.pending = map[uint64]*pendingStart{}
	procs := c.procs
	c.procs = map[int]*resmon.TrackedProc{}
	c.mu.Unlock()
	out.close()
	cn.c.Close()
	werr := cmd.Wait()
	if !closed {
		c.log.Error("resource host died; its resources are gone", "pid", cmd.Process.Pid, "status", werr, "read", err)
	}
	for _, p := range pend {
		p.reply <- startReply{died: true}
	}
	// The host's children died with it (parent-death signal); what they forked in
	// their process groups goes now.
	for pid, p := range procs {
		if !c.noCleanup {
			syscall.Kill(-pid, syscall.SIGKILL)
		}
		p.Finish(resmon.ExitStatus{Code: -1, Signal: syscall.SIGKILL, Cause: ErrHostDied.Error()})
	}
}

func (c *Client) handle(m message) {
	switch m.Kind {
	case kindStarted:
		s := m.Started
		if s == nil {
			return
		}
		c.mu.Lock()
		p := c.pending[s.ID]
		delete(c.pending, s.ID)
		if p != nil && p.abandoned && s.Pid > 0 {
			// The caller gave up: leave nothing behind.
			syscall.Kill(-s.Pid, syscall.SIGKILL)
		}
		var proc *resmon.TrackedProc
		if s.Pid > 0 && (p == nil || !p.abandoned) {
			proc = resmon.NewTrackedProc(s.Pid)
			c.procs[s.Pid] = proc
		}
		c.mu.Unlock()
		if p != nil {
			p.reply <- startReply{msg: *s, proc: proc}
		}
	case kindExit:
		e := m.Exit
		if e == nil {
			return
		}
		c.mu.Lock()
		p := c.procs[e.Pid]
		delete(c.procs, e.Pid)
		c.mu.Unlock()
		if p != nil {
			p.Finish(resmon.ExitStatus{Code: e.Code, Signal: syscall.Signal(e.Signal), Cause: e.Cause})
		}
	case kindFenced:
		if m.Fenced != nil {
			c.log.Error("resource host fenced this node's resources", "reason", m.Fenced.Reason,
				"processes", m.Fenced.Killed, "took", m.Fenced.Took, "survivors", m.Fenced.Survivors)
			if c.opt.OnFenced != nil {
				c.opt.OnFenced(*m.Fenced)
			}
		}
	}
}

// Start implements resmon.Launcher: the host starts the process.
func (c *Client) Start(ctx context.Context, spec resmon.ProcSpec) (resmon.Proc, error) {
	out, err := c.current(ctx)
	if err != nil {
		return nil, err
	}
	var file *os.File
	if spec.Out != nil {
		// The outbox sends and closes its own descriptor: the caller closes spec.Out.
		fd, err := syscall.Dup(int(spec.Out.Fd()))
		if err != nil {
			return nil, fmt.Errorf("reshost: log file: %w", err)
		}
		syscall.CloseOnExec(fd)
		file = os.NewFile(uintptr(fd), spec.Out.Name())
	}
	ps := &pendingStart{reply: make(chan startReply, 1)}
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	c.pending[id] = ps
	c.mu.Unlock()
	req := startReq{ID: id, Argv: spec.Argv, Env: spec.Env, Dir: spec.Dir, Epoch: spec.Epoch}
	if !out.sendFile(message{Kind: kindStart, Start: &req}, file) {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
		return nil, ErrHostDied
	}
	select {
	case r := <-ps.reply:
		switch {
		case r.died:
			return nil, ErrHostDied
		case r.msg.Refused:
			return nil, fmt.Errorf("%w: %s", ErrRefused, r.msg.Err)
		case r.msg.Err != "":
			return nil, errors.New(r.msg.Err)
		case r.proc == nil:
			return nil, fmt.Errorf("reshost: host started nothing for request %d", id)
		}
		return r.proc, nil
	case <-ctx.Done():
		c.mu.Lock()
		ps.abandoned = true
		c.mu.Unlock()
		return nil, ctx.Err()
	}
}

// current waits for a ready host.
func (c *Client) current(ctx context.Context) (*outbox, error) {
	for {
		c.mu.Lock()
		out, up, closed := c.out, c.up, c.closed
		c.mu.Unlock()
		if closed {
			return nil, resmon.ErrClosed
		}
		if out != nil {
			return out, nil
		}
		select {
		case <-up:
		case <-ctx.Done():
			return nil, fmt.Errorf("reshost: no resource host: %w", ctx.Err())
		}
	}
}

// Grant gives the host a permit to run processes of lease until until, frozen until
// killAt. It never blocks.
func (c *Client) Grant(lease int64, until, killAt fencing.Instant) {
	p := Permit{Lease: lease, Until: until, KillAt: killAt}
	c.mu.Lock()
	c.permit = p
	out := c.out
	c.mu.Unlock()
	if out != nil {
		out.send(message{Kind: kindPermit, Permit: &p})
	}
}

// HostPid returns the current host's pid (0 while none runs).
func (c *Client) HostPid() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil {
		return 0
	}
	return c.cmd.Process.Pid
}

// Close says goodbye to the host (it stops whatever still runs, without revoking the
// lease) and waits for it to end.
func (c *Client) Close(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		<-c.stopped
		return nil
	}
	c.closed = true
	out, cmd := c.out, c.cmd
	c.mu.Unlock()
	if out != nil {
		out.send(message{Kind: kindBye})
	}
	select {
	case <-c.stopped:
		return nil
	case <-ctx.Done():
		if cmd != nil {
			cmd.Process.Kill()
		}
		<-c.stopped
		return fmt.Errorf("reshost: host did not end: %w", ctx.Err())
	}
}

// SetEtcd changes how hosts reach etcd (the members changed): the current host hears it
// at once, later ones in their Hello.
func (c *Client) SetEtcd(e EtcdAccess) {
	c.mu.Lock()
	c.opt.Hello.Etcd = e
	hello := c.opt.Hello
	out := c.out
	c.mu.Unlock()
	if out != nil {
		out.send(message{Kind: kindHello, Hello: &hello})
	}
}

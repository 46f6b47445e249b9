package resmon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
)

// Launcher starts the processes of a Monitor's resources: the programs of Generic
// Applications and every action of Generic Script and OCF resources. The default runs
// them as children of the calling process (see spawner); wolfpackd runs them in its
// resource host (internal/reshost), a separate process that kills them by itself when
// the node may no longer run resources.
//
// Every process gets its own process group (its pid), so that the Monitor can signal
// everything it forked with kill(-pid, sig).
type Launcher interface {
	// Start starts one process and returns once it runs (or could not be started: a
	// missing program or directory is the error, as os/exec words it).
	Start(ctx context.Context, p ProcSpec) (Proc, error)
}

// ProcSpec is a process to start.
type ProcSpec struct {
	Argv []string // Argv[0] is an absolute or relative path (PATH lookup is done before)
	Env  []string
	Dir  string   // "" is the launcher's working directory
	Out  *os.File // stdout and stderr; the launcher keeps its own descriptor
	// Epoch is the authority under which the resource runs (the node's cluster session,
	// see agent): a launcher that fences refuses a process of any other epoch.
	Epoch int64
}

// Proc is a started process.
type Proc interface {
	Pid() int              // the process, and its process group
	Done() <-chan struct{} // closed once the process has ended and was reaped
	Exit() ExitStatus      // how it ended; valid after Done
}

// ExitStatus says how a process ended.
type ExitStatus struct {
	Code   int            // exit status; -1 when a signal ended it
	Signal syscall.Signal // the signal, when Code is -1
	// Cause is set when the launcher itself ended the process (the resource host when
	// its permit ran out, or its own death): why.
	Cause string
}

func (e ExitStatus) String() string {
	var s string
	if e.Code >= 0 {
		s = fmt.Sprintf("exit status %d", e.Code)
	} else {
		s = "signal: " + e.Signal.String()
	}
	if e.Cause != "" {
		s += " (" + e.Cause + ")"
	}
	return s
}

// StatusOf converts a wait status.
func StatusOf(ws syscall.WaitStatus) ExitStatus {
	if ws.Signaled() {
		return ExitStatus{Code: -1, Signal: ws.Signal()}
	}
	return ExitStatus{Code: ws.ExitStatus()}
}

// lookArgv resolves a bare program name in PATH as exec.Command does, with its error
// messages; a name with a slash is left to exec (a missing file then fails as
// "fork/exec NAME: no such file or directory").
func lookArgv(argv []string) ([]string, error) {
	if len(argv) == 0 {
		return nil, errors.New("no program named")
	}
	if filepath.Base(argv[0]) != argv[0] {
		return argv, nil
	}
	p, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, err
	}
	return append([]string{p}, argv[1:]...), nil
}

// localLauncher runs processes as children of this process, from the locked-thread
// spawner.
type localLauncher struct{ sp *spawner }

func (l localLauncher) Start(ctx context.Context, p ProcSpec) (Proc, error) {
	cmd := exec.Command(p.Argv[0], p.Argv[1:]...)
	cmd.Args = p.Argv
	cmd.Env = p.Env
	cmd.Dir = p.Dir
	if p.Out != nil {
		cmd.Stdout, cmd.Stderr = p.Out, p.Out
	}
	if err := l.sp.start(ctx, cmd); err != nil {
		return nil, err
	}
	lp := &localProc{cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
			lp.exit = StatusOf(ws)
		} else {
			lp.exit = ExitStatus{Code: cmd.ProcessState.ExitCode()}
		}
		close(lp.done)
	}()
	return lp, nil
}

type localProc struct {
	cmd  *exec.Cmd
	done chan struct{}
	exit ExitStatus // written before done is closed
}

func (p *localProc) Pid() int              { return p.cmd.Process.Pid }
func (p *localProc) Done() <-chan struct{} { return p.done }
func (p *localProc) Exit() ExitStatus      { <-p.done; return p.exit }

// TrackedProc is a Proc for launchers outside this package that learn of a process's
// end by a message (the resource host's exit reports): Finish ends it.
type TrackedProc struct {
	pid  int
	once sync.Once
	done chan struct{}
	exit ExitStatus
}

// NewTrackedProc returns a running process record for pid; Finish ends it.
func NewTrackedProc(pid int) *TrackedProc { return &TrackedProc{pid: pid, done: make(chan struct{})} }

func (p *TrackedProc) Pid() int              { return p.pid }
func (p *TrackedProc) Done() <-chan struct{} { return p.done }
func (p *TrackedProc) Exit() ExitStatus      { <-p.done; return p.exit }

// Finish records how the process ended and closes Done; later calls do nothing.
func (p *TrackedProc) Finish(e ExitStatus) {
	p.once.Do(func() { p.exit = e; close(p.done) })
}

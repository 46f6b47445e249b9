package reshost

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
)

// forker starts every process from one goroutine locked to its OS thread, which lives
// as long as the host: Linux sends the parent-death signal when the *thread* that forked
// a child exits, and Go may retire an ordinary thread at any time.
type forker struct {
	reqs    chan forkReq
	devNull *os.File
}

type forkReq struct {
	req   startReq
	out   *os.File
	reply chan forkReply
}

type forkReply struct {
	pid int
	err error
}

func newForker() *forker {
	f := &forker{reqs: make(chan forkReq)}
	if dn, err := os.Open(os.DevNull); err == nil {
		f.devNull = dn
	}
	go f.loop()
	return f
}

func (f *forker) loop() {
	runtime.LockOSThread() // never unlocked: the thread ends with the host
	for r := range f.reqs {
		pid, err := f.forkExec(r.req, r.out)
		r.reply <- forkReply{pid, err}
	}
}

// start runs req in its own process group with the parent-death signal SIGKILL, its
// stdout and stderr on out (or /dev/null).
func (f *forker) start(req startReq, out *os.File) (int, error) {
	r := forkReq{req: req, out: out, reply: make(chan forkReply, 1)}
	f.reqs <- r
	rep := <-r.reply
	return rep.pid, rep.err
}

func (f *forker) forkExec(req startReq, out *os.File) (int, error) {
	if len(req.Argv) == 0 {
		return 0, fmt.Errorf("no program to start")
	}
	var in, o uintptr = ^uintptr(0), ^uintptr(0)
	if f.devNull != nil {
		in, o = f.devNull.Fd(), f.devNull.Fd()
	}
	if out != nil {
		o = out.Fd()
	}
	attr := &syscall.ProcAttr{
		Dir:   req.Dir,
		Env:   req.Env,
		Files: []uintptr{in, o, o},
		Sys:   &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL},
	}
	pid, err := syscall.ForkExec(req.Argv[0], req.Argv, attr)
	if err != nil {
		// os/exec's wording, which administrators meet in the resource's failure reason.
		return 0, &os.PathError{Op: "fork/exec", Path: req.Argv[0], Err: err}
	}
	return pid, nil
}

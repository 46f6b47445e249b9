package resmon

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
)

// spawner starts every child process of a Monitor from one goroutine locked to its OS
// thread. Children get Setpgid (their own process group, so that Offline and Terminate
// reach everything they forked) and Pdeathsig SIGKILL, so that they die with the daemon
// even on kill -9. Linux sends the parent-death signal when the *thread* that forked the
// child exits, not the process; Go may retire an ordinary thread at any time, so all
// forks happen on this one thread, which lives until the spawner is closed.
type spawner struct {
	reqs chan spawnReq
	quit chan struct{}
	done chan struct{}
}

type spawnReq struct {
	cmd   *exec.Cmd
	reply chan error
}

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan spawnReq), quit: make(chan struct{}), done: make(chan struct{})}
	go s.loop()
	return s
}

func (s *spawner) loop() {
	runtime.LockOSThread()
	// Never unlocked: when the loop returns, the runtime ends this thread, and the
	// kernel kills any child still running from it. Close calls it only after every
	// resource was terminated.
	defer close(s.done)
	for {
		select {
		case r := <-s.reqs:
			r.reply <- r.cmd.Start()
		case <-s.quit:
			return
		}
	}
}

// start starts cmd in its own process group with the parent-death signal set.
func (s *spawner) start(ctx context.Context, cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	r := spawnReq{cmd: cmd, reply: make(chan error, 1)}
	select {
	case s.reqs <- r:
	case <-s.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-r.reply
}

func (s *spawner) close() {
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
	<-s.done
}

// killGroup sends sig to the process group pgid; a group that is already gone is fine.
func killGroup(pgid int, sig syscall.Signal) error {
	if pgid <= 1 {
		return fmt.Errorf("resmon: refusing to signal process group %d", pgid)
	}
	if err := syscall.Kill(-pgid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("resmon: kill process group %d: %w", pgid, err)
	}
	return nil
}

// procRunning reports whether /proc shows pid as a live (not zombie, not dead) process.
func procRunning(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// Format: pid (comm) state ...; comm may hold spaces and parentheses.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	switch b[i+2] {
	case 'Z', 'X', 'x':
		return false
	}
	return true
}

// openLog opens (appending) the log file for resource name in dir, or /dev/null when
// dir is "". A log that has grown past maxBytes is first renamed to <name>.log.1
// (replacing the previous one): a resource's output keeps at most about twice maxBytes.
func openLog(dir, name string, maxBytes int64) (*os.File, error) {
	if dir == "" {
		return os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	}
	path := filepath.Join(dir, logFileName(name))
	if fi, err := os.Stat(path); err == nil && maxBytes > 0 && fi.Size() > maxBytes {
		if err := os.Rename(path, path+".1"); err != nil {
			return nil, fmt.Errorf("resmon: rotate log: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("resmon: open log: %w", err)
	}
	return f, nil
}

// logFileName maps a resource name (which may hold spaces, slashes, anything) to a file
// name, see safeName.
func logFileName(name string) string {
	return safeName(name) + ".log"
}

// safeName maps a resource name to a file-name- and shell-safe word: characters other
// than letters, digits, '.', '-' and '_' become '_', and when anything was replaced a
// hash of the name is appended, so that "Disk Q:" and "Disk_Q_" stay apart.
func safeName(name string) string {
	var b strings.Builder
	changed := false
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
			changed = true
		}
	}
	s := b.String()
	if s == "" || s == "." || s == ".." {
		s, changed = "_"+s, true
	}
	if changed {
		h := fnv.New32a()
		h.Write([]byte(name))
		s = fmt.Sprintf("%s-%08x", s, h.Sum32())
	}
	return s
}

// Package nodestate tells the CLIs whether the wolfpackd of a data directory runs, and
// whether it is ready: the daemon holds an exclusive flock on <data-dir>/wolfpackd.pid
// for as long as it runs (also after kill -9 the kernel drops it), and writes
// <data-dir>/api.addr once every part of it runs (internal/daemon). So a CLI can say
// "the node at D is not running" or "is starting" instead of whatever the missing
// socket or file makes the operating system say.
package nodestate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Files of a data directory (doc/CONTRACTS.md).
const (
	PidFile  = "wolfpackd.pid" // the daemon's pid, flock'ed while it runs
	AddrFile = "api.addr"      // written when the node is ready, removed when it stops
)

// State is what a data directory's node is doing.
type State int

const (
	NoDirectory State = iota // the directory does not exist
	NotRunning               // no wolfpackd holds the directory
	Starting                 // wolfpackd runs, and not every part of it yet
	Ready                    // every part runs
)

func (s State) String() string {
	return [...]string{"no directory", "not running", "starting", "ready"}[s]
}

// Check says what the node of data directory dir is doing, and its pid when it runs.
func Check(dir string) (State, int) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return NoDirectory, 0
	}
	pid, held := holder(dir)
	if !held {
		return NotRunning, 0
	}
	if _, err := os.Stat(filepath.Join(dir, AddrFile)); err == nil {
		return Ready, pid
	}
	return Starting, pid
}

// holder reports whether a process holds the data directory's lock, and the pid its pid
// file names. The probe takes a shared lock for an instant; the daemon retries its own
// for longer than that (internal/daemon).
func holder(dir string) (int, bool) {
	path := filepath.Join(dir, PidFile)
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if err == nil {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return 0, false
	}
	return pid, errors.Is(err, syscall.EWOULDBLOCK)
}

// Error says that a data directory's node cannot answer.
type Error struct {
	Dir    string
	State  State
	PID    int
	Waited time.Duration // how long the caller waited for a starting node
}

func (e *Error) Error() string {
	switch e.State {
	case NoDirectory:
		return fmt.Sprintf("the node at %s is not running: there is no such directory (WOLFPACK_DATA names a node's data directory)", e.Dir)
	case NotRunning:
		return fmt.Sprintf("the node at %s is not running (no wolfpackd holds the directory; start one with wolfpackd --data-dir %s)", e.Dir, e.Dir)
	case Starting:
		return fmt.Sprintf("the node at %s is starting (wolfpackd pid %d) and was not ready within %v", e.Dir, e.PID, e.Waited)
	}
	return fmt.Sprintf("the node at %s is %s", e.Dir, e.State)
}

// DefaultWait is how long the CLIs wait for a starting node.
const DefaultWait = 30 * time.Second

// Wait returns nil once the node of dir is ready. While it starts, Wait waits for it up to
// limit (note, when set, hears once that it waits, after a second); a node that does not
// run is an *Error at once.
func Wait(ctx context.Context, dir string, limit time.Duration, note func(string)) error {
	start := time.Now()
	noted := false
	for {
		st, pid := Check(dir)
		switch st {
		case Ready:
			return nil
		case NoDirectory, NotRunning:
			return &Error{Dir: dir, State: st}
		}
		waited := time.Since(start)
		if waited >= limit {
			return &Error{Dir: dir, State: Starting, PID: pid, Waited: limit}
		}
		if !noted && note != nil && waited >= time.Second {
			note(fmt.Sprintf("the node at %s is starting (wolfpackd pid %d): waiting for it to be ready", dir, pid))
			noted = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stderr is a note function that prints to the standard error.
func Stderr(msg string) { fmt.Fprintln(os.Stderr, msg) }

package resmon

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// actionRunner runs the short-lived actions of Generic Script and OCF resources: one
// process (group) per action, output appended to the resource's log file.
//
// The processes an "online"/"start" action leaves behind (a daemon it started without
// detaching) stay in that action's process group; the runner remembers such groups so
// that Terminate can kill them, and forgets them after a successful offline.
type actionRunner struct {
	name string // resource name, for the log file and messages
	e    *env

	mu      sync.Mutex
	running map[int]struct{} // process groups of actions in progress
	kept    map[int]struct{} // process groups of finished online/start actions
}

func newActionRunner(name string, e *env) *actionRunner {
	return &actionRunner{name: name, e: e, running: map[int]struct{}{}, kept: map[int]struct{}{}}
}

// maxReasonBytes bounds how much of an action's output is read back for its reason.
const maxReasonBytes = 64 << 10

// run runs argv with environment envv. It returns the exit status (-1 when the process
// was killed by a signal), the action's failure reason as found in its output (the last
// "ocf-exit-reason:" line, else the last non-empty line), and an error only when the
// program could not be started or ctx ended first (the group is then killed).
// keep marks the action's process group for Terminate; quiet leaves out the header line
// in the log (for the frequent health checks).
func (a *actionRunner) run(ctx context.Context, argv, envv []string, keep, quiet bool) (int, string, error) {
	logf, err := openLog(a.e.logDir, a.name, a.e.maxLog)
	if err != nil {
		return -1, "", err
	}
	defer logf.Close()
	var start int64 = -1
	if a.e.logDir != "" {
		if fi, err := logf.Stat(); err == nil {
			start = fi.Size()
		}
	}
	if !quiet {
		fmt.Fprintf(logf, "--- %s wolfpack: %s\n", time.Now().UTC().Format(time.RFC3339), strings.Join(argv, " "))
	}
	resolved, err := lookArgv(argv)
	if err != nil {
		return -1, "", fmt.Errorf("resmon: %s: run %s: %w", a.name, argv[0], err)
	}
	// Dir "/": files, not pipes, for the output: a daemon the action leaves behind may
	// keep them.
	p, err := a.e.launch.Start(ctx, ProcSpec{Argv: resolved, Env: envv, Dir: "/", Out: logf, Epoch: a.e.epoch})
	if err != nil {
		return -1, "", fmt.Errorf("resmon: %s: run %s: %w", a.name, argv[0], err)
	}
	pgid := p.Pid()
	a.mu.Lock()
	a.running[pgid] = struct{}{}
	a.mu.Unlock()
	select {
	case <-p.Done():
	case <-ctx.Done():
		killGroup(pgid, syscall.SIGKILL)
		select {
		case <-p.Done():
		case <-time.After(5 * time.Second): // a process stuck in the kernel
		}
	}
	a.mu.Lock()
	delete(a.running, pgid)
	if keep {
		a.kept[pgid] = struct{}{}
	}
	a.mu.Unlock()
	if ctx.Err() != nil {
		return -1, "", fmt.Errorf("resmon: %s: %s %s: %w", a.name, argv[0], strings.Join(argv[1:], " "), ctx.Err())
	}
	code := p.Exit().Code
	var reason string
	if code != 0 && start >= 0 {
		reason = readReason(logf.Name(), start)
	}
	return code, reason, nil
}

// forget drops the remembered process groups (after a successful offline).
func (a *actionRunner) forget() {
	a.mu.Lock()
	clear(a.kept)
	a.mu.Unlock()
}

// killAll kills the process groups of running actions (kept too when withKept).
func (a *actionRunner) killAll(withKept bool) {
	a.mu.Lock()
	groups := make([]int, 0, len(a.running)+len(a.kept))
	for g := range a.running {
		groups = append(groups, g)
	}
	if withKept {
		for g := range a.kept {
			groups = append(groups, g)
		}
		clear(a.kept)
	}
	a.mu.Unlock()
	for _, g := range groups {
		if err := killGroup(g, syscall.SIGKILL); err != nil {
			a.e.log.Warn("resmon: kill action group", "resource", a.name, "pgid", g, "err", err)
		}
	}
}

// readReason reads what an action appended to the log file after offset start and picks
// its reason: the last "ocf-exit-reason:" line, else the last non-empty line.
func readReason(path string, start int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() <= start {
		return ""
	}
	off := max(start, fi.Size()-maxReasonBytes)
	buf := make([]byte, fi.Size()-off)
	n, err := f.ReadAt(buf, off)
	if n == 0 && err != nil {
		return ""
	}
	lines := strings.Split(string(buf[:n]), "\n")
	last := ""
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if r, ok := strings.CutPrefix(l, "ocf-exit-reason:"); ok {
			return strings.TrimSpace(r)
		}
		if last == "" && l != "" && !strings.HasPrefix(l, "--- ") {
			last = l
		}
	}
	return last
}

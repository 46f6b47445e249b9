package reshost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"wolfpack/internal/fencing"
	"wolfpack/internal/resmon"
)

// The test binary doubles as the host: RESHOST_TEST_HOST=1 runs Main. Its revoker
// records each revocation, and which of the host's processes were still alive then, in
// RESHOST_TEST_REVOKED.
func TestMain(m *testing.M) {
	if os.Getenv("RESHOST_TEST_HOST") == "1" {
		os.Exit(Main(os.Args[2:], func(ctx context.Context, e EtcdAccess) (Revoker, error) {
			return fileRevoker(os.Getenv("RESHOST_TEST_REVOKED")), nil
		}))
	}
	os.Exit(m.Run())
}

type fileRevoker string

func (f fileRevoker) Revoke(ctx context.Context, lease int64) error {
	alive := len(descendants(os.Getpid()))
	return os.WriteFile(string(f), fmt.Appendf(nil, "revoked %x alive=%d\n", lease, alive), 0o644)
}
func (fileRevoker) Close() error { return nil }

type harness struct {
	t       *testing.T
	c       *Client
	dir     string
	revoked string
}

func newHarness(t *testing.T, hello Hello) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{t: t, dir: dir, revoked: filepath.Join(dir, "revoked")}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if hello.Node == "" {
		hello.Node = "N1"
	}
	hello.Etcd.Endpoints = []string{"test"}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := NewClient(ctx, ClientOptions{
		Path:  exe,
		Args:  []string{exe, HostArg, "--node", hello.Node},
		Env:   append(os.Environ(), "RESHOST_TEST_HOST=1", "RESHOST_TEST_REVOKED="+h.revoked),
		Hello: hello,
		Log:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	h.c = c
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c.Close(ctx)
	})
	return h
}

// sh starts a shell script under the host with epoch lease.
func (h *harness) sh(lease int64, script string) (resmon.Proc, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return h.c.Start(ctx, resmon.ProcSpec{Argv: []string{"/bin/sh", "-c", script}, Env: []string{"PATH=/usr/bin:/bin"}, Epoch: lease})
}

func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	st, _, _, ok := parseStat(b)
	return ok && st != 'Z' && st != 'X'
}

func waitGone(t *testing.T, pid int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still alive after %v", pid, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// readPid waits for a file holding a pid.
func readPid(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil && strings.HasSuffix(string(b), "\n") {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err == nil {
				return pid
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pid in %s", path)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStartNeedsPermitForItsEpoch(t *testing.T) {
	h := newHarness(t, Hello{})
	if _, err := h.sh(7, "exit 0"); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "no permit") {
		t.Fatalf("start without a permit: %v, want refused (no permit)", err)
	}
	h.c.Grant(7, fencing.Now().Add(10*time.Second), fencing.Now().Add(10*time.Second))
	if _, err := h.sh(8, "exit 0"); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "session") {
		t.Fatalf("start of another epoch: %v, want refused (session)", err)
	}
	p, err := h.sh(7, "exit 3")
	if err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	if e := p.Exit(); e.Code != 3 || e.Cause != "" {
		t.Errorf("exit = %+v, want code 3", e)
	}
	h.c.Grant(7, fencing.Now().Add(-time.Millisecond), fencing.Now().Add(-time.Millisecond)) // same lease, earlier: ignored
	if _, err := h.sh(7, "exit 0"); err != nil {
		t.Errorf("an out-of-order permit shortened the valid one: %v", err)
	}
}

func TestExecErrorWordedAsExec(t *testing.T) {
	h := newHarness(t, Hello{})
	h.c.Grant(1, fencing.Now().Add(10*time.Second), fencing.Now().Add(10*time.Second))
	ctx := context.Background()
	_, err := h.c.Start(ctx, resmon.ProcSpec{Argv: []string{"/no/such/program"}, Epoch: 1})
	if err == nil || err.Error() != "fork/exec /no/such/program: no such file or directory" {
		t.Fatalf("err = %v", err)
	}
}

func TestLogFilePassed(t *testing.T) {
	h := newHarness(t, Hello{})
	h.c.Grant(1, fencing.Now().Add(10*time.Second), fencing.Now().Add(10*time.Second))
	logPath := filepath.Join(h.dir, "app.log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.c.Start(context.Background(), resmon.ProcSpec{Argv: []string{"/bin/sh", "-c", "echo out; echo err >&2"}, Out: f, Epoch: 1})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	b, _ := os.ReadFile(logPath)
	if string(b) != "out\nerr\n" {
		t.Errorf("log = %q", b)
	}
}

// procState returns the state letter of pid in /proc ('T' stopped, 'S' sleeping, …).
func procState(pid int) byte {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	st, _, _, _ := parseStat(b)
	return st
}

func waitState(t *testing.T, pid int, want byte, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for procState(pid) != want {
		if time.Now().After(deadline) {
			t.Fatalf("process %d in state %q, want %q after %v", pid, procState(pid), want, within)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestPermitExpiryFreezesThenKills: when the daemon stops renewing, the host freezes the
// process group (a child that ignores SIGTERM included) and a process that detached into
// its own session at the permit's end, and kills them all at its KillAt, reporting why.
func TestPermitExpiryFreezesThenKills(t *testing.T) {
	kill := 300 * time.Millisecond
	h := newHarness(t, Hello{Kill: kill})
	now := fencing.Now()
	h.c.Grant(5, now.Add(400*time.Millisecond), now.Add(1200*time.Millisecond))
	stubborn := filepath.Join(h.dir, "stubborn")
	detached := filepath.Join(h.dir, "detached")
	p, err := h.sh(5, fmt.Sprintf(`
		sh -c 'trap "" TERM; echo $$ > %[1]s; while :; do sleep 0.05; done' &
		setsid sh -c 'echo $$ > %[2]s; exec sleep 1000' &
		wait`, stubborn, detached))
	if err != nil {
		t.Fatal(err)
	}
	sp, dp := readPid(t, stubborn), readPid(t, detached)
	// Frozen within the stop budget of the permit's end (the host looks every 10 ms).
	time.Sleep(time.Until(time.Now().Add(now.Add(400 * time.Millisecond).Until())))
	for _, pid := range []int{p.Pid(), sp, dp} {
		waitState(t, pid, 'T', 100*time.Millisecond)
	}
	if fencing.Now() >= now.Add(1200*time.Millisecond) {
		t.Fatal("too slow to see the freeze before the kill")
	}
	// A start asked for while frozen waits; the kill refuses it.
	refused := make(chan error, 1)
	go func() { _, err := h.sh(5, "exit 0"); refused <- err }()
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the permit's kill time passed but the process kept running")
	}
	if e := p.Exit(); !strings.Contains(e.Cause, "permit ran out") || e.Signal != syscall.SIGKILL {
		t.Errorf("exit %+v: want SIGKILL because the permit ran out", e)
	}
	waitGone(t, sp, kill)
	waitGone(t, dp, kill)
	if err := <-refused; !errors.Is(err, ErrRefused) {
		t.Errorf("start deferred while frozen: %v, want refused at the kill", err)
	}
	if _, err := h.sh(5, "exit 0"); !errors.Is(err, ErrRefused) {
		t.Errorf("start after the permit ran out: %v, want refused", err)
	}
	h.c.Grant(5, fencing.Now().Add(10*time.Second), fencing.Now().Add(20*time.Second))
	if _, err := h.sh(5, "exit 0"); err != nil {
		t.Errorf("start after a new permit: %v", err)
	}
}

// TestRenewalThaws: a renewal of the same lease while the processes are frozen lets them
// continue where they stopped (an etcd leader election longer than the window); a start
// deferred meanwhile goes.
func TestRenewalThaws(t *testing.T) {
	h := newHarness(t, Hello{})
	now := fencing.Now()
	h.c.Grant(9, now.Add(200*time.Millisecond), now.Add(10*time.Second))
	p, err := h.sh(9, "exec sleep 1000")
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, p.Pid(), 'T', 2*time.Second)
	started := make(chan error, 1)
	go func() {
		q, err := h.sh(9, "exit 6")
		if err == nil {
			<-q.Done()
			if q.Exit().Code != 6 {
				err = fmt.Errorf("deferred start ended %+v", q.Exit())
			}
		}
		started <- err
	}()
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-started:
		t.Fatalf("a start went while frozen: %v", err)
	default:
	}
	h.c.Grant(9, fencing.Now().Add(10*time.Second), fencing.Now().Add(20*time.Second))
	waitState(t, p.Pid(), 'S', 2*time.Second)
	if err := <-started; err != nil {
		t.Errorf("deferred start: %v", err)
	}
	select {
	case <-p.Done():
		t.Fatalf("the frozen process ended: %+v", p.Exit())
	default:
	}
}

// TestNewLeaseEndsOldProcesses: a permit of another lease (a new session) kills what ran
// under the old one.
func TestNewLeaseEndsOldProcesses(t *testing.T) {
	h := newHarness(t, Hello{})
	h.c.Grant(1, fencing.Now().Add(10*time.Second), fencing.Now().Add(20*time.Second))
	p, err := h.sh(1, "exec sleep 1000")
	if err != nil {
		t.Fatal(err)
	}
	h.c.Grant(2, fencing.Now().Add(10*time.Second), fencing.Now().Add(20*time.Second))
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a process of the old session survived a new permit")
	}
	if e := p.Exit(); !strings.Contains(e.Cause, "session changed") {
		t.Errorf("exit %+v", e)
	}
	if _, err := h.sh(2, "exit 0"); err != nil {
		t.Errorf("start under the new session: %v", err)
	}
}

// TestDaemonDeathRevokesAfterKill: the daemon's end closing without goodbye makes the
// host kill everything and then revoke the lease — with nothing left alive.
func TestDaemonDeathRevokesAfterKill(t *testing.T) {
	h := newHarness(t, Hello{Kill: 300 * time.Millisecond})
	h.c.Grant(0xabc, fencing.Now().Add(30*time.Second), fencing.Now().Add(30*time.Second))
	pidf := filepath.Join(h.dir, "pid")
	if _, err := h.sh(0xabc, fmt.Sprintf(`trap "" TERM; echo $$ > %s; while :; do sleep 0.05; done`, pidf)); err != nil {
		t.Fatal(err)
	}
	pid := readPid(t, pidf)
	hostPid := h.c.HostPid()
	h.c.crashForTest()
	waitGone(t, pid, 2*time.Second)
	waitGone(t, hostPid, 5*time.Second)
	b, err := os.ReadFile(h.revoked)
	if err != nil {
		t.Fatalf("the host did not revoke the lease: %v", err)
	}
	if string(b) != "revoked abc alive=0\n" {
		t.Errorf("revocation record %q, want lease abc with nothing alive", b)
	}
}

// TestHostDeathKillsResources: kill -9 of the host kills its children (parent-death
// signal) and what they left in their process groups; the client reports the exits and
// starts a new host that works.
func TestHostDeathKillsResources(t *testing.T) {
	h := newHarness(t, Hello{})
	h.c.Grant(1, fencing.Now().Add(30*time.Second), fencing.Now().Add(30*time.Second))
	pidf := filepath.Join(h.dir, "pid")
	p, err := h.sh(1, fmt.Sprintf(`sh -c 'echo $$ > %s; exec sleep 1000' & wait`, pidf))
	if err != nil {
		t.Fatal(err)
	}
	grandchild := readPid(t, pidf)
	old := h.c.HostPid()
	syscall.Kill(old, syscall.SIGKILL)
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("no exit reported after the host died")
	}
	if e := p.Exit(); e.Cause != ErrHostDied.Error() {
		t.Errorf("exit %+v", e)
	}
	waitGone(t, p.Pid(), 2*time.Second)
	waitGone(t, grandchild, 2*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for h.c.HostPid() == 0 || h.c.HostPid() == old {
		if time.Now().After(deadline) {
			t.Fatal("no new host")
		}
		time.Sleep(10 * time.Millisecond)
	}
	q, err := h.sh(1, "exit 4")
	if err != nil {
		t.Fatalf("start on the new host: %v", err)
	}
	<-q.Done()
	if q.Exit().Code != 4 {
		t.Errorf("exit %+v", q.Exit())
	}
	if _, err := os.Stat(h.revoked); err == nil {
		t.Error("a host killed by a signal revoked the lease")
	}
}

// TestHostDeathPdeathsig: the host's children die with it by themselves (the
// parent-death signal), even when nobody cleans up after it.
func TestHostDeathPdeathsig(t *testing.T) {
	h := newHarness(t, Hello{})
	h.c.mu.Lock()
	h.c.noCleanup = true
	h.c.mu.Unlock()
	h.c.Grant(1, fencing.Now().Add(30*time.Second), fencing.Now().Add(30*time.Second))
	p, err := h.sh(1, "exec sleep 1000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-p.Pid(), syscall.SIGKILL) })
	syscall.Kill(h.c.HostPid(), syscall.SIGKILL)
	waitGone(t, p.Pid(), 2*time.Second)
}

// TestWatchdog: the host pets the device while its permit is valid, goes on petting once
// its processes are gone, and disarms it ('V') on a clean end.
func TestWatchdog(t *testing.T) {
	dev := filepath.Join(t.TempDir(), "watchdog")
	if err := os.WriteFile(dev, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Hello{Watchdog: dev, WatchdogTimeout: 400 * time.Millisecond, Stop: time.Second})
	h.c.Grant(1, fencing.Now().Add(30*time.Second), fencing.Now().Add(30*time.Second))
	time.Sleep(time.Second)
	b, _ := os.ReadFile(dev)
	// Timeout rounds up to 1 s: a pet every 250 ms.
	if n := strings.Count(string(b), "."); n < 3 {
		t.Errorf("%d pets in 1 s, want ≥ 3", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(dev)
	if !strings.HasSuffix(string(b), "V") {
		t.Errorf("watchdog not disarmed on a clean end: %q", b)
	}
}

// crashForTest closes the daemon's end without a goodbye, as the daemon's death does.
func (c *Client) crashForTest() {
	c.mu.Lock()
	c.closed = true
	out := c.out
	c.mu.Unlock()
	if out != nil {
		out.c.c.Close()
	}
}

func TestMayPet(t *testing.T) {
	now := fencing.Now()
	p := Permit{Lease: 1, Until: now.Add(3 * time.Second), KillAt: now.Add(5 * time.Second)}
	kill, wd := time.Second, time.Second // kill here is the stop budget
	for _, c := range []struct {
		name                       string
		now                        fencing.Instant
		fenced, survivors, running bool
		want                       bool
	}{
		{"nothing runs", now, false, false, false, true},
		{"nothing runs, fenced", now, true, false, false, true},
		{"survivors", now, true, true, false, false},
		{"running, reset would come in time", now, false, false, true, true},
		{"running, reset at permit+kill exactly", now.Add(3 * time.Second), false, false, true, true},
		{"running, reset too late", now.Add(3*time.Second + time.Millisecond), false, false, true, false},
		{"running, fenced", now, true, false, true, false},
	} {
		if got := mayPet(c.now, p, c.fenced, c.survivors, c.running, kill, wd); got != c.want {
			t.Errorf("%s: mayPet = %v, want %v", c.name, got, c.want)
		}
	}
	if mayPet(now, Permit{}, false, false, true, kill, wd) {
		t.Error("pets with processes and no permit")
	}
}

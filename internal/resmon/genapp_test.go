package resmon

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary act as the helper of TestPdeathsig.
func TestMain(m *testing.M) {
	if os.Getenv("RESMON_TEST_HELPER") == "pdeathsig" {
		pdeathsigHelper()
		return
	}
	os.Exit(m.Run())
}

// pdeathsigHelper starts a Generic Application `sleep 1000`, prints its pid, and waits
// to be killed.
func pdeathsigHelper() {
	m, err := NewMonitor(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	if err := m.Add(Spec{Name: "Sleeper", Type: TypeGenericApplication, Private: map[string]string{"CommandLine": "sleep 1000"}}); err == nil {
		err = m.Online(context.Background(), "Sleeper")
	}
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	r, _ := m.Resource("Sleeper")
	fmt.Println(r.(*genericApp).pid())
	select {}
}

func appPID(t *testing.T, m *Monitor, name string) int {
	t.Helper()
	r, err := m.Resource(name)
	if err != nil {
		t.Fatal(err)
	}
	pid := r.(*genericApp).pid()
	if pid == 0 {
		t.Fatalf("%s has no process", name)
	}
	return pid
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("process %d to end", pid), func() bool { return !procRunning(pid) })
}

func TestGenericApplication(t *testing.T) {
	rec := newRecorder()
	m := newTestMonitor(t, rec)
	dir := t.TempDir()
	err := m.Add(Spec{Name: "My App", Type: "generic application", Policy: fastPolicy(), Private: map[string]string{
		"CommandLine":      `/bin/sh -c 'echo "hello from $GREETING in $(pwd)"; exec sleep 1000'`,
		"CurrentDirectory": dir,
		"Environment":      "GREETING=wolfpack\nOTHER=1",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Online(ctxT(t), "My App"); err != nil {
		t.Fatal(err)
	}
	pid := appPID(t, m, "My App")
	if !procRunning(pid) {
		t.Fatalf("process %d not running", pid)
	}
	if pgid, err := syscall.Getpgid(pid); err != nil || pgid != pid {
		t.Fatalf("process group of %d is %d (%v), want its own", pid, pgid, err)
	}
	logPath := filepath.Join(m.env.logDir, logFileName("My App"))
	want := "hello from wolfpack in " + dir
	waitFor(t, "the greeting in the log", func() bool {
		b, _ := os.ReadFile(logPath)
		return strings.Contains(string(b), want)
	})
	r, _ := m.Resource("My App")
	if !r.LooksAlive(ctxT(t)) || !r.IsAlive(ctxT(t)) {
		t.Fatal("running application does not look alive")
	}

	if err := m.Offline(ctxT(t), "My App"); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)
	if r.LooksAlive(ctxT(t)) || r.IsAlive(ctxT(t)) {
		t.Fatal("stopped application looks alive")
	}
	rec.expect(t, "My App", StateOffline, StateOnlinePending)
	rec.expect(t, "My App", StateOnlinePending, StateOnline)
	rec.expect(t, "My App", StateOnline, StateOfflinePending)
	rec.expect(t, "My App", StateOfflinePending, StateOffline)
}

func TestGenericApplicationKillDetectedAndRestarted(t *testing.T) {
	rec := newRecorder()
	m := newTestMonitor(t, rec)
	p := fastPolicy()
	p.RestartThreshold = 1
	if err := m.Add(Spec{Name: "App", Type: TypeGenericApplication, Policy: p, Private: map[string]string{"CommandLine": "sleep 1000"}}); err != nil {
		t.Fatal(err)
	}
	if err := m.Online(ctxT(t), "App"); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "App", StateOffline, StateOnlinePending)
	rec.expect(t, "App", StateOnlinePending, StateOnline)
	pid1 := appPID(t, m, "App")
	if err := syscall.Kill(pid1, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	e := rec.expect(t, "App", StateOnline, StateFailed)
	errIs(t, e.Err, ErrNotAlive)
	if !strings.Contains(e.Err.Error(), "killed") {
		t.Fatalf("failure %q does not say the process was killed", e.Err)
	}
	if !e.Restarting {
		t.Fatalf("%v: want a restart", e)
	}
	rec.expect(t, "App", StateFailed, StateOnlinePending)
	rec.expect(t, "App", StateOnlinePending, StateOnline)
	pid2 := appPID(t, m, "App")
	if pid2 == pid1 || !procRunning(pid2) {
		t.Fatalf("restarted process %d (was %d) not running", pid2, pid1)
	}
	// Second kill exceeds the threshold of one restart: the failover signal.
	if err := syscall.Kill(pid2, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if e := rec.expect(t, "App", StateOnline, StateFailed); !e.Failover {
		t.Fatalf("%v: want the failover signal", e)
	}
}

func TestGenericApplicationIgnoresSIGTERM(t *testing.T) {
	m := newTestMonitor(t, nil)
	m.env.grace = 200 * time.Millisecond
	ready := filepath.Join(t.TempDir(), "ready")
	cl := fmt.Sprintf(`/bin/sh -c 'trap "" TERM; sleep 1000 & touch %s; wait; wait'`, ready)
	if err := m.Add(Spec{Name: "Stubborn", Type: TypeGenericApplication, Policy: fastPolicy(), Private: map[string]string{"CommandLine": cl}}); err != nil {
		t.Fatal(err)
	}
	if err := m.Online(ctxT(t), "Stubborn"); err != nil {
		t.Fatal(err)
	}
	pid := appPID(t, m, "Stubborn")
	waitFor(t, "the child sleep", func() bool { _, err := os.Stat(ready); return err == nil })
	members := groupMembers(pid)
	if len(members) < 2 {
		t.Fatalf("process group %d has members %v, want the shell and its sleep", pid, members)
	}
	start := time.Now()
	if err := m.Offline(ctxT(t), "Stubborn"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("Offline took %v: SIGTERM should have been ignored for the grace period", d)
	}
	for _, p := range members {
		waitGone(t, p)
	}
}

// groupMembers lists the live processes of process group pgid.
func groupMembers(pgid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if g, err := syscall.Getpgid(pid); err == nil && g == pgid && procRunning(pid) {
			out = append(out, pid)
		}
	}
	return out
}

func TestGenericApplicationBadProperties(t *testing.T) {
	m := newTestMonitor(t, nil)
	var pe *PropertyError
	for _, tc := range []struct {
		private  map[string]string
		property string
	}{
		{map[string]string{}, "CommandLine"},
		{map[string]string{"CommandLine": "   "}, "CommandLine"},
		{map[string]string{"CommandLine": `sh -c 'unterminated`}, "CommandLine"},
		{map[string]string{"CommandLine": "true", "Environment": "NOEQUALS"}, "Environment"},
		{map[string]string{"CommandLine": "true", "Colour": "blue"}, "Colour"},
	} {
		err := m.Add(Spec{Name: "Bad", Type: TypeGenericApplication, Private: tc.private})
		if !errors.As(err, &pe) || pe.Property != tc.property {
			t.Errorf("%v: error %v, want a PropertyError on %s", tc.private, err, tc.property)
		}
		if err := ValidateProperties(TypeGenericApplication, tc.private); !errors.As(err, &pe) {
			t.Errorf("ValidateProperties(%v) = %v, want a PropertyError", tc.private, err)
		}
	}

	// A program that does not exist fails Online with a clear error.
	p := fastPolicy()
	p.RestartAction = RestartDontRestart
	if err := m.Add(Spec{Name: "Missing", Type: TypeGenericApplication, Policy: p, Private: map[string]string{"CommandLine": "/nonexistent/wolfpack-app --flag"}}); err != nil {
		t.Fatal(err)
	}
	err := m.Online(ctxT(t), "Missing")
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/wolfpack-app") {
		t.Fatalf("Online of a missing program: %v", err)
	}
	mustState(t, m, "Missing", StateFailed)
	if err := m.Add(Spec{Name: "NoDir", Type: TypeGenericApplication, Policy: p, Private: map[string]string{"CommandLine": "true", "CurrentDirectory": "/nonexistent/dir"}}); err != nil {
		t.Fatal(err)
	}
	if err := m.Online(ctxT(t), "NoDir"); err == nil || !strings.Contains(err.Error(), "CurrentDirectory") {
		t.Fatalf("Online with a missing directory: %v", err)
	}
}

// TestPdeathsig: a daemon killed with SIGKILL takes its Generic Application's process
// with it.
func TestPdeathsig(t *testing.T) {
	helper := exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), "RESMON_TEST_HELPER=pdeathsig")
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	helper.Stderr = os.Stderr
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	defer helper.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("helper said %q: %v", line, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("helper said %q", line)
	}
	if !procRunning(pid) {
		t.Fatalf("sleep %d is not running", pid)
	}
	if err := helper.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	helper.Wait()
	waitGone(t, pid)
}

// TestGenericApplicationLeftoversKilled: the program exits and leaves a child behind in
// its process group; the failure's Terminate kills the child.
func TestGenericApplicationLeftoversKilled(t *testing.T) {
	rec := newRecorder()
	m := newTestMonitor(t, rec)
	p := fastPolicy()
	p.RestartAction = RestartDontRestart
	pidFile := filepath.Join(t.TempDir(), "child")
	cl := fmt.Sprintf(`/bin/sh -c 'sleep 1000 & echo $! > %s.tmp; mv %s.tmp %s; exit 3'`, pidFile, pidFile, pidFile)
	if err := m.Add(Spec{Name: "Leaky", Type: TypeGenericApplication, Policy: p, Private: map[string]string{"CommandLine": cl}}); err != nil {
		t.Fatal(err)
	}
	if err := m.Online(ctxT(t), "Leaky"); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "Leaky", StateOffline, StateOnlinePending)
	rec.expect(t, "Leaky", StateOnlinePending, StateOnline)
	e := rec.expect(t, "Leaky", StateOnline, StateFailed)
	if !strings.Contains(e.Err.Error(), "exit status 3") {
		t.Fatalf("failure %q does not give the exit status", e.Err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	waitGone(t, child)
}

// A Generic Application whose process dies is failed at once, from the process's exit,
// not at the next LooksAlive (here an hour away); the failure, with the signal, is noted
// in the resource's log next to the program's output.
func TestGenericApplicationExitNoticedAtOnce(t *testing.T) {
	rec := newRecorder()
	m := newTestMonitor(t, rec)
	p := fastPolicy()
	p.LooksAlivePollInterval, p.IsAlivePollInterval = time.Hour, time.Hour
	p.RestartAction = RestartDontRestart
	if err := m.Add(Spec{Name: "App", Type: TypeGenericApplication, Policy: p,
		Private: map[string]string{"CommandLine": `/bin/sh -c 'printf "no%snewline" " "; exec sleep 1000'`}}); err != nil {
		t.Fatal(err)
	}
	if err := m.Online(ctxT(t), "App"); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "App", StateOffline, StateOnlinePending)
	rec.expect(t, "App", StateOnlinePending, StateOnline)
	logPath := filepath.Join(m.env.logDir, logFileName("App"))
	waitFor(t, "the program's output", func() bool {
		b, _ := os.ReadFile(logPath)
		return strings.HasSuffix(string(b), "\nno newline")
	})
	pid := appPID(t, m, "App")
	killed := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	e := rec.expect(t, "App", StateOnline, StateFailed)
	if took := time.Since(killed); took > time.Second {
		t.Errorf("the kill was noticed after %v", took)
	}
	errIs(t, e.Err, ErrNotAlive)
	if !strings.Contains(e.Err.Error(), "signal: killed") {
		t.Errorf("failure %q does not name the signal", e.Err)
	}
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^no newline\n--- \S+ wolfpack: failed: resmon: resource is not alive: process ended: signal: killed$`).Match(b) {
		t.Errorf("log does not note the failure on its own line:\n%s", b)
	}
}

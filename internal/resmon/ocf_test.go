package resmon

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const dummyAgent = "/usr/lib/ocf/resource.d/heartbeat/Dummy"

func needDummy(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(dummyAgent); err != nil {
		t.Fatalf("%s is missing: install Debian's resource-agents package (scripts/test does): %v", dummyAgent, err)
	}
}

func TestOCFDummy(t *testing.T) {
	needDummy(t)
	for _, tc := range []struct{ typ, agent string }{
		{"OCF", "heartbeat:Dummy"},
		{"ocf:heartbeat:Dummy", ""},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			rec := newRecorder()
			m := newTestMonitor(t, rec)
			state := filepath.Join(t.TempDir(), "dummy.state")
			private := map[string]string{"state": state}
			if tc.agent != "" {
				private["Agent"] = tc.agent
			}
			if err := m.Add(Spec{Name: "Dummy R", Type: tc.typ, Policy: fastPolicy(), Private: private}); err != nil {
				t.Fatal(err)
			}
			if err := m.Online(ctxT(t), "Dummy R"); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(state); err != nil {
				t.Fatalf("start did not create the state file: %v", err)
			}
			r, _ := m.Resource("Dummy R")
			if !r.LooksAlive(ctxT(t)) || !r.IsAlive(ctxT(t)) {
				t.Fatal("monitor says a started Dummy is not running")
			}
			rec.expect(t, "Dummy R", StateOffline, StateOnlinePending)
			rec.expect(t, "Dummy R", StateOnlinePending, StateOnline)

			// monitor answers OCF_NOT_RUNNING once the state file is gone.
			if err := os.Remove(state); err != nil {
				t.Fatal(err)
			}
			e := rec.expect(t, "Dummy R", StateOnline, StateFailed)
			errIs(t, e.Err, ErrNotAlive)
			errIs(t, e.Err, ErrNotRunning)
			var ae *ActionError
			if !errors.As(e.Err, &ae) || !ae.OCF || OCFCode(ae.Code) != OCFNotRunning || ae.Action != "monitor" {
				t.Fatalf("failure %v, want monitor's OCF_NOT_RUNNING", e.Err)
			}
			if !strings.Contains(ae.Reason, "No process state file found") {
				t.Errorf("reason %q lacks the agent's ocf-exit-reason", ae.Reason)
			}
			rec.expect(t, "Dummy R", StateFailed, StateOnlinePending)
			rec.expect(t, "Dummy R", StateOnlinePending, StateOnline)
			if _, err := os.Stat(state); err != nil {
				t.Fatalf("restart did not recreate the state file: %v", err)
			}

			if err := m.Offline(ctxT(t), "Dummy R"); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(state); !os.IsNotExist(err) {
				t.Fatalf("stop left the state file: %v", err)
			}
			if r.LooksAlive(ctxT(t)) {
				t.Fatal("monitor says a stopped Dummy is running")
			}
		})
	}
}

// TestOCFExitCodes runs a fake agent under a private OCF_ROOT that fails start with
// OCF_ERR_CONFIGURED and a reason, and checks the environment it was given.
func TestOCFExitCodes(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "resource.d", "test")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	envFile := filepath.Join(t.TempDir(), "env")
	agent := `#!/bin/sh
env | grep '^OCF_' | sort > "$OCF_RESKEY_envfile"
case "$1" in
start)
	[ "$OCF_RESKEY_startrc" = 0 ] && exit 0
	echo "ocf-exit-reason:parameter ip is required" >&2; echo "more noise" >&2; exit 6 ;;
stop) exit 7 ;;
monitor) exit 0 ;;
*) exit 3 ;;
esac
`
	if err := os.WriteFile(filepath.Join(dir, "Fake"), []byte(agent), 0o755); err != nil {
		t.Fatal(err)
	}
	m := newTestMonitor(t, nil)
	m.env.ocfRoot = root
	p := fastPolicy()
	p.RestartAction = RestartDontRestart
	if err := m.Add(Spec{Name: "Svc IP", Type: "OCF", Policy: p, Private: map[string]string{"Agent": "test:Fake", "envfile": envFile}}); err != nil {
		t.Fatal(err)
	}
	err := m.Online(ctxT(t), "Svc IP")
	var ae *ActionError
	if !errors.As(err, &ae) || !ae.OCF || OCFCode(ae.Code) != OCFErrConfigured || ae.Reason != "parameter ip is required" {
		t.Fatalf("Online: %v, want OCF_ERR_CONFIGURED with the exit reason", err)
	}
	if !strings.Contains(err.Error(), "OCF_ERR_CONFIGURED") {
		t.Errorf("error text %q lacks the code's name", err)
	}
	b, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	// stop answering OCF_NOT_RUNNING is a successful stop.
	if err := m.Add(Spec{Name: "Svc", Type: "ocf:test:Fake", Policy: p, Private: map[string]string{"startrc": "0", "envfile": envFile + "2"}}); err != nil {
		t.Fatal(err)
	}
	if err := m.Online(ctxT(t), "Svc"); err != nil {
		t.Fatal(err)
	}
	if err := m.Offline(ctxT(t), "Svc"); err != nil {
		t.Fatalf("Offline with stop exiting OCF_NOT_RUNNING: %v", err)
	}
	mustState(t, m, "Svc", StateOffline)
	for _, want := range []string{
		"OCF_ROOT=" + root, "OCF_RESOURCE_INSTANCE=Svc_IP-", "OCF_RESOURCE_TYPE=Fake",
		"OCF_RESOURCE_PROVIDER=test", "OCF_RESKEY_envfile=" + envFile, "OCF_RESKEY_CRM_meta_timeout=",
		"OCF_RA_VERSION_MAJOR=1",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("agent environment lacks %q:\n%s", want, b)
		}
	}
}

func TestOCFBadProperties(t *testing.T) {
	var pe *PropertyError
	for _, tc := range []struct {
		typ     string
		private map[string]string
		msg     string
	}{
		{"OCF", map[string]string{}, "required"},
		{"OCF", map[string]string{"Agent": "heartbeat:NoSuchAgent"}, "unknown OCF agent"},
		{"OCF", map[string]string{"Agent": "../../../bin:sh"}, "want provider:agent"},
		{"OCF", map[string]string{"Agent": "a:b:c:d"}, "want provider:agent"},
		{"ocf:heartbeat:NoSuchAgent", nil, "unknown OCF agent"},
		{"ocf:heartbeat:Dummy", map[string]string{"Agent": "heartbeat:IPaddr2"}, "conflicts"},
		{"OCF", map[string]string{"Agent": "heartbeat:Dummy", "bad name": "x"}, "parameter name"},
	} {
		err := ValidateProperties(tc.typ, tc.private)
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s %v: %v, want a PropertyError saying %q", tc.typ, tc.private, err, tc.msg)
		}
	}
}

func TestOCFCodeNames(t *testing.T) {
	for code, want := range map[OCFCode]string{
		0: "OCF_SUCCESS", 1: "OCF_ERR_GENERIC", 2: "OCF_ERR_ARGS", 3: "OCF_ERR_UNIMPLEMENTED",
		4: "OCF_ERR_PERM", 5: "OCF_ERR_INSTALLED", 6: "OCF_ERR_CONFIGURED", 7: "OCF_NOT_RUNNING",
		8: "OCF_RUNNING_MASTER", 9: "OCF_FAILED_MASTER", 42: "OCF exit 42",
	} {
		if got := code.String(); got != want {
			t.Errorf("OCFCode(%d) = %q, want %q", code, got, want)
		}
	}
}

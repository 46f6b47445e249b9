package resmon

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testScript = `#!/bin/sh
# A Generic Script resource: the state file says whether it is online.
state="$WOLFPACK_PROP_StateFile"
echo "$WOLFPACK_ACTION $WOLFPACK_RESOURCE" >> "$WOLFPACK_PROP_Trace"
case "$1" in
online)
	if [ -n "$WOLFPACK_PROP_FailWith" ]; then echo "cannot start: $WOLFPACK_PROP_FailWith" >&2; exit 3; fi
	touch "$state" ;;
offline) rm -f "$state" ;;
looksalive|isalive) test -f "$state" ;;
*) exit 1 ;;
esac
`

func writeScript(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "resource.sh")
	writeFile(t, path, body)
	return path
}

func writeFile(t testing.TB, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestGenericScript(t *testing.T) {
	rec := newRecorder()
	m := newTestMonitor(t, rec)
	dir := t.TempDir()
	state, trace := filepath.Join(dir, "online"), filepath.Join(dir, "trace")
	err := m.Add(Spec{Name: "Script R", Type: TypeGenericScript, Policy: fastPolicy(), Private: map[string]string{
		"ScriptFilePath": writeScript(t, testScript), "StateFile": state, "Trace": trace,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Online(ctxT(t), "Script R"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(state); err != nil {
		t.Fatalf("online did not create the state file: %v", err)
	}
	rec.expect(t, "Script R", StateOffline, StateOnlinePending)
	rec.expect(t, "Script R", StateOnlinePending, StateOnline)
	waitFor(t, "looksalive and isalive calls", func() bool {
		b, _ := os.ReadFile(trace)
		return strings.Contains(string(b), "looksalive Script R") && strings.Contains(string(b), "isalive Script R")
	})

	// The resource goes away behind the monitor's back: detected, restarted.
	if err := os.Remove(state); err != nil {
		t.Fatal(err)
	}
	e := rec.expect(t, "Script R", StateOnline, StateFailed)
	errIs(t, e.Err, ErrNotAlive)
	var ae *ActionError
	if !errors.As(e.Err, &ae) || ae.Code != 1 || ae.OCF {
		t.Fatalf("failure %v, want the script's exit status 1", e.Err)
	}
	rec.expect(t, "Script R", StateFailed, StateOnlinePending)
	rec.expect(t, "Script R", StateOnlinePending, StateOnline)
	if _, err := os.Stat(state); err != nil {
		t.Fatalf("restart did not recreate the state file: %v", err)
	}

	if err := m.Offline(ctxT(t), "Script R"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Fatalf("offline left the state file: %v", err)
	}
	b, _ := os.ReadFile(trace)
	for _, want := range []string{"online Script R", "terminate Script R", "offline Script R"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("trace lacks %q:\n%s", want, b)
		}
	}
}

func TestGenericScriptOnlineFails(t *testing.T) {
	m := newTestMonitor(t, nil)
	p := fastPolicy()
	p.RestartAction = RestartDontRestart
	dir := t.TempDir()
	err := m.Add(Spec{Name: "S", Type: TypeGenericScript, Policy: p, Private: map[string]string{
		"ScriptFilePath": writeScript(t, testScript), "StateFile": filepath.Join(dir, "s"),
		"Trace": filepath.Join(dir, "t"), "FailWith": "disk missing",
	}})
	if err != nil {
		t.Fatal(err)
	}
	err = m.Online(ctxT(t), "S")
	var ae *ActionError
	if !errors.As(err, &ae) || ae.Action != "online" || ae.Code != 3 || ae.Reason != "cannot start: disk missing" {
		t.Fatalf("Online: %v, want exit status 3 with the script's message", err)
	}
	mustState(t, m, "S", StateFailed)
}

func TestGenericScriptBadProperties(t *testing.T) {
	var pe *PropertyError
	for _, private := range []map[string]string{
		{},
		{"ScriptFilePath": "relative/script.sh"},
		{"ScriptFilePath": "/bin/true", "bad-name": "x"},
	} {
		if err := ValidateProperties(TypeGenericScript, private); !errors.As(err, &pe) {
			t.Errorf("%v: %v, want a PropertyError", private, err)
		}
	}
	m := newTestMonitor(t, nil)
	p := fastPolicy()
	p.RestartAction = RestartDontRestart
	if err := m.Add(Spec{Name: "Gone", Type: TypeGenericScript, Policy: p, Private: map[string]string{"ScriptFilePath": "/nonexistent/script.sh"}}); err != nil {
		t.Fatal(err)
	}
	if err := m.Online(ctxT(t), "Gone"); err == nil || !strings.Contains(err.Error(), "/nonexistent/script.sh") {
		t.Fatalf("Online of a missing script: %v", err)
	}
}

func TestLogRotation(t *testing.T) {
	m := newTestMonitor(t, nil)
	m.env.maxLog = 100
	script := writeScript(t, "#!/bin/sh\nprintf '%0200d\\n' 0\n")
	p := fastPolicy()
	p.LooksAlivePollInterval, p.IsAlivePollInterval = time.Hour, time.Hour // only online and offline write
	if err := m.Add(Spec{Name: "Chatty", Type: TypeGenericScript, Policy: p, Private: map[string]string{"ScriptFilePath": script}}); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(m.env.logDir, logFileName("Chatty"))
	if err := m.Online(ctxT(t), "Chatty"); err != nil {
		t.Fatal(err)
	}
	if err := m.Offline(ctxT(t), "Chatty"); err != nil {
		t.Fatal(err)
	}
	rotated, err := os.ReadFile(log + ".1")
	if err != nil {
		t.Fatalf("log not rotated: %v", err)
	}
	if !strings.Contains(string(rotated), "resource.sh online") {
		t.Errorf("rotated log lacks the online action:\n%s", rotated)
	}
	cur, err := os.ReadFile(log)
	if err != nil || !strings.Contains(string(cur), "resource.sh offline") || strings.Contains(string(cur), "resource.sh online") {
		t.Fatalf("current log (%v):\n%s", err, cur)
	}
}

package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"wolfpack/internal/clusterdb"
	"wolfpack/internal/eventlog"
)

const imcKey = `SYSTEM\CurrentControlSet\Services\MSExchangeIMC`

type fixture struct {
	reg    *fakeRegistry
	store  *fakeStore
	events *fakeEvents
	m      *Manager
	fence  Fence
	res    Resource
}

func newFixture(t *testing.T, action string) *fixture {
	t.Helper()
	fx := &fixture{reg: newFakeRegistry(), store: newFakeStore(), events: &fakeEvents{}}
	fx.fence = Fence{Node: "N2", Group: "Exchange Group", Revision: 42}
	fx.store.own(fx.fence)
	fx.res = Resource{Name: "Microsoft Exchange Internet Mail Service", Group: "Exchange Group",
		Keys: []string{imcKey}, Private: map[string]string{}}
	if action != "" {
		fx.res.Private[PropRestoreFailureAction] = action
	}
	fx.m = New(Config{Node: "N2", Registry: fx.reg, Store: fx.store, Events: fx.events,
		RetryInterval: 10 * time.Millisecond})
	t.Cleanup(func() { fx.m.Close() })
	return fx
}

var winlogon = Holder{PID: 4242, UID: 0, Process: "winlogon",
	Key: `HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\MSExchangeIMC\Parameters`}

func TestRestoreBeforeOnline(t *testing.T) {
	fx := newFixture(t, "")
	fx.store.seed(fx.res.Name, imcKey, "node1 values")
	fx.reg.set(imcKey, "old node2 values")
	if err := fx.m.BeforeOnline(context.Background(), fx.res, fx.fence); err != nil {
		t.Fatal(err)
	}
	if got := fx.reg.get(imcKey); got != "node1 values" {
		t.Fatalf("after restore the key holds %q", got)
	}
	if ids := fx.events.ids(); len(ids) != 0 {
		t.Fatalf("events %v after a clean restore", ids)
	}
}

func TestNothingToRestore(t *testing.T) {
	fx := newFixture(t, "")
	fx.reg.set(imcKey, "live")
	if err := fx.m.BeforeOnline(context.Background(), fx.res, fx.fence); err != nil {
		t.Fatal(err)
	}
	if len(fx.reg.restores) != 0 || fx.reg.get(imcKey) != "live" {
		t.Fatalf("restored %v with no checkpoint", fx.reg.restores)
	}
}

func TestCaptureOnChange(t *testing.T) {
	fx := newFixture(t, "")
	ctx := context.Background()
	fx.store.seed(fx.res.Name, imcKey, "v1")
	if err := fx.m.BeforeOnline(ctx, fx.res, fx.fence); err != nil {
		t.Fatal(err)
	}
	fx.m.Online(ctx, fx.res, fx.fence)
	fx.reg.set(imcKey, "v2")
	if !eventually(func() bool { _, c := fx.store.latest(fx.res.Name, imcKey); return c == "v2" }) {
		t.Fatal("change not captured")
	}
	n, _ := fx.store.latest(fx.res.Name, imcKey)
	if n != 2 {
		t.Fatalf("newest version %d, want 2", n)
	}
}

// TestRestoreIsNotCapturedBack: the notification that the restore itself causes, or a
// change back to the committed content, commits no new version.
func TestUnchangedContentNotCommitted(t *testing.T) {
	fx := newFixture(t, "")
	ctx := context.Background()
	fx.store.seed(fx.res.Name, imcKey, "v1")
	fx.m.BeforeOnline(ctx, fx.res, fx.fence)
	fx.m.Online(ctx, fx.res, fx.fence)
	fx.reg.set(imcKey, "v1") // same content
	time.Sleep(150 * time.Millisecond)
	if err := fx.m.Offline(ctx, fx.res, fx.fence); err != nil {
		t.Fatal(err)
	}
	if fx.store.count() != 0 {
		t.Fatalf("%d versions committed for unchanged content", fx.store.count())
	}
}

func TestDebounce(t *testing.T) {
	fx := newFixture(t, "")
	ctx := context.Background()
	fx.m.Online(ctx, fx.res, fx.fence)
	start := time.Now()
	for i := range 60 {
		fx.reg.set(imcKey, fmt.Sprintf("v%d", i))
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(start)
	if !eventually(func() bool { _, c := fx.store.latest(fx.res.Name, imcKey); return c == "v59" }) {
		t.Fatal("last change not captured")
	}
	// At most one capture per 100 ms, plus the leading one.
	limit := int(elapsed/DefaultDebounce) + 2
	if n := fx.store.count(); n > limit || n < 2 {
		t.Fatalf("%d captures for 60 changes in %v (want 2…%d)", n, elapsed, limit)
	}
}

func TestOfflineFinalCapture(t *testing.T) {
	fx := newFixture(t, "")
	ctx := context.Background()
	fx.m.Online(ctx, fx.res, fx.fence)
	fx.reg.set(imcKey, "a")
	if !eventually(func() bool { _, c := fx.store.latest(fx.res.Name, imcKey); return c == "a" }) {
		t.Fatal("change not captured")
	}
	// A change within the debounce window, then offline at once: the final copy has it.
	fx.reg.set(imcKey, "b")
	if err := fx.m.Offline(ctx, fx.res, fx.fence); err != nil {
		t.Fatal(err)
	}
	if _, c := fx.store.latest(fx.res.Name, imcKey); c != "b" {
		t.Fatalf("final capture %q, want b", c)
	}
	// Offline: no more captures.
	n := fx.store.count()
	fx.reg.set(imcKey, "c")
	time.Sleep(150 * time.Millisecond)
	if fx.store.count() != n {
		t.Fatal("captured after offline")
	}
}

func TestKeysChangedCapturesAtOnce(t *testing.T) {
	fx := newFixture(t, "")
	ctx := context.Background()
	fx.m.Online(ctx, fx.res, fx.fence)
	const other = `SOFTWARE\Contoso`
	fx.reg.set(other, "contoso")
	r := fx.res
	r.Keys = append(slices.Clone(r.Keys), other)
	fx.m.KeysChanged(ctx, r, fx.fence)
	if !eventually(func() bool { _, c := fx.store.latest(r.Name, other); return c == "contoso" }) {
		t.Fatal("added key not captured at once")
	}
	// Removing a key stops its capture.
	fx.m.KeysChanged(ctx, fx.res, fx.fence)
	n := fx.store.count()
	fx.reg.set(other, "changed")
	time.Sleep(150 * time.Millisecond)
	if fx.store.count() != n {
		t.Fatal("removed key still captured")
	}
}

func TestFencedCaptureStops(t *testing.T) {
	fx := newFixture(t, "")
	ctx := context.Background()
	fx.m.Online(ctx, fx.res, fx.fence)
	// The group moved: another node owns it now.
	fx.store.own(Fence{Node: "N3", Group: fx.fence.Group, Revision: 43})
	fx.reg.set(imcKey, "late")
	time.Sleep(150 * time.Millisecond)
	if n, _ := fx.store.latest(fx.res.Name, imcKey); n != 0 {
		t.Fatal("a fenced node committed a version")
	}
	if err := fx.m.Offline(ctx, fx.res, fx.fence); err != nil {
		t.Fatalf("offline after fencing: %v", err)
	}
	if _, ok := fx.events.find(eventlog.EventCheckpointSaveFailed); ok {
		t.Fatal("fencing reported as a failed save")
	}
}

func check1024(t *testing.T, fx *fixture) {
	t.Helper()
	ev, ok := fx.events.find(eventlog.EventCheckpointRestoreFailed)
	if !ok {
		t.Fatalf("no event 1024; events %v", fx.events.ids())
	}
	if ev.Source != "ClusSvc" || ev.Type != eventlog.TypeError || ev.Category != 64 || ev.Log != "System" {
		t.Fatalf("event 1024 header: %+v", ev)
	}
	if !slices.Equal(ev.Strings, []string{fx.res.Name, imcKey}) {
		t.Fatalf("insertion strings %q", ev.Strings)
	}
	d := dataString(ev)
	for _, want := range []string{"Holder1ProcessId=4242", "Holder1ProcessName=winlogon", "Holder1UserId=0",
		`Holder1Key=HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\MSExchangeIMC\Parameters`, "Holders=winlogon (pid 4242"} {
		if !strings.Contains(d, want) {
			t.Fatalf("event data lacks %q:\n%s", want, d)
		}
	}
}

func TestContinue(t *testing.T) {
	fx := newFixture(t, "Continue")
	ctx := context.Background()
	fx.store.seed(fx.res.Name, imcKey, "node1 values")
	fx.reg.set(imcKey, "stale node2 values")
	fx.reg.hold(imcKey, winlogon)
	if err := fx.m.BeforeOnline(ctx, fx.res, fx.fence); err != nil {
		t.Fatalf("Continue failed the resource: %v", err)
	}
	check1024(t, fx)
	if fx.reg.get(imcKey) != "stale node2 values" {
		t.Fatal("restored although refused")
	}
	// The stale subtree is not captured, on change or at offline.
	fx.m.Online(ctx, fx.res, fx.fence)
	fx.reg.set(imcKey, "stale + edit")
	time.Sleep(150 * time.Millisecond)
	if err := fx.m.Offline(ctx, fx.res, fx.fence); err != nil {
		t.Fatal(err)
	}
	if _, c := fx.store.latest(fx.res.Name, imcKey); c != "node1 values" {
		t.Fatalf("checkpoint overwritten with %q", c)
	}
	// The holder exits; the next online restores with no new 1024.
	fx.reg.hold(imcKey)
	fx.events.events = nil
	if err := fx.m.BeforeOnline(ctx, fx.res, fx.fence); err != nil {
		t.Fatal(err)
	}
	if fx.reg.get(imcKey) != "node1 values" || len(fx.events.ids()) != 0 {
		t.Fatalf("second online: key %q, events %v", fx.reg.get(imcKey), fx.events.ids())
	}
}

func TestFail(t *testing.T) {
	fx := newFixture(t, "fail")
	ctx := context.Background()
	fx.store.seed(fx.res.Name, imcKey, "node1 values")
	fx.reg.hold(imcKey, winlogon)
	err := fx.m.BeforeOnline(ctx, fx.res, fx.fence)
	var re *RestoreError
	var iu *KeysInUseError
	if !errors.As(err, &re) || re.Action != Fail || !errors.As(err, &iu) || iu.Holders[0].PID != 4242 {
		t.Fatalf("BeforeOnline = %v, want a RestoreError naming the holder", err)
	}
	if re.ErrorCode() != 5 {
		t.Fatalf("error code %d", re.ErrorCode())
	}
	check1024(t, fx)
	// The failed resource is not captured by a later Offline.
	fx.reg.set(imcKey, "stale")
	fx.m.Offline(ctx, fx.res, fx.fence)
	if _, c := fx.store.latest(fx.res.Name, imcKey); c != "node1 values" {
		t.Fatalf("failed resource's offline captured %q", c)
	}
}

func TestRetrySucceedsWhenHandlesClose(t *testing.T) {
	fx := newFixture(t, "Retry")
	ctx := context.Background()
	fx.store.seed(fx.res.Name, imcKey, "node1 values")
	fx.reg.hold(imcKey, winlogon)
	go func() {
		time.Sleep(100 * time.Millisecond)
		fx.reg.hold(imcKey)
	}()
	start := time.Now()
	if err := fx.m.BeforeOnline(ctx, fx.res, fx.fence); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Fatalf("restore took %v", d)
	}
	if fx.reg.get(imcKey) != "node1 values" {
		t.Fatal("not restored after the handles closed")
	}
	check1024(t, fx)
	if _, ok := fx.events.find(eventlog.EventCheckpointRestoreAfterWait); !ok {
		t.Fatalf("no event %d; events %v", eventlog.EventCheckpointRestoreAfterWait, fx.events.ids())
	}
}

func TestRetryTimesOutAsFail(t *testing.T) {
	fx := newFixture(t, "")
	fx.res.Private[PropRestoreRetryTimeout] = "200"
	ctx := context.Background()
	fx.store.seed(fx.res.Name, imcKey, "node1 values")
	fx.reg.hold(imcKey, winlogon)
	start := time.Now()
	err := fx.m.BeforeOnline(ctx, fx.res, fx.fence)
	var re *RestoreError
	if !errors.As(err, &re) || re.Action != Retry {
		t.Fatalf("BeforeOnline = %v", err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("gave up after %v, before RestoreRetryTimeout", d)
	}
	if n := len(fx.reg.restores); n < 3 {
		t.Fatalf("%d restore attempts", n)
	}
}

func TestForce(t *testing.T) {
	fx := newFixture(t, "Force")
	ctx := context.Background()
	fx.store.seed(fx.res.Name, imcKey, "node1 values")
	fx.reg.hold(imcKey, winlogon)
	if err := fx.m.BeforeOnline(ctx, fx.res, fx.fence); err != nil {
		t.Fatal(err)
	}
	if fx.reg.get(imcKey) != "node1 values" {
		t.Fatal("not restored by force")
	}
	check1024(t, fx)
	w, ok := fx.events.find(eventlog.EventCheckpointRestoreForced)
	if !ok || w.Type != eventlog.TypeWarning || !strings.Contains(w.Strings[2], "winlogon (pid 4242") {
		t.Fatalf("forced-restore warning %+v (found %v)", w, ok)
	}
}

func TestSaveFailureLogs1081Once(t *testing.T) {
	fx := newFixture(t, "")
	ctx := context.Background()
	fx.m.Online(ctx, fx.res, fx.fence)
	fx.reg.mu.Lock()
	fx.reg.saveErr = errors.New("disk on fire")
	fx.reg.mu.Unlock()
	fx.reg.set(imcKey, "x")
	time.Sleep(120 * time.Millisecond)
	fx.reg.set(imcKey, "y")
	if !eventually(func() bool {
		fx.reg.mu.Lock()
		defer fx.reg.mu.Unlock()
		return fx.reg.saves >= 2
	}) {
		t.Fatal("no second save")
	}
	fx.m.Offline(ctx, fx.res, fx.fence)
	n := 0
	for _, id := range fx.events.ids() {
		if id == eventlog.EventCheckpointSaveFailed {
			n++
		}
	}
	ev, _ := fx.events.find(eventlog.EventCheckpointSaveFailed)
	if n != 1 || !strings.Contains(ev.Strings[2], "disk on fire") {
		t.Fatalf("%d events 1081 (%+v)", n, ev)
	}
}

// TestRestoreFailureNotAboutHandles: a restore that fails for another reason than open
// handles — the checkpoint cannot be read from the cluster database, or the registry
// refuses its hive — writes event 1082 (once, however often it is retried; never 1024)
// and then follows RestoreFailureAction: Continue goes online with the live subtree,
// Fail fails the resource at once, Retry and Force (which forcing cannot help) try again
// until RestoreRetryTimeout and then fail it — Force forcing its attempts.
func TestRestoreFailureNotAboutHandles(t *testing.T) {
	causes := map[string]func(fx *fixture){
		"etcd-read": func(fx *fixture) { fx.store.latestErr = errors.New("etcdserver: request timed out") },
		"bad-hive":  func(fx *fixture) { fx.reg.restErr = errors.New("not a registry file") },
	}
	for _, cause := range []string{"etcd-read", "bad-hive"} {
		for _, action := range []Action{Continue, Retry, Fail, Force} {
			t.Run(cause+"/"+action.String(), func(t *testing.T) {
				fx := newFixture(t, action.String())
				fx.res.Private[PropRestoreRetryTimeout] = "200"
				ctx := context.Background()
				fx.store.seed(fx.res.Name, imcKey, "node1 values")
				fx.reg.set(imcKey, "live node2 values")
				causes[cause](fx)
				start := time.Now()
				err := fx.m.BeforeOnline(ctx, fx.res, fx.fence)
				took := time.Since(start)
				if n := fx.events.count(eventlog.EventCheckpointRestoreError); n != 1 {
					t.Errorf("%d events 1082 (events %v), want 1", n, fx.events.ids())
				}
				if _, ok := fx.events.find(eventlog.EventCheckpointRestoreFailed); ok {
					t.Error("1024 for a failure that is not about handles")
				}
				if fx.reg.get(imcKey) != "live node2 values" {
					t.Errorf("the key holds %q", fx.reg.get(imcKey))
				}
				attempts := fx.store.latests
				if cause == "bad-hive" {
					attempts = len(fx.reg.restores)
				}
				if action == Continue {
					if err != nil {
						t.Fatalf("Continue failed the resource: %v", err)
					}
					// The live subtree is not captured over the checkpoint.
					fx.m.Online(ctx, fx.res, fx.fence)
					fx.reg.set(imcKey, "live + edit")
					time.Sleep(150 * time.Millisecond)
					fx.m.Offline(ctx, fx.res, fx.fence)
					if _, c := fx.store.latest(fx.res.Name, imcKey); c != "node1 values" || attempts != 1 {
						t.Fatalf("checkpoint %q after %d attempts", c, attempts)
					}
					return
				}
				var re *RestoreError
				if !errors.As(err, &re) || re.Action != action || re.ErrorCode() != 1016 {
					t.Fatalf("BeforeOnline = %v, want a RestoreError of %s with ERROR_REGISTRY_IO_FAILED", err, action)
				}
				if action == Fail {
					if attempts != 1 {
						t.Fatalf("Fail tried %d times", attempts)
					}
					return
				}
				if took < 200*time.Millisecond || attempts < 3 {
					t.Fatalf("%s gave up after %v and %d attempts, before RestoreRetryTimeout", action, took, attempts)
				}
				if cause == "bad-hive" && action == Force && !strings.HasSuffix(fx.reg.restores[len(fx.reg.restores)-1], "force=true") {
					t.Fatalf("Force's attempts are not forced: %v", fx.reg.restores)
				}
			})
		}
	}
}

// TestRetryAfterReadError: under Retry a restore that could not read the cluster
// database succeeds once it can, with event 1904 after the 1082.
func TestRetryAfterReadError(t *testing.T) {
	fx := newFixture(t, "")
	ctx := context.Background()
	fx.store.seed(fx.res.Name, imcKey, "node1 values")
	fx.store.mu.Lock()
	fx.store.latestErr = errors.New("etcdserver: leader changed")
	fx.store.mu.Unlock()
	go func() {
		time.Sleep(100 * time.Millisecond)
		fx.store.mu.Lock()
		fx.store.latestErr = nil
		fx.store.mu.Unlock()
	}()
	if err := fx.m.BeforeOnline(ctx, fx.res, fx.fence); err != nil {
		t.Fatal(err)
	}
	if fx.reg.get(imcKey) != "node1 values" {
		t.Fatal("not restored once the database answered")
	}
	if ids := fx.events.ids(); !slices.Equal(ids, []uint32{eventlog.EventCheckpointRestoreError, eventlog.EventCheckpointRestoreAfterRetry}) {
		t.Fatalf("events %v, want 1082 then 1904", ids)
	}
}

func TestRestoreNow(t *testing.T) {
	fx := newFixture(t, "")
	ctx := context.Background()
	if _, err := fx.m.RestoreNow(ctx, fx.res.Name, imcKey); !errors.Is(err, ErrNotOnline) {
		t.Fatalf("RestoreNow on an offline resource: %v", err)
	}
	fx.m.Online(ctx, fx.res, fx.fence)
	fx.store.seed(fx.res.Name, imcKey, "rolled back")
	if _, err := fx.m.RestoreNow(ctx, fx.res.Name, imcKey); err != nil {
		t.Fatal(err)
	}
	if fx.reg.get(imcKey) != "rolled back" {
		t.Fatal("not restored")
	}
	// The restore's own notification commits nothing new.
	time.Sleep(150 * time.Millisecond)
	if fx.store.count() != 0 {
		t.Fatal("restore captured back")
	}
	var nc *NotCheckpointedError
	if _, err := fx.m.RestoreNow(ctx, fx.res.Name, `SOFTWARE\Other`); !errors.As(err, &nc) {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestPolicyOf(t *testing.T) {
	p, err := PolicyOf(Resource{Private: map[string]string{"restorefailureaction": "force", "RestoreRetryTimeout": "500", "CheckpointHistory": "3"}})
	if err != nil || p.Action != Force || p.RetryTimeout != 500*time.Millisecond || p.History != 3 {
		t.Fatalf("PolicyOf = %+v, %v", p, err)
	}
	p, err = PolicyOf(Resource{Name: "R", Private: map[string]string{"RestoreFailureAction": "panic", "CheckpointHistory": "0"}})
	if err == nil || p.Action != Retry || p.History != DefaultHistory || p.RetryTimeout != DefaultRestoreRetryTimeout {
		t.Fatalf("bad properties: %+v, %v", p, err)
	}
}

// TestDefaultHistory holds the property's default to the cluster database's.
func TestDefaultHistory(t *testing.T) {
	if DefaultHistory != clusterdb.DefaultCheckpointHistory {
		t.Fatalf("CheckpointHistory's default is %d, the cluster database's %d", DefaultHistory, clusterdb.DefaultCheckpointHistory)
	}
}

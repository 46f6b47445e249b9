package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"wolfpack/internal/api/wire"
)

// artifactDir keeps the browser tests' screenshots (git-ignored); WOLFPACK_ARTIFACTS
// names another directory.
func artifactDir(t testing.TB) string {
	dir := os.Getenv("WOLFPACK_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser is a headless Chromium (Debian's chromium package) driven by chromedp.
type browser struct {
	t         testing.TB
	ctx       context.Context
	artifacts string

	mu   sync.Mutex
	urls []string // every URL the page requested
}

func newBrowser(t testing.TB) *browser {
	t.Helper()
	exe, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("the browser tests need Debian's chromium package (scripts/test installs it): %v", err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// The nodes' certificates are from the cluster's own CA, which this fresh
		// profile does not trust.
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx, artifacts: artifactDir(t)}
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			b.mu.Lock()
			b.urls = append(b.urls, e.Request.URL+e.Request.URLFragment)
			b.mu.Unlock()
		}
	}); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{})
		return err
	})); err != nil {
		t.Fatalf("chromium: network events: %v", err)
	}
	return b
}

// do runs actions, failing the test (with a screenshot) on an error or after d.
func (b *browser) do(what string, d time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, d)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
		b.t.Fatalf("browser: %s: %v", what, err)
	}
}

// wait polls the page until the JavaScript expression is true.
func (b *browser) wait(what string, d time.Duration, expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, d+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(d))); err != nil {
		b.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
		text, _ := eval[string](b, `document.querySelector('#main') ? document.querySelector('#main').innerText.slice(0, 3000) : document.body.innerText.slice(0, 3000)`)
		b.t.Fatalf("browser: %s: %v\npage text:\n%s", what, err, text)
	}
}

func eval[T any](b *browser, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

func mustEval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := eval[T](b, expr)
	if err != nil {
		b.t.Fatalf("browser: evaluate %s: %v", expr, err)
	}
	return v
}

// shot saves a screenshot of the viewport as NAME.png in the artifacts directory.
func (b *browser) shot(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(b.artifacts, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	b.t.Logf("screenshot: %s", p)
}

// signIn types token into the sign-in form.
func (b *browser) signIn(token string) {
	b.t.Helper()
	b.do("sign in", 30*time.Second,
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SetValue(chromedp.CSS("#token"), token),
		chromedp.Click(chromedp.CSS("#signin-button")))
}

func (b *browser) goTo(hash string) {
	b.t.Helper()
	b.do("open "+hash, 10*time.Second, chromedp.Evaluate[chromedp.Void](`location.hash = `+jsString(hash)+`; undefined`))
}

func jsString(s string) string {
	j, _ := json.Marshal(s)
	return string(j)
}

// The console against three real nodes, as an administrator would use it: sign in
// (a wrong token is refused), see the nodes Up, read a resource's checkpoint history and
// a diff, move a group and watch its owner change live (by the console and by the
// CLI), run the Q316772 scenario and find event 1024 with its holder among every
// node's events, browse another node's registry to the holder's handle; then a
// ReadOnly token sees everything and no action button, and the API refuses its writes.
// No request the page made had a token in its URL.
func TestConsole(t *testing.T) {
	c := newCluster(t, 3)
	c.waitUp()
	n1, n3 := c.nodes[0], c.nodes[2]
	const (
		key    = `SYSTEM\CurrentControlSet\Services\MSExchangeIMC`
		params = `HKLM\SYSTEM\CurrentControlSet\Services\MSExchangeIMC\Parameters`
		held   = `HKLM\SYSTEM\ControlSet001\Services\MSExchangeIMC\Parameters`
		res    = "Microsoft Exchange Internet Mail Service"
	)
	for _, n := range c.nodes {
		c.must(n, "reg", "add", params, "/v", "SmartHost", "/d", "old.example.com", "/f")
	}
	c.must(n1, "cluster", "group", "Exchange Group", "/create")
	c.must(n1, "cluster", "resource", res, "/create", "/group:Exchange Group", "/type:Generic Application")
	c.must(n1, "cluster", "resource", res, "/priv", "CommandLine=/bin/sleep 3600", "RestoreFailureAction=Continue")
	c.must(n1, "cluster", "resource", res, "/addcheckpoints:"+key)
	c.must(n1, "cluster", "group", "Exchange Group", "/online:N1", "/wait:60")
	cl := c.client(n1)
	waitVersion := func(v int) {
		c.waitFor(30*time.Second, fmt.Sprintf("checkpoint version %d", v), func() bool {
			var cps []wire.CheckpointInfo
			return cl.Do(context.Background(), "GET", "/v1/resources/"+strings.ReplaceAll(res, " ", "%20")+"/checkpoints", nil, &cps) == nil &&
				len(cps) == 1 && cps[0].Version >= v
		})
	}
	waitVersion(1)
	c.must(n1, "reg", "add", params, "/v", "SmartHost", "/d", "mail.contoso.com", "/f")
	waitVersion(2)
	var grant wire.AccessGrant
	if err := cl.Do(context.Background(), "POST", "/v1/access", wire.AccessGrantRequest{Name: "monitoring", Level: wire.LevelReadOnly}, &grant); err != nil {
		t.Fatal(err)
	}
	fullToken := cl.Token()
	wrongToken := "wpt1_" + strings.Repeat("x", 43)

	b := newBrowser(t)
	base := c.base(n1)
	b.do("open the console", 30*time.Second, chromedp.Navigate(base+"/"))

	// A wrong token is refused, and shows nothing.
	b.signIn(wrongToken)
	b.wait("sign-in refused", 15*time.Second, `!document.querySelector('#signin-error').hidden && document.querySelector('#signin-error').textContent.includes('refused')`)
	if shown := mustEval[bool](b, `!document.querySelector('#app').hidden || document.querySelector('#main').textContent !== ''`); shown {
		t.Error("the console shows something after a refused sign-in")
	}
	b.shot("01-wrong-token")

	// The Full token: three nodes Up, the node we are on, the database's members.
	b.signIn(fullToken)
	b.wait("three nodes Up", 30*time.Second, `(() => { const s = [...document.querySelectorAll('#nodes-table tbody .node-state')];
		return s.length === 3 && s.every((x) => x.textContent === '✔ Up' || x.textContent === 'Up'); })()`)
	b.wait("etcd members healthy", 20*time.Second, `(() => { const t = document.querySelector('#tile-quorum');
		return t && t.textContent.includes('OK') && document.querySelectorAll('#etcd-table tbody tr').length === 3; })()`)
	if got := mustEval[string](b, `document.querySelector('#connected-node').textContent`); got != "N1" {
		t.Errorf("connected node %q, want N1", got)
	}
	b.shot("02-cluster")

	// A keyboard user on N2's Pause button keeps the focus there while a live update
	// redraws the view (N3 paused and resumed by the CLI).
	b.do("focus N2's Pause", 5*time.Second, chromedp.Evaluate[chromedp.Void](`document.querySelector('#nodes-table tr[data-node=N2] button').focus(); undefined`))
	c.must(n1, "cluster", "node", "N3", "/pause")
	b.wait("N3 Paused (live)", 30*time.Second, `document.querySelector('#nodes-table tr[data-node=N3] .node-state').textContent.includes('Paused')`)
	if kept := mustEval[bool](b, `(() => { const a = document.activeElement; return a && a.tagName === 'BUTTON' && a.closest('tr[data-node=N2]') !== null; })()`); !kept {
		t.Error("a live update of the cluster view took the keyboard focus away from N2's Pause button")
	}
	c.must(n1, "cluster", "node", "N3", "/resume")
	b.wait("N3 Up again", 30*time.Second, `document.querySelector('#nodes-table tr[data-node=N3] .node-state').textContent.includes('Up')`)

	// The resource's checkpoint history, and the .reg difference of its two versions.
	b.goTo("#/resource/" + strings.ReplaceAll(res, " ", "%20"))
	b.wait("checkpoint versions", 20*time.Second, `document.querySelectorAll('#versions-table tbody tr').length >= 2`)
	b.do("show diff", 10*time.Second, chromedp.Click(chromedp.CSS("#show-diff")))
	b.wait("diff", 15*time.Second, `(() => { const d = document.querySelector('#diff pre.reg'); return d && d.textContent.includes('"SmartHost"="mail.contoso.com"'); })()`)
	b.wait("dependency graph and type's property names", 10*time.Second, `document.querySelector('#resource-deps svg') !== null &&
		document.querySelector('#priv-table [data-prop=CommandLine]') !== null && document.querySelector('#priv-table select[data-prop=RestoreFailureAction]') !== null`)
	b.do("scroll to the diff", 5*time.Second, chromedp.Evaluate[chromedp.Void](`document.querySelector('#versions-table').scrollIntoView(); undefined`))
	b.shot("03-checkpoint-diff")

	// Drift of the running node: none. Then a rollback to version 1 by the console: it
	// becomes the newest version and is restored on N1 at once.
	b.do("check drift", 10*time.Second, chromedp.Click(chromedp.CSS("#verify")))
	b.wait("no drift", 20*time.Second, `document.querySelector('#drift').textContent.includes('on N1') && document.querySelector('#drift').textContent.includes('matches version 2')`)
	b.do("roll back to version 1", 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`window.confirm = () => true; undefined`),
		chromedp.Click(chromedp.CSS(`#versions-table tr[data-version="1"] button[data-action=rollback]`)))
	b.wait("version 3, a rollback of 1", 30*time.Second, `[...document.querySelectorAll('#versions-table tbody tr')].some((tr) => tr.dataset.version === '3' && tr.textContent.includes('rollback of 1'))`)
	if out := c.must(n1, "reg", "query", params, "/v", "SmartHost"); !strings.Contains(out, "old.example.com") {
		t.Errorf("after the rollback N1's registry holds:\n%s", out)
	}

	// A group moved with the console's button: its owner changes on the page.
	b.goTo("#/groups")
	row := `tr[data-group="Exchange Group"]`
	b.wait("group row", 10*time.Second, `document.querySelector('`+row+` .group-owner') && document.querySelector('`+row+` .group-owner').textContent === 'N1'`)
	b.do("move to N2", 10*time.Second,
		chromedp.SetValue(chromedp.CSS(row+` select.move-target`), "N2"),
		chromedp.Click(chromedp.CSS(row+` button[data-action=group-move]`)))
	b.wait("owner N2 and Online", 60*time.Second, `document.querySelector('`+row+` .group-owner').textContent === 'N2' &&
		document.querySelector('`+row+` .group-state').textContent.includes('Online')`)
	b.shot("04-moved-by-console")

	// Q316772: a process on N3 holds the Parameters key open through ControlSet001. The
	// group moved there by the CLI: the page follows without a reload.
	holder := c.holdKey(n3, held)
	marker := mustEval[float64](b, `window.wpMarker = Math.random(); window.wpMarker`)
	c.must(n1, "cluster", "group", "Exchange Group", "/moveto:N3", "/wait:60")
	b.wait("owner N3 (live)", 60*time.Second, `document.querySelector('`+row+` .group-owner').textContent === 'N3' &&
		document.querySelector('`+row+` .group-state').textContent.includes('Online')`)
	if m := mustEval[float64](b, `window.wpMarker`); m != marker {
		t.Error("the page was reloaded while it followed the move")
	}
	b.shot("05-moved-by-cli-live")

	// Event 1024 among every node's events, with its holder.
	b.goTo("#/events?id=1024")
	holderText := fmt.Sprintf("reg (pid %d, uid %d) on HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\MSExchangeIMC\\Parameters", holder, os.Getuid())
	b.wait("event 1024 with its holder", 30*time.Second, `[...document.querySelectorAll('#events-table tr.event[data-event-id="1024"]')].some((tr) =>
		tr.children[1].textContent === 'N3' && tr.textContent.includes('could not be restored') && tr.querySelector('.holder-summary').textContent.includes(`+jsString(holderText)+`))`)
	b.do("event details", 10*time.Second, chromedp.Click(chromedp.CSS(`#events-table tr.event[data-event-id="1024"] button`)))
	b.wait("holders table", 10*time.Second, `[...document.querySelectorAll('#events-table tr.holder')].some((tr) => tr.textContent.includes('reg') && tr.textContent.includes('`+fmt.Sprint(holder)+`'))`)
	b.shot("06-event-1024")

	// N3's registry, through N1: the holder's handle on the key.
	b.goTo("#/registry")
	b.wait("registry view", 10*time.Second, `document.querySelector('#reg-node') !== null`)
	b.do("open N3's key", 20*time.Second,
		chromedp.SetValue(chromedp.CSS("#reg-node"), "N3"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#reg-node').dispatchEvent(new Event('change')); undefined`),
		chromedp.WaitVisible(chromedp.CSS("#reg-path")),
		chromedp.SetValue(chromedp.CSS("#reg-path"), held),
		chromedp.Click(chromedp.CSS("#reg-go")))
	b.wait("holder's handle on N3", 30*time.Second, fmt.Sprintf(`document.querySelector('#reg-selected') && document.querySelector('#reg-selected').textContent.endsWith('ControlSet001\\Services\\MSExchangeIMC\\Parameters') &&
		[...document.querySelectorAll('#reg-handles tr.handle')].some((tr) => tr.dataset.pid === '%d' && tr.textContent.includes('reg'))`, holder))
	b.wait("values", 5*time.Second, `[...document.querySelectorAll('#reg-values tbody tr')].some((tr) => tr.textContent.includes('SmartHost') && tr.textContent.includes('REG_SZ'))`)
	b.shot("07-registry-n3-handles")

	// A value edited on N3 through the console (Full access).
	b.do("edit a value", 20*time.Second,
		chromedp.Click(chromedp.CSS(`#reg-values tr[data-value="SmartHost"] button[data-action=reg-edit]`)),
		chromedp.WaitVisible(chromedp.CSS("#reg-edit-data")),
		chromedp.SetValue(chromedp.CSS("#reg-edit-data"), "edited.example.com"),
		chromedp.Click(chromedp.CSS("#reg-save")))
	b.wait("edited value shown", 20*time.Second, `[...document.querySelectorAll('#reg-values tbody tr')].some((tr) => tr.textContent.includes('edited.example.com'))`)
	if out := c.must(n3, "reg", "query", params, "/v", "SmartHost"); !strings.Contains(out, "edited.example.com") {
		t.Errorf("N3's value after the console's edit:\n%s", out)
	}

	// On a phone's screen: the navigation folds behind the menu button, and the page
	// does not scroll sideways (wide tables scroll inside their box).
	b.do("phone screen", 10*time.Second, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	b.goTo("#/groups")
	b.wait("phone layout", 10*time.Second, `getComputedStyle(document.querySelector('#menu')).display !== 'none' &&
		getComputedStyle(document.querySelector('#nav')).display === 'none' && document.querySelector('`+row+`') !== null`)
	if w := mustEval[int](b, `document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
		t.Errorf("on a phone's screen the page is %d px wider than the screen", w)
	}
	b.do("open the menu", 10*time.Second, chromedp.Click(chromedp.CSS("#menu")))
	b.wait("menu open", 5*time.Second, `getComputedStyle(document.querySelector('#nav')).display !== 'none'`)
	b.shot("09-phone-menu")
	b.do("laptop screen", 10*time.Second, chromedp.EmulateViewport(1280, 900))

	// ReadOnly: everything to read, no action button, and the API refuses writes.
	b.do("sign out", 10*time.Second, chromedp.Click(chromedp.CSS("#signout")))
	b.signIn(grant.Token)
	b.wait("ReadOnly signed in", 30*time.Second, `document.querySelector('#whoami').textContent === 'monitoring · ReadOnly'`)
	for _, v := range []struct{ hash, ready string }{
		{"#/cluster", `document.querySelectorAll('#nodes-table tbody tr').length === 3`},
		{"#/groups", `document.querySelector('` + row + `') !== null`},
		{"#/resources", `document.querySelectorAll('#resources-table tbody tr').length === 1`},
		{"#/resource/" + strings.ReplaceAll(res, " ", "%20"), `document.querySelectorAll('#versions-table tbody tr').length >= 2 && document.querySelector('#priv-table') !== null`},
		{"#/registry?node=N3&path=" + strings.ReplaceAll(held, `\`, "%5C"), `document.querySelectorAll('#reg-handles tr.handle').length >= 1`},
	} {
		b.goTo(v.hash)
		b.wait("ReadOnly "+v.hash, 30*time.Second, v.ready)
		if n := mustEval[int](b, `document.querySelectorAll('#main button[data-action], #main [data-action]').length +
			[...document.querySelectorAll('#main button')].filter((x) => /online|offline|move|pause|resume|roll back|save|edit|new value/i.test(x.textContent)).length`); n != 0 {
			t.Errorf("ReadOnly token: %d action buttons on %s", n, v.hash)
		}
		if v.hash == "#/groups" {
			b.shot("08-readonly-groups")
		}
	}
	status := mustEval[int](b, `fetch('/v1/groups/Exchange%20Group/offline', {method: 'POST', headers: {'Authorization': 'Bearer ' + sessionStorage.getItem('wolfpack.token')}}).then((r) => r.status)`)
	if status != http.StatusForbidden {
		t.Errorf("a write with the ReadOnly token from the page: %d, want 403", status)
	}

	// No request carried a token in its URL.
	b.mu.Lock()
	urls := append([]string(nil), b.urls...)
	b.mu.Unlock()
	if len(urls) < 10 {
		t.Errorf("only %d requests seen: the network listener is not working", len(urls))
	}
	for _, u := range urls {
		for _, tok := range []string{fullToken, grant.Token, wrongToken} {
			if strings.Contains(u, tok) || strings.Contains(u, strings.ReplaceAll(tok, "_", "%5F")) {
				t.Errorf("a request URL carries a token: %s", u)
			}
		}
	}
	t.Logf("%d requests, none with a token in its URL", len(urls))
}

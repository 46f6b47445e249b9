package daemon_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"wolfpack/internal/api/client"
	"wolfpack/internal/api/wire"
	"wolfpack/internal/reshost"

	"wolfpack/internal/api"
	"wolfpack/internal/clusterdb"
	"wolfpack/internal/daemon"
	"wolfpack/internal/eventlog"
	"wolfpack/internal/pki"
	"wolfpack/internal/web"
)

// TestMain lets the test binary double as wolfpackd (WOLFPACK_TEST_DAEMON=1), for the
// tests that measure a real daemon process from outside.
func TestMain(m *testing.M) {
	if reshost.IsHostProcess() {
		os.Exit(daemon.Main(os.Args[1:]))
	}
	if os.Getenv("WOLFPACK_TEST_DAEMON") == "1" {
		os.Exit(daemon.Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// runNode runs wolfpackd in the test process on dataDir (which may hold files already)
// and waits until it serves; stop ends it (also at the end of the test).
func runNode(t *testing.T, dataDir string, args ...string) (stop func()) {
	t.Helper()
	args = append([]string{"--data-dir", dataDir, "--api", freeAddr(t), "--peer", freeAddr(t), "--client", freeAddr(t),
		"--log-level", "warn"}, args...)
	cfg, err := daemon.ParseConfig(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dataDir, client.AddrFile))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- daemon.Run(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node %s: %v", dataDir, err)
		}
	}
	t.Cleanup(stop)
	end := time.Now().Add(time.Minute)
	for {
		if _, err := os.Stat(filepath.Join(dataDir, client.AddrFile)); err == nil {
			return stop
		}
		select {
		case err := <-done:
			stopped = true
			t.Fatalf("node stopped before it was ready: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(end) {
			t.Fatalf("node %s not ready after a minute", dataDir)
		}
	}
}

func readToken(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// endpoint is a node's API as a test reaches it: its URL and a client that trusts the
// node's cluster CA (as the CLIs do).
type endpoint struct {
	base string
	hc   *http.Client
}

func nodeEndpoint(t *testing.T, dataDir string) endpoint {
	t.Helper()
	cfg, err := pki.PathsIn(dataDir).RootTLS()
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = cfg
	return endpoint{base: readAddr(t, dataDir), hc: &http.Client{Transport: tr}}
}

// call sends one request with token as bearer and returns the status and the body (the
// first 64 KiB; streams are cut when ctx ends).
func (e endpoint) call(ctx context.Context, t *testing.T, token, method, path string, body []byte) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, clip(path), err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, b
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

func do(t *testing.T, c *client.Client, method, path string, in, out any) {
	t.Helper()
	if err := c.Do(context.Background(), method, path, in, out); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
}

const (
	testKey  = `SOFTWARE\WolfpackAccessTest` // checkpointed by R1
	testPath = `HKLM\` + testKey
)

// accessFixture makes what the GET routes need to answer 200: group G1 online with
// resource R1 (a Generic Application) checkpointing testKey, captured at least once.
func accessFixture(t *testing.T, c *client.Client) {
	t.Helper()
	do(t, c, http.MethodPost, "/v1/eventlog/logs/System/events", eventlog.Event{Source: "EventCreate", EventID: 1,
		Type: eventlog.TypeInformation, Strings: []string{"access test"}}, nil)
	do(t, c, http.MethodPost, "/v1/registry/key", map[string]string{"path": testPath}, nil)
	do(t, c, http.MethodPut, "/v1/registry/value", wire.RegistryValue{Path: testPath, Name: "V", Type: 4, Data: []byte{1, 0, 0, 0}}, nil)
	do(t, c, http.MethodPost, "/v1/groups", wire.ClusterAction{Name: "G1"}, nil)
	do(t, c, http.MethodPost, "/v1/resources", wire.ClusterAction{Name: "R1", Group: "G1", Type: "Generic Application"}, nil)
	do(t, c, http.MethodPost, "/v1/resources/R1/priv", wire.ClusterAction{Props: map[string]string{"CommandLine": "/bin/sleep 3600"}}, nil)
	do(t, c, http.MethodPost, "/v1/resources/R1/checkpoints", wire.CheckpointKeys{Keys: []string{testKey}}, nil)
	do(t, c, http.MethodPost, "/v1/groups/G1/online", wire.ClusterAction{}, nil)
	deadline := time.Now().Add(time.Minute)
	for {
		var g wire.ClusterGroup
		var cps []wire.CheckpointInfo
		do(t, c, http.MethodGet, "/v1/groups/G1", nil, &g)
		do(t, c, http.MethodGet, "/v1/resources/R1/checkpoints", nil, &cps)
		if g.State == "Online" && len(cps) == 1 && cps[0].Version >= 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("G1 not online with a checkpoint version after a minute: %+v %+v", g, cps)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// getSamples is a valid request for every GET route, with the names accessFixture made;
// streaming routes are marked. A GET route without a sample fails the test: whoever adds
// a route adds its sample here.
var getSamples = map[string]struct {
	path   string
	stream bool
}{
	"GET /metrics":                                 {path: "/metrics"},
	"GET /v1/access":                               {path: "/v1/access"},
	"GET /v1/cluster/events":                       {path: "/v1/cluster/events?id=1&source=EventCreate&level=Information&c=5"},
	"GET /v1/cluster/properties":                   {path: "/v1/cluster/properties"},
	"GET /v1/cluster/summary":                      {path: "/v1/cluster/summary"},
	"GET /v1/cluster/watch":                        {path: "/v1/cluster/watch", stream: true},
	"GET /v1/nodes/{name}/api/{path...}":           {path: "/v1/nodes/N1/api/v1/registry/key?path=" + url.QueryEscape(testPath)},
	"GET /v1/whoami":                               {path: "/v1/whoami"},
	"GET /v1/eventlog/logs":                        {path: "/v1/eventlog/logs"},
	"GET /v1/eventlog/logs/{log}":                  {path: "/v1/eventlog/logs/System"},
	"GET /v1/eventlog/logs/{log}/events":           {path: "/v1/eventlog/logs/System/events?c=5&rd=true"},
	"GET /v1/eventlog/logs/{log}/export":           {path: "/v1/eventlog/logs/System/export"},
	"GET /v1/eventlog/subscribe":                   {path: "/v1/eventlog/subscribe?log=System", stream: true},
	"GET /v1/groups":                               {path: "/v1/groups"},
	"GET /v1/groups/{name}":                        {path: "/v1/groups/G1"},
	"GET /v1/health":                               {path: "/v1/health"},
	"GET /v1/nodes":                                {path: "/v1/nodes"},
	"GET /v1/nodes/{name}":                         {path: "/v1/nodes/N1"},
	"GET /v1/registry/handles":                     {path: "/v1/registry/handles?subtree=1&path=" + url.QueryEscape(testPath)},
	"GET /v1/registry/key":                         {path: "/v1/registry/key?path=" + url.QueryEscape(testPath)},
	"GET /v1/registry/save":                        {path: "/v1/registry/save?path=" + url.QueryEscape(testPath)},
	"GET /v1/registry/security":                    {path: "/v1/registry/security?path=" + url.QueryEscape(testPath)},
	"GET /v1/registry/value":                       {path: "/v1/registry/value?name=V&path=" + url.QueryEscape(testPath)},
	"GET /v1/registry/watch":                       {path: "/v1/registry/watch?subtree=1&path=" + url.QueryEscape(testPath), stream: true},
	"GET /v1/resources":                            {path: "/v1/resources"},
	"GET /v1/resources/{name}":                     {path: "/v1/resources/R1"},
	"GET /v1/resources/{name}/checkpoints":         {path: "/v1/resources/R1/checkpoints"},
	"GET /v1/resources/{name}/checkpoints/diff":    {path: "/v1/resources/R1/checkpoints/diff?v1=1&key=" + url.QueryEscape(testKey)},
	"GET /v1/resources/{name}/checkpoints/history": {path: "/v1/resources/R1/checkpoints/history?key=" + url.QueryEscape(testKey)},
	"GET /v1/resources/{name}/checkpoints/verify":  {path: "/v1/resources/R1/checkpoints/verify"},
	"GET /v1/resourcetypes":                        {path: "/v1/resourcetypes"},
	"GET /v1/resourcetypes/{name}":                 {path: "/v1/resourcetypes/Generic%20Application"},
	"GET /v1/routes":                               {path: "/v1/routes"},
}

// publicRoutes are the routes that take no API token (their handler authenticates the
// caller). Adding one is a security decision: it is added here, on purpose.
var publicRoutes = map[string]bool{"POST /v1/cluster/join": true}

// assetRoutes are the web console's file routes (internal/web), served without a token:
// they answer with the files built into the binary, which hold no cluster data. Adding
// one is a security decision too.
var assetRoutes = map[string]string{"GET /{$}": "/", "GET /ui/{file}": "/ui/app.js"}

// writeURL fills a write route's wildcards with the fixture's objects (so that a write
// that got through would change them) and adds the registry and checkpoint parameters.
func writeURL(rt api.Route) string {
	p := rt.Path
	for prefix, name := range map[string]string{"/v1/groups/": "G1", "/v1/resources/": "R1", "/v1/nodes/": "N1", "/v1/access/": "monitor"} {
		if strings.HasPrefix(p, prefix) {
			p = strings.Replace(p, "{name}", name, 1)
		}
	}
	p = strings.Replace(p, "{log}", "System", 1)
	p = strings.Replace(p, "{path...}", "v1/registry/value", 1) // a relayed write would delete V
	action := "offline"
	if strings.HasPrefix(p, "/v1/nodes/") {
		action = "pause"
	}
	p = strings.Replace(p, "{action}", action, 1)
	return p + "?force=1&backup=0&name=V&path=" + url.QueryEscape(testPath) + "&key=" + url.QueryEscape(testKey)
}

// A ReadOnly token gets a success on every GET route of a real node and 403, with the
// message that says why, on every other route; the routes come from the node's router
// (GET /v1/routes), so a new route cannot be forgotten. Nothing the writes aimed at
// changed. The join token (and the API token earlier versions derived from it) opens
// nothing but the join route.
func TestAccessLevelsOnEveryRoute(t *testing.T) {
	n1 := t.TempDir()
	runNode(t, n1, "--name", "N1")
	ep := nodeEndpoint(t, n1)
	full, err := client.FromDataDir(n1)
	if err != nil {
		t.Fatal(err)
	}
	accessFixture(t, full)
	var grant wire.AccessGrant
	do(t, full, http.MethodPost, "/v1/access", wire.AccessGrantRequest{Name: "monitor", Level: wire.LevelReadOnly}, &grant)
	ro := grant.Token
	if ro == "" || grant.Level != wire.LevelReadOnly {
		t.Fatalf("grant: %+v", grant)
	}
	var logBefore eventlog.LogInfo
	do(t, full, http.MethodGet, "/v1/eventlog/logs/System", nil, &logBefore)

	ctx := context.Background()
	st, b := ep.call(ctx, t, ro, http.MethodGet, "/v1/routes", nil)
	var routes []api.Route
	if st != http.StatusOK || json.Unmarshal(b, &routes) != nil || len(routes) < 40 {
		t.Fatalf("GET /v1/routes with the ReadOnly token: %d %s", st, clip(string(b)))
	}
	reads, writes := 0, 0
	for _, rt := range routes {
		switch rt.Access {
		case api.AccessPublic:
			if !publicRoutes[rt.Pattern] {
				t.Errorf("route %s takes no token: add it to publicRoutes only if its handler authenticates the caller", rt.Pattern)
			}
			st, _ := ep.call(ctx, t, ro, rt.Method, rt.Path, []byte("{}"))
			if st != http.StatusUnauthorized {
				t.Errorf("%s with the ReadOnly token: %d, want 401 (it needs the join secret)", rt.Pattern, st)
			}
		case api.AccessAsset:
			p, ok := assetRoutes[rt.Pattern]
			if !ok {
				t.Errorf("route %s serves without a token as an asset: add it to assetRoutes only if it serves embedded files alone", rt.Pattern)
				continue
			}
			reads++
			st, b := ep.call(ctx, t, "", http.MethodGet, p, nil)
			if want := web.Files()[p]; st != http.StatusOK || !bytes.Equal(b, want) {
				t.Errorf("GET %s without a token: %d, %d bytes, want 200 and the embedded file (%d bytes)", p, st, len(b), len(want))
			}
		case api.AccessRead:
			if rt.Method != http.MethodGet && rt.Method != http.MethodHead {
				t.Errorf("%s: a %s route is readable", rt.Pattern, rt.Method)
			}
			s, ok := getSamples[rt.Pattern]
			if !ok {
				t.Errorf("GET route %s has no sample request in getSamples: add one", rt.Pattern)
				continue
			}
			reads++
			rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			if s.stream {
				rctx, cancel = context.WithTimeout(ctx, 2*time.Second)
			}
			st, b := ep.call(rctx, t, ro, http.MethodGet, s.path, nil)
			cancel()
			if st/100 != 2 {
				t.Errorf("%s (%s) with the ReadOnly token: %d %s, want 2xx", rt.Pattern, s.path, st, clip(string(b)))
			}
		case api.AccessWrite:
			if rt.Method == http.MethodGet || rt.Method == http.MethodHead {
				t.Errorf("%s: a GET route needs Full", rt.Pattern)
			}
			writes++
			path := writeURL(rt)
			st, b := ep.call(ctx, t, ro, rt.Method, path, []byte(`{"name":"G2","keys":["SOFTWARE\\X"],"level":"Full"}`))
			var ae wire.Error
			_ = json.Unmarshal(b, &ae)
			want := "access denied: token 'monitor' has ReadOnly access; this request needs Full"
			if st != http.StatusForbidden || ae.Code != 5 || ae.Message != want {
				t.Errorf("%s %s with the ReadOnly token: %d %s, want 403 %q (code 5)", rt.Method, clip(path), st, clip(string(b)), want)
			}
		default:
			t.Errorf("route %s: access %v", rt.Pattern, rt.Access)
		}
	}
	for p := range getSamples {
		if !slicesContainsPattern(routes, p) {
			t.Errorf("getSamples has %s, which the node does not serve", p)
		}
	}
	t.Logf("%d GET routes answered the ReadOnly token, %d write routes refused it", reads, writes)

	// Nothing changed: G1 still online with R1, the value and the log still there, the
	// node not paused, no token added or removed.
	var g wire.ClusterGroup
	do(t, full, http.MethodGet, "/v1/groups/G1", nil, &g)
	var n wire.ClusterNode
	do(t, full, http.MethodGet, "/v1/nodes/N1", nil, &n)
	var v wire.RegistryValue
	do(t, full, http.MethodGet, "/v1/registry/value?name=V&path="+url.QueryEscape(testPath), nil, &v)
	var cps []wire.CheckpointInfo
	do(t, full, http.MethodGet, "/v1/resources/R1/checkpoints", nil, &cps)
	var logAfter eventlog.LogInfo
	do(t, full, http.MethodGet, "/v1/eventlog/logs/System", nil, &logAfter)
	var toks []wire.AccessToken
	do(t, full, http.MethodGet, "/v1/access", nil, &toks)
	if g.State != "Online" || n.Paused || len(v.Data) != 4 || len(cps) != 1 || logBefore.NumberOfLogRecords == 0 || logAfter.NumberOfLogRecords < logBefore.NumberOfLogRecords || len(toks) != 2 {
		t.Errorf("after the refused writes: group %s, node paused %v, value %v, checkpoints %v, log records %d → %d, tokens %+v",
			g.State, n.Paused, v.Data, cps, logBefore.NumberOfLogRecords, logAfter.NumberOfLogRecords, toks)
	}

	// The join token, its secret, and the API token derived from it before TLS, are no
	// API credentials.
	join := readToken(t, filepath.Join(n1, clusterdb.JoinTokenFile))
	jt, err := clusterdb.ParseJoinToken(join)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{join, jt.Secret, oldAPIToken(join), "", ro + "x", clusterdb.HashToken(ro)} {
		for _, p := range []string{"/v1/nodes", "/metrics", "/v1/access"} {
			if st, b := ep.call(ctx, t, tok, http.MethodGet, p, nil); st != http.StatusUnauthorized {
				t.Errorf("GET %s with bearer %q: %d %s, want 401", p, clip(tok), st, clip(string(b)))
			}
		}
	}
	// The join route takes no API token: the node's own token does not admit a node.
	if st, _ := ep.call(ctx, t, full.Token(), http.MethodPost, "/v1/cluster/join", []byte(`{"name":"N9","peerURL":"https://127.0.0.1:1"}`)); st != http.StatusUnauthorized {
		t.Errorf("POST /v1/cluster/join with the node token instead of the join secret: %d, want 401", st)
	}
}

// oldAPIToken is the API token that versions before per-node tokens derived from the join
// token (an HMAC of it): whoever saw the join token could compute it.
func oldAPIToken(joinToken string) string {
	m := hmac.New(sha256.New, []byte(joinToken))
	m.Write([]byte("wolfpack api token v1"))
	return hex.EncodeToString(m.Sum(nil))[:48]
}

func slicesContainsPattern(routes []api.Route, p string) bool {
	for _, r := range routes {
		if r.Pattern == p {
			return true
		}
	}
	return false
}

// Tokens are the cluster's: granted on one node, they open the others; a revoke on one
// node shuts them out of every node within a bound; a node's own token opens the other
// nodes until the node is evicted. No node hands its token to another: a joining node
// makes its own.
func TestAccessAcrossNodes(t *testing.T) {
	n1, n2 := t.TempDir(), t.TempDir()
	runNode(t, n1, "--name", "N1")
	ep1 := nodeEndpoint(t, n1)
	stop2 := runNode(t, n2, "--name", "N2", "--join", ep1.base, "--token-file", filepath.Join(n1, clusterdb.JoinTokenFile))
	ep2 := nodeEndpoint(t, n2)
	tok1, tok2 := readToken(t, filepath.Join(n1, client.TokenFile)), readToken(t, filepath.Join(n2, client.TokenFile))
	if tok1 == tok2 {
		t.Fatal("N1 and N2 have the same API token")
	}
	ctx := context.Background()
	c1, err := client.FromDataDir(n1)
	if err != nil {
		t.Fatal(err)
	}
	var grant wire.AccessGrant
	do(t, c1, http.MethodPost, "/v1/access", wire.AccessGrantRequest{Name: "ops", Level: wire.LevelReadOnly}, &grant)

	// N2's own token and the token granted on N1 open N2's and N1's APIs.
	for _, x := range []struct {
		ep       endpoint
		tok, who string
	}{{ep2, grant.Token, "ops on N2"}, {ep1, tok2, "node:N2 on N1"}, {ep1, grant.Token, "ops on N1"}} {
		deadline := time.Now().Add(30 * time.Second)
		for {
			st, b := x.ep.call(ctx, t, x.tok, http.MethodGet, "/v1/nodes", nil)
			if st == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d %s", x.who, st, clip(string(b)))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	var toks []wire.AccessToken
	do(t, c1, http.MethodGet, "/v1/access", nil, &toks)
	names := []string{}
	for _, x := range toks {
		names = append(names, fmt.Sprintf("%s/%s/node=%v", x.Name, x.Level, x.Node))
	}
	if strings.Join(names, " ") != "ops/ReadOnly/node=false node:N1/Full/node=true node:N2/Full/node=true" {
		t.Errorf("tokens: %v", names)
	}

	// Revoked on N2: refused by N1 within a bound (the watch; at worst the resync).
	c2, err := client.FromDataDir(n2)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	do(t, c2, http.MethodDelete, "/v1/access/ops", nil, nil)
	for {
		st, _ := ep1.call(ctx, t, grant.Token, http.MethodGet, "/v1/nodes", nil)
		if st == http.StatusUnauthorized {
			break
		}
		if time.Since(start) > clusterdb.TokenResync+2*time.Second {
			t.Fatalf("revoked token still answered %d on N1 after %v", st, time.Since(start))
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("revoke on N2 took effect on N1 after %v", time.Since(start).Round(time.Millisecond))

	// N2 evicted (while it runs: with N2 down, N1 alone would have no etcd quorum to
	// remove N2's member): its token opens N1 no more.
	// etcd removes a member only once every member has been connected for a few
	// seconds ("unhealthy cluster" before that).
	for deadline := time.Now().Add(time.Minute); ; {
		err := c1.Do(ctx, http.MethodPost, "/v1/nodes/N2/evict", nil, nil)
		if err == nil {
			break
		}
		if !strings.Contains(err.Error(), "unhealthy cluster") || time.Now().After(deadline) {
			t.Fatalf("evict N2: %v", err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	stop2()
	deadline := time.Now().Add(clusterdb.TokenResync + 2*time.Second)
	for {
		st, _ := ep1.call(ctx, t, tok2, http.MethodGet, "/v1/nodes", nil)
		if st == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("evicted N2's token still answered %d on N1", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	do(t, c1, http.MethodGet, "/v1/access", nil, &toks)
	if len(toks) != 1 || toks[0].Name != "node:N1" {
		t.Errorf("tokens after the revoke and the eviction: %+v", toks)
	}
}

var qRun = regexp.MustCompile(`(?i)q+`)

// longestRun is the longest run of q or Q in b (the filler of the inputs below).
func longestRun(b []byte) int {
	n := 0
	for _, m := range qRun.FindAll(b, -1) {
		n = max(n, len(m))
	}
	return n
}

// No error reply repeats more than wire.MaxEcho bytes of an input, whichever route, part
// and input: long path wildcards, query parameters, JSON fields and raw bodies, sent to
// every route the node serves.
func TestErrorRepliesDoNotEchoInput(t *testing.T) {
	n1 := t.TempDir()
	runNode(t, n1, "--name", "N1")
	ep := nodeEndpoint(t, n1)
	c, err := client.FromDataDir(n1)
	if err != nil {
		t.Fatal(err)
	}
	tok := c.Token()
	do(t, c, http.MethodPost, "/v1/groups", wire.ClusterAction{Name: "G1"}, nil)
	do(t, c, http.MethodPost, "/v1/resources", wire.ClusterAction{Name: "R1", Group: "G1", Type: "Generic Application"}, nil)
	var routes []api.Route
	do(t, c, http.MethodGet, "/v1/routes", nil, &routes)

	long := strings.Repeat("Q", 20000)
	deep := `HKLM\SOFTWARE\` + strings.TrimSuffix(strings.Repeat(strings.Repeat("Q", 200)+`\`, 100), `\`)
	fields := []string{"name", "path", "group", "type", "node", "value", "key", "peerURL", "level", "source", "log"}
	var bodies [][]byte
	for _, f := range fields {
		bodies = append(bodies, []byte(fmt.Sprintf(`{%q:%q}`, f, long)))
	}
	bodies = append(bodies,
		[]byte(fmt.Sprintf(`{"path":%q,"name":%q,"type":1}`, deep, long)),
		[]byte(fmt.Sprintf(`{"list":[%q]}`, long)),
		[]byte(fmt.Sprintf(`{"keys":[%q]}`, long)),
		[]byte(fmt.Sprintf(`{"keys":[%q]}`, strings.TrimPrefix(deep, `HKLM\`))),
		[]byte(fmt.Sprintf(`{"props":{%q:"1"}}`, long)),
		[]byte(fmt.Sprintf(`{"props":{"RestartThreshold":%q,"CommandLine":%q}}`, long, long)),
		[]byte(fmt.Sprintf(`{"strings":[%q],"eventID":1,"source":"Wolfpack"}`, long)),
		[]byte(fmt.Sprintf(`{%q:1}`, long)),
		[]byte(long),
	)
	queries := []string{
		"?path=" + url.QueryEscape(long) + "&name=" + long + "&key=" + long + "&q=" + long + "&c=" + long + "&after=" + long +
			"&rd=" + long + "&log=" + long + "&v1=" + long + "&v2=" + long + "&subtree=" + long + "&force=" + long + "&backup=" + long,
		"?path=" + url.QueryEscape(deep) + "&name=" + long + "&key=" + url.QueryEscape(strings.TrimPrefix(deep, `HKLM\`)) + "&v1=1",
		"?path=" + url.QueryEscape(`HKLM\`+long) + "&q=" + url.QueryEscape("*[System[(EventID="+long+")]]"),
	}
	actions := map[string][]string{
		"/v1/nodes/":     {"pause", "resume", "prop", "status", long},
		"/v1/groups/":    {"online", "offline", "move", "rename", "setowners", "prop", long},
		"/v1/resources/": {"online", "offline", "fail", "move", "prop", "priv", "adddep", "removedep", "addowner", "removeowner", long},
	}
	names := map[string][]string{"/v1/nodes/": {"N1", long}, "/v1/groups/": {"G1", long}, "/v1/resources/": {"R1", long}}
	ctx := context.Background()
	sent, failed := 0, 0
	shapes := map[string]bool{}
	for _, rt := range routes {
		if rt.Pattern == "GET /v1/eventlog/subscribe" || rt.Pattern == "GET /v1/registry/watch" || rt.Pattern == "GET /v1/cluster/watch" {
			continue // streams: they answer 200 and wait, or fail before streaming (covered by their query checks below)
		}
		paths := []string{rt.Path}
		expand := func(wild string, values []string) {
			var out []string
			for _, p := range paths {
				if !strings.Contains(p, wild) {
					out = append(out, p)
					continue
				}
				for _, v := range values {
					out = append(out, strings.Replace(p, wild, url.PathEscape(v), 1))
				}
			}
			paths = out
		}
		for prefix, ns := range names {
			if strings.HasPrefix(rt.Path, prefix) {
				expand("{name}", ns)
				expand("{action}", actions[prefix])
			}
		}
		expand("{name}", []string{long})
		expand("{log}", []string{"System", long})
		expand("{action}", []string{long})
		reqBodies := [][]byte{nil}
		if rt.Method != http.MethodGet && rt.Method != http.MethodDelete {
			reqBodies = bodies
		}
		for _, p := range paths {
			if strings.Contains(p, "/evict") || (rt.Method == http.MethodDelete && !strings.Contains(p, "QQQQ")) {
				continue // keep the fixture
			}
			for _, q := range queries {
				for _, body := range reqBodies {
					rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
					st, b := ep.call(rctx, t, tok, rt.Method, p+q, body)
					cancel()
					sent++
					if st < 400 {
						continue
					}
					if n := longestRun(b); n > wire.MaxEcho || len(b) > wire.MaxErrorMessage+200 {
						failed++
						// One report per kind of message (the input replaced by Q*).
						var ae wire.Error
						_ = json.Unmarshal(b, &ae)
						shape := fmt.Sprintf("%d %d %s", st, ae.Code, qRun.ReplaceAllString(ae.Message, "Q*"))
						if !shapes[shape] {
							shapes[shape] = true
							t.Errorf("%s %s body %s: %d, reply of %d bytes repeats %d bytes of the input:\n%s",
								rt.Method, clip(p+q), clip(string(body)), st, len(b), n, clip(shape))
						}
					}
				}
			}
		}
	}
	t.Logf("%d requests, %d replies echoed too much", sent, failed)
	// The streams' error paths.
	for _, p := range []string{"/v1/registry/watch?path=" + url.QueryEscape(deep), "/v1/eventlog/subscribe?log=" + long} {
		st, b := ep.call(ctx, t, tok, http.MethodGet, p, nil)
		if st < 400 || longestRun(b) > wire.MaxEcho {
			t.Errorf("GET %s: %d %s", clip(p), st, clip(string(b)))
		}
	}
}

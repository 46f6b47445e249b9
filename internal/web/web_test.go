package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"wolfpack/internal/api"
	"wolfpack/internal/api/wire"
	"wolfpack/internal/web"
)

const testToken = "wpt1_console-test-token-0123456789abcdefghijklmnopq"

// newServer is an API server with the console and one data route, as a node has them.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	s := api.NewServer(testToken, slog.New(slog.NewTextHandler(io.Discard, nil)))
	web.Register(s)
	s.Handle("GET /v1/nodes", func(w http.ResponseWriter, r *http.Request) {
		api.WriteJSON(w, http.StatusOK, []wire.ClusterNode{{Name: "N1", State: "Up"}})
	})
	ts := httptest.NewTLSServer(s)
	t.Cleanup(ts.Close)
	return ts
}

func get(t *testing.T, ts *httptest.Server, path string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// Every file of the console is served from the binary with its type and the security
// headers, without a token; the page refers to nothing that is not served here.
func TestAssetsServed(t *testing.T) {
	ts := newServer(t)
	files := web.Files()
	types := map[string]string{"/": "text/html", "/ui/app.js": "text/javascript", "/ui/app.css": "text/css", "/ui/icon.svg": "image/svg+xml"}
	for p, typ := range types {
		want, ok := files[p]
		if !ok {
			t.Fatalf("no embedded file for %s (have %v)", p, keys(files))
		}
		resp, b := get(t, ts, p, nil)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(b, want) {
			t.Errorf("GET %s: %d, %d bytes; want 200 and the embedded %d bytes", p, resp.StatusCode, len(b), len(want))
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, typ) {
			t.Errorf("GET %s: Content-Type %q, want %s", p, ct, typ)
		}
		for h, v := range map[string]string{"Content-Security-Policy": web.CSP, "X-Content-Type-Options": "nosniff",
			"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
			if got := resp.Header.Get(h); got != v {
				t.Errorf("GET %s: %s %q, want %q", p, h, got, v)
			}
		}
		// A reload revalidates: the same file answers 304.
		if etag := resp.Header.Get("ETag"); etag == "" {
			t.Errorf("GET %s: no ETag", p)
		} else if r2, _ := get(t, ts, p, map[string]string{"If-None-Match": etag}); r2.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: %d, want 304", p, r2.StatusCode)
		}
	}
	if len(files) != len(types) {
		t.Errorf("embedded files %v, the test knows %v", keys(files), keys(types))
	}
	for _, p := range []string{"/ui/nothing.js", "/ui/", "/index.html", "/v1/nothing"} {
		if resp, _ := get(t, ts, p, nil); resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s: %d, want 404 or 401", p, resp.StatusCode)
		}
	}
	// The page loads only files this node serves: no other host, no inline script.
	page := string(files["/"])
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		ref := m[1]
		if strings.HasPrefix(ref, "#") {
			continue
		}
		if _, ok := files[ref]; !ok {
			t.Errorf("index.html refers to %q, which the console does not serve", ref)
		}
	}
	for p, b := range files {
		// The SVG namespace is a name, not an address anything is fetched from.
		b = bytes.ReplaceAll(b, []byte("http://www.w3.org/2000/svg"), nil)
		if m := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/`).Find(b); m != nil {
			t.Errorf("%s refers to another host: %s", p, m)
		}
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, " on") && regexp.MustCompile(`\son[a-z]+="`).MatchString(page) {
		t.Errorf("index.html has inline script, which the CSP forbids")
	}
}

// Nothing but the files answers without a token; a token is taken from the
// Authorization header alone, never from a URL or a cookie.
func TestAuthRequired(t *testing.T) {
	ts := newServer(t)
	for _, tc := range []struct {
		path string
		hdr  map[string]string
		want int
	}{
		{"/v1/nodes", nil, http.StatusUnauthorized},
		{"/v1/whoami", nil, http.StatusUnauthorized},
		{"/v1/routes", nil, http.StatusUnauthorized},
		{"/v1/nodes?token=" + testToken, nil, http.StatusUnauthorized},
		{"/v1/nodes?access_token=" + testToken, nil, http.StatusUnauthorized},
		{"/v1/nodes", map[string]string{"Cookie": "token=" + testToken}, http.StatusUnauthorized},
		{"/v1/nodes", map[string]string{"Authorization": "Bearer wrong"}, http.StatusUnauthorized},
		{"/v1/nodes", map[string]string{"Authorization": "Bearer " + testToken}, http.StatusOK},
		{"/v1/whoami", map[string]string{"Authorization": "Bearer " + testToken}, http.StatusOK},
	} {
		resp, b := get(t, ts, tc.path, tc.hdr)
		if resp.StatusCode != tc.want {
			t.Errorf("GET %s %v: %d %s, want %d", strings.ReplaceAll(tc.path, testToken, "TOKEN"), tc.hdr != nil, resp.StatusCode, b, tc.want)
		}
		if tc.want == http.StatusUnauthorized && bytes.Contains(b, []byte("N1")) {
			t.Errorf("GET %s without a valid token shows data: %s", tc.path, b)
		}
	}
	_, b := get(t, ts, "/v1/whoami", map[string]string{"Authorization": "Bearer " + testToken})
	var me wire.Whoami
	if err := json.Unmarshal(b, &me); err != nil || me.Level != wire.LevelFull {
		t.Errorf("whoami: %s", b)
	}
	// The asset routes are listed as such (GET /v1/routes), so that the access test
	// of the daemon checks them.
	_, b = get(t, ts, "/v1/routes", map[string]string{"Authorization": "Bearer " + testToken})
	var routes []api.Route
	if err := json.Unmarshal(b, &routes); err != nil {
		t.Fatal(err)
	}
	assets := map[string]bool{}
	for _, rt := range routes {
		if rt.Access == api.AccessAsset {
			assets[rt.Pattern] = true
		}
	}
	if len(assets) != 2 || !assets["GET /{$}"] || !assets["GET /ui/{file}"] {
		t.Errorf("asset routes: %v", assets)
	}
}

// scriptCode is app.js without its comments and with its string literals emptied: the
// code alone.
func scriptCode() string {
	var out []string
	str := regexp.MustCompile(`'(?:[^'\\]|\\.)*'|` + "`(?:[^`\\\\]|\\\\.)*`")
	for _, line := range strings.Split(string(web.Files()["/ui/app.js"]), "\n") {
		code := strings.TrimSpace(line)
		if strings.HasPrefix(code, "//") {
			continue
		}
		out = append(out, str.ReplaceAllString(code, "''"))
	}
	return strings.Join(out, "\n")
}

// The script puts the token in the Authorization header and in the tab's
// sessionStorage, nowhere else: every line that reads it is one of those. (The browser
// test also checks every URL the page requested.)
func TestTokenOnlyInHeader(t *testing.T) {
	js := scriptCode()
	uses := 0
	allowed := regexp.MustCompile(`^(S\.token = (tok|null);|const tok = |if \(!tok\)|token: null,|async function api\(method, path, body, token\) \{|if \(r\.status === 401 && !token\)|const me = await api\('', '', undefined, tok\);)`)
	for i, code := range strings.Split(js, "\n") {
		for _, m := range regexp.MustCompile(`\bS\.token\b|\btok\b|\btoken\b`).FindAllStringIndex(code, -1) {
			uses++
			ok := strings.Contains(code, "'': '' + (token || S.token)") || strings.Contains(code, "'': '' + S.token") ||
				strings.Contains(code, "sessionStorage.") || allowed.MatchString(code)
			if !ok {
				t.Errorf("app.js (code line %d) uses the token outside the Authorization header (col %d): %s", i+1, m[0], code)
			}
		}
	}
	if uses < 5 {
		t.Fatalf("found %d uses of the token in app.js: the check looks for the wrong names", uses)
	}
	if strings.Contains(js, "EventSource") || strings.Contains(js, "document.cookie") || strings.Contains(js, "localStorage") {
		t.Errorf("app.js uses EventSource (no header: the token would go in the URL), cookies or localStorage")
	}
	if strings.Contains(js, ".innerHTML") || strings.Contains(js, "insertAdjacentHTML") || strings.Contains(js, "document.write") {
		t.Errorf("app.js writes markup: data must go into the page as text")
	}
	if !strings.Contains(web.CSP, "form-action 'none'") || !strings.Contains(web.CSP, "connect-src 'self'") {
		t.Errorf("CSP %q lets the page send data elsewhere", web.CSP)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

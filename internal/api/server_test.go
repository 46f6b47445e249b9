package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"wolfpack/internal/api/wire"
)

// fakeTokens is an Authenticator with fixed tokens.
type fakeTokens map[string]Caller

func (f fakeTokens) Authenticate(_ context.Context, tok string) (Caller, error) {
	if tok == "broken" {
		return Caller{}, errors.New("etcd unreachable")
	}
	c, ok := f[tok]
	if !ok {
		return Caller{}, ErrUnknownToken
	}
	return c, nil
}

func request(t *testing.T, url, token, method, path string, body io.Reader, length int64) (int, wire.Error, string) {
	t.Helper()
	req, err := http.NewRequest(method, url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if length >= 0 {
		req.ContentLength = length
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var ae wire.Error
	_ = json.Unmarshal(b, &ae)
	return resp.StatusCode, ae, string(b)
}

// Who may call what: the node token and Full tokens everything, ReadOnly tokens GET only
// (403 with the reason), unknown tokens nothing (401), public routes anyone (their
// handler decides); an Authenticator that cannot answer is 503, not 401. Every request
// is logged with the token's name, method, route and status.
func TestServerAccess(t *testing.T) {
	var logs bytes.Buffer
	s := New(ServerOptions{NodeName: "N1", NodeToken: "node-secret", Log: slog.New(slog.NewTextHandler(&logs, nil))})
	s.SetAuthenticator(fakeTokens{"ro": {Name: "viewer", Level: wire.LevelReadOnly}, "rw": {Name: "admin", Level: wire.LevelFull}})
	var writes atomic.Int32
	s.Handle("GET /v1/things/{name}", func(w http.ResponseWriter, r *http.Request) {
		c, _ := CallerFrom(r.Context())
		WriteJSON(w, http.StatusOK, map[string]string{"caller": c.Name})
	})
	s.Handle("POST /v1/things", func(w http.ResponseWriter, r *http.Request) {
		writes.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})
	s.Handle("DELETE /v1/things/{name}", func(w http.ResponseWriter, r *http.Request) {
		writes.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})
	s.HandleUnauthenticated("POST /v1/hello", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer join-secret" {
			WriteError(w, &wire.Error{Status: http.StatusUnauthorized, Code: 5, Message: "wrong join token"})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	s.HandleAsset("GET /ui/{file}", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("file"))
	})
	hs := httptest.NewServer(s)
	defer hs.Close()

	for _, tc := range []struct {
		token, method, path string
		status              int
	}{
		{"node-secret", "GET", "/v1/things/a", 200},
		{"node-secret", "POST", "/v1/things", 204},
		{"rw", "DELETE", "/v1/things/a", 204},
		{"ro", "GET", "/v1/things/a", 200},
		{"ro", "HEAD", "/v1/things/a", 200},
		{"ro", "GET", "/metrics", 200},
		{"ro", "POST", "/v1/things", 403},
		{"ro", "DELETE", "/v1/things/a", 403},
		{"", "GET", "/v1/things/a", 401},
		{"nobody", "GET", "/v1/things/a", 401},
		{"nobody", "GET", "/metrics", 401},
		{"nobody", "GET", "/v1/no/such/route", 401}, // unknown routes do not answer strangers either
		{"nobody", "PUT", "/v1/things", 401},
		{"broken", "GET", "/v1/things/a", 503},
		{"", "POST", "/v1/hello", 401},
		{"join-secret", "POST", "/v1/hello", 204},
		{"ro", "POST", "/v1/hello", 401},
		{"", "GET", "/ui/app.js", 200},       // an asset: no token
		{"nobody", "GET", "/ui/app.js", 200}, // a wrong token does not matter to it
		{"", "POST", "/ui/app.js", 401},      // an asset route answers GET alone
		{"", "GET", "/v1/whoami", 401},
		{"ro", "GET", "/v1/whoami", 200},
	} {
		st, ae, body := request(t, hs.URL, tc.token, tc.method, tc.path, nil, -1)
		if st != tc.status {
			t.Errorf("%s %s with %q: %d %s, want %d", tc.method, tc.path, tc.token, st, body, tc.status)
		}
		if st == 403 && (ae.Code != 5 || ae.Message != "access denied: token 'viewer' has ReadOnly access; this request needs Full") {
			t.Errorf("403 reply: %s", body)
		}
	}
	if n := writes.Load(); n != 2 {
		t.Errorf("%d writes reached their handler, want 2 (node token and Full token)", n)
	}
	for _, want := range []string{
		`token=node:N1 method=POST route="POST /v1/things" status=204`,
		`token=viewer method=DELETE route="DELETE /v1/things/{name}" status=403`,
		`token=viewer method=GET route="GET /v1/things/{name}" status=200`,
		`token=- method=GET route="GET /v1/things/{name}" status=401`,
		`token=- method=POST route="POST /v1/hello" status=204`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, logs.String())
		}
	}

	routes := s.Routes()
	var got []string
	for _, r := range routes {
		got = append(got, r.Access.String()+" "+r.Pattern)
	}
	want := "write DELETE /v1/things/{name}|read GET /metrics|asset GET /ui/{file}|read GET /v1/routes|read GET /v1/things/{name}|read GET /v1/whoami|public POST /v1/hello|write POST /v1/things"
	if strings.Join(got, "|") != want {
		t.Errorf("Routes() = %v\nwant %s", got, want)
	}
	defer func() {
		if recover() == nil {
			t.Error("a pattern without a method was accepted")
		}
	}()
	s.Handle("/v1/anything", func(http.ResponseWriter, *http.Request) {})
}

// A route refuses a body over its limit before reading it, and a body without a length
// over 1 MiB; the server's budget makes a request that does not fit wait, then 503.
func TestServerBodyLimits(t *testing.T) {
	s := New(ServerOptions{NodeToken: "tok", BodyBudget: 4 << 20, BodyWait: 200 * time.Millisecond})
	release := make(chan struct{})
	entered := make(chan struct{}, 4)
	s.Handle("POST /v1/small", func(w http.ResponseWriter, r *http.Request) {
		var v struct{ Name string }
		if err := ReadJSON(r, &v); err != nil {
			WriteError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	s.Handle("POST /v1/upload", func(w http.ResponseWriter, r *http.Request) {
		b, err := ReadBody(r)
		if err != nil {
			WriteError(w, err)
			return
		}
		entered <- struct{}{}
		<-release
		WriteJSON(w, http.StatusOK, len(b))
	}, WithBodyLimit(8<<20))
	hs := httptest.NewServer(s)
	defer hs.Close()

	big := strings.Repeat("Q", 2<<20)
	// Over the route's limit, announced: 413 at once.
	st, ae, body := request(t, hs.URL, "tok", "POST", "/v1/small", strings.NewReader(`{"Name":"`+big+`"}`), -1)
	if st != http.StatusRequestEntityTooLarge || !strings.Contains(ae.Message, "at most 1048576 bytes") {
		t.Errorf("2 MiB to a 1 MiB route: %d %s", st, body)
	}
	// Without a length: read up to the limit, then 413.
	st, _, body = request(t, hs.URL, "tok", "POST", "/v1/upload", io.MultiReader(strings.NewReader(big)), -1)
	if st != http.StatusRequestEntityTooLarge {
		t.Errorf("2 MiB chunked to an 8 MiB route: %d %s, want 413 (chunked bodies stop at 1 MiB)", st, body)
	}
	// Quoting: an unknown field of 100 KB is quoted by 64 bytes at most.
	st, ae, body = request(t, hs.URL, "tok", "POST", "/v1/small", strings.NewReader(`{"`+strings.Repeat("Q", 100000)+`":1}`), -1)
	if st != http.StatusBadRequest || strings.Count(ae.Message, "Q") > wire.MaxEcho || len(body) > 300 {
		t.Errorf("unknown 100 KB field: %d %s", st, body)
	}

	// The budget: a 3 MiB upload holds 3 of the 4 MiB; a second one waits, then 503.
	done := make(chan int, 1)
	go func() {
		st, _, _ := request(t, hs.URL, "tok", "POST", "/v1/upload", strings.NewReader(strings.Repeat("Q", 3<<20)), -1)
		done <- st
	}()
	<-entered
	st, ae, body = request(t, hs.URL, "tok", "POST", "/v1/upload", strings.NewReader(strings.Repeat("Q", 3<<20)), -1)
	if st != http.StatusServiceUnavailable || ae.Code != 1450 {
		t.Errorf("second 3 MiB upload while the budget is taken: %d %s, want 503", st, body)
	}
	// Small bodies still fit.
	if st, _, body := request(t, hs.URL, "tok", "POST", "/v1/small", strings.NewReader(`{"Name":"x"}`), -1); st != http.StatusNoContent {
		t.Errorf("small body while the budget is mostly taken: %d %s", st, body)
	}
	close(release)
	if st := <-done; st != http.StatusOK {
		t.Errorf("first upload: %d", st)
	}
	// Room again.
	if st, _, body := request(t, hs.URL, "tok", "POST", "/v1/upload", strings.NewReader(strings.Repeat("Q", 3<<20)), -1); st != http.StatusOK {
		t.Errorf("upload after the first ended: %d %s", st, body)
	}
}

func TestClip(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"short", "short"},
		{strings.Repeat("a", 64), strings.Repeat("a", 64)},
		{strings.Repeat("a", 65), strings.Repeat("a", 64) + "…"},
		{strings.Repeat("a", 63) + "é" + "b", strings.Repeat("a", 63) + "…"}, // é would straddle byte 64
	} {
		if got := wire.Clip(tc.in); got != tc.want {
			t.Errorf("Clip(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

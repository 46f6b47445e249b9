package daemon_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"wolfpack/internal/api/client"
	"wolfpack/internal/api/wire"
)

// fillReader sends prefix, then n bytes of 'Q', then suffix, without holding them.
type fillReader struct {
	prefix, suffix string
	n              int64
	off            int64
}

func (f *fillReader) size() int64 { return int64(len(f.prefix)) + f.n + int64(len(f.suffix)) }

func (f *fillReader) Read(p []byte) (int, error) {
	total := f.size()
	if f.off >= total {
		return 0, io.EOF
	}
	i := 0
	for i < len(p) && f.off < total {
		switch {
		case f.off < int64(len(f.prefix)):
			p[i] = f.prefix[f.off]
		case f.off < int64(len(f.prefix))+f.n:
			p[i] = 'Q'
		default:
			p[i] = f.suffix[f.off-int64(len(f.prefix))-f.n]
		}
		i++
		f.off++
	}
	return i, nil
}

// vmHWM is the peak resident set size of process pid, in bytes.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// startDaemonProcess runs wolfpackd (this test binary, as TestMain allows) as its own
// process, so that its memory can be measured apart from the test's.
func startDaemonProcess(t *testing.T, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "--name", "N1", "--data-dir", dir, "--api", freeAddr(t), "--peer", freeAddr(t),
		"--client", freeAddr(t), "--log-level", "warn")
	cmd.Env = append(os.Environ(), "WOLFPACK_TEST_DAEMON=1")
	log, err := os.Create(filepath.Join(t.TempDir(), "wolfpackd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		log.Close()
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("wolfpackd's log:\n%s", b)
		}
	})
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := os.Stat(filepath.Join(dir, client.AddrFile)); err == nil {
			return cmd
		}
		select {
		case <-exited:
			t.Fatal("wolfpackd exited before it was ready")
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("wolfpackd not ready after a minute")
		}
	}
}

// Eight concurrent 60 MB bodies to each kind of route (JSON routes with an invalid name,
// with and without a Content-Length; the hive upload routes, which take large bodies,
// with a length and chunked), 40 at once, keep a real node's peak RSS under 300 MB, and
// every reply is a short error that quotes at most wire.MaxEcho bytes of what was sent.
// Without the server's budget of body bytes the peak is about 900 MB.
func TestRequestBodiesBounded(t *testing.T) {
	dir := t.TempDir()
	cmd := startDaemonProcess(t, dir)
	c, err := client.FromDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := vmHWM(t, cmd.Process.Pid)
	ep := nodeEndpoint(t, dir)

	const size = 60 << 20
	type send struct {
		what, method, path string
		body               func() *fillReader
		chunked            bool
	}
	sends := []send{
		{"registry value with a 60 MB name", http.MethodPut, "/v1/registry/value",
			func() *fillReader {
				return &fillReader{prefix: `{"path":"HKLM\\SOFTWARE","type":1,"name":"`, n: size, suffix: `"}`}
			}, false},
		{"group with a 60 MB name, chunked", http.MethodPost, "/v1/groups",
			func() *fillReader { return &fillReader{prefix: `{"name":"`, n: size, suffix: `"}`} }, true},
		{"60 MB hive restore", http.MethodPost, "/v1/registry/restore?path=" + url.QueryEscape(`HKLM\SOFTWARE`),
			func() *fillReader { return &fillReader{n: size} }, false},
		{"60 MB hive load", http.MethodPost, "/v1/registry/load?path=" + url.QueryEscape(`HKLM\WolfpackLoadTest`),
			func() *fillReader { return &fillReader{n: size} }, false},
		{"60 MB hive restore, chunked", http.MethodPost, "/v1/registry/restore?path=" + url.QueryEscape(`HKLM\SOFTWARE`),
			func() *fillReader { return &fillReader{n: size} }, true},
	}
	type result struct {
		what   string
		status int
		body   []byte
		err    error
	}
	results := make(chan result, 8*len(sends))
	var wg sync.WaitGroup
	start := time.Now()
	for _, s := range sends {
		for range 8 {
			wg.Go(func() {
				body := s.body()
				var rd io.Reader = body
				if s.chunked {
					rd = io.MultiReader(body) // hides the length: sent chunked
				}
				req, err := http.NewRequest(s.method, c.Base+s.path, rd)
				if err != nil {
					results <- result{what: s.what, err: err}
					return
				}
				if !s.chunked {
					req.ContentLength = body.size()
				}
				req.Header.Set("Authorization", "Bearer "+c.Token())
				resp, err := ep.hc.Do(req)
				if err != nil {
					results <- result{what: s.what, err: err}
					return
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
				results <- result{what: s.what, status: resp.StatusCode, body: b}
			})
		}
	}
	wg.Wait()
	close(results)
	took := time.Since(start)
	for r := range results {
		switch {
		case r.err != nil:
			t.Errorf("%s: %v", r.what, r.err)
		case r.status < 400 || r.status >= 500:
			t.Errorf("%s: status %d %s, want a 4xx refusal", r.what, r.status, clip(string(r.body)))
		case len(r.body) > 2048 || longestRun(r.body) > wire.MaxEcho:
			t.Errorf("%s: a reply of %d bytes that repeats %d bytes of the body: %s", r.what, len(r.body), longestRun(r.body), clip(string(r.body)))
		}
	}
	after := vmHWM(t, cmd.Process.Pid)
	t.Logf("%d bodies of 60 MB (8 per route, concurrently) in %v: the daemon's peak RSS went from %d MB to %d MB",
		8*len(sends), took.Round(time.Millisecond), before>>20, after>>20)
	if after > 300<<20 {
		t.Errorf("peak RSS %d MB, want under 300 MB", after>>20)
	}
}

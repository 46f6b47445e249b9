package daemon_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"wolfpack/internal/clusterdb"
	"wolfpack/internal/daemon"
	"wolfpack/internal/pki"
)

// recordingConn keeps every byte the server reads from the client.
type recordingConn struct {
	net.Conn
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (c recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.buf.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

// fakeNode is a TLS server with a node certificate of its own CA, which records what
// clients send: the raw bytes, and the application data read after the handshake.
type fakeNode struct {
	addr       string
	ca         *pki.CA
	mu         sync.Mutex
	raw        bytes.Buffer
	app        bytes.Buffer
	handshakes []error
}

func startFakeNode(t *testing.T) *fakeNode {
	t.Helper()
	dir := t.TempDir()
	ca, err := pki.Bootstrap(dir, "F", []string{pki.ServerName, "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pki.PathsIn(dir).ServerCertificate()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	f := &fakeNode{addr: ln.Addr().String(), ca: ca}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				tc := tls.Server(recordingConn{c, &f.mu, &f.raw}, &tls.Config{Certificates: []tls.Certificate{cert}})
				c.SetDeadline(time.Now().Add(5 * time.Second))
				err := tc.Handshake()
				f.mu.Lock()
				f.handshakes = append(f.handshakes, err)
				f.mu.Unlock()
				if err != nil {
					return
				}
				b := make([]byte, 4096)
				n, _ := tc.Read(b)
				f.mu.Lock()
				f.app.Write(b[:n])
				f.mu.Unlock()
				// An HTTP answer, so that the client does not retry.
				io.WriteString(tc, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
			}()
		}
	}()
	return f
}

// waitHandshakes waits (up to 10 s) until the server has finished n handshakes, and
// returns their results: the client may give up on a handshake before the server has.
func (f *fakeNode) waitHandshakes(t *testing.T, n int) []error {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		f.mu.Lock()
		hs := append([]error(nil), f.handshakes...)
		f.mu.Unlock()
		if len(hs) >= n {
			return hs
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server finished %d handshakes, want %d", len(hs), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// joinVia runs wolfpackd --join addr with the token in a --token-file and returns the
// error it stops with, and its data directory.
func joinVia(t *testing.T, addr string, tok clusterdb.JoinToken) (string, error) {
	t.Helper()
	dataDir := t.TempDir()
	tokFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokFile, []byte(tok.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := daemon.ParseConfig([]string{"--name", "N9", "--data-dir", dataDir, "--api", freeAddr(t), "--peer", freeAddr(t),
		"--client", freeAddr(t), "--join", addr, "--token-file", tokFile}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return dataDir, daemon.Run(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// TestJoinPinsCA: a join whose token pins another CA than the server's is refused in the
// TLS handshake: the server receives no application byte, and the secret never crosses
// the wire. The same server, pinned right, does receive the request with the secret (so
// the recording would see it), and refuses it. A failed join leaves no token and no
// certificate in the joining node's data directory.
func TestJoinPinsCA(t *testing.T) {
	f := startFakeNode(t)
	other, err := pki.NewCA(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	wrong, _ := clusterdb.NewJoinToken(other.Hash())
	dataDir, err := joinVia(t, f.addr, wrong)
	if err == nil || !strings.Contains(err.Error(), "refused before sending the token's secret") {
		t.Fatalf("join with a wrong CA hash: %v", err)
	}
	hs := f.waitHandshakes(t, 1)
	f.mu.Lock()
	raw, app := f.raw.String(), f.app.Len()
	f.mu.Unlock()
	if hs[0] == nil {
		t.Fatalf("the server saw no failed handshake: %v", hs)
	}
	if app != 0 {
		t.Fatalf("the server read %d bytes of application data through a wrong pin", app)
	}
	if raw == "" || strings.Contains(raw, wrong.Secret) {
		t.Fatalf("raw bytes seen by the server: %d, secret among them: %v", len(raw), strings.Contains(raw, wrong.Secret))
	}
	noSecretIn(t, dataDir, wrong.Secret)

	right, _ := clusterdb.NewJoinToken(f.ca.Hash())
	dataDir, err = joinVia(t, f.addr, right)
	if err == nil || !strings.Contains(err.Error(), "wrong join token") {
		t.Fatalf("join through the right pin to a node that refuses the secret: %v", err)
	}
	f.mu.Lock()
	got := f.app.String()
	f.mu.Unlock()
	if !strings.Contains(got, "POST /v1/cluster/join") || !strings.Contains(got, right.Secret) {
		t.Fatalf("through the right pin the server read %q, want the join request with the secret", got)
	}
	noSecretIn(t, dataDir, right.Secret)
	if pki.PathsIn(dataDir).HasCA() {
		t.Error("a failed join wrote a CA")
	}
}

// noSecretIn fails when a file under dir holds secret.
func noSecretIn(t *testing.T, dir, secret string) {
	t.Helper()
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the join secret after a failed join", path)
		}
		return nil
	})
	if _, err := os.Stat(filepath.Join(dir, clusterdb.JoinTokenFile)); err == nil {
		t.Errorf("a failed join wrote %s", clusterdb.JoinTokenFile)
	}
}

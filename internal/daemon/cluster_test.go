package daemon_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"wolfpack/internal/api/client"
	"wolfpack/internal/cli/clustercmd"
	"wolfpack/internal/daemon"
	"wolfpack/internal/pki"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key (PEM) into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "wolfpack test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// freeAddr returns a 127.0.0.1 address with a port nothing listens on at the moment.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startNode runs wolfpackd in the test process until the test ends, and waits (up to a
// minute, for a loaded machine) until its API address file is written.
func startNode(t *testing.T, args ...string) (dataDir string) {
	t.Helper()
	dataDir = t.TempDir()
	args = append([]string{"--data-dir", dataDir, "--api", freeAddr(t), "--peer", freeAddr(t), "--client", freeAddr(t),
		"--log-level", "warn"}, args...)
	cfg, err := daemon.ParseConfig(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- daemon.Run(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node %s: %v", dataDir, err)
		}
	})
	end := time.Now().Add(time.Minute)
	for {
		if _, err := os.Stat(filepath.Join(dataDir, client.AddrFile)); err == nil {
			return dataDir
		}
		select {
		case err := <-done:
			t.Fatalf("node stopped before it was ready: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(end) {
			t.Fatalf("node %s not ready after a minute", dataDir)
		}
	}
}

// cluster runs the cluster CLI against the node of dataDir.
func cluster(t *testing.T, dataDir string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	st := clustercmd.Run(context.Background(), args, &out, &errOut, func() (*client.Client, error) { return client.FromDataDir(dataDir) })
	return st, out.String(), errOut.String()
}

func readAddr(t *testing.T, dataDir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, client.AddrFile))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// A node started with --tls-cert/--tls-key serves that certificate to clients other than
// Wolfpack's own; the cluster CLI reaches it, a second node joins it over https, the CLI reaches that node by name
// through the first, and /metrics needs the token and shows the cluster's gauges.
func TestClusterTLSAndMetrics(t *testing.T) {
	cert, key := selfSigned(t, t.TempDir())
	n1 := startNode(t, "--name", "N1", "--tls-cert", cert, "--tls-key", key)
	base := readAddr(t, n1)
	if !strings.HasPrefix(base, "https://127.0.0.1:") {
		t.Fatalf("api.addr = %q, want an https URL", base)
	}

	// Plain HTTP to the TLS port is not served.
	if resp, err := http.Get("http" + strings.TrimPrefix(base, "https") + "/v1/health"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP to the TLS API: status %d, want 400", resp.StatusCode)
		}
	}

	if st, out, errOut := cluster(t, n1, "group", "G1", "/create"); st != 0 || !regexp.MustCompile(`(?m)^G1 +N1 +Offline$`).MatchString(out) {
		t.Fatalf("cluster group G1 /create over TLS: status %d\n%s%s", st, out, errOut)
	}

	// A second node joins over https (the join token is N1's file).
	n2 := startNode(t, "--name", "N2", "--tls-cert", cert, "--tls-key", key, "--join", base, "--token-file", filepath.Join(n1, "join-token"))
	deadline := time.Now().Add(time.Minute)
	for {
		st, out, errOut := cluster(t, n1, "node")
		if st == 0 && regexp.MustCompile(`(?m)^N1 +1 Up +Voter$`).MatchString(out) && regexp.MustCompile(`(?m)^N2 +2 Up +(Voter|Non-voter)$`).MatchString(out) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("N2 not Up after a minute: status %d\n%s%s", st, out, errOut)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if st, out, errOut := cluster(t, n1, "group", "/node:N2"); st != 0 || !strings.Contains(out, "G1") {
		t.Errorf("cluster group /node:N2 (N2 reached over https by name): status %d\n%s%s", st, out, errOut)
	}
	if base2 := readAddr(t, n2); !strings.HasPrefix(base2, "https://") {
		t.Errorf("N2's api.addr = %q, want https", base2)
	}

	// Browsers and other clients get the --tls-cert certificate; Wolfpack's own clients,
	// which ask for pki.ServerName, get the node's certificate from the cluster CA.
	adminRoots := x509.NewCertPool()
	certPEM, _ := os.ReadFile(cert)
	adminRoots.AppendCertsFromPEM(certPEM)
	admin := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: adminRoots}}}
	clusterRoots, err := pki.PathsIn(n1).RootTLS()
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]*tls.Config{"the --tls-cert CA": {RootCAs: adminRoots},
		"the cluster CA for " + pki.ServerName: clusterRoots} {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
		resp, err := c.Get(base + "/v1/health")
		if err != nil {
			t.Fatalf("a client trusting %s: %v", name, err)
		}
		resp.Body.Close()
	}
	if resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: clusterRoots.RootCAs}}}).Get(base + "/v1/health"); err == nil {
		resp.Body.Close()
		t.Error("a client that trusts the cluster CA but asks for no server name was given the cluster certificate, not --tls-cert's")
	}

	// /metrics: refused without the token, the cluster gauges with it.
	resp, err := admin.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/metrics without the token: status %d, want 401", resp.StatusCode)
	}
	c, err := client.FromDataDir(n1)
	if err != nil {
		t.Fatal(err)
	}
	var body []byte
	if err := c.Do(context.Background(), http.MethodGet, "/metrics", nil, &body); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"wolfpack_cluster_nodes_up 2",
		`wolfpack_cluster_groups{state="Offline"} 1`,
		"wolfpack_cluster_failovers_total 0",
		"wolfpack_cluster_coordinator",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// A start that fails at a late step (the API's address is taken, after the event log, the
// registry, the etcd member, the resource host, the agent and the checkpoint manager
// started) releases what ran before: Run returns the error, and the same data directory
// and ports start a node at once afterwards (the directory's lock, the registry's and
// the event log's files, etcd's ports and data are free again).
func TestFailedStartReleases(t *testing.T) {
	dataDir := t.TempDir()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	api := taken.Addr().String()
	args := []string{"--data-dir", dataDir, "--api", api, "--peer", freeAddr(t), "--client", freeAddr(t), "--log-level", "warn"}
	cfg, err := daemon.ParseConfig(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err = daemon.Run(ctx, cfg, log)
	if err == nil || !strings.Contains(err.Error(), "start api") {
		t.Fatalf("Run with the API's address taken = %v, want the api part's failure", err)
	}
	taken.Close()

	cfg, err = daemon.ParseConfig(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- daemon.Run(rctx, cfg, log) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("second start: %v", err)
		}
	}()
	for {
		if _, err := os.Stat(filepath.Join(dataDir, client.AddrFile)); err == nil {
			break
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("the second start failed: %v", err)
		case <-ctx.Done():
			t.Fatal("the second start was not ready in time")
		case <-time.After(50 * time.Millisecond):
		}
	}
	if st, out, errOut := cluster(t, dataDir, "node"); st != 0 {
		t.Fatalf("cluster node after the second start: %d %s %s", st, out, errOut)
	}
}

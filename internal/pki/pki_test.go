package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestCAFilesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	hosts := []string{ServerName, "127.0.0.1", "n1"}
	ca, err := Bootstrap(dir, "N1", hosts)
	if err != nil {
		t.Fatal(err)
	}
	p := PathsIn(dir)
	for path, mode := range map[string]os.FileMode{p.CACert: 0o644, p.CAKey: 0o600, p.NodeCert: 0o644, p.NodeKey: 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), mode)
		}
	}
	again, err := p.LoadCA()
	if err != nil {
		t.Fatal(err)
	}
	if again.Hash() != ca.Hash() || len(ca.Hash()) != 64 {
		t.Errorf("hash %s after load, %s before", again.Hash(), ca.Hash())
	}
	cert, err := tls.LoadX509KeyPair(p.NodeCert, p.NodeKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(cert.Certificate[0])
	pool, _ := p.CAPool()
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: ServerName, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
			t.Errorf("node certificate, usage %v: %v", usage, err)
		}
	}
	if err := leaf.VerifyHostname("127.0.0.1"); err != nil {
		t.Error(err)
	}
	// Another CA's key does not pass for this one's.
	other, _ := NewCA(time.Now())
	okey, _ := other.KeyPEM()
	if _, err := ParseCA(ca.CertPEM, okey); !errors.Is(err, ErrKeyMismatch) {
		t.Errorf("ParseCA with another key: %v", err)
	}
	if _, err := ParseCA(must(os.ReadFile(p.NodeCert)), must(os.ReadFile(p.NodeKey))); !errors.Is(err, ErrNotCA) {
		t.Errorf("ParseCA of a node certificate: %v", err)
	}
}

func TestEnsureNodeRenews(t *testing.T) {
	dir := t.TempDir()
	p := PathsIn(dir)
	now := time.Now()
	ca, err := Bootstrap(dir, "N1", []string{ServerName})
	if err != nil {
		t.Fatal(err)
	}
	key1 := must(os.ReadFile(p.NodeKey))
	if issued, err := p.EnsureNode(ca, "N1", []string{ServerName}, now); err != nil || issued {
		t.Fatalf("EnsureNode of a fresh certificate = %v, %v", issued, err)
	}
	// A new address, and a certificate near its end, are reasons to issue; the key stays.
	if issued, err := p.EnsureNode(ca, "N1", []string{ServerName, "10.1.2.3"}, now); err != nil || !issued {
		t.Fatalf("EnsureNode with a new address = %v, %v", issued, err)
	}
	if issued, err := p.EnsureNode(ca, "N1", []string{ServerName}, now.Add(NodeValidity-RenewBefore/2)); err != nil || !issued {
		t.Fatalf("EnsureNode near expiry = %v, %v", issued, err)
	}
	if string(must(os.ReadFile(p.NodeKey))) != string(key1) {
		t.Error("renewal changed the node key")
	}
	cert, _ := ParseCert(must(os.ReadFile(p.NodeCert)))
	if !Covers(cert, []string{"10.1.2.3"}) == Covers(cert, []string{"10.9.9.9"}) {
		t.Error("Covers does not tell names apart")
	}
}

func TestSignCSR(t *testing.T) {
	ca, err := NewCA(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	key, _ := NewKey()
	csr, err := NewCSR(key, "N2", []string{ServerName, "127.0.0.2", "n2"})
	if err != nil {
		t.Fatal(err)
	}
	certPEM, err := ca.SignCSR(csr, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := ParseCert(certPEM)
	if cert.Subject.CommonName != "N2" || !Covers(cert, []string{ServerName, "127.0.0.2", "n2"}) || cert.CheckSignatureFrom(ca.Cert) != nil {
		t.Errorf("signed certificate: CN %s, DNS %v, IPs %v", cert.Subject.CommonName, cert.DNSNames, cert.IPAddresses)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		t.Error("the certificate is not for the request's key")
	}
	// A tampered request (its signature no longer matches) and garbage are refused.
	bad := strings.Replace(string(csr), string(csr[len(csr)/2:len(csr)/2+4]), "AAAA", 1)
	for _, in := range []string{bad, "", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"} {
		if _, err := ca.SignCSR([]byte(in), time.Now()); !errors.Is(err, ErrCSR) {
			t.Errorf("SignCSR(%.30q) = %v, want ErrCSR", in, err)
		}
	}
	var many []string
	for i := range maxSANs + 1 {
		many = append(many, net.IPv4(10, 0, byte(i>>8), byte(i)).String())
	}
	big, _ := NewCSR(key, "N2", many)
	if _, err := ca.SignCSR(big, time.Now()); !errors.Is(err, ErrCSR) {
		t.Errorf("SignCSR with %d names = %v, want ErrCSR", len(many), err)
	}
}

func TestHosts(t *testing.T) {
	h := Hosts("N1", "127.0.0.1:1", "10.0.0.5:2", "node.example:3", "0.0.0.0:4")
	for _, want := range []string{ServerName, "localhost", "127.0.0.1", "::1", "n1", "10.0.0.5", "node.example"} {
		if !strings.Contains(" "+strings.Join(h, " ")+" ", " "+want+" ") {
			t.Errorf("Hosts = %v, lacks %s", h, want)
		}
	}
	if got := Hosts("bad name"); strings.Contains(strings.Join(got, " "), "bad") {
		t.Errorf("Hosts(bad name) = %v", got)
	}
}

// TestPinnedTLS: a client that pins the CA by hash completes the handshake with a node
// of that CA, and with any other server fails it before sending a byte of its request.
func TestPinnedTLS(t *testing.T) {
	node := func(t *testing.T) (*CA, *httptest.Server, *atomic.Int32) {
		dir := t.TempDir()
		ca, err := Bootstrap(dir, "N1", []string{ServerName, "127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		cert, err := PathsIn(dir).ServerCertificate()
		if err != nil {
			t.Fatal(err)
		}
		var hits atomic.Int32
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			io.Copy(io.Discard, r.Body)
		}))
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return ca, srv, &hits
	}
	ca, srv, hits := node(t)
	other, _ := NewCA(time.Now())
	post := func(hash string) error {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: PinnedTLS(hash)}}
		resp, err := c.Post(srv.URL, "text/plain", strings.NewReader("secret"))
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := post(other.Hash()); err == nil || !strings.Contains(err.Error(), ErrPin.Error()) {
		t.Fatalf("post with another CA's hash: %v, want %v", err, ErrPin)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the server received %d requests through a wrong pin", n)
	}
	if err := post(ca.Hash()); err != nil {
		t.Fatalf("post with the right hash: %v", err)
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("the server received %d requests through the right pin, want 1", n)
	}
	// A server whose chain lacks the CA cannot be pinned, even when its certificate is
	// signed by the pinned CA.
	dir := filepath.Join(t.TempDir(), "n")
	if err := PathsIn(dir).WriteCA(ca); err != nil {
		t.Fatal(err)
	}
	if _, err := PathsIn(dir).EnsureNode(ca, "N3", []string{ServerName}, time.Now()); err != nil {
		t.Fatal(err)
	}
	leafOnly, err := tls.LoadX509KeyPair(PathsIn(dir).NodeCert, PathsIn(dir).NodeKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(leafOnly.Certificate[0])
	if err := VerifyPinned([]*x509.Certificate{leaf}, ca.Hash()); !errors.Is(err, ErrPin) {
		t.Errorf("VerifyPinned(leaf only) = %v", err)
	}
	if err := VerifyPinned([]*x509.Certificate{leaf, ca.Cert}, ca.Hash()); err != nil {
		t.Errorf("VerifyPinned(leaf, CA) = %v", err)
	}
	// A certificate of another CA, presented with the pinned CA beside it, fails.
	ocert, _ := other.Issue(leaf.PublicKey, "X", []string{ServerName}, time.Now())
	oleaf, _ := ParseCert(ocert)
	if err := VerifyPinned([]*x509.Certificate{oleaf, ca.Cert}, ca.Hash()); !errors.Is(err, ErrPin) {
		t.Errorf("VerifyPinned(other CA's leaf, pinned CA) = %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"wolfpack/internal/api"
	"wolfpack/internal/api/client"
	"wolfpack/internal/clusterdb"
	"wolfpack/internal/pki"
)

// newAPI prepares the HTTP API server (before the parts, which register routes on it),
// with this node's own token from its data directory.
func (n *Node) newAPI() error {
	tok, err := loadOrCreateToken(filepath.Join(n.Cfg.DataDir, client.TokenFile))
	if err != nil {
		return err
	}
	n.API = api.New(api.ServerOptions{NodeName: n.Cfg.Name, NodeToken: tok, Log: n.Log.With("part", "api")})
	n.API.Handle("GET /v1/health", n.serveHealth)
	return nil
}

// startAPI listens on --api and writes the address to api.addr for the CLIs.
func (n *Node) startAPI(ctx context.Context) error {
	ln, err := net.Listen("tcp", n.Cfg.API)
	if err != nil {
		return fmt.Errorf("--api %s: %w", n.Cfg.API, err)
	}
	tlsConfig, err := n.apiTLS()
	if err != nil {
		ln.Close()
		return err
	}
	peer, err := pki.PathsIn(n.Cfg.DataDir).ClientTLS()
	if err != nil {
		ln.Close()
		return err
	}
	n.API.SetPeerTLS(peer)
	scheme := "https"
	base := scheme + "://" + ln.Addr().String()
	addrFile := filepath.Join(n.Cfg.DataDir, client.AddrFile)
	n.APIBase = base // api.addr is written when the node is ready (ready)
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := n.API.Serve(ctx, ln, tlsConfig); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.Log.Error("api stopped", "err", err)
		}
	}()
	n.onStop(func() { cancel(); <-done; os.Remove(addrFile) })
	n.Log.Info("api listening", "url", base)
	return nil
}

// apiTLS is the API's TLS configuration: the node's certificate from the cluster CA
// (with the CA in the chain, for joining nodes to pin). --tls-cert/--tls-key replace it
// for every client but Wolfpack's own, which ask for pki.ServerName.
func (n *Node) apiTLS() (*tls.Config, error) {
	nodeCert, err := pki.PathsIn(n.Cfg.DataDir).ServerCertificate()
	if err != nil {
		return nil, err
	}
	var override *tls.Certificate
	if n.Cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(n.Cfg.TLSCert, n.Cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		override = &cert
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if override != nil && hello.ServerName != pki.ServerName {
				return override, nil
			}
			return &nodeCert, nil
		},
	}, nil
}

// loadOrCreateToken reads the node's own API token, creating a random one (mode 0600,
// 256 bits: clusterdb.NewTokenSecret) the first time.
func loadOrCreateToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return "", fmt.Errorf("token file %s is empty", path)
		}
		return tok, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("token file: %w", err)
	}
	tok, err := clusterdb.NewTokenSecret()
	if err != nil {
		return "", err
	}
	if err := writeFileAtomic(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	return tok, nil
}

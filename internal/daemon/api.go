package daemon

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"wolfpack/internal/api"
	"wolfpack/internal/clusterdb"
)

// newAPI prepares the HTTP API server (before the parts, which register routes on it),
// with this node's own token from its data directory.
func (n *Node) newAPI() error {
	tok, err := loadOrCreateToken(filepath.Join(n.Cfg.DataDir, api.TokenFile), n.joinToken)
	if err != nil {
		return err
	}
	n.API = api.New(api.ServerOptions{NodeName: n.Cfg.Name, NodeToken: tok, Log: n.Log.With("part", "api")})
	n.API.Handle("GET /v1/health", func(w http.ResponseWriter, r *http.Request) {
		api.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "node": n.Cfg.Name})
	})
	return nil
}

// startAPI listens on --api and writes the address to api.addr for the CLIs.
func (n *Node) startAPI(ctx context.Context) error {
	ln, err := net.Listen("tcp", n.Cfg.API)
	if err != nil {
		return fmt.Errorf("--api %s: %w", n.Cfg.API, err)
	}
	var tlsConfig *tls.Config
	scheme := "http"
	if n.Cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(n.Cfg.TLSCert, n.Cfg.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		scheme = "https"
	}
	base := scheme + "://" + ln.Addr().String()
	addrFile := filepath.Join(n.Cfg.DataDir, api.AddrFile)
	if err := writeFileAtomic(addrFile, []byte(base+"\n"), 0o644); err != nil {
		ln.Close()
		return err
	}
	n.APIBase = base
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

// loadOrCreateToken reads the node's own API token, creating a random one (mode 0600)
// the first time. A token file that still holds the token that earlier versions derived
// from the join token (clusterdb.APIToken) is replaced: whoever saw the join token could
// compute that one.
func loadOrCreateToken(path, joinToken string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return "", fmt.Errorf("token file %s is empty", path)
		}
		if joinToken == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(clusterdb.APIToken(joinToken))) != 1 {
			return tok, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
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

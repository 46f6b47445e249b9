package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"wolfpack/internal/api/wire"
	"wolfpack/internal/nodestate"
	"wolfpack/internal/pki"
)

// Files in a node's data directory that clients read.
const (
	AddrFile  = "api.addr" // one line: the base URL of the node's API
	TokenFile = "token"    // the node's own API token, mode 0600
)

// DefaultDataDir is the data directory a CLI or the daemon uses when none is named:
// $WOLFPACK_DATA, else /var/lib/wolfpack for root, else $HOME/.local/state/wolfpack.
func DefaultDataDir() string {
	if d := os.Getenv("WOLFPACK_DATA"); d != "" {
		return d
	}
	if os.Geteuid() == 0 {
		return "/var/lib/wolfpack"
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "wolfpack")
	}
	return filepath.Join(os.TempDir(), "wolfpack")
}

// Client calls one node's API.
type Client struct {
	Base  string // e.g. http://127.0.0.1:8733
	token string
	http  *http.Client
	// OnWarning, when set, hears the Warning of an answer (one from a stale view: the
	// node answered from what it last knew, see MarkStale).
	OnWarning func(string)
}

// New returns a client for the API at base that verifies the server with
// tlsConfig (nil: the system's roots, for the server's own name).
func New(base, token string, tlsConfig *tls.Config) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConfig
	return &Client{Base: strings.TrimRight(base, "/"), token: token, http: &http.Client{Transport: tr}}
}

// Environment variables that give a CLI a token other than the node's own (one made by
// `cluster /grant`), never on a command line, where every user could read it in
// /proc/PID/cmdline.
const (
	TokenEnv     = "WOLFPACK_API_TOKEN"      // the token itself
	TokenFileEnv = "WOLFPACK_API_TOKEN_FILE" // a file that holds it
)

// FromDataDir returns a client for the node whose data directory is dir. It trusts the
// cluster CA of the data directory (tls/ca.crt) alone, so the token goes to no one but a
// node of that cluster, here or (Node) elsewhere. Its token is $WOLFPACK_API_TOKEN, else
// the content of the file $WOLFPACK_API_TOKEN_FILE names, else the node's own token (the
// data directory's token file, which only root reads).
func FromDataDir(dir string) (*Client, error) {
	// A node that starts is waited for (a script that saw its registry answer may run
	// a command of the API next); one that does not run is said so at once.
	if err := nodestate.Wait(context.Background(), dir, nodestate.DefaultWait, nodestate.Stderr); err != nil {
		return nil, err
	}
	addr, err := os.ReadFile(filepath.Join(dir, AddrFile))
	if err != nil {
		return nil, fmt.Errorf("cannot find the node's API (is wolfpackd running with data directory %s?): %w", dir, err)
	}
	tok, err := clientToken(dir)
	if err != nil {
		return nil, err
	}
	cfg, err := pki.PathsIn(dir).RootTLS()
	if err != nil {
		return nil, fmt.Errorf("cannot read the cluster CA of data directory %s: %w", dir, err)
	}
	return New(strings.TrimSpace(string(addr)), tok, cfg), nil
}

func clientToken(dir string) (string, error) {
	if tok := strings.TrimSpace(os.Getenv(TokenEnv)); tok != "" {
		return tok, nil
	}
	path, what := filepath.Join(dir, TokenFile), "the node's API token"
	if f := os.Getenv(TokenFileEnv); f != "" {
		path, what = f, "the API token in $"+TokenFileEnv
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", what, err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("%s is empty (%s)", what, path)
	}
	return tok, nil
}

// Token is the bearer token the client sends.
func (c *Client) Token() string { return c.token }

// FromEnv returns a client for the node of DefaultDataDir.
func FromEnv() (*Client, error) { return FromDataDir(DefaultDataDir()) }

// WithBase returns a client for another node of the same cluster (same token, same
// trust: the cluster's tokens, the nodes' own included, open every node).
func (c *Client) WithBase(base string) *Client {
	cp := *c
	cp.Base = strings.TrimRight(base, "/")
	return &cp
}

// Do sends in (JSON, unless it is nil, []byte or io.Reader) to path and decodes the answer
// into out (JSON, unless out is *[]byte or io.Writer). A non-2xx answer is an *wire.Error.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	ctype := "application/json"
	switch v := in.(type) {
	case nil:
	case []byte:
		body, ctype = bytes.NewReader(v), "application/octet-stream"
	case io.Reader:
		body, ctype = v, "application/octet-stream"
	default:
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("node %s: %w", c.Base, err)
	}
	defer resp.Body.Close()
	if w := resp.Header.Get("Warning"); w != "" && c.OnWarning != nil {
		c.OnWarning(wire.WarningText(w))
	}
	if resp.StatusCode/100 != 2 {
		ae := &wire.Error{Status: resp.StatusCode}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(b, ae) != nil || ae.Message == "" {
			ae.Message = fmt.Sprintf("%s %s: %s", method, path, strings.TrimSpace(string(b)))
		}
		return ae
	}
	switch o := out.(type) {
	case nil:
		_, err = io.Copy(io.Discard, resp.Body)
	case *[]byte:
		*o, err = io.ReadAll(resp.Body)
	case io.Writer:
		_, err = io.Copy(o, resp.Body)
	default:
		err = json.NewDecoder(resp.Body).Decode(out)
	}
	if err != nil {
		return fmt.Errorf("read answer of %s %s: %w", method, path, err)
	}
	return nil
}

// Stream opens a long-lived GET (a watch or subscription); the caller reads and closes
// the body.
func (c *Client) Stream(ctx context.Context, path string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", c.Base, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		ae := &wire.Error{Status: resp.StatusCode}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(b, ae) != nil || ae.Message == "" {
			ae.Message = strings.TrimSpace(string(b))
		}
		return nil, ae
	}
	return resp.Body, nil
}

// Node returns a client for the cluster node called name (case-insensitive), found through
// this node's GET /v1/nodes.
func (c *Client) Node(ctx context.Context, name string) (*Client, error) {
	var nodes []wire.NodeInfo
	if err := c.Do(ctx, http.MethodGet, "/v1/nodes", nil, &nodes); err != nil {
		return nil, fmt.Errorf("find node %s: %w", name, err)
	}
	for _, n := range nodes {
		if strings.EqualFold(n.Name, name) {
			if n.API == "" {
				return nil, fmt.Errorf("node %s has no API address", name)
			}
			// The token goes to another node over TLS only (verified as the client is).
			if !strings.HasPrefix(n.API, "https://") {
				return nil, fmt.Errorf("node %s: its API address %s is not https: the token is not sent there", name, n.API)
			}
			return c.WithBase(n.API), nil
		}
	}
	return nil, wire.NotFound(5042, "The cluster node %s was not found.", name) // ERROR_CLUSTER_NODE_NOT_FOUND
}

// Wait polls the node until it answers or ctx ends.
func (c *Client) Wait(ctx context.Context) error {
	for {
		err := c.Do(ctx, http.MethodGet, "/v1/health", nil, nil)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("node %s did not answer: %w", c.Base, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

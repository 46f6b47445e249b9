package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"wolfpack/internal/agent"
	"wolfpack/internal/api/client"
	"wolfpack/internal/api/wire"
	"wolfpack/internal/clusterdb"
	"wolfpack/internal/pki"
)

// joinService answers joining nodes (POST /v1/cluster/join) and rotates the join token
// (POST /v1/cluster/rotatetoken) on a node with an embedded etcd member.
type joinService struct {
	n        *Node
	agent    *agent.Agent
	db       *clusterdb.DB
	external bool // the cluster is on an external etcd: no joins, no join token
}

// errExternal answers the join routes of a node on an external etcd.
var errExternal = wire.BadRequest("this cluster uses an external etcd: a node joins it with --etcd-endpoints and the etcd credentials, and there is no join token")

// Join checks the join secret against the hash in etcd (in constant time), issues the
// joining node's certificate from its request, adds it as an etcd learner and gives it
// the cluster CA. It gives no API token: the joining node makes its own. The secret is checked first: a caller without it
// learns nothing and changes nothing.
func (j *joinService) Join(ctx context.Context, req wire.ClusterJoinRequest) (wire.ClusterJoinAnswer, error) {
	var ans wire.ClusterJoinAnswer
	if j.external {
		return ans, errExternal
	}
	if err := j.db.CheckJoinSecret(ctx, req.Secret); err != nil {
		if errors.Is(err, clusterdb.ErrJoinToken) {
			j.n.Log.Warn("join refused: wrong join token", "node", req.Name)
			return ans, &wire.Error{Status: http.StatusUnauthorized, Code: 5, Message: "wrong join token"}
		}
		return ans, err
	}
	if csrName(req.CSR) != req.Name {
		return ans, wire.BadRequest("the certificate request is not for node %q", req.Name)
	}
	cert, err := j.n.ca.SignCSR([]byte(req.CSR), time.Now())
	if err != nil {
		return ans, wire.BadRequest("%v", err)
	}
	caKey, err := j.n.ca.KeyPEM()
	if err != nil {
		return ans, err
	}
	ans, err = j.agent.Join(ctx, req)
	if err != nil {
		return ans, err
	}
	ans.NodeCert, ans.CACert, ans.CAKey = string(cert), string(j.n.ca.CertPEM), string(caKey)
	return ans, nil
}

// csrName is the common name of a PEM certificate request ("" when it has none).
func csrName(csrPEM string) string {
	c, err := pki.ParseCSR([]byte(csrPEM))
	if err != nil {
		return ""
	}
	return c.Subject.CommonName
}

// RotateToken makes a new join secret, stores its hash in etcd (from then on only the new
// token admits nodes, on every node) and writes the new token to this node's join-token
// file. Nodes already in the cluster hold certificates and need no token.
func (j *joinService) RotateToken(ctx context.Context) (wire.RotateTokenAnswer, error) {
	if j.external {
		return wire.RotateTokenAnswer{}, errExternal
	}
	tok, err := clusterdb.NewJoinToken(j.n.ca.Hash())
	if err != nil {
		return wire.RotateTokenAnswer{}, err
	}
	if err := j.db.SetJoinSecret(ctx, tok.Secret); err != nil {
		return wire.RotateTokenAnswer{}, err
	}
	if err := clusterdb.WriteJoinToken(j.n.Cfg.DataDir, tok); err != nil {
		return wire.RotateTokenAnswer{}, fmt.Errorf("the join token was rotated but not written (rotate again): %w", err)
	}
	file := filepath.Join(j.n.Cfg.DataDir, clusterdb.JoinTokenFile)
	j.n.Log.Info("join token rotated", "file", file)
	return wire.RotateTokenAnswer{File: file}, nil
}

// initJoinSecret stores the hash of this node's join secret in etcd the first time (the
// first node of a new cluster). A join-token file whose secret is no longer the cluster's
// (rotated on another node) is removed, so that no stale token is left to hand out.
func (n *Node) initJoinSecret(ctx context.Context, db *clusterdb.DB) error {
	path := filepath.Join(n.Cfg.DataDir, clusterdb.JoinTokenFile)
	tok, err := clusterdb.ReadJoinToken(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	current, err := db.InitJoinSecret(ctx, tok.Secret)
	if err != nil {
		return err
	}
	if !current || tok.CAHash != n.ca.Hash() {
		n.removeStaleJoinToken(path)
	}
	return nil
}

// watchJoinSecret removes this node's join-token file when the token is rotated on
// another node.
func (n *Node) watchJoinSecret(ctx context.Context, db *clusterdb.DB) {
	path := filepath.Join(n.Cfg.DataDir, clusterdb.JoinTokenFile)
	for range db.Changes(ctx, clusterdb.JoinSecretKey, false) {
		tok, err := clusterdb.ReadJoinToken(path)
		if err != nil {
			continue
		}
		if err := db.CheckJoinSecret(ctx, tok.Secret); errors.Is(err, clusterdb.ErrJoinToken) {
			n.removeStaleJoinToken(path)
		}
	}
}

func (n *Node) removeStaleJoinToken(path string) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		n.Log.Warn("cannot remove a stale join token", "file", path, "err", err)
		return
	}
	n.Log.Info("join token rotated on another node: stale copy removed", "file", path)
}

// rotateToken is `wolfpackd --rotate-token`: it asks the running node of the data
// directory to rotate the join token, and says where the new one is.
func rotateToken(ctx context.Context, cfg *Config) error {
	c, err := client.FromDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	var ans wire.RotateTokenAnswer
	if err := c.Do(ctx, http.MethodPost, "/v1/cluster/rotatetoken", nil, &ans); err != nil {
		return fmt.Errorf("rotate the join token: %w", err)
	}
	fmt.Printf("New join token written to %s.\nThe old token no longer admits nodes; the nodes already in the cluster are not affected.\n", ans.File)
	return nil
}

package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"wolfpack/internal/pki"
)

// The join routes (wired by internal/daemon/join.go):
//
//	POST /v1/cluster/join         ClusterJoinRequest → ClusterJoinAnswer
//	POST /v1/cluster/rotatetoken  → RotateTokenAnswer
//
// The join route is the one route without a bearer token: the joining node has none yet.
// It proves that it holds the join token by the secret in its request, which it sends
// only once the TLS handshake has shown the CA that the token pins (JoinCluster).

// ClusterJoinRequest is what a joining node sends.
type ClusterJoinRequest struct {
	Name    string `json:"name"`
	PeerURL string `json:"peerURL"`
	Witness bool   `json:"witness,omitempty"`
	// Secret is the join token's secret, checked against the hash in etcd.
	Secret string `json:"secret"`
	// CSR is a PEM certificate request for the joining node's own key: the node's
	// certificate is issued from it, and its key never leaves it.
	CSR string `json:"csr"`
	// SchemaMin and SchemaMax: the cluster database schema versions the joining node's
	// build runs; a join outside the cluster's version is refused (code 5075).
	SchemaMin int `json:"schemaMin,omitempty"`
	SchemaMax int `json:"schemaMax,omitempty"`
}

// ClusterJoinAnswer tells the joining node how to start its etcd member, and gives it its
// certificate, the cluster CA (with its key: every etcd member can admit new nodes) and
// nothing else: no API token (each node makes its own).
type ClusterJoinAnswer struct {
	// Role is "Voter" (start an etcd member: MemberID, InitialCluster) or "NonVoter"
	// (no member: a client of Endpoints, the voters' client URLs).
	Role           string   `json:"role"`
	MemberID       uint64   `json:"memberID"`
	InitialCluster string   `json:"initialCluster"`
	Endpoints      []string `json:"endpoints"`
	NodeCert       string   `json:"nodeCert"`
	CACert         string   `json:"caCert"`
	CAKey          string   `json:"caKey"`
}

// RotateTokenAnswer names the file where the node wrote the new join token (the token
// itself never travels in an answer).
type RotateTokenAnswer struct {
	File string `json:"file"`
}

// JoinService is what the join routes call (internal/daemon).
type JoinService interface {
	Join(ctx context.Context, req ClusterJoinRequest) (ClusterJoinAnswer, error)
	RotateToken(ctx context.Context) (RotateTokenAnswer, error)
}

// maxJoinBody bounds the body of the unauthenticated join route.
const maxJoinBody = 64 << 10

// RegisterJoin registers the join routes on s.
func RegisterJoin(s *Server, j JoinService) {
	s.HandleUnauthenticated("POST /v1/cluster/join", func(w http.ResponseWriter, r *http.Request) {
		var req ClusterJoinRequest
		if err := ReadJSON(r, &req); err != nil {
			WriteError(w, err)
			return
		}
		ans, err := j.Join(r.Context(), req)
		if err != nil {
			WriteError(w, err)
			return
		}
		WriteJSON(w, http.StatusOK, ans)
	}, WithBodyLimit(maxJoinBody))
	s.Handle("POST /v1/cluster/rotatetoken", func(w http.ResponseWriter, r *http.Request) {
		ans, err := j.RotateToken(r.Context())
		if err != nil {
			WriteError(w, err)
			return
		}
		WriteJSON(w, http.StatusOK, ans)
	})
}

// JoinCluster sends req to the node at base (https://HOST:PORT) over a TLS connection
// pinned to the CA whose hash is caHash: when the server cannot show that CA, the
// handshake fails and nothing, the secret included, is sent.
func JoinCluster(ctx context.Context, base, caHash string, req ClusterJoinRequest) (ClusterJoinAnswer, error) {
	var ans ClusterJoinAnswer
	if !strings.HasPrefix(base, "https://") {
		return ans, fmt.Errorf("join %s: a join goes over https, where the token's CA hash can be checked", base)
	}
	c := NewClient(base, "", pki.PinnedTLS(caHash))
	err := c.Do(ctx, http.MethodPost, "/v1/cluster/join", req, &ans)
	return ans, err
}

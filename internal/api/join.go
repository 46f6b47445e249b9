package api

import (
	"context"
	"net/http"

	"wolfpack/internal/api/wire"
)

// The join routes (wired by internal/daemon/join.go):
//
//	POST /v1/cluster/join         ClusterJoinRequest → ClusterJoinAnswer
//	POST /v1/cluster/rotatetoken  → RotateTokenAnswer
//
// The join route is the one route without a bearer token: the joining node has none yet.
// It proves that it holds the join token by the secret in its request, which it sends
// only once the TLS handshake has shown the CA that the token pins (JoinCluster).

// JoinService is what the join routes call (internal/daemon).
type JoinService interface {
	Join(ctx context.Context, req wire.ClusterJoinRequest) (wire.ClusterJoinAnswer, error)
	RotateToken(ctx context.Context) (wire.RotateTokenAnswer, error)
}

// maxJoinBody bounds the body of the unauthenticated join route.
const maxJoinBody = 64 << 10

// RegisterJoin registers the join routes on s.
func RegisterJoin(s *Server, j JoinService) {
	s.HandleUnauthenticated("POST /v1/cluster/join", func(w http.ResponseWriter, r *http.Request) {
		var req wire.ClusterJoinRequest
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

package api

import (
	"context"
	"errors"
	"net/http"
	"wolfpack/internal/api/wire"
)

// Access levels and the routes that manage API tokens, as WSFC's Grant-ClusterAccess,
// Remove-ClusterAccess and Get-ClusterAccess (`cluster /grant`, `/revoke`, `/listaccess`):
//
//	GET    /v1/access          []AccessToken (never a secret)
//	POST   /v1/access          AccessGrantRequest → AccessGrant (201; the secret, once)
//	DELETE /v1/access/{name}   204; 1317 when there is no such token
//
// A ReadOnly token may call every GET route and no other: the method decides (Server).

// Caller is who sent a request: its token's name and level, and whether the token is a
// node's own (the local node's, or node:<NAME> of another node).
type Caller struct {
	Name  string
	Level wire.Level
	Node  bool
}

type callerKey struct{}

func withCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller of the request whose context is ctx.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// ErrUnknownToken is what an Authenticator returns for a token it does not know (never
// granted, or revoked): the request gets 401.
var ErrUnknownToken = errors.New("api: unknown token")

// Authenticator tells who holds a bearer token. Errors other than ErrUnknownToken mean
// it cannot tell now (503).
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (Caller, error)
}

// AccessService keeps the cluster's tokens (the daemon's, on internal/clusterdb).
type AccessService interface {
	List(ctx context.Context) ([]wire.AccessToken, error)
	Grant(ctx context.Context, name string, level wire.Level) (wire.AccessGrant, error)
	Revoke(ctx context.Context, name string) error
}

// RegisterAccess registers the token routes on s.
func RegisterAccess(s *Server, a AccessService) {
	s.Handle("GET /v1/access", func(w http.ResponseWriter, r *http.Request) {
		list, err := a.List(r.Context())
		if err != nil {
			WriteError(w, err)
			return
		}
		if list == nil {
			list = []wire.AccessToken{}
		}
		WriteJSON(w, http.StatusOK, list)
	})
	s.Handle("POST /v1/access", func(w http.ResponseWriter, r *http.Request) {
		var req wire.AccessGrantRequest
		if err := ReadJSON(r, &req); err != nil {
			WriteError(w, err)
			return
		}
		if req.Level == 0 {
			WriteError(w, wire.BadRequest("a grant needs a level: ReadOnly or Full"))
			return
		}
		g, err := a.Grant(r.Context(), req.Name, req.Level)
		if err != nil {
			WriteError(w, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		WriteJSON(w, http.StatusCreated, g)
	})
	s.Handle("DELETE /v1/access/{name}", func(w http.ResponseWriter, r *http.Request) {
		if err := a.Revoke(r.Context(), r.PathValue("name")); err != nil {
			WriteError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

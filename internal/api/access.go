package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Access levels and the routes that manage API tokens, as WSFC's Grant-ClusterAccess,
// Remove-ClusterAccess and Get-ClusterAccess (`cluster /grant`, `/revoke`, `/listaccess`):
//
//	GET    /v1/access          []AccessToken (never a secret)
//	POST   /v1/access          AccessGrantRequest → AccessGrant (201; the secret, once)
//	DELETE /v1/access/{name}   204; 1317 when there is no such token
//
// A ReadOnly token may call every GET route and no other: the method decides (Server).

// Level is a token's access level.
type Level int

const (
	LevelReadOnly Level = iota + 1 // may query everything and change nothing
	LevelFull                      // may do everything
)

func (l Level) String() string {
	switch l {
	case LevelReadOnly:
		return "ReadOnly"
	case LevelFull:
		return "Full"
	}
	return "None"
}

// ParseLevel reads "ReadOnly" or "Full" (any case; "Read" is ReadOnly, as
// Grant-ClusterAccess's -ReadOnly switch).
func ParseLevel(s string) (Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "readonly", "read-only", "read":
		return LevelReadOnly, nil
	case "full":
		return LevelFull, nil
	}
	return 0, BadRequest("access level %q: use ReadOnly or Full", Clip(s))
}

// MarshalText writes the level's name.
func (l Level) MarshalText() ([]byte, error) {
	if l != LevelReadOnly && l != LevelFull {
		return nil, fmt.Errorf("api: no access level %d", int(l))
	}
	return []byte(l.String()), nil
}

// UnmarshalText reads a level's name.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// Caller is who sent a request: its token's name and level, and whether the token is a
// node's own (the local node's, or node:<NAME> of another node).
type Caller struct {
	Name  string
	Level Level
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

// AccessToken is a token as /listaccess shows it.
type AccessToken struct {
	Name     string    `json:"name"`
	Level    Level     `json:"level"`
	Created  time.Time `json:"created"`
	LastUsed time.Time `json:"lastUsed,omitzero"` // to about a minute; zero: never
	Node     bool      `json:"node,omitempty"`    // a node's own token
}

// AccessGrantRequest is the body of POST /v1/access.
type AccessGrantRequest struct {
	Name  string `json:"name"`
	Level Level  `json:"level"`
}

// AccessGrant is a new token with its secret, which is shown this once and never stored.
type AccessGrant struct {
	AccessToken
	Token string `json:"token"`
}

// AccessService keeps the cluster's tokens (the daemon's, on internal/clusterdb).
type AccessService interface {
	List(ctx context.Context) ([]AccessToken, error)
	Grant(ctx context.Context, name string, level Level) (AccessGrant, error)
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
			list = []AccessToken{}
		}
		WriteJSON(w, http.StatusOK, list)
	})
	s.Handle("POST /v1/access", func(w http.ResponseWriter, r *http.Request) {
		var req AccessGrantRequest
		if err := ReadJSON(r, &req); err != nil {
			WriteError(w, err)
			return
		}
		if req.Level == 0 {
			WriteError(w, BadRequest("a grant needs a level: ReadOnly or Full"))
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

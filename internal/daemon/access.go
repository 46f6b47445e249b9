package daemon

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"wolfpack/internal/api"
	"wolfpack/internal/api/wire"
	"wolfpack/internal/clusterdb"
)

// startAccess registers this node's own API token in the cluster database (node:<NAME>,
// Full), starts the cache of the cluster's tokens that the API checks requests against,
// and registers the token routes (cluster /grant, /revoke, /listaccess).
func (n *Node) startAccess(ctx context.Context) error {
	db := n.DB
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := db.PutNodeToken(sctx, n.Cfg.Name, clusterdb.HashToken(n.API.NodeToken())); err != nil {
		return fmt.Errorf("register the node's API token: %w", err)
	}
	cache := clusterdb.NewTokenCache(db, n.Log.With("part", "access"))
	cctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	if err := cache.Start(cctx); err != nil {
		stop()
		return err
	}
	n.onStop(func() { stop(); <-cache.Done() })
	n.API.SetAuthenticator(tokenAuthenticator{cache})
	api.RegisterAccess(n.API, &accessService{db: db, cache: cache})
	return nil
}

// tokenAuthenticator checks bearer tokens against the cluster's tokens.
type tokenAuthenticator struct{ cache *clusterdb.TokenCache }

func (t tokenAuthenticator) Authenticate(_ context.Context, secret string) (api.Caller, error) {
	tok, err := t.cache.Lookup(secret)
	if errors.Is(err, clusterdb.ErrUnknownToken) {
		return api.Caller{}, api.ErrUnknownToken
	}
	if err != nil {
		return api.Caller{}, err
	}
	return api.Caller{Name: tok.Name, Level: apiLevel(tok.Level), Node: clusterdb.IsNodeTokenName(tok.Name)}, nil
}

func apiLevel(l clusterdb.AccessLevel) wire.Level {
	if l == clusterdb.AccessFull {
		return wire.LevelFull
	}
	return wire.LevelReadOnly
}

// Windows error numbers of the token routes.
const (
	errorObjectExists = 5010 // ERROR_OBJECT_ALREADY_EXISTS: "The object already exists."
	errorNoSuchUser   = 1317 // ERROR_NO_SUCH_USER: "The specified account does not exist."
)

// accessService is api.AccessService on the cluster database. A grant or a revoke
// returns once this node's cache has it: the token works (or stops working) on this node
// at once, on the others when their watch delivers it (milliseconds; at most
// clusterdb.TokenMaxStale).
type accessService struct {
	db    *clusterdb.DB
	cache *clusterdb.TokenCache
}

// caughtUp waits (a few seconds at most) for the node's cache to reach rev.
func (a *accessService) caughtUp(ctx context.Context, rev int64) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return a.cache.WaitRevision(ctx, rev)
}

func (a *accessService) List(ctx context.Context) ([]wire.AccessToken, error) {
	toks, err := a.db.Tokens(ctx)
	if err != nil {
		return nil, err
	}
	uses, err := a.db.TokenUses(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]wire.AccessToken, 0, len(toks))
	for _, t := range toks {
		out = append(out, wire.AccessToken{Name: t.Name, Level: apiLevel(t.Level), Created: t.Created,
			LastUsed: clusterdb.LastUse(uses, t.Name), Node: clusterdb.IsNodeTokenName(t.Name)})
	}
	// People's and programs' tokens first, then the nodes'.
	slices.SortFunc(out, func(x, y wire.AccessToken) int {
		if x.Node != y.Node {
			if x.Node {
				return 1
			}
			return -1
		}
		return cmp.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name))
	})
	return out, nil
}

func (a *accessService) Grant(ctx context.Context, name string, level wire.Level) (wire.AccessGrant, error) {
	if err := validTokenName(name); err != nil {
		return wire.AccessGrant{}, err
	}
	secret, err := clusterdb.NewTokenSecret()
	if err != nil {
		return wire.AccessGrant{}, err
	}
	t := clusterdb.Token{Name: name, Level: clusterdb.AccessReadOnly, Hash: clusterdb.HashToken(secret), Created: time.Now().UTC()}
	if level == wire.LevelFull {
		t.Level = clusterdb.AccessFull
	}
	rev, err := a.db.CreateToken(ctx, t)
	if errors.Is(err, clusterdb.ErrExists) {
		return wire.AccessGrant{}, &wire.Error{Status: http.StatusConflict, Code: errorObjectExists,
			Message: fmt.Sprintf("The object already exists. (a token named '%s'; revoke it first to grant it anew)", name)}
	}
	if err == nil {
		err = a.caughtUp(ctx, rev)
	}
	if err != nil {
		return wire.AccessGrant{}, err
	}
	return wire.AccessGrant{AccessToken: wire.AccessToken{Name: t.Name, Level: level, Created: t.Created}, Token: secret}, nil
}

func (a *accessService) Revoke(ctx context.Context, name string) error {
	if clusterdb.IsNodeTokenName(name) {
		return wire.BadRequest("'%s' is a node's own token: it goes when the node is evicted; to replace it, delete the token file in the node's data directory and restart the node", wire.Clip(name))
	}
	rev, err := a.db.DeleteToken(ctx, name)
	if errors.Is(err, clusterdb.ErrNotFound) {
		return &wire.Error{Status: http.StatusNotFound, Code: errorNoSuchUser,
			Message: fmt.Sprintf("The specified account does not exist. (no token named '%s')", wire.Clip(name))}
	}
	if err != nil {
		return err
	}
	return a.caughtUp(ctx, rev)
}

// validTokenName accepts 1 to 64 letters, digits and . _ - @ \ (a user name such as
// DOMAIN\user or a program's name); no ':', so node:… stays the nodes'.
func validTokenName(name string) error {
	bad := name == "" || len(name) > 64
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-@\\", r)) {
			bad = true
		}
	}
	if bad {
		return wire.BadRequest("token name '%s': use 1 to 64 letters, digits and . _ - @ \\", wire.Clip(name))
	}
	return nil
}

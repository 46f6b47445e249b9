package clusterdb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// API access tokens, as WSFC's Grant-ClusterAccess: each has a name, a level (Full or
// ReadOnly) and the SHA-256 of its secret (tokens/<name>). The secret itself is never
// stored: Grant hands it out once.
//
// Why a plain SHA-256 and not a password hash (bcrypt, argon2): every secret is 256 bits
// from crypto/rand, made here, never chosen by a person. Guessing one from its hash is as
// hopeless as guessing it outright, whatever the hash costs, so a slow, salted hash would
// buy nothing and would cost every API request its time. A salt guards against
// precomputed tables of likely passwords; there are none for random 256-bit strings.
//
// Each node has its own token (node:<NAME>, Full): the one its CLIs read from the node's
// data directory, and the one it sends when it forwards a request to another node. It is
// registered at every start (PutNodeToken) and removed with the node record when the node
// is evicted (DeleteNode).

// Key prefixes of the tokens and of their last use.
const (
	TokensPrefix   = Prefix + "tokens/"
	TokenUsePrefix = Prefix + "tokenuse/"
)

// TokenKey and TokenUseKey return a token's keys.
func TokenKey(name string) string    { return TokensPrefix + keyName(name) }
func TokenUseKey(name string) string { return TokenUsePrefix + keyName(name) }

// AccessLevel is a token's level, as WSFC's cluster access rights.
type AccessLevel string

const (
	AccessReadOnly AccessLevel = "ReadOnly" // may query everything and change nothing
	AccessFull     AccessLevel = "Full"     // may do everything
)

// Token is a token record (tokens/<name>).
type Token struct {
	Name    string      `json:"name"`
	Level   AccessLevel `json:"level"`
	Hash    string      `json:"hash"` // hex SHA-256 of the secret (HashToken)
	Created time.Time   `json:"created"`
}

// nodeTokenPrefix starts the name of a node's own token.
const nodeTokenPrefix = "node:"

// NodeTokenName is the name of node's own token.
func NodeTokenName(node string) string { return nodeTokenPrefix + node }

// IsNodeTokenName reports whether name is reserved for a node's own token.
func IsNodeTokenName(name string) bool {
	return len(name) >= len(nodeTokenPrefix) && strings.EqualFold(name[:len(nodeTokenPrefix)], nodeTokenPrefix)
}

// tokenSecretPrefix marks Wolfpack API tokens, so that secret scanners can tell them.
const tokenSecretPrefix = "wpt1_"

// NewTokenSecret returns a fresh secret: 256 random bits.
func NewTokenSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("clusterdb: token secret: %w", err)
	}
	return tokenSecretPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken returns what is stored of a secret: its SHA-256, in hex.
func HashToken(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// Tokens lists the token records.
func (db *DB) Tokens(ctx context.Context) ([]Token, error) {
	return list[Token](ctx, db, TokensPrefix)
}

// CreateToken stores a new token; ErrExists when one of that name exists. It returns
// the revision of the write (for TokenCache.WaitRevision).
func (db *DB) CreateToken(ctx context.Context, t Token) (int64, error) {
	rev, err := db.put(ctx, TokenKey(t.Name), t, 0)
	if err != nil {
		return 0, objErr("token", t.Name, err)
	}
	return rev, nil
}

// PutNodeToken registers node's own token (Full) with the hash of its secret, replacing
// the one registered before (the node's token file was made anew). An unchanged hash
// keeps the record as it is.
func (db *DB) PutNodeToken(ctx context.Context, node, hash string) error {
	name := NodeTokenName(node)
	var old Token
	_, err := db.get(ctx, TokenKey(name), &old)
	if err == nil && old.Hash == hash && old.Level == AccessFull {
		return nil
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	t := Token{Name: name, Level: AccessFull, Hash: hash, Created: time.Now().UTC()}
	if _, err := db.put(ctx, TokenKey(name), t, -1, clientv3.OpDelete(TokenUseKey(name))); err != nil {
		return objErr("token", name, err)
	}
	return nil
}

// DeleteToken removes a token and its last use; ErrNotFound when there is none. It
// returns the revision of the delete (for TokenCache.WaitRevision).
func (db *DB) DeleteToken(ctx context.Context, name string) (int64, error) {
	resp, err := db.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(TokenKey(name)), ">", 0)).Then(
		clientv3.OpDelete(TokenKey(name)),
		clientv3.OpDelete(TokenUseKey(name)),
	).Commit()
	if err != nil {
		return 0, fmt.Errorf("clusterdb: delete token %s: %w", name, err)
	}
	if !resp.Succeeded {
		return 0, objErr("token", name, ErrNotFound)
	}
	return resp.Header.Revision, nil
}

// TokenUses returns when each token was last used (to about a minute; see TokenCache),
// by token key name.
func (db *DB) TokenUses(ctx context.Context) (map[string]time.Time, error) {
	resp, err := db.cli.Get(ctx, TokenUsePrefix, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("clusterdb: list %s: %w", TokenUsePrefix, err)
	}
	out := make(map[string]time.Time, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		var t time.Time
		if err := json.Unmarshal(kv.Value, &t); err != nil {
			return nil, fmt.Errorf("clusterdb: decode %s: %w", kv.Key, err)
		}
		out[strings.TrimPrefix(string(kv.Key), TokenUsePrefix)] = t
	}
	return out, nil
}

// LastUse returns the use time of name in uses (from TokenUses).
func LastUse(uses map[string]time.Time, name string) time.Time { return uses[keyName(name)] }

// touchTokens records uses, each only while its token exists (a use reported after a
// revoke must not outlive it).
func (db *DB) touchTokens(ctx context.Context, uses map[string]time.Time) error {
	for name, t := range uses {
		b, err := json.Marshal(t.UTC())
		if err != nil {
			return err
		}
		_, err = db.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(TokenKey(name)), ">", 0)).Then(
			clientv3.OpPut(TokenUseKey(name), string(b))).Commit()
		if err != nil {
			return fmt.Errorf("clusterdb: token use %s: %w", name, err)
		}
	}
	return nil
}

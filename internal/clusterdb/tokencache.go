package clusterdb

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Errors of TokenCache.Lookup.
var (
	// ErrUnknownToken: no token has this secret (never granted, or revoked).
	ErrUnknownToken = errors.New("clusterdb: unknown or revoked token")
	// ErrTokensStale: the cache has not heard from etcd for longer than MaxStale, so
	// it cannot tell whether a token was revoked meanwhile.
	ErrTokensStale = errors.New("clusterdb: the token list is out of date (cluster database unreachable)")
)

// Timing of TokenCache.
const (
	// TokenResync is how often the cache reads the whole token list again (and
	// restarts its watch), in case a watch event was lost.
	TokenResync = 5 * time.Second
	// TokenMaxStale is how long the cache answers after its last contact with etcd.
	TokenMaxStale = 15 * time.Second
	// TokenUseFlush is how often the last use of tokens is written to etcd.
	TokenUseFlush = time.Minute
)

// TokenCache answers which token a secret is, from memory, so that checking a request
// costs no etcd round trip. It follows tokens/ by an etcd watch (a revoke takes effect on
// every node as soon as the watch event arrives, typically within milliseconds), re-reads
// the list every TokenResync, and refuses to answer (ErrTokensStale) once it has not
// heard from etcd for TokenMaxStale: a revoke is never ignored for longer than that.
//
// Invariants: entries holds exactly the tokens of one etcd revision plus the watch
// events after it; synced is the time of the last successful read or watch event.
type TokenCache struct {
	db  *DB
	log *slog.Logger
	now func() time.Time

	mu      sync.RWMutex
	entries []tokenEntry
	rev     int64 // the etcd revision entries reflect
	synced  time.Time
	used    map[string]time.Time // key name → last use not yet written to etcd

	done chan struct{} // closed when the background work has stopped
}

type tokenEntry struct {
	tok  Token
	hash [sha256.Size]byte
}

// NewTokenCache returns a cache of db's tokens; Start fills it.
func NewTokenCache(db *DB, log *slog.Logger) *TokenCache {
	if log == nil {
		log = slog.Default()
	}
	return &TokenCache{db: db, log: log, now: time.Now, used: map[string]time.Time{}, done: make(chan struct{})}
}

// Start reads the token list, then follows it in the background until ctx ends (Done
// is closed then).
func (c *TokenCache) Start(ctx context.Context) error {
	rev, err := c.load(ctx)
	if err != nil {
		return err
	}
	go func() {
		defer close(c.done)
		c.run(ctx, rev)
	}()
	return nil
}

// Done is closed when the cache has stopped following etcd, after the context given to
// Start ended and the last uses were written.
func (c *TokenCache) Done() <-chan struct{} { return c.done }

// Lookup returns the token whose secret is secret. Every stored hash is compared, in
// constant time, so the time taken says nothing about which (or whether one) matched.
func (c *TokenCache) Lookup(secret string) (Token, error) {
	h := sha256.Sum256([]byte(secret))
	c.mu.RLock()
	stale := c.now().Sub(c.synced) > TokenMaxStale
	var found Token
	match := 0
	for i := range c.entries {
		if subtle.ConstantTimeCompare(h[:], c.entries[i].hash[:]) == 1 {
			found, match = c.entries[i].tok, 1
		}
	}
	c.mu.RUnlock()
	if stale {
		return Token{}, ErrTokensStale
	}
	if match == 0 {
		return Token{}, ErrUnknownToken
	}
	c.mu.Lock()
	c.used[keyName(found.Name)] = c.now()
	c.mu.Unlock()
	return found, nil
}

// WaitRevision waits until the cache reflects etcd revision rev or later (the revision
// of a grant or a revoke), so that the node that made the change answers by it at once.
func (c *TokenCache) WaitRevision(ctx context.Context, rev int64) error {
	for {
		c.mu.RLock()
		have := c.rev
		c.mu.RUnlock()
		if have >= rev {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("clusterdb: token list not at revision %d (at %d): %w", rev, have, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// load replaces the entries with the stored tokens and returns the revision read.
func (c *TokenCache) load(ctx context.Context) (int64, error) {
	resp, err := c.db.cli.Get(ctx, TokensPrefix, clientv3.WithPrefix())
	if err != nil {
		return 0, fmt.Errorf("clusterdb: read tokens: %w", err)
	}
	entries := make([]tokenEntry, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		e, err := decodeTokenEntry(kv.Value)
		if err != nil {
			c.log.Warn("ignoring a damaged token record", "key", string(kv.Key), "err", err)
			continue
		}
		entries = append(entries, e)
	}
	c.mu.Lock()
	c.entries, c.synced = entries, c.now()
	c.rev = max(c.rev, resp.Header.Revision)
	c.mu.Unlock()
	return resp.Header.Revision, nil
}

func decodeTokenEntry(b []byte) (tokenEntry, error) {
	var e tokenEntry
	if err := json.Unmarshal(b, &e.tok); err != nil {
		return e, err
	}
	h, err := hex.DecodeString(e.tok.Hash)
	if err != nil || len(h) != sha256.Size {
		return e, fmt.Errorf("hash is not a hex SHA-256")
	}
	copy(e.hash[:], h)
	return e, nil
}

// apply brings the entries up to date with one watch response (of revision rev).
func (c *TokenCache) apply(rev int64, events []*clientv3.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rev = max(c.rev, rev)
	for _, ev := range events {
		key := string(ev.Kv.Key)
		kept := c.entries[:0]
		for _, e := range c.entries {
			if TokenKey(e.tok.Name) != key {
				kept = append(kept, e)
			}
		}
		c.entries = kept
		if ev.Type == clientv3.EventTypePut {
			e, err := decodeTokenEntry(ev.Kv.Value)
			if err != nil {
				c.log.Warn("ignoring a damaged token record", "key", key, "err", err)
				continue
			}
			c.entries = append(c.entries, e)
		}
	}
	c.synced = c.now()
}

// run follows tokens/ from rev+1 until ctx ends: a watch, restarted with a fresh read
// every TokenResync or when it breaks; and every TokenUseFlush, the last uses.
func (c *TokenCache) run(ctx context.Context, rev int64) {
	flush := time.NewTicker(TokenUseFlush)
	defer flush.Stop()
	resync := time.NewTicker(TokenResync)
	defer resync.Stop()
	for {
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		var wch clientv3.WatchChan
		if rev > 0 {
			wch = c.db.cli.Watch(wctx, TokensPrefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
		}
	follow:
		for {
			select {
			case <-ctx.Done():
				cancel()
				c.flushUses(context.WithoutCancel(ctx))
				return
			case wr, ok := <-wch:
				if !ok || wr.Err() != nil {
					break follow
				}
				c.apply(wr.Header.Revision, wr.Events)
			case <-resync.C:
				break follow
			case <-flush.C:
				c.flushUses(ctx)
			}
		}
		cancel()
		var err error
		if rev, err = c.load(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("cannot read the API tokens; requests with tokens other than this node's own fail once the list is out of date",
				"max_stale", TokenMaxStale, "err", err)
			rev = 0 // no watch until a read succeeds; the resync ticker retries
		}
	}
}

// flushUses writes the uses recorded since the last flush.
func (c *TokenCache) flushUses(ctx context.Context) {
	c.mu.Lock()
	if len(c.used) == 0 {
		c.mu.Unlock()
		return
	}
	used := c.used
	c.used = map[string]time.Time{}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.db.touchTokens(ctx, used); err != nil {
		c.log.Debug("cannot record the last use of API tokens", "err", err)
	}
}

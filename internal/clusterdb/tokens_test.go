package clusterdb

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A granted token is found by its secret (never by its hash), a revoke takes effect in
// the cache through the watch, a node's token goes with its node record, and a cache that
// has not heard from etcd for TokenMaxStale refuses to answer.
func TestTokenCache(t *testing.T) {
	db, _ := startEmbeddedTestDB(t, filepath.Join(t.TempDir(), "etcd"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	secret, err := NewTokenSecret()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewTokenSecret()
	if secret == other || !strings.HasPrefix(secret, tokenSecretPrefix) || len(secret) != len(tokenSecretPrefix)+43 {
		t.Fatalf("secrets %q, %q: want two different wpt1_ + 43 base64url characters", secret, other)
	}
	if _, err := db.CreateToken(ctx, Token{Name: "Monitor", Level: AccessReadOnly, Hash: HashToken(secret), Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateToken(ctx, Token{Name: "monitor", Level: AccessFull, Hash: HashToken(other)}); !errors.Is(err, ErrExists) {
		t.Fatalf("second token of the same name (other case): %v, want ErrExists", err)
	}
	nodeSecret, _ := NewTokenSecret()
	if err := db.PutNodeToken(ctx, "N1", HashToken(nodeSecret)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RegisterNode(ctx, Node{Name: "N1"}); err != nil {
		t.Fatal(err)
	}

	c := NewTokenCache(db, nil)
	cctx, stop := context.WithCancel(ctx)
	defer stop()
	if err := c.Start(cctx); err != nil {
		t.Fatal(err)
	}
	tok, err := c.Lookup(secret)
	if err != nil || tok.Name != "Monitor" || tok.Level != AccessReadOnly {
		t.Fatalf("Lookup(secret) = %+v, %v; want Monitor ReadOnly", tok, err)
	}
	if _, err := c.Lookup(HashToken(secret)); !errors.Is(err, ErrUnknownToken) {
		t.Fatalf("Lookup(hash) = %v, want ErrUnknownToken: the stored hash is not a credential", err)
	}
	if tok, err := c.Lookup(nodeSecret); err != nil || tok.Name != "node:N1" || tok.Level != AccessFull {
		t.Fatalf("Lookup(node secret) = %+v, %v", tok, err)
	}

	// A token granted after the cache started is known through the watch.
	late, _ := NewTokenSecret()
	rev, err := db.CreateToken(ctx, Token{Name: "late", Level: AccessFull, Hash: HashToken(late)})
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := c.WaitRevision(wctx, rev); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Lookup(late); err != nil {
		t.Fatalf("Lookup of a token granted at revision %d once the cache is there: %v", rev, err)
	}

	// Revoke: unknown within well under TokenResync (the watch, not the resync).
	start := time.Now()
	if _, err := db.DeleteToken(ctx, "MONITOR"); err != nil {
		t.Fatal(err)
	}
	waitLookup(t, c, secret, ErrUnknownToken)
	if d := time.Since(start); d > TokenResync {
		t.Errorf("revoke took %v to reach the cache, want less than the resync period %v", d, TokenResync)
	}
	if _, err := db.DeleteToken(ctx, "monitor"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second revoke: %v, want ErrNotFound", err)
	}

	// Evicting N1 removes its token.
	if err := db.DeleteNode(ctx, "N1"); err != nil {
		t.Fatal(err)
	}
	waitLookup(t, c, nodeSecret, ErrUnknownToken)
	toks, err := db.Tokens(ctx)
	if err != nil || len(toks) != 1 || toks[0].Name != "late" {
		t.Errorf("tokens after the revoke and the eviction: %+v, %v; want only late", toks, err)
	}

	// Uses are written on flush, for existing tokens only.
	c.flushUses(ctx)
	uses, err := db.TokenUses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if LastUse(uses, "late").IsZero() || len(uses) != 1 {
		t.Errorf("uses after flush: %v; want late's only (monitor and node:N1 are gone)", uses)
	}

	// Out of touch with etcd for longer than TokenMaxStale: no answer.
	stop()
	<-c.Done()
	c.now = func() time.Time { return time.Now().Add(TokenMaxStale + time.Second) }
	if _, err := c.Lookup(late); !errors.Is(err, ErrTokensStale) {
		t.Errorf("Lookup on a stale cache: %v, want ErrTokensStale", err)
	}
}

func waitLookup(t *testing.T, c *TokenCache, secret string, want error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := c.Lookup(secret)
		if errors.Is(err, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Lookup: %v, want %v", err, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// BenchmarkTokenLookup is the cost a request pays to be told its token: one SHA-256 and a
// constant-time comparison with every stored hash.
func BenchmarkTokenLookup(b *testing.B) {
	for _, n := range []int{3, 100} {
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			c := NewTokenCache(nil, nil)
			var secret string
			for i := range n {
				s, _ := NewTokenSecret()
				e, err := decodeTokenEntry([]byte(fmt.Sprintf(`{"name":"t%d","level":"ReadOnly","hash":%q}`, i, HashToken(s))))
				if err != nil {
					b.Fatal(err)
				}
				c.entries = append(c.entries, e)
				secret = s
			}
			c.synced = time.Now().Add(time.Hour)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Lookup(secret); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package clusterdb

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// JoinTokenFile is the name of the join token's file in a node's data directory.
const JoinTokenFile = "join-token"

// joinTokenPrefix marks Wolfpack join tokens, as "K10" marks k3s's.
const joinTokenPrefix = "WPK1"

// NewJoinToken returns a fresh random join token.
func NewJoinToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return joinTokenPrefix + hex.EncodeToString(b), nil
}

// ValidJoinToken reports whether tok looks like a join token.
func ValidJoinToken(tok string) bool {
	rest, ok := strings.CutPrefix(tok, joinTokenPrefix)
	if !ok || len(rest) != 48 {
		return false
	}
	_, err := hex.DecodeString(rest)
	return err == nil
}

// APIToken derives the cluster's HTTP API bearer token from the join token. Every node
// of a cluster holds the join token, so every node serves and sends the same API token,
// and a joining node proves that it knows the join token by presenting the API token.
func APIToken(joinToken string) string {
	m := hmac.New(sha256.New, []byte(joinToken))
	m.Write([]byte("wolfpack api token v1"))
	return hex.EncodeToString(m.Sum(nil))[:48]
}

// LoadOrCreateJoinToken reads dir/join-token, creating it (mode 0600) the first time.
// created reports whether it was made now.
func LoadOrCreateJoinToken(dir string) (tok string, created bool, err error) {
	path := filepath.Join(dir, JoinTokenFile)
	b, err := os.ReadFile(path)
	if err == nil {
		tok = strings.TrimSpace(string(b))
		if !ValidJoinToken(tok) {
			return "", false, fmt.Errorf("clusterdb: %s: %w", path, ErrJoinToken)
		}
		return tok, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", false, fmt.Errorf("clusterdb: join token: %w", err)
	}
	if tok, err = NewJoinToken(); err != nil {
		return "", false, err
	}
	return tok, true, WriteJoinToken(dir, tok)
}

// WriteJoinToken writes tok to dir/join-token with mode 0600.
func WriteJoinToken(dir, tok string) error {
	return writeSecret(filepath.Join(dir, JoinTokenFile), tok)
}

// writeSecret writes a one-line secret file (mode 0600) through a rename.
func writeSecret(path, s string) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("clusterdb: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// WriteAPIToken writes the API token derived from joinToken to path (the daemon's token
// file) unless it already holds it.
func WriteAPIToken(path, joinToken string) error {
	want := APIToken(joinToken)
	if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) == want {
		return nil
	}
	return writeSecret(path, want)
}

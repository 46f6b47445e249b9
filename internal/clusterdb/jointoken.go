package clusterdb

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// JoinTokenFile is the name of the join token's file in a node's data directory: on the
// first node from bootstrap, and on the node where the token was last rotated.
const JoinTokenFile = "join-token"

// A join token is, as k3s's, "<prefix><CA hash>::<secret>": the hex SHA-256 of the
// cluster CA's certificate (pki.Hash), which the joining node checks in the TLS handshake
// before it sends anything, and a random secret, which the node it joins checks against
// the hash kept in etcd (JoinSecretKey).
const (
	joinTokenPrefix = "WPK2"
	joinTokenSep    = "::"
	secretBytes     = 32
)

// JoinToken is a parsed join token.
type JoinToken struct {
	CAHash string // 64 hex digits
	Secret string // 64 hex digits
}

// String is the token as the administrator handles it.
func (t JoinToken) String() string { return joinTokenPrefix + t.CAHash + joinTokenSep + t.Secret }

// NewJoinToken returns a token with a fresh random secret for the CA whose hash is caHash.
func NewJoinToken(caHash string) (JoinToken, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return JoinToken{}, fmt.Errorf("clusterdb: join token: %w", err)
	}
	return JoinToken{CAHash: caHash, Secret: hex.EncodeToString(b)}, nil
}

// ParseJoinToken reads a token; the error (wrapping ErrJoinToken) says what is wrong
// without repeating the input.
func ParseJoinToken(s string) (JoinToken, error) {
	s = strings.TrimSpace(s)
	rest, ok := strings.CutPrefix(s, joinTokenPrefix)
	if !ok {
		return JoinToken{}, fmt.Errorf("%w: not a Wolfpack join token (it starts with %s)", ErrJoinToken, joinTokenPrefix)
	}
	hash, secret, ok := strings.Cut(rest, joinTokenSep)
	if !ok || !isHex(hash, sha256.Size) || !isHex(secret, secretBytes) {
		return JoinToken{}, fmt.Errorf("%w: not a Wolfpack join token (%s<CA hash>%s<secret>, 64 hex digits each)",
			ErrJoinToken, joinTokenPrefix, joinTokenSep)
	}
	return JoinToken{CAHash: hash, Secret: secret}, nil
}

// SecretHash is what etcd keeps of a join secret.
func SecretHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// ReadJoinToken reads a join token from a file (--token-file, or a data directory's
// join-token).
func ReadJoinToken(path string) (JoinToken, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return JoinToken{}, fmt.Errorf("clusterdb: join token: %w", err)
	}
	t, err := ParseJoinToken(string(b))
	if err != nil {
		return JoinToken{}, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// WriteJoinToken writes t to dir/join-token with mode 0600.
func WriteJoinToken(dir string, t JoinToken) error {
	return writeSecret(filepath.Join(dir, JoinTokenFile), t.String())
}

func isHex(s string, n int) bool {
	if len(s) != 2*n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// writeSecret writes a one-line secret file (mode 0600) through a rename.
func writeSecret(path, s string) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("clusterdb: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.WriteString(s + "\n")
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("clusterdb: write %s: %w", path, err)
	}
	return nil
}

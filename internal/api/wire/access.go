package wire

import (
	"fmt"
	"strings"
	"time"
)

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

// Whoami is the answer of GET /v1/whoami: the caller's token name and level, and the
// node that answered (the web console shows actions to Full tokens only).
type Whoami struct {
	Name  string `json:"name"`
	Level Level  `json:"level"`
	Node  string `json:"node"`
}

package wire

import (
	"context"
	"strings"
	"sync"
)

// A part that cannot reach its source of truth in time (the cluster database without
// quorum) may answer a read from its own last view, and marks the answer stale: the
// route's response then carries a Warning header (RFC 9111's 110 "Response is Stale")
// with the reason, and the CLIs print it.

type staleKey struct{}

// StaleNote collects why an answer is stale.
type StaleNote struct {
	mu  sync.Mutex
	why string
}

// WithStaleNote returns a context in which MarkStale records its reason.
func WithStaleNote(ctx context.Context) (context.Context, *StaleNote) {
	n := &StaleNote{}
	return context.WithValue(ctx, staleKey{}, n), n
}

// MarkStale says that the answer of the request of ctx comes from a view that may be
// stale, and why ("quorum lost: 1 of 3 voters reachable").
func MarkStale(ctx context.Context, why string) {
	if n, ok := ctx.Value(staleKey{}).(*StaleNote); ok {
		n.mu.Lock()
		n.why = why
		n.mu.Unlock()
	}
}

// Header is the value of the Warning header for the answer, "" when it is not stale.
func (n *StaleNote) Header() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.why == "" {
		return ""
	}
	return `110 - "` + strings.ReplaceAll(n.why, `"`, `'`) + `"`
}

// WarningText returns the text of a Warning header value (`110 - "text"`), or the
// value itself when it has another form.
func WarningText(v string) string {
	if i := strings.IndexByte(v, '"'); i >= 0 && strings.HasSuffix(v, `"`) && len(v) > i+1 {
		return v[i+1 : len(v)-1]
	}
	return v
}

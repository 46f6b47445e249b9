package wevtutilcmd

import (
	"context"
	"net/http"
	"strings"

	"wolfpack/internal/api/client"
)

// Connect returns a client for the local node ($WOLFPACK_DATA), or for the cluster node
// called remote. The local node's own name (and "localhost", ".") need no cluster.
func Connect(ctx context.Context, remote string) (*client.Client, error) {
	c, err := client.FromEnv()
	if err != nil {
		return nil, err
	}
	if remote == "" || remote == "." || strings.EqualFold(remote, "localhost") {
		return c, nil
	}
	var health struct {
		Node string `json:"node"`
	}
	if err := c.Do(ctx, http.MethodGet, "/v1/health", nil, &health); err != nil {
		return nil, err
	}
	if strings.EqualFold(health.Node, remote) {
		return c, nil
	}
	return c.Node(ctx, remote)
}

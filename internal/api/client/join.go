package client

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"wolfpack/internal/api/wire"
	"wolfpack/internal/pki"
)

// JoinCluster sends req to the node at base (https://HOST:PORT) over a TLS connection
// pinned to the CA whose hash is caHash: when the server cannot show that CA, the
// handshake fails and nothing, the secret included, is sent.
func JoinCluster(ctx context.Context, base, caHash string, req wire.ClusterJoinRequest) (wire.ClusterJoinAnswer, error) {
	var ans wire.ClusterJoinAnswer
	if !strings.HasPrefix(base, "https://") {
		return ans, fmt.Errorf("join %s: a join goes over https, where the token's CA hash can be checked", base)
	}
	c := New(base, "", pki.PinnedTLS(caHash))
	err := c.Do(ctx, http.MethodPost, "/v1/cluster/join", req, &ans)
	return ans, err
}

// Package client is the client of Wolfpack's HTTP/JSON API (internal/api): what the CLIs
// (reg, cluster, wevtutil) and the tests use to reach a node, and how they find it from
// a data directory (DefaultDataDir, FromDataDir: the node's api.addr, its token and
// its cluster CA).
//
// The client trusts the data directory's cluster CA alone, for pki.ServerName. It sends
// the node's own token, or a named one from $WOLFPACK_API_TOKEN_FILE or
// $WOLFPACK_API_TOKEN. A non-2xx answer comes back as a *wire.Error. The join
// (JoinCluster) is the one call without a token: it goes over a connection pinned to the
// join token's CA, and carries the join token's secret.
//
// It imports the wire types (internal/api/wire), never the server, so that a CLI does
// not carry the daemon's code.
package client

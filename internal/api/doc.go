// Package api is Wolfpack's HTTP/JSON interface: the server that every node runs on its
// --api address. It is the outer layer of the daemon (doc/LAYERS.md): it calls the
// parts (internal/agent, internal/checkpoint, internal/registry, internal/eventlog)
// through the interfaces it states (ClusterService, CheckpointService, …), and no part
// imports it. The types the routes take and answer, and the error they send, are in
// internal/api/wire; the client that the CLIs use is internal/api/client.
//
// The server speaks TLS with the node's certificate from the cluster CA. A node that
// forwards a request to another trusts the cluster CA alone, for pki.ServerName
// (peer.go), as the client does.
//
// Every request but the join carries "Authorization: Bearer TOKEN". TOKEN is the node's
// own token (the token file, mode 0600, in its data directory: what root's CLIs send, and
// what a node sends when it forwards a request; Full) or one of the cluster's named
// tokens (`cluster /grant:NAME /level:ReadOnly|Full`, as WSFC's Grant-ClusterAccess),
// which the CLIs take from $WOLFPACK_API_TOKEN_FILE or $WOLFPACK_API_TOKEN. The join
// (join.go) carries the join token's secret instead, sent only over a connection pinned
// to the token's CA (Server.HandleUnauthenticated). A route's method decides the level it
// needs: GET and HEAD routes answer any token, the others need a Full one (403 "access
// denied: token 'X' has ReadOnly access; this request needs Full"). The server keeps a
// registry of its routes (Server.Routes, GET /v1/routes) and logs every request with the
// name of its token, its method, its route and its status.
//
// Requests are bounded: each route has a body limit (1 MiB unless it asks for more, as
// the hive uploads do), the bytes of the bodies in flight share one budget (64 MiB), and
// an error reply quotes at most 64 bytes of any input (Clip).
//
// Errors travel as JSON {"error": "...", "code": N}: code is the Windows error number
// where one fits (for example 2 for ERROR_FILE_NOT_FOUND), and the HTTP status says the
// class of failure.
//
// Each part of the daemon registers its routes in its own file of this package
// (eventlog.go, registry.go, cluster.go, join.go, access.go, …) through Server.Handle.
package api

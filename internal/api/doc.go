// Package api is Wolfpack's HTTP/JSON interface: the server that every node runs on its
// --api address, and the client that the CLIs (reg, cluster, wevtutil) and the other nodes
// use to reach it.
//
// The server speaks TLS with the node's certificate from the cluster CA. Every request
// carries "Authorization: Bearer TOKEN", where TOKEN is the content of the node's token
// file (mode 0600 in its data directory), except the join (join.go), which carries the join
// token's secret and is sent only over a connection pinned to the token's CA. The client
// trusts the data directory's cluster CA alone, for pki.ServerName, and so does a node
// that forwards a request to another (peer.go). Errors travel as JSON
// {"error": "...", "code": N}: code is the Windows error number where one fits (for
// example 2 for ERROR_FILE_NOT_FOUND), and the HTTP status says the class of failure.
//
// Each part of the daemon registers its routes in its own file of this package
// (eventlog.go, registry.go, cluster.go, …) through Server.Handle.
package api

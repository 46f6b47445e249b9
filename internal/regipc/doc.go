// Package regipc serves a node's registry on the unix socket reg.sock in its data
// directory (mode 0666), with the protocol of package wire (documented there).
//
// Each connection is one client. The server reads the peer's credentials (SO_PEERCRED:
// pid, uid and gid; SO_PEERGROUPS: the supplementary groups; the executable name from
// /proc/<pid>/comm) and opens one registry.Session for them, so every handle the client
// opens belongs to that process and `reg handles` can name it; when the connection ends
// — a clean close or a killed client — the session and all its handles are closed. The
// socket is open to every local user: the credentials are the client's identity for
// each key's security descriptor (the registry checks them on every open and call), so
// an ordinary user reads HKLM\SOFTWARE and gets ERROR_ACCESS_DENIED writing it, as on
// Windows.
//
// One goroutine per connection reads, runs and answers requests in order, reusing its
// frame buffers and writing through a bufio.Writer that is flushed only when no further
// request is already buffered, so that a pipelining client gets its replies in one write.
// Change notifications are forwarded by one goroutine per subscription as pushes on the
// same connection. A malformed frame gets an ERROR_INVALID_PARAMETER reply; nothing a
// client sends stops the server or affects another connection (FuzzServe).
//
// Server.Metrics exports the socket's counters to Prometheus (the daemon's /metrics):
// wolfpack_registry_socket_connections, _requests_total{op}, _failures_total{op} and
// _malformed_requests_total.
//
// Hive operations (hiveops.go): Save and Restore carry hive images; Save with
// wire.SaveTree streams the subtree for reg export (registry Session.Walk). Load with
// wire.LoadFromFile mounts the client's own hive file in place (LoadHiveFile), after
// checking with the client's uid and groups that it may read and write the file and
// replace it in its directory (fileaccess.go, TestLoadHiveFileAccess); Load of hive bytes
// (LoadHive) keeps a private copy in Server.LoadDir.
//
// The HTTP routes through which other nodes reach this registry (reg \\NODE\...) are in
// internal/api/registry.go; they share LoadHive, UnloadHive, SaveHive and RestoreHive.
package regipc

// Package daemon is wolfpackd, the node daemon: it parses the command line, prepares the
// data directory, and starts the node's parts in dependency order — the event log, the
// registry and its local socket, the cluster (etcd, the agent, the resource monitor,
// checkpoints) and the HTTP API — and stops them in reverse order on SIGINT or SIGTERM.
//
// Each part is started from its own file (eventlog.go, registry.go, cluster.go, api.go).
package daemon

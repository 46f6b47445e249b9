// Package daemon is wolfpackd, the node daemon: it parses the command line, prepares the
// data directory (its TLS files and API token: made for a new cluster, got by joining one
// with a join token, or taken from an external etcd; see prepareCluster), and starts the node's parts in dependency order — the event log, the
// registry and its local socket, the cluster (etcd, the agent, the resource monitor,
// checkpoints) and the HTTP API — and stops them in reverse order on SIGINT or SIGTERM.
//
// Each part is started from its own file (eventlog.go, registry.go, cluster.go, api.go);
// join.go answers joining nodes and rotates the join token.
package daemon

// Package clusterdb is Wolfpack's cluster database: the only package that talks to etcd.
//
// It starts the embedded etcd member of a node (embed.go), whose client and peer ports use
// mutual TLS with certificates of the cluster CA (internal/pki), lets a node join an
// existing cluster as a learner that is promoted once it has caught up (members.go, as
// k3s does), reads and makes join tokens that pin the CA (jointoken.go) and keeps the
// cluster's shared secrets: the join secret's hash, and on an external etcd the CA and the
// API token (secrets.go),
// and gives a typed view of the keys under /wolfpack/ that doc/CONTRACTS.md fixes: nodes,
// members (attached to a node's session lease), groups, resources, resource types,
// ownership and the state that the owners report (schema.go, db.go, owners.go).
//
// Every record is read with the etcd revision at which it was last written, and updates
// compare against it (ErrConflict when someone else wrote first). Writes made by the node
// that runs a group are fenced: they compare owners/<group> against the ownership
// revision the node got when it took the group, and fail with ErrFenced when the group
// has moved since (see Fence).
//
// The object model and property names follow Windows Server Failover Clustering
// (MSCluster_ResourceGroup, MSCluster_Resource): PreferredOwners, FailoverThreshold,
// RestartAction, PendingTimeout and so on, with WSFC's defaults.
package clusterdb

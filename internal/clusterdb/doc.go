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
// ownership and the state that the owners report (schema.go, db.go, owners.go), and the
// API's access tokens, stored as hashes and followed by each node's TokenCache
// (tokens.go, tokencache.go).
//
// Every record is read with the etcd revision at which it was last written, and updates
// compare against it (ErrConflict when someone else wrote first). Writes made by the node
// that runs a group are fenced: they compare owners/<group> against the ownership
// revision the node got when it took the group, and fail with ErrFenced when the group
// has moved since (see Fence).
//
// No other package of Wolfpack's imports etcd's client (internal/layers checks it): a
// node's session and its campaign for coordinator (session.go), the placements and
// fenced transactions with their own write type Op (owners.go, ops.go), the coordinator's
// follower of every definition (follow.go) and a node's follower of only the groups it
// owns, through each group's resource index that every resource write keeps in the same
// transaction (scoped.go, groupindex.go), watches (DB.Changes), the etcd membership (voting.go,
// members.go, etcdmembers.go) and the connection itself (Dial) are operations here. A
// membership change that etcd refuses for a passing reason is told by etcd's typed
// errors (IsMembershipBusy), never by its message.
//
// The object model and property names follow Windows Server Failover Clustering
// (MSCluster_ResourceGroup, MSCluster_Resource): PreferredOwners, FailoverThreshold,
// RestartAction, PendingTimeout and so on, with WSFC's defaults.
package clusterdb

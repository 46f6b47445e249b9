package wire

import "wolfpack/internal/eventlog"

// ClusterView is the cluster's nodes, groups and resources read at one revision of the
// cluster database.
type ClusterView struct {
	Revision  int64             `json:"revision"`
	Nodes     []ClusterNode     `json:"nodes"`
	Groups    []ClusterGroup    `json:"groups"`
	Resources []ClusterResource `json:"resources"`
}

// EtcdMember is one member of the cluster database with its health as this node sees
// it (a status request to its client URL).
type EtcdMember struct {
	ID         string   `json:"id"` // hex, as etcdctl shows it
	Name       string   `json:"name"`
	PeerURLs   []string `json:"peerURLs"`
	ClientURLs []string `json:"clientURLs"`
	Learner    bool     `json:"learner,omitempty"`
	Leader     bool     `json:"leader,omitempty"`
	Healthy    bool     `json:"healthy"`
	Error      string   `json:"error,omitempty"` // why it is not healthy
	Version    string   `json:"version,omitempty"`
	DBSize     int64    `json:"dbSize,omitempty"`
	RaftTerm   uint64   `json:"raftTerm,omitempty"`
	RaftIndex  uint64   `json:"raftIndex,omitempty"`
}

// Quorum says whether a majority of the database's voting members answer.
type Quorum struct {
	Voters  int  `json:"voters"`
	Healthy int  `json:"healthy"` // voters that answered
	Needed  int  `json:"needed"`  // a majority of Voters
	Has     bool `json:"has"`
}

// EtcdHealth is the cluster database's members and quorum.
type EtcdHealth struct {
	Members  []EtcdMember `json:"members"`
	Quorum   Quorum       `json:"quorum"`
	External bool         `json:"external,omitempty"` // an external etcd (--etcd-endpoints)
	Error    string       `json:"error,omitempty"`    // the member list could not be read
}

// ClusterSummary is the console's cluster view: who answered, the nodes, the database.
type ClusterSummary struct {
	Node        string        `json:"node"` // the node that answered: the one the browser is connected to
	Coordinator string        `json:"coordinator"`
	Nodes       []ClusterNode `json:"nodes"`
	Etcd        EtcdHealth    `json:"etcd"`
}

// ClusterState is the first message of the watch stream: the whole view.
type ClusterState struct {
	Node string `json:"node"`
	ClusterView
}

// ClusterChange is what changed between two views of the watch stream: the node list
// whole when any node changed, groups and resources that are new or changed, and the
// names of those that are gone.
type ClusterChange struct {
	Revision         int64             `json:"revision"`
	Nodes            []ClusterNode     `json:"nodes,omitempty"`
	Groups           []ClusterGroup    `json:"groups,omitempty"`
	Resources        []ClusterResource `json:"resources,omitempty"`
	RemovedGroups    []string          `json:"removedGroups,omitempty"`
	RemovedResources []string          `json:"removedResources,omitempty"`
}

// NodeEvent is an event record of one node's log with its description rendered.
type NodeEvent struct {
	Node    string `json:"node"`
	Message string `json:"message"`
	eventlog.Record
}

// NodeError says why a node's part of a cluster-wide answer is missing.
type NodeError struct {
	Node  string `json:"node"`
	Error string `json:"error"`
}

// ClusterEvents is the answer of GET /v1/cluster/events.
type ClusterEvents struct {
	Events      []NodeEvent `json:"events"`
	Unreachable []NodeError `json:"unreachable,omitempty"`
}

package wire

// ClusterJoinRequest is what a joining node sends.
type ClusterJoinRequest struct {
	Name    string `json:"name"`
	PeerURL string `json:"peerURL"`
	Witness bool   `json:"witness,omitempty"`
	// Secret is the join token's secret, checked against the hash in etcd.
	Secret string `json:"secret"`
	// CSR is a PEM certificate request for the joining node's own key: the node's
	// certificate is issued from it, and its key never leaves it.
	CSR string `json:"csr"`
	// SchemaMin and SchemaMax: the cluster database schema versions the joining node's
	// build runs; a join outside the cluster's version is refused (code 5075).
	SchemaMin int `json:"schemaMin,omitempty"`
	SchemaMax int `json:"schemaMax,omitempty"`
}

// ClusterJoinAnswer tells the joining node how to start its etcd member, and gives it its
// certificate, the cluster CA (with its key: every etcd member can admit new nodes) and
// nothing else: no API token (each node makes its own).
type ClusterJoinAnswer struct {
	// Role is "Voter" (start an etcd member: MemberID, InitialCluster) or "NonVoter"
	// (no member: a client of Endpoints, the voters' client URLs).
	Role           string   `json:"role"`
	MemberID       uint64   `json:"memberID"`
	InitialCluster string   `json:"initialCluster"`
	Endpoints      []string `json:"endpoints"`
	NodeCert       string   `json:"nodeCert"`
	CACert         string   `json:"caCert"`
	CAKey          string   `json:"caKey"`
}

// RotateTokenAnswer names the file where the node wrote the new join token (the token
// itself never travels in an answer).
type RotateTokenAnswer struct {
	File string `json:"file"`
}

package wire

import (
	"time"
)

// ClusterNode is a node as GET /v1/nodes lists it.
type ClusterNode struct {
	Name        string `json:"name"`
	ID          int    `json:"id"`
	API         string `json:"api"`
	State       string `json:"state"` // Up, Down, Paused
	Witness     bool   `json:"witness,omitempty"`
	Paused      bool   `json:"paused,omitempty"`
	Coordinator bool   `json:"coordinator,omitempty"`
	// Role is the node's place in the cluster database: Voter (an etcd voting member),
	// Learner (a member on its way to voting), NonVoter (a client of the voters), or
	// External (a client of an external etcd).
	Role string `json:"role,omitempty"`
	// NodeWeight is WSFC's: 0 when the administrator took the node's vote away.
	NodeWeight uint32 `json:"nodeWeight"`
	// PinnedVoter: the administrator wants the node to vote whenever it is up.
	PinnedVoter bool `json:"pinnedVoter,omitempty"`
	// SchemaMin and SchemaMax: the cluster database schema versions the node's build
	// runs (rolling upgrade).
	SchemaMin int `json:"schemaMin,omitempty"`
	SchemaMax int `json:"schemaMax,omitempty"`
}

// ClusterGroup is a group with its owner, state and properties.
type ClusterGroup struct {
	Name  string `json:"name"`
	Node  string `json:"node"`
	State string `json:"state"`
	// Error says why the group is Failed (its failed resources' reasons, or the
	// failover threshold it reached), or Pending while its failed resources recover.
	Error string `json:"error,omitempty"`
	// Waiting says what a pending online waits for (a registry restore held by
	// handles under RestoreFailureAction Retry), with WaitUntil its deadline.
	Waiting    string            `json:"waiting,omitempty"`
	WaitUntil  *time.Time        `json:"waitUntil,omitempty"`
	Properties []ClusterProperty `json:"properties"`
	// PreferredOwners in order.
	PreferredOwners []string `json:"preferredOwners"`
}

// ClusterResource is a resource with its group, node, state and properties.
type ClusterResource struct {
	Name       string `json:"name"`
	Group      string `json:"group"`
	Node       string `json:"node"`
	State      string `json:"state"`
	Type       string `json:"type"`
	Error      string `json:"error,omitempty"`
	Recovering bool   `json:"recovering,omitempty"` // Failed, and being restarted or failed over
	// Warning is a change that was stored but takes effect later: 5024 when properties
	// of an online resource change (they apply at its next online).
	Warning        *Error            `json:"warning,omitempty"`
	Waiting        string            `json:"waiting,omitempty"`   // see ClusterGroup.Waiting
	WaitUntil      *time.Time        `json:"waitUntil,omitempty"` // see ClusterGroup.WaitUntil
	Dependencies   []string          `json:"dependencies"`
	PossibleOwners []string          `json:"possibleOwners"`
	Checkpoints    []string          `json:"checkpoints"`
	Properties     []ClusterProperty `json:"properties"`
	Private        []ClusterProperty `json:"private"`
}

// ClusterProperty is one property as cluster.exe's /prop lists it: Type is "D" (DWORD),
// "S" (string), "M" (multi-string) or "I" (signed integer).
type ClusterProperty struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

// ClusterResourceType is an entry of GET /v1/resourcetypes, with the private
// properties its resources take (the web console's property editor offers them).
type ClusterResourceType struct {
	Name        string                `json:"name"`
	DisplayName string                `json:"displayName"`
	DLL         string                `json:"dll,omitempty"`
	Description string                `json:"description,omitempty"`
	Properties  []ClusterTypeProperty `json:"properties,omitempty"`
	// OpenProperties: the type also takes private properties it does not list.
	OpenProperties bool `json:"openProperties,omitempty"`
}

// ClusterTypeProperty is a private property that a resource type declares (or that
// the cluster reads for every resource: the checkpoint policy).
type ClusterTypeProperty struct {
	Name        string   `json:"name"`
	Format      string   `json:"format"` // String, MultiString or DWORD
	Default     string   `json:"default,omitempty"`
	Required    bool     `json:"required,omitempty"`
	Description string   `json:"description,omitempty"`
	Values      []string `json:"values,omitempty"` // the allowed values, when the property has a fixed set
}

// ClusterAction is the body of the POST routes; each action uses the fields it needs.
type ClusterAction struct {
	Name  string            `json:"name,omitempty"`  // create, rename
	Group string            `json:"group,omitempty"` // resource create, resource move
	Type  string            `json:"type,omitempty"`  // resource create
	Node  string            `json:"node,omitempty"`  // move, online:NODE, owners
	Value string            `json:"value,omitempty"` // adddep, removedep, addowner, …
	List  []string          `json:"list,omitempty"`  // setowners
	Props map[string]string `json:"props,omitempty"` // prop, priv
	// UseDefault lists properties that prop and priv reset to their defaults (/usedefault):
	// a private property is deleted.
	UseDefault []string `json:"useDefault,omitempty"`
}

// NodeInfo is one entry of GET /v1/nodes.
type NodeInfo struct {
	Name    string `json:"name"`
	API     string `json:"api"`
	State   string `json:"state"`
	Witness bool   `json:"witness,omitempty"`
	Paused  bool   `json:"paused,omitempty"`
}

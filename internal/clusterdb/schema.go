package clusterdb

import (
	"encoding/json"
	"strings"
	"time"
)

// Prefix is the root of Wolfpack's keys in etcd.
const Prefix = "/wolfpack/"

// Key prefixes below Prefix (doc/CONTRACTS.md).
const (
	NodesPrefix          = Prefix + "nodes/"
	MembersPrefix        = Prefix + "members/"
	GroupsPrefix         = Prefix + "groups/"
	ResourcesPrefix      = Prefix + "resources/"
	OwnersPrefix         = Prefix + "owners/"
	GroupStatePrefix     = Prefix + "state/groups/"
	ResourceStatePrefix  = Prefix + "state/resources/"
	MovesPrefix          = Prefix + "moves/"
	CheckpointsPrefix    = Prefix + "checkpoints/"
	ElectionPrefix       = Prefix + "election"
	ResourceTypesPrefix  = Prefix + "resourcetypes/"
	counterNodeIDKey     = Prefix + "counters/nodeid"
	defaultNamesAreFolds = true
)

// keyName is the key form of an object name: names are case-insensitive and
// case-preserving, as in WSFC, so keys use the lower-case form and records keep the name.
func keyName(name string) string {
	if defaultNamesAreFolds {
		return strings.ToLower(name)
	}
	return name
}

// NodeKey and the other Key functions return an object's etcd key.
func NodeKey(name string) string         { return NodesPrefix + keyName(name) }
func MemberKey(name string) string       { return MembersPrefix + keyName(name) }
func GroupKey(name string) string        { return GroupsPrefix + keyName(name) }
func ResourceKey(name string) string     { return ResourcesPrefix + keyName(name) }
func OwnerKey(group string) string       { return OwnersPrefix + keyName(group) }
func GroupStateKey(group string) string  { return GroupStatePrefix + keyName(group) }
func ResourceStateKey(res string) string { return ResourceStatePrefix + keyName(res) }
func MoveKey(group string) string        { return MovesPrefix + keyName(group) }
func ResourceTypeKey(name string) string { return ResourceTypesPrefix + keyName(name) }

// Node is a node record (nodes/<name>).
type Node struct {
	Name    string `json:"name"`
	ID      int    `json:"id"`            // WSFC's Node ID, 1, 2, … in join order
	API     string `json:"api,omitempty"` // base URL of the node's HTTP API
	Witness bool   `json:"witness,omitempty"`
	Paused  bool   `json:"paused,omitempty"`
	Evicted bool   `json:"evicted,omitempty"`
	// Stopped: the node's cluster service was stopped cleanly (its groups were handed
	// over); cleared when it registers again at its next start.
	Stopped bool `json:"stopped,omitempty"`
	// EtcdMemberID is the node's embedded etcd member (0 when it runs none: a non-voter,
	// or a node of an external etcd).
	EtcdMemberID uint64 `json:"etcdMemberID,omitempty"`
	// PeerURL is the URL of the node's etcd peer port (where its member listens when it
	// votes): the voter keeper knows a learner that has not started by it.
	PeerURL string `json:"peerURL,omitempty"`
	// NoVote: the administrator's NodeWeight=0 (as WSFC's): the node never votes.
	NoVote bool `json:"noVote,omitempty"`
	// PinnedVoter: the administrator wants this node to vote whenever it is up.
	PinnedVoter bool `json:"pinnedVoter,omitempty"`
	// SchemaMin and SchemaMax: the schema versions the node's build runs (version.go;
	// none recorded: SchemaInitial).
	SchemaMin int `json:"schemaMin,omitempty"`
	SchemaMax int `json:"schemaMax,omitempty"`
}

// Member is the value of members/<name>, attached to the node's session lease.
type Member struct {
	Name  string    `json:"name"`
	Since time.Time `json:"since"`
	Lease int64     `json:"lease"` // the session's lease: states reported under another are stale
}

// AutoFailbackType values (CLUSTER_GROUP_AUTOFAILBACK_TYPE).
const (
	PreventFailback = 0
	AllowFailback   = 1
)

// Group is a group record (groups/<name>) with MSCluster_ResourceGroup's properties.
type Group struct {
	Name string `json:"name"`
	// ID stays with the group through renames (given by CreateGroup).
	ID              string   `json:"id,omitempty"`
	Description     string   `json:"description,omitempty"`
	PreferredOwners []string `json:"preferredOwners,omitempty"` // ordered
	// FailoverThreshold failovers in FailoverPeriod hours at most; then the group stays failed.
	FailoverThreshold   uint32 `json:"failoverThreshold"`
	FailoverPeriod      uint32 `json:"failoverPeriod"` // hours
	AutoFailbackType    uint32 `json:"autoFailbackType"`
	FailbackWindowStart int32  `json:"failbackWindowStart"` // hour of day, -1 = any time
	FailbackWindowEnd   int32  `json:"failbackWindowEnd"`
	// PersistentState: 1 when the administrator wants the group online.
	PersistentState uint32 `json:"persistentState"`
	// AntiAffinityClassNames: groups that share an entry avoid running on one node
	// (WSFC's property of the same name; see the cluster's EnforcedAntiAffinity).
	AntiAffinityClassNames []string `json:"antiAffinityClassNames,omitempty"`
	// groupNext: the fields of the next schema version, in a build that runs it
	// (version_next.go).
	groupNext
	// Unknown keeps the fields of a newer schema that this build does not know, written
	// back as they were (unknown.go).
	Unknown map[string]json.RawMessage `json:"-"`
}

// NewGroup returns a group with WSFC's defaults (Windows Server 2003's FailoverThreshold 10
// in 6 hours; failback prevented; no failback window).
func NewGroup(name string) Group {
	return Group{
		Name:                name,
		FailoverThreshold:   10,
		FailoverPeriod:      6,
		AutoFailbackType:    PreventFailback,
		FailbackWindowStart: -1,
		FailbackWindowEnd:   -1,
	}
}

// RestartAction values (CLUSTER_RESOURCE_RESTART_ACTION).
const (
	DontRestart     = 0 // ClusterResourceDontRestart
	RestartNoNotify = 1 // ClusterResourceRestartNoNotify: restart, never fail the group over
	RestartNotify   = 2 // ClusterResourceRestartNotify: restart, then fail the group over
)

// Resource is a resource record (resources/<name>) with MSCluster_Resource's properties.
type Resource struct {
	Name           string   `json:"name"`
	Type           string   `json:"type"`
	Group          string   `json:"group"`
	Description    string   `json:"description,omitempty"`
	Dependencies   []string `json:"dependencies,omitempty"`
	PossibleOwners []string `json:"possibleOwners,omitempty"` // empty: every node
	RestartAction  uint32   `json:"restartAction"`
	// RestartThreshold restarts within RestartPeriod ms at most; then the resource fails.
	RestartThreshold       uint32 `json:"restartThreshold"`
	RestartPeriod          uint32 `json:"restartPeriod"`        // ms
	RetryPeriodOnFailure   uint32 `json:"retryPeriodOnFailure"` // ms
	PendingTimeout         uint32 `json:"pendingTimeout"`       // ms
	LooksAlivePollInterval uint32 `json:"looksAlivePollInterval"`
	IsAlivePollInterval    uint32 `json:"isAlivePollInterval"`
	// PersistentState: 1 when the administrator wants the resource online.
	PersistentState uint32            `json:"persistentState"`
	Private         map[string]string `json:"private,omitempty"`
	// OnlineSeq and FailSeq count administrator requests (/online and /offline, /fail)
	// so that the owner acts on each once: /online retries a failed resource, /offline
	// clears its failure, /fail fails it. The owner's state report carries the OnlineSeq
	// it acted on (ResourceState.Seq): until then the request is pending.
	OnlineSeq int64 `json:"onlineSeq,omitempty"`
	FailSeq   int64 `json:"failSeq,omitempty"`
	// Checkpoints are registry keys relative to HKLM whose subtrees follow the resource
	// (edited by internal/checkpoint through UpdateResource).
	Checkpoints []string `json:"checkpoints,omitempty"`
}

// NewResource returns a resource with WSFC's defaults.
func NewResource(name, typ, group string) Resource {
	return Resource{
		Name:                   name,
		Type:                   typ,
		Group:                  group,
		RestartAction:          RestartNotify,
		RestartThreshold:       3,
		RestartPeriod:          900000,
		RetryPeriodOnFailure:   3600000,
		PendingTimeout:         180000,
		LooksAlivePollInterval: 5000,
		IsAlivePollInterval:    60000,
	}
}

// ResourceType is a resource type record (resourcetypes/<name>).
type ResourceType struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	DLL         string `json:"dll,omitempty"`
}

// Resource states (CLUSTER_RESOURCE_STATE) as names.
const (
	StateOnline         = "Online"
	StateOffline        = "Offline"
	StateOnlinePending  = "OnlinePending"
	StateOfflinePending = "OfflinePending"
	StateFailed         = "Failed"
	// Group-only states (CLUSTER_GROUP_STATE).
	StatePartialOnline = "PartialOnline"
	StatePending       = "Pending"
)

// ResourceState is what the owner reports for a resource (state/resources/<name>).
type ResourceState struct {
	State string `json:"state"`
	Node  string `json:"node,omitempty"`
	// Session is the reporting node's session lease: a report from an earlier session
	// of the node (before a restart or a lost session) says nothing about now.
	Session int64     `json:"session,omitempty"`
	Error   string    `json:"error,omitempty"`
	Since   time.Time `json:"since"`
	// Seq is the resource's OnlineSeq the owner had acted on when it wrote the report.
	Seq int64 `json:"seq,omitempty"`
	// Recovering: the resource is Failed and the owner restarts it or fails its group
	// over (its restart policy); a Failed report without it is final.
	Recovering bool `json:"recovering,omitempty"`
	// Waiting says what an Online Pending resource waits for (handles that hold a
	// registry restore back under RestoreFailureAction Retry), until WaitUntil.
	Waiting   string    `json:"waiting,omitempty"`
	WaitUntil time.Time `json:"waitUntil,omitzero"`
}

// GroupState is what the owner reports for a group (state/groups/<name>), plus the
// failover history the failover threshold counts.
type GroupState struct {
	State string    `json:"state"`
	Node  string    `json:"node,omitempty"`
	Since time.Time `json:"since"`
	// Failovers are the times the group failed over because a resource failed.
	Failovers []time.Time `json:"failovers,omitempty"`
	// FailedOn is the node the group last failed on; placement avoids it when it can.
	FailedOn string `json:"failedOn,omitempty"`
	// Error says why the group is Failed when no resource's failure says it (the
	// failover threshold was reached).
	Error string `json:"error,omitempty"`
}

// Move is a request to move a group (moves/<group>), carried out by the owner.
type Move struct {
	Target string `json:"target"` // "" lets the coordinator choose
	// Online brings the group online on the target (group /online:NODE).
	Online bool `json:"online,omitempty"`
}

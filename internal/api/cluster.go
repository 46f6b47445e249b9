package api

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// The cluster part's routes (owner: internal/agent, wired by internal/daemon/cluster.go):
//
//	GET  /v1/nodes                        []ClusterNode (a superset of NodeInfo)
//	GET  /v1/nodes/{name}                 ClusterNode
//	POST /v1/nodes/{name}/{action}        pause, resume, evict, prop
//	GET  /v1/groups                       []ClusterGroup
//	POST /v1/groups                       ClusterAction{Name} creates a group
//	GET  /v1/groups/{name}                ClusterGroup
//	DELETE /v1/groups/{name}
//	POST /v1/groups/{name}/{action}       online, offline, move, rename, setowners, prop
//	GET  /v1/resources                    []ClusterResource
//	POST /v1/resources                    ClusterAction{Name, Group, Type} creates a resource
//	GET  /v1/resources/{name}             ClusterResource
//	DELETE /v1/resources/{name}
//	POST /v1/resources/{name}/{action}    online, offline, fail, move, prop, priv, adddep,
//	                                      removedep, addowner, removeowner
//	GET  /v1/resourcetypes                []ClusterResourceType
//	GET  /v1/cluster/properties           []ClusterProperty: the cluster's common properties
//	POST /v1/cluster/properties           ClusterAction{Props} sets some of them
//	GET  /v1/resourcetypes/{name}         ClusterResourceType with its private properties
//
// The join and token-rotation routes are in join.go.
//
// Errors carry Windows' cluster error numbers (5007 resource not found, 5013 group not
// found, 5042 node not found, …) with Windows' messages.

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

// ClusterService is what the cluster routes call (internal/agent's Agent).
type ClusterService interface {
	Nodes(ctx context.Context) ([]ClusterNode, error)
	Groups(ctx context.Context) ([]ClusterGroup, error)
	Resources(ctx context.Context) ([]ClusterResource, error)
	ResourceTypes(ctx context.Context) ([]ClusterResourceType, error)
	// ResourceType returns one type with its private properties.
	ResourceType(ctx context.Context, name string) (ClusterResourceType, error)
	// NodeAction, GroupAction and ResourceAction carry out an action ("create", "delete",
	// "online", …) on the named object and return the object afterwards.
	NodeAction(ctx context.Context, name, action string, a ClusterAction) (any, error)
	GroupAction(ctx context.Context, name, action string, a ClusterAction) (any, error)
	ResourceAction(ctx context.Context, name, action string, a ClusterAction) (any, error)
	// ClusterProperties lists the cluster's common properties (Voters, …) after setting
	// props and resetting useDefault to their defaults (none: a listing).
	ClusterProperties(ctx context.Context, props map[string]string, useDefault []string) ([]ClusterProperty, error)
}

// RegisterCluster registers the cluster routes on s.
func RegisterCluster(s *Server, c ClusterService) {
	list := func(f func(context.Context) (any, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			ctx, stale := withStaleNote(r.Context())
			v, err := f(ctx)
			if err != nil {
				WriteError(w, err)
				return
			}
			if h := stale.header(); h != "" {
				w.Header().Set("Warning", h)
			}
			WriteJSON(w, http.StatusOK, v)
		}
	}
	s.Handle("GET /v1/nodes", list(func(ctx context.Context) (any, error) { return c.Nodes(ctx) }))
	s.Handle("GET /v1/groups", list(func(ctx context.Context) (any, error) { return c.Groups(ctx) }))
	s.Handle("GET /v1/resources", list(func(ctx context.Context) (any, error) { return c.Resources(ctx) }))
	s.Handle("GET /v1/resourcetypes", list(func(ctx context.Context) (any, error) { return c.ResourceTypes(ctx) }))
	s.Handle("GET /v1/resourcetypes/{name}", func(w http.ResponseWriter, r *http.Request) {
		t, err := c.ResourceType(r.Context(), r.PathValue("name"))
		if err != nil {
			WriteError(w, err)
			return
		}
		WriteJSON(w, http.StatusOK, t)
	})
	s.Handle("GET /v1/cluster/properties", list(func(ctx context.Context) (any, error) { return c.ClusterProperties(ctx, nil, nil) }))
	s.Handle("POST /v1/cluster/properties", func(w http.ResponseWriter, r *http.Request) {
		var a ClusterAction
		if err := ReadJSON(r, &a); err != nil {
			WriteError(w, err)
			return
		}
		if len(a.Props) == 0 && len(a.UseDefault) == 0 {
			WriteError(w, BadRequest("no property to set"))
			return
		}
		v, err := c.ClusterProperties(r.Context(), a.Props, a.UseDefault)
		if err != nil {
			WriteError(w, err)
			return
		}
		WriteJSON(w, http.StatusOK, v)
	})

	type actionFunc func(ctx context.Context, name, action string, a ClusterAction) (any, error)
	act := func(f actionFunc, action string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			var a ClusterAction
			if r.Method == http.MethodPost && r.ContentLength != 0 {
				if err := ReadJSON(r, &a); err != nil {
					WriteError(w, err)
					return
				}
			}
			name := r.PathValue("name")
			verb := action
			if verb == "" {
				verb = strings.ToLower(r.PathValue("action"))
			}
			if verb == "create" && name == "" {
				name = a.Name
			}
			ctx, stale := withStaleNote(r.Context())
			v, err := f(ctx, name, verb, a)
			if err != nil {
				WriteError(w, err)
				return
			}
			if h := stale.header(); h != "" {
				w.Header().Set("Warning", h)
			}
			status := http.StatusOK
			if verb == "create" {
				status = http.StatusCreated
			}
			WriteJSON(w, status, v)
		}
	}
	s.Handle("GET /v1/nodes/{name}", act(c.NodeAction, "status"))
	s.Handle("POST /v1/nodes/{name}/{action}", act(c.NodeAction, ""))
	s.Handle("POST /v1/groups", act(c.GroupAction, "create"))
	s.Handle("GET /v1/groups/{name}", act(c.GroupAction, "status"))
	s.Handle("DELETE /v1/groups/{name}", act(c.GroupAction, "delete"))
	s.Handle("POST /v1/groups/{name}/{action}", act(c.GroupAction, ""))
	s.Handle("POST /v1/resources", act(c.ResourceAction, "create"))
	s.Handle("GET /v1/resources/{name}", act(c.ResourceAction, "status"))
	s.Handle("DELETE /v1/resources/{name}", act(c.ResourceAction, "delete"))
	s.Handle("POST /v1/resources/{name}/{action}", act(c.ResourceAction, ""))
}

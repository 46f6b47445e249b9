package api

import (
	"context"
	"net/http"
	"strings"
	"wolfpack/internal/api/wire"
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

// ClusterService is what the cluster routes call (internal/agent's Agent).
type ClusterService interface {
	Nodes(ctx context.Context) ([]wire.ClusterNode, error)
	Groups(ctx context.Context) ([]wire.ClusterGroup, error)
	Resources(ctx context.Context) ([]wire.ClusterResource, error)
	ResourceTypes(ctx context.Context) ([]wire.ClusterResourceType, error)
	// ResourceType returns one type with its private properties.
	ResourceType(ctx context.Context, name string) (wire.ClusterResourceType, error)
	// NodeAction, GroupAction and ResourceAction carry out an action ("create", "delete",
	// "online", …) on the named object and return the object afterwards.
	NodeAction(ctx context.Context, name, action string, a wire.ClusterAction) (any, error)
	GroupAction(ctx context.Context, name, action string, a wire.ClusterAction) (any, error)
	ResourceAction(ctx context.Context, name, action string, a wire.ClusterAction) (any, error)
	// ClusterProperties lists the cluster's common properties (Voters, …) after setting
	// props and resetting useDefault to their defaults (none: a listing).
	ClusterProperties(ctx context.Context, props map[string]string, useDefault []string) ([]wire.ClusterProperty, error)
}

// RegisterCluster registers the cluster routes on s.
func RegisterCluster(s *Server, c ClusterService) {
	list := func(f func(context.Context) (any, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			ctx, stale := wire.WithStaleNote(r.Context())
			v, err := f(ctx)
			if err != nil {
				WriteError(w, err)
				return
			}
			if h := stale.Header(); h != "" {
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
		var a wire.ClusterAction
		if err := ReadJSON(r, &a); err != nil {
			WriteError(w, err)
			return
		}
		if len(a.Props) == 0 && len(a.UseDefault) == 0 {
			WriteError(w, wire.BadRequest("no property to set"))
			return
		}
		v, err := c.ClusterProperties(r.Context(), a.Props, a.UseDefault)
		if err != nil {
			WriteError(w, err)
			return
		}
		WriteJSON(w, http.StatusOK, v)
	})

	type actionFunc func(ctx context.Context, name, action string, a wire.ClusterAction) (any, error)
	act := func(f actionFunc, action string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			var a wire.ClusterAction
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
			ctx, stale := wire.WithStaleNote(r.Context())
			v, err := f(ctx, name, verb, a)
			if err != nil {
				WriteError(w, err)
				return
			}
			if h := stale.Header(); h != "" {
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

package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"wolfpack/internal/api/wire"
)

// The registry checkpoint routes (owner: internal/checkpoint, wired by
// internal/daemon/checkpoint.go):
//
//	GET    /v1/resources/{name}/checkpoints                    []CheckpointInfo
//	POST   /v1/resources/{name}/checkpoints                    CheckpointKeys: add (183 on a duplicate)
//	DELETE /v1/resources/{name}/checkpoints?key=K              remove (repeat key= for several)
//	GET    /v1/resources/{name}/checkpoints/history?key=K      []CheckpointVersion, oldest first
//	GET    /v1/resources/{name}/checkpoints/diff?key=K&v1=N&v2=M  CheckpointDiff (v2 0: newest)
//	POST   /v1/resources/{name}/checkpoints/rollback           CheckpointRollback → CheckpointRollbackAnswer
//	GET    /v1/resources/{name}/checkpoints/verify             []CheckpointDrift (answered by the owner)
//	POST   /v1/resources/{name}/checkpoints/restore            CheckpointKeys (owner only: restore the newest now)
//
// Verify and restore run on the node that owns the resource's group: another node
// forwards them there.

// CheckpointService is what the checkpoint routes call (internal/checkpoint's Service).
type CheckpointService interface {
	List(ctx context.Context, resource string) ([]wire.CheckpointInfo, error)
	Add(ctx context.Context, resource string, keys []string, force bool) error
	Remove(ctx context.Context, resource string, keys []string) error
	History(ctx context.Context, resource, key string) ([]wire.CheckpointVersion, error)
	Diff(ctx context.Context, resource, key string, v1, v2 int) (wire.CheckpointDiff, error)
	// Rollback makes a copy of version v the newest (in the cluster database only).
	Rollback(ctx context.Context, resource, key string, v int) (wire.CheckpointVersion, error)
	Locate(ctx context.Context, resource string) (wire.CheckpointOwner, error)
	// RestoreLocal restores the newest version into the running resource here.
	RestoreLocal(ctx context.Context, resource, key string) (wire.CheckpointVersion, error)
	// VerifyLocal compares this node's live subtrees with the newest versions.
	VerifyLocal(ctx context.Context, resource string) ([]wire.CheckpointDrift, error)
}

// codeNotOnline is the error number of a restore asked of a node where the resource is
// not online (ERROR_INVALID_STATE).
const codeNotOnline = 5023

// forwardedHeader marks a request that a node forwarded to the owner, so that it is
// never forwarded again; its value names the token of the original caller (for logs).
const forwardedHeader = "X-Wolfpack-Forwarded"

// RegisterCheckpoint registers the checkpoint routes on s.
func RegisterCheckpoint(s *Server, c CheckpointService) {
	answer := func(w http.ResponseWriter, v any, err error) {
		if err != nil {
			WriteError(w, err)
			return
		}
		WriteJSON(w, http.StatusOK, v)
	}
	s.Handle("GET /v1/resources/{name}/checkpoints", func(w http.ResponseWriter, r *http.Request) {
		v, err := c.List(r.Context(), r.PathValue("name"))
		answer(w, v, err)
	})
	s.Handle("POST /v1/resources/{name}/checkpoints", func(w http.ResponseWriter, r *http.Request) {
		var body wire.CheckpointKeys
		if err := ReadJSON(r, &body); err != nil {
			WriteError(w, err)
			return
		}
		if err := c.Add(r.Context(), r.PathValue("name"), body.Keys, body.Force); err != nil {
			WriteError(w, err)
			return
		}
		v, err := c.List(r.Context(), r.PathValue("name"))
		answer(w, v, err)
	})
	s.Handle("DELETE /v1/resources/{name}/checkpoints", func(w http.ResponseWriter, r *http.Request) {
		keys := r.URL.Query()["key"]
		if len(keys) == 0 {
			WriteError(w, wire.BadRequest("name the checkpoint to remove with key="))
			return
		}
		if err := c.Remove(r.Context(), r.PathValue("name"), keys); err != nil {
			WriteError(w, err)
			return
		}
		v, err := c.List(r.Context(), r.PathValue("name"))
		answer(w, v, err)
	})
	s.Handle("GET /v1/resources/{name}/checkpoints/history", func(w http.ResponseWriter, r *http.Request) {
		v, err := c.History(r.Context(), r.PathValue("name"), r.URL.Query().Get("key"))
		answer(w, v, err)
	})
	s.Handle("GET /v1/resources/{name}/checkpoints/diff", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		v1, err1 := strconv.Atoi(q.Get("v1"))
		v2, err2 := strconv.Atoi(q.Get("v2"))
		if q.Get("v2") == "" {
			v2, err2 = 0, nil
		}
		if err1 != nil || err2 != nil || v1 < 1 || v2 < 0 {
			WriteError(w, wire.BadRequest("v1 must be a version number and v2 a version number or absent"))
			return
		}
		v, err := c.Diff(r.Context(), r.PathValue("name"), q.Get("key"), v1, v2)
		answer(w, v, err)
	})
	s.Handle("POST /v1/resources/{name}/checkpoints/rollback", func(w http.ResponseWriter, r *http.Request) {
		var body wire.CheckpointRollback
		if err := ReadJSON(r, &body); err != nil {
			WriteError(w, err)
			return
		}
		name := r.PathValue("name")
		v, err := c.Rollback(r.Context(), name, body.Key, body.Version)
		if err != nil {
			WriteError(w, err)
			return
		}
		ans := wire.CheckpointRollbackAnswer{Version: v}
		// The node that owns the group restores the version if the resource runs there.
		own, err := c.Locate(r.Context(), name)
		if err == nil && own.Node != "" {
			_, err = forward(r.Context(), s, own, r, func(ctx context.Context) (any, error) {
				return c.RestoreLocal(ctx, name, body.Key)
			}, http.MethodPost, "/v1/resources/"+url.PathEscape(name)+"/checkpoints/restore", wire.CheckpointKeys{Keys: []string{body.Key}}, &wire.CheckpointVersion{})
			switch {
			case err == nil:
				ans.Restored, ans.Node = true, own.Node
			case !wire.IsCode(err, codeNotOnline):
				ans.RestoreError, ans.Node = err.Error(), own.Node
			}
		}
		WriteJSON(w, http.StatusOK, ans)
	})
	s.Handle("POST /v1/resources/{name}/checkpoints/restore", func(w http.ResponseWriter, r *http.Request) {
		var body wire.CheckpointKeys
		if err := ReadJSON(r, &body); err != nil {
			WriteError(w, err)
			return
		}
		if len(body.Keys) != 1 {
			WriteError(w, wire.BadRequest("restore takes one key"))
			return
		}
		name := r.PathValue("name")
		own, err := c.Locate(r.Context(), name)
		if err != nil {
			WriteError(w, err)
			return
		}
		v, err := forward(r.Context(), s, own, r, func(ctx context.Context) (any, error) {
			return c.RestoreLocal(ctx, name, body.Keys[0])
		}, http.MethodPost, r.URL.Path, body, &wire.CheckpointVersion{})
		answer(w, v, err)
	})
	s.Handle("GET /v1/resources/{name}/checkpoints/verify", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		own, err := c.Locate(r.Context(), name)
		if err != nil {
			WriteError(w, err)
			return
		}
		var out []wire.CheckpointDrift
		v, err := forward(r.Context(), s, own, r, func(ctx context.Context) (any, error) {
			return c.VerifyLocal(ctx, name)
		}, http.MethodGet, r.URL.Path, nil, &out)
		answer(w, v, err)
	})
}

// forward runs local on this node when it owns the resource's group, else sends the
// request to the owner's API (once: a forwarded request is never forwarded again) and
// decodes its answer into out.
func forward(ctx context.Context, s *Server, own wire.CheckpointOwner, r *http.Request,
	local func(context.Context) (any, error), method, path string, in, out any) (any, error) {
	if own.Local {
		return local(ctx)
	}
	if own.Node == "" {
		return nil, &wire.Error{Status: http.StatusConflict, Code: 5015, // ERROR_HOST_NODE_NOT_RESOURCE_OWNER
			Message: "The resource's group is not online on any node."}
	}
	if r.Header.Get(forwardedHeader) != "" || own.API == "" {
		return nil, &wire.Error{Status: http.StatusBadGateway, Code: 5050, // ERROR_CLUSTER_NODE_DOWN
			Message: "Cannot reach node " + own.Node + ", which owns the resource's group."}
	}
	// The token goes to the owner over TLS only, verified against the cluster CA.
	if !strings.HasPrefix(own.API, "https://") {
		return nil, &wire.Error{Status: http.StatusBadGateway, Code: 5050,
			Message: "Cannot reach node " + own.Node + ", which owns the resource's group: its API address is not https."}
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(own.API, "/")+path, body)
	if err != nil {
		return nil, err
	}
	// Nodes forward with their own token (Full): this node has checked the caller's
	// level for the route already. The header names the caller for the owner's log.
	req.Header.Set("Authorization", "Bearer "+s.nodeToken)
	on := "-"
	if c, ok := CallerFrom(r.Context()); ok && c.Name != "" {
		on = c.Name
	}
	req.Header.Set(forwardedHeader, on)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.peerClient().Do(req)
	if err != nil {
		return nil, &wire.Error{Status: http.StatusBadGateway, Code: 5050,
			Message: "Cannot reach node " + own.Node + ", which owns the resource's group: " + err.Error()}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("read answer of node %s: %w", own.Node, err)
	}
	if resp.StatusCode/100 != 2 {
		ae := &wire.Error{Status: resp.StatusCode}
		if json.Unmarshal(b, ae) != nil || ae.Message == "" {
			ae.Message = fmt.Sprintf("node %s: %s", own.Node, strings.TrimSpace(string(b)))
		}
		return nil, ae
	}
	if err := json.Unmarshal(b, out); err != nil {
		return nil, fmt.Errorf("decode answer of node %s: %w", own.Node, err)
	}
	return out, nil
}

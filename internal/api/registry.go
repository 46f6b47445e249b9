package api

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"wolfpack/internal/api/wire"
	"wolfpack/internal/regipc"
	"wolfpack/internal/registry"
)

// Remote registry access for `reg \\NODE\...`. Every request is stateless: it opens a
// session (owned by the caller: RemoteOwner), does its work and closes the session, so no handle
// outlives a request — except for the watch stream, whose handle lives as long as the
// stream. Keys are full paths (HKLM\SOFTWARE\X, HKEY_USERS\...), in the query parameter
// path; values travel as JSON with data in base64.
//
//	GET    /v1/registry/key?path=P               → RegistryKey
//	POST   /v1/registry/key {"path":P}           → {"created":bool}
//	DELETE /v1/registry/key?path=P               (the key and its subtree)
//	GET    /v1/registry/value?path=P&name=N      → RegistryValue
//	PUT    /v1/registry/value RegistryValue+path
//	DELETE /v1/registry/value?path=P&name=N
//	GET    /v1/registry/handles?path=P&subtree=1 → []RegistryHandle
//	GET    /v1/registry/watch?path=P&subtree=1   → stream of RegistryChange, one JSON per line
//	GET    /v1/registry/save?path=P              → hive bytes
//	POST   /v1/registry/restore?path=P&force=1   hive bytes in the body
//	POST   /v1/registry/load?path=ROOT\NAME      hive bytes in the body
//	POST   /v1/registry/unload?path=ROOT\NAME
//	POST   /v1/registry/flush                    (RegFlushKey: every write so far is durable)
//	GET    /v1/registry/security?path=P[&info=N] → RegistrySecurity (RegGetKeySecurity; info 7 by default)
//	PUT    /v1/registry/security RegistrySecurity  (RegSetKeySecurity)
//
// Who holds a remote session's handles (what `reg handles` and event 1024 show) is the
// request's authenticated caller (RemoteOwner): process "http:<token name> (<address>)",
// pid 0, and uid TokenUID — an API token is no local user — except for a node's own
// token, which is root's on that node (uid 0). A request that a node forwarded with its
// token on behalf of a caller (X-Wolfpack-Forwarded) is that caller's: "http:<caller>
// via node:<NAME>", uid TokenUID. For the keys' security descriptors every API caller
// is an administrator (Administrators, privileged), as root is: the token's level
// decides what it may do (a ReadOnly token reaches the GET routes only).
//
// Errors carry the Windows code ({"error":…, "code":2}); a restore blocked by open
// handles is 409 with code 5 and detail {"key":…, "holders":[RegistryHandle…]}.

// RegisterRegistry adds the /v1/registry routes for reg. loadDir keeps hives loaded
// through the API (see regipc.Server.LoadDir).
func RegisterRegistry(s *Server, reg *registry.Registry, loadDir string) {
	h := &registryRoutes{reg: reg, loadDir: loadDir}
	s.Handle("GET /v1/registry/key", h.onKey(registry.KEY_READ, h.getKey))
	s.Handle("POST /v1/registry/key", h.inSession(h.createKey))
	s.Handle("DELETE /v1/registry/key", h.inSession(h.deleteKey))
	s.Handle("GET /v1/registry/value", h.onKey(registry.KEY_QUERY_VALUE, h.getValue))
	s.Handle("PUT /v1/registry/value", h.inSession(h.setValue), WithBodyLimit(maxValueBody))
	s.Handle("DELETE /v1/registry/value", h.onKey(registry.KEY_SET_VALUE, h.deleteValue))
	s.Handle("GET /v1/registry/handles", h.onKey(registry.KEY_QUERY_VALUE, h.handles))
	s.Handle("GET /v1/registry/watch", h.watch)
	s.Handle("GET /v1/registry/save", h.save)
	s.Handle("POST /v1/registry/restore", h.inSession(h.restore), WithBodyLimit(maxHive))
	s.Handle("POST /v1/registry/load", h.inSession(h.load), WithBodyLimit(maxHive))
	s.Handle("POST /v1/registry/unload", h.inSession(h.unload))
	s.Handle("POST /v1/registry/flush", h.inSession(h.flush))
	s.Handle("GET /v1/registry/security", h.inSession(h.getSecurity))
	s.Handle("PUT /v1/registry/security", h.inSession(h.setSecurity))
}

func (h *registryRoutes) getSecurity(s *registry.Session, r *http.Request) (any, error) {
	// info: SECURITY_INFORMATION bits; absent means owner, group and DACL (7).
	info := uint64(7)
	if v := r.URL.Query().Get("info"); v != "" {
		var err error
		if info, err = strconv.ParseUint(v, 10, 32); err != nil {
			return nil, wire.BadRequest("info: not a number of SECURITY_INFORMATION bits: %s", wire.Clip(v))
		}
	}
	k, err := h.open(s, r, registry.READ_CONTROL)
	if err != nil {
		return nil, err
	}
	sd, err := s.GetSecurity(k, uint32(info))
	if err != nil {
		return nil, err
	}
	return wire.RegistrySecurity{Info: uint32(info), SD: sd}, nil
}

func (h *registryRoutes) setSecurity(s *registry.Session, r *http.Request) (any, error) {
	var in wire.RegistrySecurity
	if err := ReadJSON(r, &in); err != nil {
		return nil, err
	}
	k, err := s.OpenPathAccess(in.Path, 0, registry.SetSecurityAccess(in.Info))
	if err != nil {
		return nil, err
	}
	return nil, s.SetSecurity(k, in.Info, in.SD)
}

type registryRoutes struct {
	reg     *registry.Registry
	loadDir string
}

func (h *registryRoutes) session(r *http.Request) *registry.Session {
	return h.reg.NewSession(RemoteOwner(r))
}

// TokenUID is the uid that registry sessions of API callers other than nodes carry: the
// overflow uid (nobody), which Linux shows for an identity it cannot map to a local user.
const TokenUID = 65534

// RemoteOwner is the registry client of an authenticated HTTP request (see the routes'
// description above).
func RemoteOwner(r *http.Request) registry.Owner {
	c, _ := CallerFrom(r.Context())
	o := registry.Owner{UID: TokenUID, Admin: true, Exe: fmt.Sprintf("http:%s (%s)", cmp.Or(c.Name, "-"), r.RemoteAddr)}
	if c.Node {
		if on := r.Header.Get(forwardedHeader); on != "" && on != "-" {
			o.Exe = fmt.Sprintf("http:%s via %s", wire.Clip(on), c.Name)
		} else {
			o.UID = 0
		}
	}
	return o
}

// inSession is a route that works in a registry session of the caller's (closed when
// the request ends): f's answer is sent as JSON, or 204 No Content when it is nil; its
// error as registryError maps it.
func (h *registryRoutes) inSession(f func(s *registry.Session, r *http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := h.session(r)
		defer s.Close()
		v, err := f(s, r)
		switch {
		case err != nil:
			registryError(w, err)
		case v == nil:
			w.WriteHeader(http.StatusNoContent)
		default:
			WriteJSON(w, http.StatusOK, v)
		}
	}
}

// onKey is inSession for a route on the key named by the path parameter, which it opens
// with access for f.
func (h *registryRoutes) onKey(access uint32, f func(s *registry.Session, k registry.Handle, r *http.Request) (any, error)) http.HandlerFunc {
	return h.inSession(func(s *registry.Session, r *http.Request) (any, error) {
		k, err := h.open(s, r, access)
		if err != nil {
			return nil, err
		}
		return f(s, k, r)
	})
}

// open opens the key named by the path parameter.
func (h *registryRoutes) open(s *registry.Session, r *http.Request, access uint32) (registry.Handle, error) {
	p := r.URL.Query().Get("path")
	if p == "" {
		return 0, wire.BadRequest("missing path")
	}
	return s.OpenPathAccess(p, 0, access)
}

// registryError turns an engine error into an API error with its Windows code.
func registryError(w http.ResponseWriter, err error) {
	var inUse *registry.KeysInUseError
	if errors.As(err, &inUse) {
		detail, _ := json.Marshal(wire.RegistryInUse{Key: inUse.Key, Holders: apiHandles(inUse.Holders)})
		WriteError(w, &wire.Error{Status: http.StatusConflict, Code: uint32(registry.ERROR_ACCESS_DENIED), Message: errorMessage(err), Detail: detail})
		return
	}
	var errno registry.Errno
	if errors.As(err, &errno) {
		status := http.StatusBadRequest
		switch errno {
		case registry.ERROR_FILE_NOT_FOUND:
			status = http.StatusNotFound
		case registry.ERROR_ACCESS_DENIED:
			status = http.StatusForbidden
		}
		WriteError(w, &wire.Error{Status: status, Code: uint32(errno), Message: errorMessage(err)})
		return
	}
	WriteError(w, err)
}

func apiHandles(hs []registry.HandleInfo) []wire.RegistryHandle {
	out := make([]wire.RegistryHandle, len(hs))
	for i, x := range hs {
		out[i] = wire.RegistryHandle{ID: uint64(x.ID), PID: x.Owner.PID, UID: x.Owner.UID, Exe: x.Owner.Exe,
			OpenedAs: x.OpenedAs, Resolved: x.Resolved, Access: x.Access, Opened: x.Opened}
	}
	return out
}

func (h *registryRoutes) getKey(s *registry.Session, k registry.Handle, r *http.Request) (any, error) {
	vals, err := s.EnumValues(k)
	if err != nil {
		return nil, err
	}
	subs, err := s.EnumKeys(k)
	if err != nil {
		return nil, err
	}
	out := wire.RegistryKey{Values: make([]wire.RegistryValue, len(vals)), Subkeys: subs}
	if out.Subkeys == nil {
		out.Subkeys = []string{}
	}
	for i, v := range vals {
		out.Values[i] = wire.RegistryValue{Name: v.Name, Type: v.Type, Data: v.Data}
	}
	return out, nil
}

func (h *registryRoutes) createKey(s *registry.Session, r *http.Request) (any, error) {
	var in struct {
		Path string `json:"path"`
	}
	if err := ReadJSON(r, &in); err != nil {
		return nil, err
	}
	_, created, err := s.CreatePath(in.Path, registry.CreateOptions{Access: registry.KEY_ALL_ACCESS})
	if err != nil {
		return nil, err
	}
	return map[string]bool{"created": created}, nil
}

func (h *registryRoutes) deleteKey(s *registry.Session, r *http.Request) (any, error) {
	root, rest, err := registry.ParsePath(r.URL.Query().Get("path"))
	if err != nil {
		return nil, err
	}
	if rest == "" {
		return nil, &registry.OpError{Op: "delete tree", Key: registry.RootName(root), Err: fmt.Errorf("%w (a root key is never deleted)", registry.ERROR_ACCESS_DENIED)}
	}
	return nil, s.DeleteTree(root, rest)
}

func (h *registryRoutes) getValue(s *registry.Session, k registry.Handle, r *http.Request) (any, error) {
	name := r.URL.Query().Get("name")
	typ, data, err := s.QueryValue(k, name)
	if err != nil {
		return nil, err
	}
	return wire.RegistryValue{Name: name, Type: typ, Data: data}, nil
}

func (h *registryRoutes) setValue(s *registry.Session, r *http.Request) (any, error) {
	var in wire.RegistryValue
	if err := ReadJSON(r, &in); err != nil {
		return nil, err
	}
	k, err := s.OpenPathAccess(in.Path, 0, registry.KEY_SET_VALUE)
	if err != nil {
		return nil, err
	}
	return nil, s.SetValue(k, in.Name, in.Type, in.Data)
}

func (h *registryRoutes) deleteValue(s *registry.Session, k registry.Handle, r *http.Request) (any, error) {
	return nil, s.DeleteValue(k, r.URL.Query().Get("name"))
}

func boolParam(r *http.Request, name string) bool {
	b, _ := strconv.ParseBool(r.URL.Query().Get(name))
	return b
}

func (h *registryRoutes) handles(s *registry.Session, k registry.Handle, r *http.Request) (any, error) {
	hs, err := s.Handles(k, boolParam(r, "subtree"))
	if err != nil {
		return nil, err
	}
	// The request's own handle is not one the caller wants to see.
	out := apiHandles(hs)[:0:0]
	for _, x := range apiHandles(hs) {
		if x.ID != uint64(k) {
			out = append(out, x)
		}
	}
	return out, nil
}

func (h *registryRoutes) watch(w http.ResponseWriter, r *http.Request) {
	s := h.session(r)
	defer s.Close()
	k, err := h.open(s, r, registry.KEY_NOTIFY|registry.KEY_QUERY_VALUE)
	if err != nil {
		registryError(w, err)
		return
	}
	all := registry.REG_NOTIFY_CHANGE_NAME | registry.REG_NOTIFY_CHANGE_ATTRIBUTES | registry.REG_NOTIFY_CHANGE_LAST_SET | registry.REG_NOTIFY_CHANGE_SECURITY
	ch, err := s.Notify(r.Context(), k, boolParam(r, "subtree"), all)
	if err != nil {
		registryError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	enc := json.NewEncoder(w)
	for c := range ch {
		rch := wire.RegistryChange{Key: c.Key, Filter: c.Filter}
		if c.HasValue {
			rch.Value = &c.Value
		}
		if enc.Encode(rch) != nil || rc.Flush() != nil {
			return
		}
	}
}

func (h *registryRoutes) save(w http.ResponseWriter, r *http.Request) {
	s := h.session(r)
	defer s.Close()
	k, err := h.open(s, r, registry.KEY_READ)
	if err != nil {
		registryError(w, err)
		return
	}
	hive, err := regipc.SaveHive(s, k)
	if err != nil {
		registryError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(hive)))
	_, _ = w.Write(hive)
}

// Body limits of the registry routes: a hive sent to restore or load (as the registry
// socket's largest frame), and a value set by PUT (JSON, its data in base64: Windows
// itself advises values under 2 KB and stores large ones badly).
const (
	maxHive      = 256 << 20
	maxValueBody = 16 << 20
)

func readHive(r *http.Request) ([]byte, error) {
	b, err := ReadBody(r)
	if err != nil {
		return nil, fmt.Errorf("read hive: %w", err)
	}
	return b, nil
}

func (h *registryRoutes) restore(s *registry.Session, r *http.Request) (any, error) {
	hive, err := readHive(r)
	if err != nil {
		return nil, err
	}
	k, err := h.open(s, r, registry.KEY_ALL_ACCESS)
	if err != nil {
		return nil, err
	}
	var flags uint32
	if boolParam(r, "force") {
		flags = registry.REG_FORCE_RESTORE
	}
	return nil, regipc.RestoreHive(r.Context(), s, k, hive, flags)
}

func (h *registryRoutes) load(s *registry.Session, r *http.Request) (any, error) {
	hive, err := readHive(r)
	if err != nil {
		return nil, err
	}
	root, name, err := registry.ParsePath(r.URL.Query().Get("path"))
	if err != nil {
		return nil, err
	}
	return nil, regipc.LoadHive(s, root, name, hive, h.loadDir)
}

func (h *registryRoutes) unload(s *registry.Session, r *http.Request) (any, error) {
	root, name, err := registry.ParsePath(r.URL.Query().Get("path"))
	if err != nil {
		return nil, err
	}
	return nil, regipc.UnloadHive(s, root, name, h.loadDir)
}

func (h *registryRoutes) flush(s *registry.Session, r *http.Request) (any, error) {
	return nil, s.Flush(r.Context(), registry.HKEY_LOCAL_MACHINE)
}

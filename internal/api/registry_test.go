package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"wolfpack/internal/api"
	"wolfpack/internal/api/client"
	"wolfpack/internal/api/wire"
	"wolfpack/internal/registry"
)

func registryAPI(t *testing.T) (*client.Client, *registry.Registry) {
	t.Helper()
	reg := registry.OpenMemory(registry.Options{})
	t.Cleanup(func() { reg.Close() })
	srv := api.NewServer("tok", nil)
	api.RegisterRegistry(srv, reg, t.TempDir())
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return client.New(ts.URL, "tok", nil), reg
}

func TestRegistryRoutes(t *testing.T) {
	c, reg := registryAPI(t)
	ctx := context.Background()
	path := `HKLM\SYSTEM\CurrentControlSet\Services\X`
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}

	var created struct{ Created bool }
	if err := c.Do(ctx, http.MethodPost, "/v1/registry/key", map[string]string{"path": path}, &created); err != nil || !created.Created {
		t.Fatalf("create: %v %v", created, err)
	}
	val := wire.RegistryValue{Path: path, Name: "Port", Type: 4, Data: []byte{25, 0, 0, 0}}
	if err := c.Do(ctx, http.MethodPut, "/v1/registry/value", val, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctx, http.MethodPost, "/v1/registry/flush", nil, nil); err != nil {
		t.Fatal(err)
	}
	var key wire.RegistryKey
	if err := c.Do(ctx, http.MethodGet, "/v1/registry/key?"+q("path", `HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\X`), nil, &key); err != nil {
		t.Fatal(err)
	}
	if len(key.Values) != 1 || key.Values[0].Name != "Port" || key.Values[0].Data[0] != 25 || len(key.Subkeys) != 0 {
		t.Errorf("key through the link's target: %+v", key)
	}
	var v wire.RegistryValue
	if err := c.Do(ctx, http.MethodGet, "/v1/registry/value?"+q("path", path, "name", "port"), nil, &v); err != nil || v.Type != 4 {
		t.Errorf("value: %+v, %v", v, err)
	}

	// Missing keys and values are 404 with ERROR_FILE_NOT_FOUND.
	err := c.Do(ctx, http.MethodGet, "/v1/registry/key?"+q("path", `HKLM\SOFTWARE\Nope`), nil, &key)
	var ae *wire.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusNotFound || ae.Code != 2 {
		t.Errorf("missing key: %v", err)
	}
	if err := c.Do(ctx, http.MethodGet, "/v1/registry/value?"+q("path", path, "name", "nope"), nil, &v); !wire.IsCode(err, 2) {
		t.Errorf("missing value: %v", err)
	}
	if err := c.Do(ctx, http.MethodGet, "/v1/registry/key?"+q("path", `HKCU\Software`), nil, &key); !wire.IsCode(err, uint32(registry.ERROR_BADKEY)) {
		t.Errorf("unknown root: %v", err)
	}
	if err := c.Do(ctx, http.MethodDelete, "/v1/registry/key?"+q("path", "HKLM"), nil, nil); !wire.IsCode(err, 5) {
		t.Errorf("deleting a root: %v", err)
	}

	// A local client holds a handle; the API lists it (not its own), and a restore is
	// refused with 409 naming the holder.
	s := reg.NewSession(registry.Owner{PID: 4242, Exe: "winlogon"})
	defer s.Close()
	if _, err := s.OpenPath(`HKLM\SYSTEM\ControlSet001\Services\X`); err != nil {
		t.Fatal(err)
	}
	var hs []wire.RegistryHandle
	if err := c.Do(ctx, http.MethodGet, "/v1/registry/handles?"+q("path", path, "subtree", "1"), nil, &hs); err != nil {
		t.Fatal(err)
	}
	if len(hs) != 1 || hs[0].PID != 4242 || hs[0].Exe != "winlogon" {
		t.Fatalf("handles: %+v", hs)
	}
	var hive []byte
	if err := c.Do(ctx, http.MethodGet, "/v1/registry/save?"+q("path", path), nil, &hive); err != nil || len(hive) < 4096 || string(hive[:4]) != "regf" {
		t.Fatalf("save: %d bytes, %v", len(hive), err)
	}
	err = c.Do(ctx, http.MethodPost, "/v1/registry/restore?"+q("path", path), hive, nil)
	if !errors.As(err, &ae) || ae.Status != http.StatusConflict || ae.Code != 5 {
		t.Fatalf("restore with a holder: %v", err)
	}
	var inUse wire.RegistryInUse
	if err := json.Unmarshal(ae.Detail, &inUse); err != nil || len(inUse.Holders) != 1 || inUse.Holders[0].Exe != "winlogon" {
		t.Errorf("restore conflict detail: %s (%v)", ae.Detail, err)
	}
	if err := c.Do(ctx, http.MethodPost, "/v1/registry/restore?"+q("path", path, "force", "1"), hive, nil); err != nil {
		t.Errorf("forced restore: %v", err)
	}

	if err := c.Do(ctx, http.MethodDelete, "/v1/registry/value?"+q("path", path, "name", "Port"), nil, nil); err != nil {
		t.Error(err)
	}
	if err := c.Do(ctx, http.MethodDelete, "/v1/registry/key?"+q("path", path), nil, nil); err != nil {
		t.Error(err)
	}
	if err := c.Do(ctx, http.MethodGet, "/v1/registry/key?"+q("path", path), nil, &key); !wire.IsCode(err, 2) {
		t.Errorf("deleted key: %v", err)
	}
}

// tokens is an Authenticator with fixed tokens.
type tokens map[string]api.Caller

func (f tokens) Authenticate(_ context.Context, tok string) (api.Caller, error) {
	if c, ok := f[tok]; ok {
		return c, nil
	}
	return api.Caller{}, api.ErrUnknownToken
}

// TestRegistryHoldersNameTheCaller: a handle opened through the API belongs to the
// request's authenticated caller — "http:<token name>" with uid TokenUID for a named
// token, uid 0 for a node's own token, the caller a node names when it forwards — and
// that is what a refused restore reports as its holders. A named Full token still acts
// as an administrator in the keys' descriptors: its keys get the same descriptor as
// root's.
func TestRegistryHoldersNameTheCaller(t *testing.T) {
	reg := registry.OpenMemory(registry.Options{})
	t.Cleanup(func() { reg.Close() })
	srv := api.New(api.ServerOptions{NodeName: "N1", NodeToken: "n1-secret"})
	srv.SetAuthenticator(tokens{
		"ops-secret": {Name: "ops", Level: wire.LevelFull},
		"mon-secret": {Name: "monitoring", Level: wire.LevelReadOnly},
		"n2-secret":  {Name: "node:N2", Level: wire.LevelFull, Node: true},
	})
	api.RegisterRegistry(srv, reg, t.TempDir())
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const parent = `HKLM\SOFTWARE\Held`

	// Keys made by root locally and by the ops token remotely get the same descriptor.
	root := reg.NewSession(registry.Owner{Exe: "test"})
	defer root.Close()
	if _, _, err := root.CreatePath(parent+`\ByRoot`, registry.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ops := client.New(ts.URL, "ops-secret", nil)
	if err := ops.Do(ctx, http.MethodPost, "/v1/registry/key", map[string]string{"path": parent + `\ByToken`}, nil); err != nil {
		t.Fatalf("create with a Full token: %v", err)
	}
	sd := func(path string) string {
		h, err := root.OpenPath(path)
		if err != nil {
			t.Fatal(err)
		}
		defer root.CloseKey(h)
		b, err := root.GetSecurity(h, 7)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if sd(parent+`\ByToken`) != sd(parent+`\ByRoot`) {
		t.Errorf("a key created with a Full token has another descriptor than root's")
	}

	// Watches hold a handle on the key for as long as their stream is open.
	watch := func(token, forwardedFor string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/v1/registry/watch?"+url.Values{"path": {parent}}.Encode(), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if forwardedFor != "" {
			req.Header.Set("X-Wolfpack-Forwarded", forwardedFor)
		}
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("watch with %s: %s", token, resp.Status)
		}
		t.Cleanup(func() { resp.Body.Close() })
	}
	watch("ops-secret", "")
	watch("mon-secret", "")
	watch("n1-secret", "")
	watch("n2-secret", "alice")
	watch("n2-secret", "")

	type holder struct {
		exe string
		uid int
	}
	want := []holder{
		{"http:ops (", api.TokenUID},
		{"http:monitoring (", api.TokenUID},
		{"http:node:N1 (", 0},
		{"http:alice via node:N2", api.TokenUID},
		{"http:node:N2 (", 0},
	}
	check := func(what string, got []holder) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d holders %+v, want %d", what, len(got), got, len(want))
		}
		for i, w := range want {
			if !strings.HasPrefix(got[i].exe, w.exe) || got[i].uid != w.uid {
				t.Errorf("%s: holder %d is %q uid %d, want %q… uid %d", what, i, got[i].exe, got[i].uid, w.exe, w.uid)
			}
		}
	}
	var hs []wire.RegistryHandle
	if err := client.New(ts.URL, "mon-secret", nil).Do(ctx, http.MethodGet, "/v1/registry/handles?"+url.Values{"path": {parent}}.Encode(), nil, &hs); err != nil {
		t.Fatal(err)
	}
	var listed []holder
	for _, h := range hs {
		listed = append(listed, holder{h.Exe, h.UID})
	}
	check("GET /v1/registry/handles", listed)

	// A restore refused by those handles names the same holders (as event 1024 will).
	h, err := root.OpenPath(parent)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := root.Save(h, 5)
	if err != nil {
		t.Fatal(err)
	}
	var inUse *registry.KeysInUseError
	if err := root.Restore(ctx, h, saved, 0); !errors.As(err, &inUse) {
		t.Fatalf("restore under the watches' handles: %v", err)
	}
	var refused []holder
	for _, hi := range inUse.Holders {
		refused = append(refused, holder{hi.Owner.Exe, hi.Owner.UID})
	}
	check("KeysInUseError", refused)
}

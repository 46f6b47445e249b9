package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"wolfpack/internal/api"
	"wolfpack/internal/registry"
)

func registryAPI(t *testing.T) (*api.Client, *registry.Registry) {
	t.Helper()
	reg := registry.OpenMemory(registry.Options{})
	t.Cleanup(func() { reg.Close() })
	srv := api.NewServer("tok", nil)
	api.RegisterRegistry(srv, reg, t.TempDir())
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return api.NewClient(ts.URL, "tok", nil), reg
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
	val := api.RegistryValue{Path: path, Name: "Port", Type: 4, Data: []byte{25, 0, 0, 0}}
	if err := c.Do(ctx, http.MethodPut, "/v1/registry/value", val, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctx, http.MethodPost, "/v1/registry/flush", nil, nil); err != nil {
		t.Fatal(err)
	}
	var key api.RegistryKey
	if err := c.Do(ctx, http.MethodGet, "/v1/registry/key?"+q("path", `HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\X`), nil, &key); err != nil {
		t.Fatal(err)
	}
	if len(key.Values) != 1 || key.Values[0].Name != "Port" || key.Values[0].Data[0] != 25 || len(key.Subkeys) != 0 {
		t.Errorf("key through the link's target: %+v", key)
	}
	var v api.RegistryValue
	if err := c.Do(ctx, http.MethodGet, "/v1/registry/value?"+q("path", path, "name", "port"), nil, &v); err != nil || v.Type != 4 {
		t.Errorf("value: %+v, %v", v, err)
	}

	// Missing keys and values are 404 with ERROR_FILE_NOT_FOUND.
	err := c.Do(ctx, http.MethodGet, "/v1/registry/key?"+q("path", `HKLM\SOFTWARE\Nope`), nil, &key)
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusNotFound || ae.Code != 2 {
		t.Errorf("missing key: %v", err)
	}
	if err := c.Do(ctx, http.MethodGet, "/v1/registry/value?"+q("path", path, "name", "nope"), nil, &v); !api.IsCode(err, 2) {
		t.Errorf("missing value: %v", err)
	}
	if err := c.Do(ctx, http.MethodGet, "/v1/registry/key?"+q("path", `HKCU\Software`), nil, &key); !api.IsCode(err, uint32(registry.ERROR_BADKEY)) {
		t.Errorf("unknown root: %v", err)
	}
	if err := c.Do(ctx, http.MethodDelete, "/v1/registry/key?"+q("path", "HKLM"), nil, nil); !api.IsCode(err, 5) {
		t.Errorf("deleting a root: %v", err)
	}

	// A local client holds a handle; the API lists it (not its own), and a restore is
	// refused with 409 naming the holder.
	s := reg.NewSession(registry.Owner{PID: 4242, Exe: "winlogon"})
	defer s.Close()
	if _, err := s.OpenPath(`HKLM\SYSTEM\ControlSet001\Services\X`); err != nil {
		t.Fatal(err)
	}
	var hs []api.RegistryHandle
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
	var inUse api.RegistryInUse
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
	if err := c.Do(ctx, http.MethodGet, "/v1/registry/key?"+q("path", path), nil, &key); !api.IsCode(err, 2) {
		t.Errorf("deleted key: %v", err)
	}
}

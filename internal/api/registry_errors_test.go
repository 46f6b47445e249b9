package api_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"wolfpack/internal/api/wire"
)

// TestRegistryRouteErrors: every failure of the registry routes is a JSON error with
// the HTTP status, the Windows code and a message that names the key and the cause.
func TestRegistryRouteErrors(t *testing.T) {
	c, _ := registryAPI(t)
	ctx := context.Background()
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return "?" + v.Encode()
	}
	if err := c.Do(ctx, http.MethodPost, "/v1/registry/key", map[string]string{"path": `HKLM\SOFTWARE\E`}, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		code               uint32
		message            string
	}{
		{"get a missing key", "GET", "/v1/registry/key" + q("path", `HKLM\SOFTWARE\Nope`), nil, 404, 2, `registry: open HKEY_LOCAL_MACHINE\SOFTWARE\Nope: The system cannot find the file specified.`},
		{"get under an unknown root", "GET", "/v1/registry/key" + q("path", `HKCU\X`), nil, 400, 1010, `registry: parse path HKCU\X: The configuration registry key is invalid.`},
		{"create with a bad body", "POST", "/v1/registry/key", []byte("{"), 400, 87, "bad request body: unexpected EOF"},
		{"create a name too long", "POST", "/v1/registry/key", map[string]string{"path": `HKLM\SOFTWARE\` + longName}, 400, 87, "key name length 280 exceeds the limit of 255: The parameter is incorrect."},
		{"delete a root", "DELETE", "/v1/registry/key" + q("path", `HKLM`), nil, 403, 5, `registry: delete tree HKEY_LOCAL_MACHINE: Access is denied. (a root key is never deleted)`},
		{"delete a missing key", "DELETE", "/v1/registry/key" + q("path", `HKLM\SOFTWARE\Nope`), nil, 404, 2, `registry: delete tree HKEY_LOCAL_MACHINE\SOFTWARE\Nope: The system cannot find the file specified.`},
		{"get a missing value", "GET", "/v1/registry/value" + q("path", `HKLM\SOFTWARE\E`, "name", "nope"), nil, 404, 2, `registry: query value HKEY_LOCAL_MACHINE\SOFTWARE\E value "nope": The system cannot find the file specified.`},
		{"set a value with a bad body", "PUT", "/v1/registry/value", []byte("[]"), 400, 87, "bad request body: json: cannot unmarshal array"},
		{"set a value on a missing key", "PUT", "/v1/registry/value", wire.RegistryValue{Path: `HKLM\SOFTWARE\Nope`, Name: "v", Type: 1}, 404, 2, `registry: open HKEY_LOCAL_MACHINE\SOFTWARE\Nope: The system cannot find the file specified.`},
		{"delete a missing value", "DELETE", "/v1/registry/value" + q("path", `HKLM\SOFTWARE\E`, "name", "nope"), nil, 404, 2, `registry: delete value HKEY_LOCAL_MACHINE\SOFTWARE\E value "nope": The system cannot find the file specified.`},
		{"handles of a missing key", "GET", "/v1/registry/handles" + q("path", `HKLM\SOFTWARE\Nope`), nil, 404, 2, `registry: open HKEY_LOCAL_MACHINE\SOFTWARE\Nope: The system cannot find the file specified.`},
		{"watch a missing key", "GET", "/v1/registry/watch" + q("path", `HKLM\SOFTWARE\Nope`), nil, 404, 2, `registry: open HKEY_LOCAL_MACHINE\SOFTWARE\Nope: The system cannot find the file specified.`},
		{"save a missing key", "GET", "/v1/registry/save" + q("path", `HKLM\SOFTWARE\Nope`), nil, 404, 2, `registry: open HKEY_LOCAL_MACHINE\SOFTWARE\Nope: The system cannot find the file specified.`},
		{"restore garbage", "POST", "/v1/registry/restore" + q("path", `HKLM\SOFTWARE\E`), []byte("not a hive"), 400, 1017, `registry: restore HKEY_LOCAL_MACHINE\SOFTWARE\E: The system has attempted to load or restore a file into the registry, but the specified file is not in a registry file format. (hive: file smaller than a base block: 10 at offset 0x0)`},
		{"restore a missing key", "POST", "/v1/registry/restore" + q("path", `HKLM\SOFTWARE\Nope`), []byte("not a hive"), 404, 2, `registry: open HKEY_LOCAL_MACHINE\SOFTWARE\Nope: The system cannot find the file specified.`},
		{"load garbage", "POST", "/v1/registry/load" + q("path", `HKLM\Mnt`), []byte("not a hive"), 400, 1017, `registry: load HKEY_LOCAL_MACHINE\Mnt: The system has attempted to load or restore a file into the registry, but the specified file is not in a registry file format.`},
		{"load below a key", "POST", "/v1/registry/load" + q("path", `HKLM\SOFTWARE\Mnt`), []byte("not a hive"), 400, 87, `registry: load HKEY_LOCAL_MACHINE\SOFTWARE\Mnt: The parameter is incorrect. (a hive is loaded as a direct subkey of HKLM or HKU)`},
		{"load over an existing key", "POST", "/v1/registry/load" + q("path", `HKLM\SOFTWARE`), []byte("not a hive"), 400, 183, `registry: load HKEY_LOCAL_MACHINE\SOFTWARE: Cannot create a file when that file already exists. (the key exists)`},
		{"unload what is not loaded", "POST", "/v1/registry/unload" + q("path", `HKLM\SOFTWARE`), nil, 400, 87, `registry: unload HKEY_LOCAL_MACHINE\SOFTWARE: The parameter is incorrect.`},
		{"unload a missing key", "POST", "/v1/registry/unload" + q("path", `HKLM\Nope`), nil, 404, 2, `registry: unload HKEY_LOCAL_MACHINE\Nope: The system cannot find the file specified.`},
	} {
		err := c.Do(ctx, tc.method, tc.path, tc.body, nil)
		var ae *wire.Error
		if !errors.As(err, &ae) {
			t.Errorf("%s: %v, want an *wire.Error", tc.name, err)
			continue
		}
		if ae.Status != tc.status || ae.Code != tc.code || !strings.Contains(ae.Message, tc.message) {
			t.Errorf("%s: status %d code %d %q, want %d %d %q", tc.name, ae.Status, ae.Code, ae.Message, tc.status, tc.code, tc.message)
		}
	}
}

var longName = strings.Repeat("k", 280)

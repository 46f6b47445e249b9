package regcmd

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"wolfpack/internal/api/client"
	"wolfpack/internal/api/wire"
	"wolfpack/registry"
)

// remoteStore is another node, through its HTTP API's /v1/registry routes. Each call is
// stateless: the node opens and closes its handles within the request.
type remoteStore struct {
	c   *client.Client
	ctx context.Context
}

func (s *remoteStore) query(k KeyName, extra ...string) string {
	q := url.Values{"path": {remotePath(k)}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return q.Encode()
}

// remotePath is the key's path on its node (without the \\NODE\ prefix).
func remotePath(k KeyName) string {
	k.Node = ""
	return k.String()
}

// remoteError turns an API error back into the registry error it carries.
func remoteError(err error) error {
	var ae *wire.Error
	if !errors.As(err, &ae) || ae.Code == 0 {
		return err
	}
	if len(ae.Detail) > 0 {
		var d wire.RegistryInUse
		if json.Unmarshal(ae.Detail, &d) == nil && len(d.Holders) > 0 {
			e := &registry.KeysInUseError{Key: d.Key}
			for _, h := range d.Holders {
				e.Holders = append(e.Holders, registry.HandleInfo{ID: h.ID, PID: h.PID, UID: h.UID, Exe: h.Exe,
					OpenedAs: h.OpenedAs, Resolved: h.Resolved, Access: h.Access, Opened: h.Opened})
			}
			return e
		}
	}
	return registry.Errno(ae.Code)
}

func (s *remoteStore) do(method, path string, in, out any) error {
	return remoteError(s.c.Do(s.ctx, method, path, in, out))
}

func (s *remoteStore) ReadKey(k KeyName) (*KeyData, error) {
	var rk wire.RegistryKey
	if err := s.do(http.MethodGet, "/v1/registry/key?"+s.query(k), nil, &rk); err != nil {
		return nil, err
	}
	kd := &KeyData{Subkeys: rk.Subkeys}
	for _, v := range rk.Values {
		kd.Values = append(kd.Values, registry.Value{Name: v.Name, Type: v.Type, Data: v.Data})
	}
	return kd, nil
}

func (s *remoteStore) QueryValue(k KeyName, name string) (registry.Value, error) {
	var v wire.RegistryValue
	if err := s.do(http.MethodGet, "/v1/registry/value?"+s.query(k, "name", name), nil, &v); err != nil {
		return registry.Value{}, err
	}
	return registry.Value{Name: v.Name, Type: v.Type, Data: v.Data}, nil
}

func (s *remoteStore) CreateKey(k KeyName) (bool, error) {
	var out struct {
		Created bool `json:"created"`
	}
	err := s.do(http.MethodPost, "/v1/registry/key", map[string]string{"path": remotePath(k)}, &out)
	return out.Created, err
}

func (s *remoteStore) SetValue(k KeyName, name string, typ uint32, data []byte) error {
	return s.do(http.MethodPut, "/v1/registry/value", wire.RegistryValue{Path: remotePath(k), Name: name, Type: typ, Data: data}, nil)
}

func (s *remoteStore) DeleteValue(k KeyName, name string) error {
	return s.do(http.MethodDelete, "/v1/registry/value?"+s.query(k, "name", name), nil, nil)
}

func (s *remoteStore) DeleteKey(k KeyName) error {
	return s.do(http.MethodDelete, "/v1/registry/key?"+s.query(k), nil, nil)
}

// LinkTarget is not known through the API: the node refuses a delete through a link
// all the same.
func (s *remoteStore) LinkTarget(k KeyName) (string, bool, error) { return "", false, nil }

func (s *remoteStore) DeleteLink(k KeyName) error {
	return errors.New("reg delete /link works on the local node only")
}

func (s *remoteStore) Handles(k KeyName, subtree bool) ([]registry.HandleInfo, error) {
	var hs []wire.RegistryHandle
	if err := s.do(http.MethodGet, "/v1/registry/handles?"+s.query(k, "subtree", boolString(subtree)), nil, &hs); err != nil {
		return nil, err
	}
	out := make([]registry.HandleInfo, len(hs))
	for i, h := range hs {
		out[i] = registry.HandleInfo{ID: h.ID, PID: h.PID, UID: h.UID, Exe: h.Exe,
			OpenedAs: h.OpenedAs, Resolved: h.Resolved, Access: h.Access, Opened: h.Opened}
	}
	return out, nil
}

func (s *remoteStore) Watch(ctx context.Context, k KeyName, subtree bool) (<-chan registry.Change, error) {
	body, err := s.c.Stream(ctx, "/v1/registry/watch?"+s.query(k, "subtree", boolString(subtree)))
	if err != nil {
		return nil, remoteError(err)
	}
	ch := make(chan registry.Change, 64)
	go func() {
		defer close(ch)
		defer body.Close()
		sc := bufio.NewScanner(body)
		for sc.Scan() {
			var c wire.RegistryChange
			if json.Unmarshal(sc.Bytes(), &c) != nil {
				return
			}
			select {
			case ch <- remoteChange(c):
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}

func (s *remoteStore) Save(k KeyName) ([]byte, error) {
	var hive []byte
	err := s.do(http.MethodGet, "/v1/registry/save?"+s.query(k), nil, &hive)
	return hive, err
}

func (s *remoteStore) Restore(k KeyName, hive []byte, force bool) error {
	return s.do(http.MethodPost, "/v1/registry/restore?"+s.query(k, "force", boolString(force)), hive, nil)
}

func (s *remoteStore) Load(k KeyName, file string, read func(string) ([]byte, error)) error {
	hive, err := read(file)
	if err != nil {
		return err
	}
	return s.do(http.MethodPost, "/v1/registry/load?"+s.query(k), hive, nil)
}

func (s *remoteStore) Unload(k KeyName) error {
	return s.do(http.MethodPost, "/v1/registry/unload?"+s.query(k), nil, nil)
}

func (s *remoteStore) GetSecurity(k KeyName) (registry.SecurityDescriptor, error) {
	var out wire.RegistrySecurity
	q := s.query(k, "info", strconv.FormatUint(ownerGroupDACL, 10))
	if err := s.do(http.MethodGet, "/v1/registry/security?"+q, nil, &out); err != nil {
		return nil, err
	}
	return out.SD, nil
}

func (s *remoteStore) SetSecurity(k KeyName, info uint32, sd registry.SecurityDescriptor) error {
	return s.do(http.MethodPut, "/v1/registry/security", wire.RegistrySecurity{Path: remotePath(k), Info: info, SD: sd}, nil)
}

func (s *remoteStore) Flush() error {
	return s.do(http.MethodPost, "/v1/registry/flush", nil, nil)
}

func (s *remoteStore) Close() error { return nil }

func boolString(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func remoteChange(c wire.RegistryChange) registry.Change {
	ch := registry.Change{Key: c.Key, Filter: c.Filter}
	if c.Value != nil {
		ch.Value, ch.HasValue = *c.Value, true
	}
	return ch
}

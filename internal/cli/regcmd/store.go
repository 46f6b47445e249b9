package regcmd

import (
	"context"
	"errors"
	"strings"

	"wolfpack/internal/utf16le"
	"wolfpack/registry"
)

// Store is what the commands need from a node's registry, by path; the local node is
// reached through its socket (localStore), another node through its HTTP API
// (remoteStore). Errors are registry.Errno values where Windows has a code.
type Store interface {
	ReadKey(k KeyName) (*KeyData, error) // values in stored order, subkey names
	QueryValue(k KeyName, name string) (registry.Value, error)
	CreateKey(k KeyName) (created bool, err error)
	SetValue(k KeyName, name string, typ uint32, data []byte) error
	DeleteValue(k KeyName, name string) error
	DeleteKey(k KeyName) error // the key and everything below it
	// LinkTarget says whether the last component of k is a symbolic link, and its
	// target (HKEY_LOCAL_MACHINE\…); DeleteLink deletes such a link itself.
	LinkTarget(k KeyName) (target string, isLink bool, err error)
	DeleteLink(k KeyName) error
	Handles(k KeyName, subtree bool) ([]registry.HandleInfo, error)
	Watch(ctx context.Context, k KeyName, subtree bool) (<-chan registry.Change, error)
	Save(k KeyName) ([]byte, error)
	Restore(k KeyName, hive []byte, force bool) error
	// Load mounts the hive file (an absolute path): the local node mounts it in place,
	// a remote one gets its bytes, read by read.
	Load(k KeyName, file string, read func(string) ([]byte, error)) error
	Unload(k KeyName) error
	// GetSecurity returns the key's owner, group and DACL; SetSecurity sets the parts
	// info (SECURITY_INFORMATION) names.
	GetSecurity(k KeyName) (registry.SecurityDescriptor, error)
	SetSecurity(k KeyName, info uint32, sd registry.SecurityDescriptor) error
	Flush() error // make every write so far durable (RegFlushKey)
	Close() error
}

// KeyData is one key's content.
type KeyData struct {
	Values  []registry.Value
	Subkeys []string
}

// localStore is the local node, through a registry connection.
type localStore struct{ c *registry.Conn }

func (s localStore) root(k KeyName) registry.Key {
	if k.Root == HKU {
		return s.c.Users()
	}
	return s.c.LocalMachine()
}

func (s localStore) open(k KeyName, access uint32) (registry.Key, error) {
	return registry.OpenKey(s.root(k), k.Path, access)
}

func (s localStore) ReadKey(k KeyName) (*KeyData, error) {
	key, err := s.open(k, registry.READ)
	if err != nil {
		return nil, err
	}
	defer key.Close()
	vals, err := key.ReadValues()
	if err != nil {
		return nil, err
	}
	subs, err := key.ReadSubKeyNames(0)
	if err != nil {
		return nil, err
	}
	return &KeyData{Values: vals, Subkeys: subs}, nil
}

func (s localStore) QueryValue(k KeyName, name string) (registry.Value, error) {
	key, err := s.open(k, registry.QUERY_VALUE)
	if err != nil {
		return registry.Value{}, err
	}
	defer key.Close()
	buf := make([]byte, 256)
	n, typ, err := key.GetValue(name, buf)
	if errors.Is(err, registry.ErrShortBuffer) {
		buf = make([]byte, n)
		n, typ, err = key.GetValue(name, buf)
	}
	if err != nil {
		return registry.Value{}, err
	}
	return registry.Value{Name: name, Type: typ, Data: buf[:n]}, nil
}

func (s localStore) CreateKey(k KeyName) (bool, error) {
	// MAXIMUM_ALLOWED: an existing key opens with whatever its descriptor grants; the
	// calls that follow ask for what they need.
	key, existed, err := registry.CreateKey(s.root(k), k.Path, registry.MAXIMUM_ALLOWED)
	if err != nil {
		return false, err
	}
	return !existed, key.Close()
}

func (s localStore) SetValue(k KeyName, name string, typ uint32, data []byte) error {
	key, err := s.open(k, registry.SET_VALUE)
	if err != nil {
		return err
	}
	defer key.Close()
	return key.SetValue(name, typ, data)
}

func (s localStore) DeleteValue(k KeyName, name string) error {
	key, err := s.open(k, registry.SET_VALUE)
	if err != nil {
		return err
	}
	defer key.Close()
	return key.DeleteValue(name)
}

func (s localStore) DeleteKey(k KeyName) error {
	return registry.DeleteTree(s.root(k), k.Path)
}

func (s localStore) LinkTarget(k KeyName) (string, bool, error) {
	key, err := registry.OpenKeyEx(s.root(k), k.Path, registry.REG_OPTION_OPEN_LINK, registry.QUERY_VALUE)
	if err != nil {
		return "", false, err
	}
	defer key.Close()
	buf := make([]byte, 2048)
	n, typ, err := key.GetValue("SymbolicLinkValue", buf)
	if err != nil || typ != registry.LINK {
		return "", false, nil
	}
	return linkTargetName(buf[:min(n, len(buf))]), true, nil
}

func (s localStore) DeleteLink(k KeyName) error {
	key, err := registry.OpenKeyEx(s.root(k), k.Path, registry.REG_OPTION_OPEN_LINK, registry.ALL_ACCESS)
	if err != nil {
		return err
	}
	defer key.Close()
	if _, isLink, err := s.LinkTarget(k); err != nil {
		return err
	} else if !isLink {
		return &notLinkError{key: k.String()}
	}
	return registry.DeleteKey(key, "")
}

// linkTargetName turns a link's target (UTF-16LE \REGISTRY\MACHINE\…) into the
// name reg prints (HKEY_LOCAL_MACHINE\…).
func linkTargetName(b []byte) string {
	t := strings.TrimRight(utf16le.Decode(b), "\x00")
	for _, p := range []struct{ from, to string }{{`\REGISTRY\MACHINE`, "HKEY_LOCAL_MACHINE"}, {`\REGISTRY\USER`, "HKEY_USERS"}} {
		if len(t) >= len(p.from) && strings.EqualFold(t[:len(p.from)], p.from) {
			return p.to + t[len(p.from):]
		}
	}
	return t
}

func (s localStore) Handles(k KeyName, subtree bool) ([]registry.HandleInfo, error) {
	key, err := s.open(k, registry.QUERY_VALUE)
	if err != nil {
		return nil, err
	}
	defer key.Close()
	return key.Handles(subtree)
}

func (s localStore) Watch(ctx context.Context, k KeyName, subtree bool) (<-chan registry.Change, error) {
	key, err := s.open(k, registry.NOTIFY|registry.QUERY_VALUE)
	if err != nil {
		return nil, err
	}
	// The handle stays open while watching: that is the point of reg watch.
	return key.Notify(ctx, subtree, registry.REG_NOTIFY_ALL)
}

func (s localStore) Save(k KeyName) ([]byte, error) {
	key, err := s.open(k, registry.READ)
	if err != nil {
		return nil, err
	}
	defer key.Close()
	return key.SaveBytes()
}

func (s localStore) Walk(k KeyName, f func(*registry.TreeKey) error) error {
	key, err := s.open(k, registry.READ)
	if err != nil {
		return err
	}
	defer key.Close()
	return key.Walk(f)
}

func (s localStore) Restore(k KeyName, hive []byte, force bool) error {
	key, err := s.open(k, registry.ALL_ACCESS)
	if err != nil {
		return err
	}
	defer key.Close()
	var flags uint32
	if force {
		flags = registry.REG_FORCE_RESTORE
	}
	return key.RestoreBytes(hive, flags)
}

func (s localStore) Load(k KeyName, file string, _ func(string) ([]byte, error)) error {
	return registry.LoadKey(s.root(k), k.Path, file)
}

func (s localStore) Unload(k KeyName) error {
	return registry.UnloadKey(s.root(k), k.Path)
}

func (s localStore) GetSecurity(k KeyName) (registry.SecurityDescriptor, error) {
	key, err := s.open(k, registry.READ_CONTROL)
	if err != nil {
		return nil, err
	}
	defer key.Close()
	return key.GetKeySecurity(ownerGroupDACL)
}

func (s localStore) SetSecurity(k KeyName, info uint32, sd registry.SecurityDescriptor) error {
	key, err := s.open(k, securityAccess(info))
	if err != nil {
		return err
	}
	defer key.Close()
	return key.SetKeySecurity(info, sd)
}

// ownerGroupDACL is what reg acl shows: everything but the SACL.
const ownerGroupDACL = registry.OWNER_SECURITY_INFORMATION | registry.GROUP_SECURITY_INFORMATION | registry.DACL_SECURITY_INFORMATION

// securityAccess is the access SetKeySecurity of the parts info names needs.
func securityAccess(info uint32) uint32 {
	var need uint32
	if info&(registry.OWNER_SECURITY_INFORMATION|registry.GROUP_SECURITY_INFORMATION) != 0 {
		need |= registry.WRITE_OWNER
	}
	if info&registry.DACL_SECURITY_INFORMATION != 0 {
		need |= registry.WRITE_DAC
	}
	if need == 0 {
		need = registry.READ_CONTROL
	}
	return need
}

func (s localStore) Flush() error { return s.c.LocalMachine().Flush() }

func (s localStore) Close() error { return s.c.Close() }

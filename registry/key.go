package registry

import (
	"io"
	"time"

	"wolfpack/internal/regipc/wire"
)

// Access rights of a key handle, as in x/sys/windows/registry.
const (
	ALL_ACCESS         = 0xf003f
	CREATE_LINK        = 0x00020
	CREATE_SUB_KEY     = 0x00004
	ENUMERATE_SUB_KEYS = 0x00008
	EXECUTE            = 0x20019
	NOTIFY             = 0x00010
	QUERY_VALUE        = 0x00001
	READ               = 0x20019
	SET_VALUE          = 0x00002
	WOW64_32KEY        = 0x00200
	WOW64_64KEY        = 0x00100
	WRITE              = 0x20006
)

// Options of OpenKeyEx and CreateKeyEx (REG_OPTION_*).
const (
	REG_OPTION_NON_VOLATILE = 0x0
	REG_OPTION_VOLATILE     = 0x1 // the key is never persisted
	REG_OPTION_CREATE_LINK  = 0x2 // the key is a symbolic link (set its SymbolicLinkValue)
	REG_OPTION_OPEN_LINK    = 0x8 // open the link key itself, not its target
)

const (
	hkeyClassesRoot     = 0x80000000
	hkeyCurrentUser     = 0x80000001
	hkeyLocalMachine    = 0x80000002
	hkeyUsers           = 0x80000003
	hkeyPerformanceData = 0x80000004
	hkeyCurrentConfig   = 0x80000005
)

// Key is a handle to an open key on a connection. The zero Key is no key.
type Key struct {
	c *Conn
	h uint64
}

// The predefined keys. Used as they are, they live on the default connection (see
// Default); Conn.Key, Conn.LocalMachine and Conn.Users bind them to another.
//
// A Wolfpack node has HKEY_LOCAL_MACHINE and HKEY_USERS only. The other predefined keys
// exist so that ported code compiles; the node answers every call on them with
// ERROR_INVALID_HANDLE.
var (
	LOCAL_MACHINE    = Key{h: hkeyLocalMachine}
	USERS            = Key{h: hkeyUsers}
	CLASSES_ROOT     = Key{h: hkeyClassesRoot}
	CURRENT_USER     = Key{h: hkeyCurrentUser}
	CURRENT_CONFIG   = Key{h: hkeyCurrentConfig}
	PERFORMANCE_DATA = Key{h: hkeyPerformanceData}
)

func (k Key) predefined() bool { return k.h >= hkeyClassesRoot && k.h <= hkeyCurrentConfig }

// OpenRemoteKey is x/sys's RegConnectRegistry. With pcname "" it returns k (on the default
// connection); other nodes are not reached through this socket but through their HTTP API
// (reg \\NODE\...), so any other name is ERROR_BAD_NETPATH.
func OpenRemoteKey(pcname string, k Key) (Key, error) {
	if pcname != "" {
		return Key{}, ERROR_BAD_NETPATH
	}
	return k.bind()
}

func (k Key) conn() (*Conn, error) {
	if k.c != nil {
		return k.c, nil
	}
	if !k.predefined() {
		return nil, ERROR_INVALID_HANDLE
	}
	return Default()
}

// Handle is the key's handle number on its connection.
func (k Key) Handle() uint64 { return k.h }

// Conn is the connection the key lives on (nil for an unbound predefined key).
func (k Key) Conn() *Conn { return k.c }

func (k Key) call(req *wire.Request, decode func(*wire.Decoder)) error {
	c, err := k.conn()
	if err != nil {
		return err
	}
	req.Handle = k.h
	return c.roundTrip(req, decode)
}

// bind is the key with its connection resolved, so that keys opened from an unbound
// predefined key live on the default connection.
func (k Key) bind() (Key, error) {
	c, err := k.conn()
	k.c = c
	return k, err
}

// Close closes the handle. Closing a predefined key does nothing, as on Windows.
func (k Key) Close() error {
	if k.predefined() {
		return nil
	}
	return k.call(&wire.Request{Op: wire.OpCloseKey}, nil)
}

// OpenKey opens the key at path below k with the given access (RegOpenKeyEx).
func OpenKey(k Key, path string, access uint32) (Key, error) {
	return OpenKeyEx(k, path, 0, access)
}

// OpenKeyEx is OpenKey with options; REG_OPTION_OPEN_LINK opens a link key itself.
func OpenKeyEx(k Key, path string, options, access uint32) (Key, error) {
	k, err := k.bind()
	if err != nil {
		return Key{}, err
	}
	var h uint64
	err = k.call(&wire.Request{Op: wire.OpOpenKey, Name: path, Flags: options, Access: access},
		func(d *wire.Decoder) { h = d.U64() })
	if err != nil {
		return Key{}, err
	}
	return Key{c: k.c, h: h}, nil
}

// CreateKey creates the key at path below k, or opens it when it exists
// (RegCreateKeyEx); openedExisting says which.
func CreateKey(k Key, path string, access uint32) (newk Key, openedExisting bool, err error) {
	return CreateKeyEx(k, path, "", REG_OPTION_NON_VOLATILE, access)
}

// CreateKeyEx is CreateKey with a class and options (REG_OPTION_VOLATILE,
// REG_OPTION_CREATE_LINK).
func CreateKeyEx(k Key, path, class string, options, access uint32) (newk Key, openedExisting bool, err error) {
	k, err = k.bind()
	if err != nil {
		return Key{}, false, err
	}
	var h uint64
	var created bool
	err = k.call(&wire.Request{Op: wire.OpCreateKey, Name: path, Class: class, Flags: options, Access: access},
		func(d *wire.Decoder) { h = d.U64(); created = d.U8() != 0 })
	if err != nil {
		return Key{}, false, err
	}
	return Key{c: k.c, h: h}, !created, nil
}

// DeleteKey deletes the subkey path of k; it fails with ERROR_ACCESS_DENIED when the
// subkey has subkeys (RegDeleteKey).
func DeleteKey(k Key, path string) error {
	return k.call(&wire.Request{Op: wire.OpDeleteKey, Name: path}, nil)
}

// DeleteTree deletes the subkey path of k with everything below it; with path "" it
// deletes k's values and subkeys (RegDeleteTree).
func DeleteTree(k Key, path string) error {
	return k.call(&wire.Request{Op: wire.OpDeleteTree, Name: path}, nil)
}

// ReadSubKeyNames returns the names of the key's subkeys. n > 0 limits the count; with
// fewer subkeys than n the error is io.EOF, as in x/sys.
func (k Key) ReadSubKeyNames(n int) ([]string, error) {
	var names []string
	err := k.call(&wire.Request{Op: wire.OpEnumKeys}, func(d *wire.Decoder) { names = d.Strings() })
	if err != nil {
		return nil, err
	}
	return limitNames(names, n)
}

// ReadValueNames returns the names of the key's values; n as in ReadSubKeyNames.
func (k Key) ReadValueNames(n int) ([]string, error) {
	vals, err := k.ReadValues()
	if err != nil {
		return nil, err
	}
	names := make([]string, len(vals))
	for i, v := range vals {
		names[i] = v.Name
	}
	return limitNames(names, n)
}

func limitNames(names []string, n int) ([]string, error) {
	if n <= 0 {
		return names, nil
	}
	if len(names) >= n {
		return names[:n], nil
	}
	return names, io.EOF
}

// Value is a value as ReadValues returns it: name, REG_* type and raw data.
type Value struct {
	Name string
	Type uint32
	Data []byte
}

// ReadValues returns every value of the key with its data, in stored order, in one call.
func (k Key) ReadValues() ([]Value, error) {
	var vals []wire.Value
	err := k.call(&wire.Request{Op: wire.OpEnumValues}, func(d *wire.Decoder) { vals = d.Values() })
	if err != nil {
		return nil, err
	}
	out := make([]Value, len(vals))
	for i, v := range vals {
		out[i] = Value(v)
	}
	return out, nil
}

// KeyInfo describes a key (RegQueryInfoKey).
type KeyInfo struct {
	SubKeyCount     uint32
	MaxSubKeyLen    uint32 // longest subkey name, in UTF-16 units
	ValueCount      uint32
	MaxValueNameLen uint32 // longest value name, in UTF-16 units
	MaxValueLen     uint32 // longest value data, in bytes
	Class           string
	Volatile        bool
	Link            bool
	lastWrite       time.Time
}

// ModTime returns the key's last write time.
func (ki *KeyInfo) ModTime() time.Time { return ki.lastWrite }

// Stat retrieves information about the open key k.
func (k Key) Stat() (*KeyInfo, error) {
	var wi wire.KeyInfo
	err := k.call(&wire.Request{Op: wire.OpQueryInfo}, func(d *wire.Decoder) { wi = d.KeyInfo() })
	if err != nil {
		return nil, err
	}
	return &KeyInfo{
		SubKeyCount: wi.SubKeys, MaxSubKeyLen: wi.MaxSubKeyLen, ValueCount: wi.Values,
		MaxValueNameLen: wi.MaxValueNameLen, MaxValueLen: wi.MaxValueLen, Class: wi.Class,
		Volatile: wi.Attrs&wire.AttrVolatile != 0, Link: wi.Attrs&wire.AttrLink != 0,
		lastWrite: wi.LastWrite,
	}, nil
}

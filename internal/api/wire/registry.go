package wire

import (
	"time"
)

// RegistryValue is a value in the registry routes.
type RegistryValue struct {
	Path string `json:"path,omitempty"` // PUT only
	Name string `json:"name"`
	Type uint32 `json:"type"`
	Data []byte `json:"data"`
}

// RegistryKey is a key's values (stored order) and subkey names.
type RegistryKey struct {
	Values  []RegistryValue `json:"values"`
	Subkeys []string        `json:"subkeys"`
}

// RegistryHandle is one open handle.
type RegistryHandle struct {
	ID       uint64    `json:"id"`
	PID      int       `json:"pid"`
	UID      int       `json:"uid"`
	Exe      string    `json:"exe"`
	OpenedAs string    `json:"openedAs"`
	Resolved string    `json:"resolved"`
	Access   uint32    `json:"access"`
	Opened   time.Time `json:"opened"`
}

// RegistryChange is one line of a watch stream.
type RegistryChange struct {
	Key    string  `json:"key"`
	Filter uint32  `json:"filter"`
	Value  *string `json:"value,omitempty"` // the value set or deleted, when one was
}

// RegistrySecurity is a key's security descriptor (self-relative, base64 in JSON), or
// the parts info (SECURITY_INFORMATION) names.
type RegistrySecurity struct {
	Path string `json:"path,omitempty"` // PUT only
	Info uint32 `json:"info"`
	SD   []byte `json:"sd"`
}

// RegistryInUse is the detail of a restore refused because of open handles.
type RegistryInUse struct {
	Key     string           `json:"key"`
	Holders []RegistryHandle `json:"holders"`
}

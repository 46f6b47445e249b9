package regfile

import "fmt"

// Format is the flavour of a .reg file.
type Format int

const (
	// Regedit5 is "Windows Registry Editor Version 5.00": UTF-16LE with BOM, CRLF.
	Regedit5 Format = iota
	// Regedit4 is "REGEDIT4": Windows-1252 text, narrow hex(2)/hex(7) data.
	Regedit4
)

// Header lines as regedit writes them.
const (
	header5 = "Windows Registry Editor Version 5.00"
	header4 = "REGEDIT4"
)

// String returns the format's header line.
func (f Format) String() string {
	switch f {
	case Regedit5:
		return header5
	case Regedit4:
		return header4
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// File is a parsed .reg file: its keys in file order.
type File struct {
	Format Format
	Keys   []Key
}

// Key is one "[PATH]" section, or a "[-PATH]" deletion.
type Key struct {
	Path   string // full path as written, e.g. HKEY_LOCAL_MACHINE\SOFTWARE\X
	Delete bool   // [-PATH]: delete the key and its subtree; it has no values
	Values []Value
}

// Value is one value line of a key.
type Value struct {
	Name   string // "" is the default value, written @
	Delete bool   // "name"=-
	Type   uint32 // REG_* or any number
	Data   []byte // raw bytes as the registry stores them; strings are UTF-16LE with NUL
}

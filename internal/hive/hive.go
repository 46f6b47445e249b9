package hive

import "time"

// Key is a registry key: one nk cell and what hangs from it.
type Key struct {
	Name      string    // as stored (case preserved); the root's name is kept too
	Class     string    // class name, "" when none
	LastWrite time.Time // UTC; the zero time is stored as 0
	Flags     uint16    // nk flags as read (KEY_SYM_LINK etc.); Write sets the ones it must
	Security  []byte    // self-relative security descriptor; nil means "default" on write
	Values    []Value   // in stored order on read; any order on write
	Subkeys   []*Key    // in stored (sorted) order on read; any order on write (Write sorts)
}

// Value is a key's value: one vk cell and its data.
type Value struct {
	Name string // "" is the default value
	Type uint32 // REG_* or any number
	Data []byte // raw bytes exactly as stored
}

// Hive is a decoded hive file.
type Hive struct {
	Root         *Key
	Major, Minor uint32
	Dirty        bool   // the base block says a write was interrupted and no logs were applied
	Recovered    bool   // transaction logs were applied
	FileName     string // from the base block (debugging aid written by Windows)
	LastWritten  time.Time
	// Damage lists the inconsistencies the reader tolerated (see Read); empty
	// for a sound hive.
	Damage []error
}

// CountKeys returns the number of keys in the tree under k, k included.
func (k *Key) CountKeys() int {
	n := 1
	for _, s := range k.Subkeys {
		n += s.CountKeys()
	}
	return n
}

// CountValues returns the number of values in the tree under k, k's included.
func (k *Key) CountValues() int {
	n := len(k.Values)
	for _, s := range k.Subkeys {
		n += s.CountValues()
	}
	return n
}

package wire

import (
	"time"
)

// CheckpointInfo is one checkpointed key with its newest version (Version 0: none yet).
type CheckpointInfo struct {
	Key     string    `json:"key"`
	Version int       `json:"version"`
	Time    time.Time `json:"time,omitzero"`
	Node    string    `json:"node,omitempty"`
	Size    int64     `json:"size"`
}

// CheckpointVersion is one kept version of a key.
type CheckpointVersion struct {
	Number         int       `json:"number"`
	Time           time.Time `json:"time"`
	Node           string    `json:"node"`
	Size           int64     `json:"size"`
	Hash           string    `json:"hash"`
	RolledBackFrom int       `json:"rolledBackFrom,omitempty"`
}

// CheckpointKeys is the body of add, remove and restore.
type CheckpointKeys struct {
	Keys []string `json:"keys"`
	// Force adds a key that is big (past 10,000 keys or 16 MiB) or a whole hive root:
	// without it such a key is refused with what restoring it would overwrite.
	Force bool `json:"force,omitempty"`
}

// CheckpointDiff is the difference of two versions as .reg text (UTF-8, LF).
type CheckpointDiff struct {
	Key  string `json:"key"`
	V1   int    `json:"v1"`
	V2   int    `json:"v2"`
	Text string `json:"text"`
}

// CheckpointRollback asks to make a version the newest.
type CheckpointRollback struct {
	Key     string `json:"key"`
	Version int    `json:"version"`
}

// CheckpointRollbackAnswer says what the rollback did: the new newest version, and
// whether it was restored on the node that runs the resource.
type CheckpointRollbackAnswer struct {
	Version  CheckpointVersion `json:"version"`
	Restored bool              `json:"restored"`
	Node     string            `json:"node,omitempty"`
	// RestoreError says why the restore on the running node failed (handles held, …).
	RestoreError string `json:"restoreError,omitempty"`
}

// CheckpointDrift compares the owner's live subtree with the newest checkpoint.
type CheckpointDrift struct {
	Key     string `json:"key"`
	Node    string `json:"node"`
	Version int    `json:"version"` // 0: never captured
	InSync  bool   `json:"inSync"`
	// Diff turns the newest checkpoint into the live subtree (.reg text); "" in sync.
	Diff string `json:"diff,omitempty"`
}

// CheckpointOwner says where a resource runs.
type CheckpointOwner struct {
	Node   string // owner of the resource's group, "" when none
	API    string // its API URL
	Local  bool   // this node
	Online bool   // the resource is online (with capture running, when local)
}

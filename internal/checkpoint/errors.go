package checkpoint

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotOnline: the resource is not online on this node (rollback restore, verify).
var ErrNotOnline = errors.New("checkpoint: the resource is not online on this node")

// maxListedHolders bounds the holders named in messages and events, which have size
// limits of their own.
const maxListedHolders = 64

// Holder is one handle that another process holds in a checkpointed subtree.
type Holder struct {
	PID     int    `json:"pid"`
	UID     int    `json:"uid"`
	Process string `json:"process"`
	Key     string `json:"key"` // the key as the holder opened it (HKEY_LOCAL_MACHINE\…)
}

func (h Holder) String() string {
	return fmt.Sprintf("%s (pid %d, uid %d) %s", h.Process, h.PID, h.UID, h.Key)
}

// KeysInUseError is a restore refused because other processes hold handles in the
// subtree.
type KeysInUseError struct {
	Key     string // the checkpointed key, relative to HKLM
	Holders []Holder
}

func (e *KeysInUseError) Error() string {
	return fmt.Sprintf("registry key HKEY_LOCAL_MACHINE\\%s is in use by %s", e.Key, holderList(e.Holders))
}

func holderList(hs []Holder) string {
	if len(hs) == 0 {
		return "no process"
	}
	n := min(len(hs), maxListedHolders)
	parts := make([]string, n, n+1)
	for i, h := range hs[:n] {
		parts[i] = h.String()
	}
	if len(hs) > n {
		parts = append(parts, fmt.Sprintf("and %d more", len(hs)-n))
	}
	return strings.Join(parts, "; ")
}

// RestoreError says that a resource must fail because a checkpoint could not be
// restored (RestoreFailureAction Fail, or Retry that ran out of time).
type RestoreError struct {
	Resource, Key string
	Action        Action
	Err           error
}

func (e *RestoreError) Error() string {
	return fmt.Sprintf("checkpoint: restore of HKEY_LOCAL_MACHINE\\%s for resource %q failed (RestoreFailureAction %s): %v",
		e.Key, e.Resource, e.Action, e.Err)
}

func (e *RestoreError) Unwrap() error { return e.Err }

// ErrorCode is Windows' ERROR_ACCESS_DENIED when handles blocked the restore, which is
// what RegRestoreKey returns; else ERROR_REGISTRY_IO_FAILED.
func (e *RestoreError) ErrorCode() uint32 {
	var iu *KeysInUseError
	if errors.As(e.Err, &iu) {
		return 5
	}
	return 1016
}

// NotCheckpointedError: the key is not one of the resource's checkpoints.
type NotCheckpointedError struct{ Resource, Key string }

func (e *NotCheckpointedError) Error() string {
	return fmt.Sprintf("checkpoint: %s is not a registry checkpoint of resource %q", e.Key, e.Resource)
}

// ErrorCode is Windows' ERROR_FILE_NOT_FOUND.
func (e *NotCheckpointedError) ErrorCode() uint32 { return 2 }

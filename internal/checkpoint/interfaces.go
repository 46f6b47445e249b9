package checkpoint

import (
	"context"
	"fmt"
	"time"

	"wolfpack/internal/clusterdb"
	"wolfpack/internal/eventlog"
)

// Registry is the Manager's view of its node's registry: one session of its own. Keys
// are paths relative to HKEY_LOCAL_MACHINE, possibly through symbolic links (the
// registry resolves them).
type Registry interface {
	// Save returns the subtree of key as regf hive bytes (RegSaveKey).
	Save(ctx context.Context, key string) ([]byte, error)
	// Restore replaces the subtree of key with the hive (RegRestoreKey), creating key
	// when it does not exist. Without force it fails with *KeysInUseError while other
	// sessions hold handles in the subtree; with force it restores anyway.
	Restore(ctx context.Context, key string, hive []byte, force bool) error
	// Watch reports changes anywhere in the subtree of key until ctx ends or the key
	// goes away (the channel is then closed). It creates key when it does not exist.
	Watch(ctx context.Context, key string) (<-chan struct{}, error)
}

// Store keeps committed checkpoint versions; *clusterdb.CheckpointStore is one.
type Store interface {
	Put(ctx context.Context, f clusterdb.Fence, resource, key string, data []byte, v clusterdb.CheckpointVersion, keep int) (clusterdb.CheckpointVersion, error)
	Latest(ctx context.Context, resource, key string) (clusterdb.CheckpointVersion, []byte, error)
}

// Reporter writes events; *eventlog.Service is one.
type Reporter interface {
	Report(ctx context.Context, e eventlog.Event) (uint64, error)
}

// Fence is the group ownership that capture writes compare (see clusterdb.Fence).
type Fence = clusterdb.Fence

// Resource is what the Manager needs to know of a resource with checkpoints.
type Resource struct {
	Name, Group string
	Keys        []string          // relative to HKLM, as the administrator gave them
	Private     map[string]string // private properties (RestoreFailureAction, …)
	// Waiting, when set, hears what BeforeOnline waits for while a restore is refused
	// under RestoreFailureAction Retry: at the start of the wait and whenever the
	// holders change (the agent shows it to the administrator who waits).
	Waiting func(Wait)
}

// Wait is a restore waiting for handles to close.
type Wait struct {
	Key     string // relative to HKLM
	Holders []Holder
	Until   time.Time // RestoreRetryTimeout's end
}

// String says what the restore waits for, naming the holders.
func (w Wait) String() string {
	return fmt.Sprintf("waits for the handles on HKLM\\%s to close: %s", w.Key, holderList(w.Holders))
}

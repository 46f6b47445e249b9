package agent

import (
	"context"
	"time"

	"wolfpack/internal/clusterdb"
)

// CheckpointResource is what the agent tells the checkpoint manager about a resource.
type CheckpointResource struct {
	Name, Group string
	Keys        []string // registry keys relative to HKLM
	Private     map[string]string
	// Waiting hears what BeforeOnline waits for (a restore held back by handles), until
	// when; the worker shows it in the resource's state.
	Waiting func(what string, until time.Time)
}

// Checkpointer is the registry checkpoint manager as the agent drives it, on the node
// that runs the resource (internal/checkpoint's Manager, plugged in by the daemon).
type Checkpointer interface {
	// BeforeOnline restores every checkpoint; an error fails the resource (event 1069)
	// and its failover policy applies.
	BeforeOnline(ctx context.Context, r CheckpointResource, f clusterdb.Fence) error
	// Online starts capturing changes once the resource is online.
	Online(ctx context.Context, r CheckpointResource, f clusterdb.Fence)
	// Offline takes a final copy and stops capturing when the resource goes offline.
	Offline(ctx context.Context, r CheckpointResource, f clusterdb.Fence) error
	// KeysChanged is called when the checkpoint keys of an online resource changed.
	KeysChanged(ctx context.Context, r CheckpointResource, f clusterdb.Fence)
}

// NopCheckpointer does nothing: the default until a checkpoint manager is plugged in.
type NopCheckpointer struct{}

func (NopCheckpointer) BeforeOnline(context.Context, CheckpointResource, clusterdb.Fence) error {
	return nil
}
func (NopCheckpointer) Online(context.Context, CheckpointResource, clusterdb.Fence) {}
func (NopCheckpointer) Offline(context.Context, CheckpointResource, clusterdb.Fence) error {
	return nil
}
func (NopCheckpointer) KeysChanged(context.Context, CheckpointResource, clusterdb.Fence) {}

func checkpointResource(r clusterdb.Resource) CheckpointResource {
	return CheckpointResource{Name: r.Name, Group: r.Group, Keys: r.Checkpoints, Private: r.Private}
}

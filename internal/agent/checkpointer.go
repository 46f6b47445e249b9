package agent

import (
	"context"
	"time"

	"wolfpack/internal/clusterdb"
)

// Checkpointer is what the agent needs of the registry checkpoint manager on the node
// that runs a resource (internal/checkpoint's Manager, which the daemon plugs in). It
// speaks of resources as the cluster database stores them.
type Checkpointer interface {
	// RestoreCheckpoints restores every checkpoint of r before it comes online; waiting
	// hears what a restore held back by handles waits for, and until when. An error
	// fails the resource (event 1069) and its failover policy applies.
	RestoreCheckpoints(ctx context.Context, r clusterdb.Resource, f clusterdb.Fence, waiting func(what string, until time.Time)) error
	// StartCapture starts capturing changes once the resource is online.
	StartCapture(ctx context.Context, r clusterdb.Resource, f clusterdb.Fence)
	// StopCapture takes a final copy and stops capturing when the resource goes offline.
	StopCapture(ctx context.Context, r clusterdb.Resource, f clusterdb.Fence) error
	// CheckpointKeysChanged is called when the checkpoint keys of an online resource
	// changed.
	CheckpointKeysChanged(ctx context.Context, r clusterdb.Resource, f clusterdb.Fence)
}

// NopCheckpointer does nothing: the default until a checkpoint manager is plugged in.
type NopCheckpointer struct{}

func (NopCheckpointer) RestoreCheckpoints(context.Context, clusterdb.Resource, clusterdb.Fence, func(string, time.Time)) error {
	return nil
}
func (NopCheckpointer) StartCapture(context.Context, clusterdb.Resource, clusterdb.Fence) {}
func (NopCheckpointer) StopCapture(context.Context, clusterdb.Resource, clusterdb.Fence) error {
	return nil
}
func (NopCheckpointer) CheckpointKeysChanged(context.Context, clusterdb.Resource, clusterdb.Fence) {}

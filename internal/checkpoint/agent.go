package checkpoint

import (
	"context"
	"time"

	"wolfpack/internal/clusterdb"
)

// The Manager as the agent drives it (internal/agent's Checkpointer): the agent speaks
// of a resource as the cluster database stores it.

// resourceOf is the Manager's view of a resource record.
func resourceOf(r clusterdb.Resource) Resource {
	return Resource{Name: r.Name, Group: r.Group, Keys: r.Checkpoints, Private: r.Private}
}

// RestoreCheckpoints is BeforeOnline for the agent; waiting hears what a refused
// restore waits for (Resource.Waiting).
func (m *Manager) RestoreCheckpoints(ctx context.Context, r clusterdb.Resource, f clusterdb.Fence, waiting func(what string, until time.Time)) error {
	res := resourceOf(r)
	if waiting != nil {
		res.Waiting = func(w Wait) { waiting(w.String(), w.Until) }
	}
	return m.BeforeOnline(ctx, res, f)
}

// StartCapture is Online for the agent.
func (m *Manager) StartCapture(ctx context.Context, r clusterdb.Resource, f clusterdb.Fence) {
	m.Online(ctx, resourceOf(r), f)
}

// StopCapture is Offline for the agent.
func (m *Manager) StopCapture(ctx context.Context, r clusterdb.Resource, f clusterdb.Fence) error {
	return m.Offline(ctx, resourceOf(r), f)
}

// CheckpointKeysChanged is KeysChanged for the agent.
func (m *Manager) CheckpointKeysChanged(ctx context.Context, r clusterdb.Resource, f clusterdb.Fence) {
	m.KeysChanged(ctx, resourceOf(r), f)
}

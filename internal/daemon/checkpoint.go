package daemon

import (
	"context"
	"errors"
	"os"

	"wolfpack/internal/agent"
	"wolfpack/internal/api"
	"wolfpack/internal/checkpoint"
	"wolfpack/internal/clusterdb"
	"wolfpack/internal/registry"
)

// startCheckpoint creates the registry checkpoint manager on a registry session of its
// own and the cluster database, plugs it into the agent, registers the checkpoint
// routes, and runs the janitor that removes the checkpoints of deleted resources.
func (n *Node) startCheckpoint(ctx context.Context) error {
	if n.Registry == nil || n.Cluster == nil || n.Etcd == nil {
		return errors.New("checkpoint: needs the registry and the cluster parts")
	}
	log := n.Log.With("part", "checkpoint")
	sess := n.Registry.NewSession(registry.Owner{PID: os.Getpid(), UID: os.Getuid(), Exe: "wolfpackd"})
	store := clusterdb.NewCheckpointStore(n.Etcd)
	m := checkpoint.New(checkpoint.Config{
		Node:     n.Cfg.Name,
		Registry: checkpoint.NewSessionRegistry(sess),
		Store:    store,
		Events:   n.checkpointEvents(),
		Log:      n.Log,
	})
	n.Checkpoints = m
	n.Cluster.SetCheckpointer(agentCheckpointer{m})
	svc := &checkpoint.Service{Node: n.Cfg.Name, DB: n.Cluster.DB(), Store: store, Manager: m, Log: log}
	api.RegisterCheckpoint(n.API, svc)
	jctx, stopJanitor := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.RunJanitor(jctx)
	}()
	// The manager stays with the agent until the process ends: the agent's shutdown,
	// which runs after this, takes the groups offline with a final capture.
	n.onStop(func() {
		stopJanitor()
		<-done
	})
	return nil
}

// checkpointEvents is where the manager writes its events: the node's System log.
func (n *Node) checkpointEvents() checkpoint.Reporter {
	if n.Events == nil {
		return nil
	}
	return n.Events
}

// agentCheckpointer adapts the Manager to the agent's Checkpointer.
type agentCheckpointer struct{ m *checkpoint.Manager }

func cpRes(r agent.CheckpointResource) checkpoint.Resource {
	return checkpoint.Resource{Name: r.Name, Group: r.Group, Keys: r.Keys, Private: r.Private}
}

func (a agentCheckpointer) BeforeOnline(ctx context.Context, r agent.CheckpointResource, f clusterdb.Fence) error {
	return a.m.BeforeOnline(ctx, cpRes(r), f)
}

func (a agentCheckpointer) Online(ctx context.Context, r agent.CheckpointResource, f clusterdb.Fence) {
	a.m.Online(ctx, cpRes(r), f)
}

func (a agentCheckpointer) Offline(ctx context.Context, r agent.CheckpointResource, f clusterdb.Fence) error {
	return a.m.Offline(ctx, cpRes(r), f)
}

func (a agentCheckpointer) KeysChanged(ctx context.Context, r agent.CheckpointResource, f clusterdb.Fence) {
	a.m.KeysChanged(ctx, cpRes(r), f)
}

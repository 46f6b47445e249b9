package daemon

import (
	"context"
	"errors"

	"wolfpack/internal/agent"
	"wolfpack/internal/api"
	"wolfpack/internal/checkpoint"
	"wolfpack/internal/clusterdb"
	"wolfpack/internal/registry"
)

// newCheckpointer creates the registry checkpoint manager (n.Checkpoints) on a registry
// session of its own and the cluster database, and returns it as the
// agent's Checkpointer (the Manager is one). cluster.go may call it to pass agent.Options.Checkpointer, so
// that no resource comes online before the manager is in place; otherwise
// startCheckpoint plugs it in right after the agent starts.
func (n *Node) newCheckpointer(db *clusterdb.DB) agent.Checkpointer {
	sess := n.Registry.NewSession(registry.DaemonOwner())
	n.Checkpoints = checkpoint.New(checkpoint.Config{
		Node:     n.Cfg.Name,
		Registry: checkpoint.NewSessionRegistry(sess),
		Store:    db.CheckpointStore(),
		Events:   n.checkpointEvents(),
		Log:      n.Log,
		Metrics:  checkpoint.NewMetrics(n.API.Metrics),
	})
	return n.Checkpoints
}

// startCheckpoint plugs the checkpoint manager into the agent (unless cluster.go did),
// registers the checkpoint routes, and runs the janitor that removes the checkpoints of
// deleted resources.
func (n *Node) startCheckpoint(ctx context.Context) error {
	if n.Registry == nil || n.Cluster == nil || n.DB == nil {
		return errors.New("checkpoint: needs the registry and the cluster parts")
	}
	if n.Checkpoints == nil {
		n.Cluster.SetCheckpointer(n.newCheckpointer(n.DB))
	}
	log := n.Log.With("part", "checkpoint")
	svc := &checkpoint.Service{Node: n.Cfg.Name, DB: n.Cluster.DB(), Store: n.DB.CheckpointStore(),
		Manager: n.Checkpoints, Log: log}
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

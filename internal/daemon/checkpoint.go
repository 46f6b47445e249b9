package daemon

import (
	"context"
	"errors"

	clientv3 "go.etcd.io/etcd/client/v3"

	"wolfpack/internal/agent"
	"wolfpack/internal/api"
	"wolfpack/internal/checkpoint"
	"wolfpack/internal/clusterdb"
	"wolfpack/internal/registry"
)

// newCheckpointer creates the registry checkpoint manager (n.Checkpoints) on a registry
// session of its own and the cluster database's etcd client, and returns it as the
// agent's Checkpointer. cluster.go may call it to pass agent.Options.Checkpointer, so
// that no resource comes online before the manager is in place; otherwise
// startCheckpoint plugs it in right after the agent starts.
func (n *Node) newCheckpointer(cli *clientv3.Client) agent.Checkpointer {
	sess := n.Registry.NewSession(registry.DaemonOwner())
	n.Checkpoints = checkpoint.New(checkpoint.Config{
		Node:     n.Cfg.Name,
		Registry: checkpoint.NewSessionRegistry(sess),
		Store:    clusterdb.NewCheckpointStore(cli),
		Events:   n.checkpointEvents(),
		Log:      n.Log,
		Metrics:  checkpoint.NewMetrics(n.API.Metrics),
	})
	return agentCheckpointer{n.Checkpoints}
}

// startCheckpoint plugs the checkpoint manager into the agent (unless cluster.go did),
// registers the checkpoint routes, and runs the janitor that removes the checkpoints of
// deleted resources.
func (n *Node) startCheckpoint(ctx context.Context) error {
	if n.Registry == nil || n.Cluster == nil || n.Etcd == nil {
		return errors.New("checkpoint: needs the registry and the cluster parts")
	}
	if n.Checkpoints == nil {
		n.Cluster.SetCheckpointer(n.newCheckpointer(n.Etcd))
	}
	log := n.Log.With("part", "checkpoint")
	svc := &checkpoint.Service{Node: n.Cfg.Name, DB: n.Cluster.DB(), Store: clusterdb.NewCheckpointStore(n.Etcd),
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

// agentCheckpointer adapts the Manager to the agent's Checkpointer.
type agentCheckpointer struct{ m *checkpoint.Manager }

func cpRes(r agent.CheckpointResource) checkpoint.Resource {
	cr := checkpoint.Resource{Name: r.Name, Group: r.Group, Keys: r.Keys, Private: r.Private}
	if r.Waiting != nil {
		cr.Waiting = func(w checkpoint.Wait) { r.Waiting(w.String(), w.Until) }
	}
	return cr
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

package daemon

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"

	"wolfpack/internal/agent"
	"wolfpack/internal/api"
	"wolfpack/internal/api/client"
	"wolfpack/internal/api/wire"
	"wolfpack/internal/checkpoint"
	"wolfpack/internal/clusterdb"
	"wolfpack/internal/eventlog"
	"wolfpack/internal/pki"
	"wolfpack/internal/registry"
)

// Node is one running wolfpackd: its configuration and its parts. Each part's file adds
// the part's field here and sets it in its start function.
type Node struct {
	Cfg *Config
	Log *slog.Logger
	// JoinHelp receives the join command the first node prints (wolfpackd: stderr).
	JoinHelp io.Writer
	API      *api.Server
	APIBase  string // the API's URL once it listens

	Events *eventlog.Service // the node's event logs (eventlog.go)

	Registry *registry.Registry // the node's registry (registry.go)

	Cluster     *agent.Agent            // the cluster agent (cluster.go)
	DB          *clusterdb.DB           // the cluster database (cluster.go)
	ca          *pki.CA                 // the cluster CA (cluster.go's prepareCluster)
	pendingJoin *wire.ClusterJoinAnswer // the membership a join got, until etcd starts (cluster.go)
	external    *clusterdb.DB           // an external etcd's database, from prepareCluster (cluster.go)
	restored    bool                    // the database was restored from a backup at this start (backup.go)

	Checkpoints *checkpoint.Manager // the registry checkpoint manager (checkpoint.go)

	stops []func()

	partStates partStates // each part's state for /v1/health (ready.go)
	wasReady   bool       // every part ran (the stop logs the service's stop)

	quit      context.CancelFunc // stops Run (eviction)
	evictMu   sync.Mutex
	evictWhy  string // why the node was evicted ("" while it was not)
	rejoining bool   // the data directory is an evicted node's, joining again
}

// onStop registers f to run at shutdown; parts stop in the reverse order of their start.
func (n *Node) onStop(f func()) { n.stops = append(n.stops, f) }

func (n *Node) stop() {
	for _, f := range slices.Backward(n.stops) {
		f()
	}
	n.stops = nil
}

// parts lists the start functions in dependency order.
func (n *Node) parts() []part {
	return []part{
		{"eventlog", n.startEventlog},
		{"registry", n.startRegistry},
		{"cluster", n.startCluster},
		{"access", n.startAccess},
		{"checkpoint", n.startCheckpoint},
		{"console", n.startConsole},
		{"api", n.startAPI},
	}
}

type part struct {
	name  string
	start func(context.Context) error
}

// ready says once that every part runs: api.addr (which the CLIs wait for, see
// internal/nodestate), the log line, and sd_notify.
func (n *Node) ready() error {
	if n.APIBase != "" {
		if err := writeFileAtomic(filepath.Join(n.Cfg.DataDir, client.AddrFile), []byte(n.APIBase+"\n"), 0o644); err != nil {
			return err
		}
	}
	n.Log.Info("node ready", "name", n.Cfg.Name, "data", n.Cfg.DataDir, "api", n.APIBase)
	n.wasReady = true
	if n.Events != nil {
		n.serviceEvent("running")
	}
	if err := sdNotify("READY=1\nSTATUS=node " + n.Cfg.Name + " ready\nMAINPID=" + strconv.Itoa(os.Getpid())); err != nil {
		n.Log.Warn("sd_notify READY=1 failed", "err", err)
	}
	return nil
}

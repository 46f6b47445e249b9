package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"wolfpack/internal/agent"
)

// A node evicted while it runs (cluster node N /evict on any node) stops its cluster
// service cleanly: its embedded etcd member, removed from the cluster, stops by itself,
// and with an external etcd its node record is gone. It logs why (and event 1011 in its
// own System log), stops its parts, puts its etcd member aside and marks its data
// directory (EvictedFile). It keeps its registry, event logs, certificates and token,
// and joins again with --join and the join token.

// evict stops the node because it was evicted; the first reason is kept.
func (n *Node) evict(because string) {
	n.evictMu.Lock()
	first := n.evictWhy == ""
	if first {
		n.evictWhy = because
	}
	n.evictMu.Unlock()
	if !first {
		return
	}
	n.Log.Error("this node was evicted from the cluster: stopping its cluster service", "node", n.Cfg.Name, "because", because)
	n.reportClusterEvent(context.Background(), agent.EventNodeEvicted, n.Cfg.Name)
	n.quit()
}

func (n *Node) evictedBecause() string {
	n.evictMu.Lock()
	defer n.evictMu.Unlock()
	return n.evictWhy
}

// checkEvicted refuses to start an evicted node's data directory as anything but a join
// (a node that starts its old CA as a new cluster would be a second cluster with the
// first one's CA). With an external etcd the node simply registers again.
func (n *Node) checkEvicted() error {
	rec, err := readEvicted(n.Cfg.DataDir)
	if err != nil || rec == nil {
		return err
	}
	if n.Cfg.Join == "" && len(n.Cfg.EtcdEndpoints) == 0 {
		return fmt.Errorf("node %s was evicted from its cluster at %s (%s): to join again, start it with --join HOST:PORT and the join token (--token-file FILE); to make it the first node of a new cluster instead, remove %s and %s",
			rec.Node, rec.At.Format("2006-01-02 15:04:05 MST"), rec.Because,
			filepath.Join(n.Cfg.DataDir, EvictedFile), filepath.Join(n.Cfg.DataDir, "tls"))
	}
	n.rejoining = true
	return nil
}

// rejoined removes the eviction mark once the node is a member again.
func (n *Node) rejoined() {
	if n.rejoining {
		os.Remove(filepath.Join(n.Cfg.DataDir, EvictedFile))
		n.rejoining = false
		n.Log.Info("rejoined the cluster after an eviction", "node", n.Cfg.Name)
	}
}

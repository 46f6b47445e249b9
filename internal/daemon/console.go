package daemon

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"wolfpack/internal/api"
	"wolfpack/internal/api/wire"
	"wolfpack/internal/clusterdb"
	"wolfpack/internal/web"
)

// startConsole serves the web console (internal/web) at / and the routes behind it:
// the cluster view, its watch stream, the merged event logs and the relay to other
// nodes' registries (internal/api/console.go).
func (n *Node) startConsole(ctx context.Context) error {
	if n.Cluster == nil || n.DB == nil {
		return errors.New("console: needs the cluster part")
	}
	api.RegisterConsole(n.API, n.Cfg.Name, &consoleBackend{n: n}, n.Events)
	web.Register(n.API)
	return nil
}

// consoleBackend reads the cluster for the console routes.
type consoleBackend struct{ n *Node }

func (b *consoleBackend) View(ctx context.Context) (wire.ClusterView, error) {
	return b.n.Cluster.View(ctx)
}

// memberTimeout bounds the status request to one etcd member: a member that does not
// answer within it counts as unhealthy.
const memberTimeout = time.Second

// Etcd lists the database's members and asks each for its status, all at once.
func (b *consoleBackend) Etcd(ctx context.Context) (wire.EtcdHealth, error) {
	h := wire.EtcdHealth{External: b.n.external != nil, Members: []wire.EtcdMember{}}
	lctx, cancel := context.WithTimeout(ctx, 2*memberTimeout)
	defer cancel()
	list, err := b.n.DB.Members(lctx)
	if err != nil {
		h.Error = "cannot list the database's members: " + err.Error()
		return h, nil
	}
	h.Members = make([]wire.EtcdMember, len(list))
	var wg sync.WaitGroup
	for i, m := range list {
		em := wire.EtcdMember{ID: fmt.Sprintf("%x", m.ID), Name: m.Name, PeerURLs: m.PeerURLs,
			ClientURLs: m.ClientURLs, Learner: m.Learner}
		if em.PeerURLs == nil {
			em.PeerURLs = []string{}
		}
		if em.ClientURLs == nil {
			em.ClientURLs = []string{}
		}
		h.Members[i] = em
		if len(m.ClientURLs) == 0 {
			h.Members[i].Error = "not started (no client URL yet)"
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sctx, cancel := context.WithTimeout(ctx, memberTimeout)
			defer cancel()
			st, err := b.n.DB.MemberStatus(sctx, m.ClientURLs[0])
			if err != nil {
				h.Members[i].Error = err.Error()
				return
			}
			em := &h.Members[i]
			em.Healthy = len(st.Errors) == 0
			if !em.Healthy {
				em.Error = strings.Join(st.Errors, "; ")
			}
			em.Leader = st.Leader == m.ID
			em.Version, em.DBSize, em.RaftTerm, em.RaftIndex = st.Version, st.DBSize, st.RaftTerm, st.RaftIndex
		}()
	}
	wg.Wait()
	for _, m := range h.Members {
		if m.Learner {
			continue
		}
		h.Quorum.Voters++
		if m.Healthy {
			h.Quorum.Healthy++
		}
	}
	h.Quorum.Needed = h.Quorum.Voters/2 + 1
	h.Quorum.Has = h.Quorum.Voters > 0 && h.Quorum.Healthy >= h.Quorum.Needed
	slices.SortFunc(h.Members, func(x, y wire.EtcdMember) int { return strings.Compare(x.Name, y.Name) })
	return h, nil
}

// viewPrefixes are the keys whose changes change the console's view.
var viewPrefixes = []string{clusterdb.NodesPrefix, clusterdb.MembersPrefix, clusterdb.GroupsPrefix,
	clusterdb.ResourcesPrefix, clusterdb.OwnersPrefix, clusterdb.Prefix + "state/", clusterdb.MovesPrefix,
	clusterdb.ElectionPrefix}

// Changes follows the cluster database by an etcd watch; a watch that breaks (etcd
// leader lost, compaction) is opened again, with a signal, since changes may have been
// missed meanwhile.
func (b *consoleBackend) Changes(ctx context.Context) <-chan struct{} {
	out := make(chan struct{}, 1)
	signal := func() {
		select {
		case out <- struct{}{}:
		default:
		}
	}
	go func() {
		defer close(out)
		for ctx.Err() == nil {
			for keys := range b.n.DB.Changes(ctx, clusterdb.Prefix, true) {
				for _, k := range keys {
					if slices.ContainsFunc(viewPrefixes, func(p string) bool { return strings.HasPrefix(k, p) }) {
						signal()
						break
					}
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
				signal()
			}
		}
	}()
	return out
}

package agent

import (
	"context"
	"fmt"
	"time"

	"wolfpack/internal/api/wire"
	"wolfpack/internal/clusterdb"
)

// ViewTimeout bounds a read of the cluster database for a listing: past it (quorum lost,
// etcd out of reach) the node answers from the last snapshot it acted on, marked stale,
// rather than after etcd's own request timeout.
const ViewTimeout = time.Second

// view returns a snapshot for a read: a fresh one, or the agent's last one with the
// answer marked stale (wire.MarkStale) when the database does not answer in time.
func (a *Agent) view(ctx context.Context) (*clusterdb.Snapshot, error) {
	s, _, err := a.viewStale(ctx)
	return s, err
}

// viewStale is view, and whether the snapshot is the agent's last one.
func (a *Agent) viewStale(ctx context.Context) (*clusterdb.Snapshot, bool, error) {
	sctx, cancel := context.WithTimeout(ctx, ViewTimeout)
	s, err := a.db.Snapshot(sctx)
	cancel()
	if err == nil {
		a.mu.Lock()
		a.lastView, a.lastViewAt = s, time.Now()
		a.mu.Unlock()
	}
	if err == nil || ctx.Err() != nil {
		return s, false, err
	}
	// The last whole view a listing read, else the agent's own (the definitions it
	// follows: without the resources' states, which it does not follow).
	a.mu.Lock()
	last, at, part := a.lastView, a.lastViewAt, ""
	if last == nil {
		last, at = a.snap, a.snapAt
		if !a.snapWhole {
			// A node that does not coordinate follows only the groups it owns.
			part = " (only the groups it owns)"
		}
	}
	a.mu.Unlock()
	if last == nil {
		return nil, false, err
	}
	wire.MarkStale(ctx, fmt.Sprintf("%s; this is node %s's own view%s as of %s, and the state may be stale",
		a.quorumText(ctx), a.opt.Name, part, at.UTC().Format("15:04:05 UTC")))
	return last, true, nil
}

// viewCoordinator is the coordinator's name for a view: none is looked up in a stale
// one (the database did not answer).
func (a *Agent) viewCoordinator(ctx context.Context, stale bool) string {
	if stale {
		return ""
	}
	return a.coordinatorName(ctx)
}

// quorumText says how many of the cluster's voting members this node reaches, asking
// each at once (bounded: the listing must answer within about two seconds).
func (a *Agent) quorumText(ctx context.Context) string {
	reached, voters := a.db.ReachableVoters(ctx, 200*time.Millisecond, 300*time.Millisecond)
	if voters == 0 {
		return "the cluster database does not answer"
	}
	return fmt.Sprintf("quorum lost: %d of %d voters reachable", reached, voters)
}

// viewNode finds a node in a snapshot by name.
func viewNode(s *clusterdb.Snapshot, name string) (clusterdb.Node, error) {
	n, ok := s.Nodes[clusterdb.Key(name)]
	if !ok {
		return n, errCode(ErrorNodeNotFound, name)
	}
	return n, nil
}

package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"wolfpack/internal/clusterdb"
	"wolfpack/internal/fencing"
)

// Timing returns the fencing timing rule the agent runs by.
func (a *Agent) Timing() fencing.Timing { return a.timing }

// sessions keeps a session and the membership key, campaigns for coordinator, grants
// the resource host its permits, and stops the local resources whenever the permit
// runs out or the session is lost.
func (a *Agent) sessions(ctx context.Context) {
	var once sync.Once
	for ctx.Err() == nil {
		// A lease granted after this instant cannot expire before it + TTL.
		born := fencing.Now()
		// The session's keep-alive must outlive ctx through a graceful shutdown (the
		// resources keep their permit until they are offline), but a shutdown while the
		// lease is being granted (etcd out of reach) must not wait for etcd.
		sctx, scancel := context.WithCancel(context.WithoutCancel(ctx))
		stopGrant := context.AfterFunc(ctx, scancel)
		s, err := a.db.NewSession(sctx, a.opt.SessionTTL)
		stopGrant()
		if err != nil {
			scancel()
			a.log.Warn("cluster session failed", "err", err)
			sleep(ctx, 500*time.Millisecond)
			continue
		}
		m := clusterdb.Member{Name: a.opt.Name, Since: time.Now().UTC()}
		pctx, cancel := context.WithTimeout(ctx, a.timing.Window)
		err = s.RegisterMember(pctx, m)
		cancel()
		if err != nil {
			a.log.Warn("cannot register membership", "err", err)
			s.Orphan()
			scancel()
			sleep(ctx, 500*time.Millisecond)
			continue
		}
		a.lease.Store(s.Lease())
		a.grant(s.Lease(), born)
		a.live.Store(true)
		once.Do(func() { close(a.ready) })
		a.poke()
		a.log.Info("cluster member", "node", a.opt.Name, "lease", fmt.Sprintf("%x", s.Lease()), "timing", a.timing.String())

		ectx, ecancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); a.campaign(ectx, s) }()
		// The guard keeps renewing through a graceful shutdown, until the groups are
		// offline: their resources keep their permit meanwhile.
		gctx, gcancel := context.WithCancel(context.WithoutCancel(ctx))
		lost := make(chan struct{})
		go func() { defer close(lost); a.guard(gctx, s, born) }()
		select {
		case <-lost:
		case <-ctx.Done():
		}
		ecancel()
		if ctx.Err() != nil {
			// Shutdown: resources go offline gracefully (the group workers do it as
			// they end), then the session ends so that the other nodes see this
			// node leave at once.
			<-a.loopDone
			gcancel()
			<-lost
			a.live.Store(false)
			a.leader.Store(false)
			cctx, c := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			if err := a.db.LeaveCleanly(cctx, a.opt.Name); err != nil {
				a.log.Warn("cannot record the clean stop", "err", err)
			}
			c()
			s.Close()
			scancel()
			waitCampaign(done, a.timing.TTL)
			return
		}
		gcancel()
		a.live.Store(false)
		a.leader.Store(false)
		waitCampaign(done, a.timing.TTL)
		s.Orphan()
		scancel()
	}
}

// waitCampaign waits for the campaign to end, at most d: Resign waits for etcd, which
// may be out of reach (the client's Close at shutdown ends it).
func waitCampaign(done <-chan struct{}, d time.Duration) {
	select {
	case <-done:
	case <-time.After(d):
	}
}

// grant passes a permit for lease, counted from sent (the send time of the keep-alive
// or lease grant that proved the lease), to the resource host.
func (a *Agent) grant(lease int64, sent fencing.Instant) {
	if a.opt.Permit != nil {
		until, kill := a.timing.Permit(sent)
		a.opt.Permit(lease, until, kill)
	}
}

// guard renews the session's lease every Timing.Renew and grants a permit after each
// renewal. When no renewal has succeeded for Timing.Window (etcd out of reach, an etcd
// leader election, or this process frozen), the node is suspended: its group workers and
// coordinator stand still while the resource host keeps the resources frozen; a renewal
// that succeeds later (the lease still alive) resumes everything where it stopped.
// guard returns when ctx ends or the lease is gone: expired, revoked, or possibly
// expired (no renewal for a TTL) — then the resources are terminated.
func (a *Agent) guard(ctx context.Context, s *clusterdb.Session, born fencing.Instant) {
	t := a.timing
	lease := s.Lease()
	last := born // send time of the last renewal that succeeded
	type result struct {
		sent fencing.Instant
		ttl  int64
		err  error
	}
	results := make(chan result, 1)
	inflight := false
	tick := time.NewTicker(t.Renew / 2)
	defer tick.Stop()
	defer a.suspended.Store(false)
	renew := func() {
		inflight = true
		sent := fencing.Now()
		go func() {
			cctx, cancel := context.WithTimeout(ctx, t.Window)
			ttl, err := s.Renew(cctx)
			cancel()
			results <- result{sent: sent, ttl: ttl, err: err}
		}()
	}
	nextRenew := fencing.Now().Add(t.Renew)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.Done():
			a.sessionLost(ctx, "the session's keep-alive ended")
			return
		case r := <-results:
			inflight = false
			switch {
			case errors.Is(r.err, clusterdb.ErrLeaseGone):
				a.sessionLost(ctx, "the lease expired or was revoked")
				return
			case r.err == nil && r.ttl > 0 && r.sent > last:
				last = r.sent
				a.grant(lease, r.sent)
				if a.suspended.Swap(false) {
					a.poke()
					a.log.Warn("cluster session renewed again: this node's resources continue")
				}
			}
		case <-tick.C:
		}
		now := fencing.Now()
		if !inflight && now >= nextRenew {
			nextRenew = now.Add(t.Renew)
			renew()
		}
		if now >= last.Add(t.TTL) {
			a.sessionLost(ctx, "no renewal for a whole TTL")
			return
		}
		if now >= last.Add(t.Window) && !a.suspended.Swap(true) {
			a.log.Warn("cluster session not renewed in time: this node's resources are frozen until it is", "since", now.Sub(last))
		}
	}
}

// sessionLost stops everything of this node's: its lease is gone, or may be.
func (a *Agent) sessionLost(ctx context.Context, why string) {
	a.live.Store(false)
	a.suspended.Store(false)
	a.log.Error("cluster session lost: stopping this node's resources", "why", why)
	a.terminateAll(context.WithoutCancel(ctx))
	a.opt.Report(context.WithoutCancel(ctx), EventQuorumLost)
}

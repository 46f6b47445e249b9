package checkpoint

import (
	"context"
	"errors"
	"time"

	"wolfpack/internal/clusterdb"
)

// restoreKey restores the newest version of one key before the resource comes online.
// A non-nil error means the resource must fail.
//
// What a failed restore does depends on the resource's RestoreFailureAction and on why
// it failed: other processes hold handles in the subtree (event 1024), or anything else
// (event 1082): the cluster database cannot be read, the stored version is damaged or
// its hive refused, the registry cannot write.
//
//	action           handles held                        any other failure
//	Continue         online with the live subtree        online with the live subtree
//	Retry (default)  again as the handles close          again, reading the newest version anew
//	Fail             the resource fails                  the resource fails
//	Force            restored anyway, the holders'       as Retry (forcing cannot help), with
//	                 handles stale (event 1901)          force, so handles do not block it
//
// Retrying goes on every RetryInterval until RestoreRetryTimeout, then the resource fails:
// an etcd leader election or a partition heals within it, and a damaged version can be
// replaced meanwhile (a rollback is read by the next attempt). So only Continue ever
// brings a resource online without its checkpoint, and the live subtree it runs with is
// then never captured over the checkpoint.
func (m *Manager) restoreKey(ctx context.Context, rr *runningResource, k *keyState) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	rr.mu.Lock()
	res, pol := rr.res.Name, rr.policy
	rr.mu.Unlock()

	v, err := m.restoreLatest(ctx, res, k, false)
	switch {
	case err == nil:
		m.cfg.Metrics.restore("restored")
		m.log.Debug("checkpoint restored", "resource", res, "key", k.key, "version", v.Number)
		return nil
	case errors.Is(err, clusterdb.ErrNoCheckpoint):
		m.cfg.Metrics.restore("none")
		return nil // never captured: nothing to restore, the live subtree becomes the first version
	case ctx.Err() != nil:
		return ctx.Err()
	}
	rep := restoreReports{}
	m.restoreFailed(ctx, res, k.key, pol.Action, err, &rep)
	var inUse *KeysInUseError
	switch pol.Action {
	case Continue:
		k.stale = true
		return nil
	case Fail:
		return &RestoreError{Resource: res, Key: k.key, Action: Fail, Err: err}
	case Force:
		if !errors.As(err, &inUse) {
			break // forcing cannot help: retry
		}
		_, ferr := m.restoreLatest(ctx, res, k, true)
		if ferr == nil {
			m.log.Warn("checkpoint restored by force; the holders' handles are stale", "resource", res, "key", k.key, "holders", holderList(inUse.Holders))
			m.report(ctx, restoreForcedEvent(res, k.key, inUse.Holders))
			m.cfg.Metrics.restore("forced")
			return nil
		}
		if errors.Is(ferr, clusterdb.ErrNoCheckpoint) {
			return nil
		}
		if ctx.Err() != nil {
			return &RestoreError{Resource: res, Key: k.key, Action: Force, Err: ctx.Err()}
		}
		m.restoreFailed(ctx, res, k.key, pol.Action, ferr, &rep)
		err = ferr
	}
	rr.mu.Lock()
	waiting := rr.res.Waiting
	rr.mu.Unlock()
	return m.retryRestore(ctx, res, k, pol, err, &rep, waiting)
}

// restoreReports remembers which kinds of failure one restore has reported, so that
// retries write each event once.
type restoreReports struct{ refused, failed bool }

// restoreFailed logs a failed restore attempt and writes its event (1024 for handles,
// 1082 for anything else) unless rep says it was written already.
func (m *Manager) restoreFailed(ctx context.Context, res, key string, action Action, err error, rep *restoreReports) {
	var inUse *KeysInUseError
	if errors.As(err, &inUse) {
		if rep.refused {
			return
		}
		rep.refused = true
		m.log.Error("checkpoint restore refused: keys in use", "resource", res, "key", key,
			"holders", holderList(inUse.Holders), "action", action)
		m.report(ctx, restoreRefusedEvent(res, key, inUse.Holders))
		m.cfg.Metrics.restore("refused")
		return
	}
	if rep.failed {
		return
	}
	rep.failed = true
	m.log.Error("checkpoint restore failed", "resource", res, "key", key, "err", err, "action", action)
	m.report(ctx, restoreErrorEvent(res, key, err))
	m.cfg.Metrics.restore("failed")
}

// restoreLatest reads the newest version of k and restores it (force: whatever handles
// are open). clusterdb.ErrNoCheckpoint means there is none.
func (m *Manager) restoreLatest(ctx context.Context, res string, k *keyState, force bool) (clusterdb.CheckpointVersion, error) {
	v, data, err := m.cfg.Store.Latest(ctx, res, k.key)
	if err != nil {
		return v, err
	}
	if err := m.cfg.Registry.Restore(ctx, k.key, data, force); err != nil {
		return v, err
	}
	k.digest, k.stale = v.Digest, false
	return v, nil
}

// retryRestore tries the restore again every RetryInterval until RestoreRetryTimeout
// (Retry, and Force for failures that forcing cannot overcome); last is the failure so
// far. It returns nil once the checkpoint is restored, else a *RestoreError. waiting,
// when set, hears the holders whenever handles refuse the restore and they changed.
func (m *Manager) retryRestore(ctx context.Context, res string, k *keyState, pol Policy, last error, rep *restoreReports, waiting func(Wait)) error {
	force := pol.Action == Force
	start := time.Now()
	deadline := start.Add(pol.RetryTimeout)
	said := ""
	tell := func(err error) {
		var inUse *KeysInUseError
		if waiting != nil && errors.As(err, &inUse) && holderList(inUse.Holders) != said {
			said = holderList(inUse.Holders)
			waiting(Wait{Key: k.key, Holders: inUse.Holders, Until: deadline})
		}
	}
	tell(last)
	for {
		wait := min(m.cfg.RetryInterval, time.Until(deadline))
		if wait <= 0 {
			return &RestoreError{Resource: res, Key: k.key, Action: pol.Action, Err: last}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return &RestoreError{Resource: res, Key: k.key, Action: pol.Action, Err: ctx.Err()}
		case <-t.C:
		}
		_, err := m.restoreLatest(ctx, res, k, force)
		switch {
		case err == nil:
			waited := time.Since(start)
			if rep.failed {
				m.log.Info("checkpoint restored after retrying", "resource", res, "key", k.key, "waited", waited, "after", last)
				m.report(ctx, restoreAfterRetryEvent(res, k.key, waited.Seconds()))
			} else {
				m.log.Info("checkpoint restored after the handles closed", "resource", res, "key", k.key, "waited", waited)
				m.report(ctx, restoreAfterWaitEvent(res, k.key, waited.Seconds()))
			}
			m.cfg.Metrics.restore("waited")
			return nil
		case errors.Is(err, clusterdb.ErrNoCheckpoint):
			return nil // its versions were deleted meanwhile: nothing to restore
		case ctx.Err() != nil:
			return &RestoreError{Resource: res, Key: k.key, Action: pol.Action, Err: ctx.Err()}
		}
		m.restoreFailed(ctx, res, k.key, pol.Action, err, rep)
		tell(err)
		last = err
	}
}

// RestoreNow restores the newest version of key into the running resource's subtree
// (after a rollback). Handles held by other processes refuse it (*KeysInUseError),
// whatever RestoreFailureAction says: the resource is already running.
func (m *Manager) RestoreNow(ctx context.Context, resource, key string) (clusterdb.CheckpointVersion, error) {
	_, k, err := m.lookup(resource, key)
	if err != nil {
		return clusterdb.CheckpointVersion{}, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	v, data, err := m.cfg.Store.Latest(ctx, resource, k.key)
	if err != nil {
		return v, err
	}
	if err := m.cfg.Registry.Restore(ctx, k.key, data, false); err != nil {
		return v, err
	}
	k.digest, k.stale = v.Digest, false
	return v, nil
}

package checkpoint

import (
	"context"
	"errors"
	"time"

	"wolfpack/internal/clusterdb"
)

// restoreKey restores the newest version of one key before the resource comes online.
// A non-nil error means the resource must fail.
func (m *Manager) restoreKey(ctx context.Context, rr *runningResource, k *keyState) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	rr.mu.Lock()
	res, pol := rr.res.Name, rr.policy
	rr.mu.Unlock()

	v, data, err := m.cfg.Store.Latest(ctx, res, k.key)
	if errors.Is(err, clusterdb.ErrNoCheckpoint) {
		m.cfg.Metrics.restore("none")
		return nil // never captured: nothing to restore, the live subtree becomes the first version
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		m.log.Error("cannot read checkpoint", "resource", res, "key", k.key, "err", err)
		m.report(ctx, restoreErrorEvent(res, k.key, err))
		m.cfg.Metrics.restore("failed")
		k.stale = true
		return nil
	}
	err = m.cfg.Registry.Restore(ctx, k.key, data, false)
	var inUse *KeysInUseError
	switch {
	case err == nil:
		k.digest, k.stale = v.Digest, false
		m.cfg.Metrics.restore("restored")
		m.log.Debug("checkpoint restored", "resource", res, "key", k.key, "version", v.Number)
		return nil
	case !errors.As(err, &inUse):
		if ctx.Err() != nil {
			return ctx.Err()
		}
		m.log.Error("checkpoint restore failed", "resource", res, "key", k.key, "err", err)
		m.report(ctx, restoreErrorEvent(res, k.key, err))
		m.cfg.Metrics.restore("failed")
		k.stale = true
		return nil
	}

	m.log.Error("checkpoint restore refused: keys in use", "resource", res, "key", k.key,
		"holders", holderList(inUse.Holders), "action", pol.Action)
	m.report(ctx, restoreRefusedEvent(res, k.key, inUse.Holders))
	m.cfg.Metrics.restore("refused")
	switch pol.Action {
	case Continue:
		k.stale = true
		return nil
	case Fail:
		return &RestoreError{Resource: res, Key: k.key, Action: Fail, Err: inUse}
	case Force:
		if err := m.cfg.Registry.Restore(ctx, k.key, data, true); err != nil {
			m.report(ctx, restoreErrorEvent(res, k.key, err))
			k.stale = true
			return nil
		}
		m.log.Warn("checkpoint restored by force; the holders' handles are stale", "resource", res, "key", k.key, "holders", holderList(inUse.Holders))
		m.report(ctx, restoreForcedEvent(res, k.key, inUse.Holders))
		m.cfg.Metrics.restore("forced")
		k.digest, k.stale = v.Digest, false
		return nil
	}
	// Retry: try again as the handles close, until RestoreRetryTimeout.
	start := time.Now()
	deadline := start.Add(pol.RetryTimeout)
	rr.mu.Lock()
	waiting := rr.res.Waiting
	rr.mu.Unlock()
	said := ""
	tell := func(hs []Holder) {
		if waiting != nil && holderList(hs) != said {
			said = holderList(hs)
			waiting(Wait{Key: k.key, Holders: hs, Until: deadline})
		}
	}
	tell(inUse.Holders)
	for {
		wait := min(m.cfg.RetryInterval, time.Until(deadline))
		if wait <= 0 {
			return &RestoreError{Resource: res, Key: k.key, Action: Retry, Err: inUse}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return &RestoreError{Resource: res, Key: k.key, Action: Retry, Err: ctx.Err()}
		case <-t.C:
		}
		err := m.cfg.Registry.Restore(ctx, k.key, data, false)
		switch {
		case err == nil:
			waited := time.Since(start)
			m.log.Info("checkpoint restored after the handles closed", "resource", res, "key", k.key, "waited", waited)
			m.report(ctx, restoreAfterWaitEvent(res, k.key, waited.Seconds()))
			m.cfg.Metrics.restore("waited")
			k.digest, k.stale = v.Digest, false
			return nil
		case errors.As(err, &inUse):
			tell(inUse.Holders)
			continue
		case ctx.Err() != nil:
			return &RestoreError{Resource: res, Key: k.key, Action: Retry, Err: ctx.Err()}
		default:
			m.report(ctx, restoreErrorEvent(res, k.key, err))
			k.stale = true
			return nil
		}
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

package checkpoint

import (
	"context"
	"errors"
	"time"

	"github.com/cenkalti/backoff/v5"

	"wolfpack/internal/clusterdb"
)

// startCapture starts the key's capture loop (once).
func (m *Manager) startCapture(rr *runningResource, k *keyState) {
	k.loopMu.Lock()
	defer k.loopMu.Unlock()
	if k.done != nil {
		return
	}
	ctx, cancel := context.WithCancel(m.base)
	k.cancel, k.done = cancel, make(chan struct{})
	go m.captureLoop(ctx, rr, k, k.done)
}

// stopCapture ends the key's capture loop and waits for it, including a capture in
// flight (whose commit is abandoned: a half-written version is never switched in).
func (k *keyState) stopCapture() {
	k.loopMu.Lock()
	cancel, done := k.cancel, k.done
	k.cancel, k.done = nil, nil
	k.loopMu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

// captureLoop captures the key whenever it is signalled, at most once per Debounce:
// the first change after a quiet period is captured at once (leading edge), changes
// within Debounce of a capture are gathered into one capture when it has passed. A
// subtree whose capture takes long (tens of MiB) is captured at most once per three times
// that time, so that a program that never stops writing to it cannot keep the cluster
// database busy with it more than a third of the time.
func (m *Manager) captureLoop(ctx context.Context, rr *runningResource, k *keyState, done chan struct{}) {
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		m.watchKey(ctx, k)
	}()
	defer func() {
		<-watchDone
		close(done)
	}()
	var last time.Time
	gap := m.cfg.Debounce
	for {
		select {
		case <-ctx.Done():
			return
		case <-k.dirty:
		}
		if wait := time.Until(last.Add(gap)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		last = time.Now()
		if err := m.captureKey(ctx, rr, k); err != nil && ctx.Err() == nil {
			m.log.Debug("capture failed", "key", k.key, "err", err)
		}
		gap = max(m.cfg.Debounce, 3*time.Since(last))
	}
}

// watchKey turns registry notifications into signals; it watches again when the
// registry ends a watch (the key was deleted or restored by force) and captures then.
func (m *Manager) watchKey(ctx context.Context, k *keyState) {
	// A failed watch is tried again after 10 ms, doubling up to 2 s; one that ended after
	// it was in place starts the series again.
	wait := backoff.ExponentialBackOff{InitialInterval: 10 * time.Millisecond, Multiplier: 2, MaxInterval: 2 * time.Second}
	for ctx.Err() == nil {
		ch, err := m.cfg.Registry.Watch(ctx, k.key)
		if err != nil {
			m.log.Warn("cannot watch checkpointed key", "key", k.key, "err", err)
		} else {
			// Changes made before the watch was in place are caught by a capture now;
			// the digest keeps it from committing what is already committed.
			k.signal()
			wait.Reset()
			for range ch {
				k.signal()
			}
			k.signal()
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait.NextBackOff()):
		}
	}
}

// captureKey saves the key and commits it as a new version when its content changed
// since the newest version this node knows. It writes event 1081 when the save or the
// commit fails (once per run of failures).
func (m *Manager) captureKey(ctx context.Context, rr *runningResource, k *keyState) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	rr.mu.Lock()
	res, fence, history := rr.res, rr.fence, rr.policy.History
	rr.mu.Unlock()
	if k.stale || rr.fenced.Load() {
		return nil
	}
	start := time.Now()
	data, err := m.cfg.Registry.Save(ctx, k.key)
	if err != nil {
		return m.saveFailed(ctx, res.Name, k, err)
	}
	d := m.cfg.Digest(data)
	if d == k.digest {
		k.saveFailing = false
		m.cfg.Metrics.capture("unchanged", 0, 0)
		return nil
	}
	v, err := m.cfg.Store.Put(ctx, fence, res.Name, k.key, data,
		clusterdb.CheckpointVersion{Time: start, Node: m.cfg.Node, Digest: d}, history)
	if errors.Is(err, clusterdb.ErrFenced) {
		// The group has moved on: its new owner's copy is the one that counts.
		rr.fenced.Store(true)
		m.cfg.Metrics.capture("fenced", 0, 0)
		m.log.Warn("checkpoint not committed: this node no longer owns the group", "resource", res.Name, "group", fence.Group, "key", k.key)
		return nil
	}
	if err != nil {
		return m.saveFailed(ctx, res.Name, k, err)
	}
	k.digest, k.saveFailing = d, false
	m.cfg.Metrics.capture("committed", time.Since(start), v.Size)
	m.log.Debug("checkpoint captured", "resource", res.Name, "key", k.key, "version", v.Number, "size", v.Size, "took", time.Since(start))
	if m.cfg.Committed != nil {
		m.cfg.Committed(res.Name, k.key, v)
	}
	return nil
}

func (m *Manager) saveFailed(ctx context.Context, res string, k *keyState, err error) error {
	if ctx.Err() != nil {
		return err // stopped (offline, shutdown): not a failure of the save
	}
	m.cfg.Metrics.capture("failed", 0, 0)
	if !k.saveFailing {
		k.saveFailing = true
		m.log.Error("checkpoint save failed", "resource", res, "key", k.key, "err", err)
		m.report(ctx, saveFailedEvent(res, k.key, err))
	}
	return err
}

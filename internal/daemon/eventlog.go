package daemon

import (
	"context"
	"path/filepath"

	"wolfpack/internal/api"
	"wolfpack/internal/eventlog"
)

// startEventlog opens the node's event logs in <data-dir>/eventlog/ and serves them
// under /v1/eventlog/. It starts first, so that every other part can report events.
func (n *Node) startEventlog(ctx context.Context) error {
	svc, err := eventlog.Open(filepath.Join(n.Cfg.DataDir, "eventlog"), eventlog.Options{
		Computer: n.Cfg.Name,
		Logger:   n.Log.With("part", "eventlog"),
	})
	if err != nil {
		return err
	}
	n.Events = svc
	api.RegisterEventlog(n.API, svc)
	n.onStop(func() { svc.Close() })
	return nil
}

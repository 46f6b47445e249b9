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
	n.onStop(func() {
		// After every other part stopped: the Cluster service is stopped.
		if n.wasReady {
			n.serviceEvent("stopped")
		}
	})
	return nil
}

// serviceEvent writes the Service Control Manager's 7036 for the Cluster service
// entering state ("running", "stopped"), as Windows logs its services' starts and stops.
func (n *Node) serviceEvent(state string) {
	e := eventlog.Event{Log: eventlog.LogSystem, Source: eventlog.SourceServiceControlManager, EventID: eventlog.EventServiceState,
		Strings: []string{"Cluster Service", state}}
	if _, err := n.Events.Report(context.Background(), e); err != nil {
		n.Log.Warn("cannot write the service's state to the System log", "state", state, "err", err)
	}
}

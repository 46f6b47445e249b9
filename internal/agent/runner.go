package agent

import (
	"context"

	"wolfpack/internal/clusterdb"
)

// Runner runs this node's resources: the resource monitor (internal/resmon), or an
// in-memory one in tests. Calls for one resource are never concurrent.
type Runner interface {
	// Online adds r (or updates its properties) and brings it online. It returns when
	// the resource is online (nil) or has failed to come online.
	Online(ctx context.Context, r clusterdb.Resource) error
	// Offline takes the resource offline gracefully and forgets it.
	Offline(ctx context.Context, name string) error
	// Terminate stops the resource at once and forgets it.
	Terminate(ctx context.Context, name string)
}

// Noter is implemented by runners that keep a log per resource (resmon's
// resources/<name>.log): the agent notes there the failures that happen before the
// runner is asked (a refused registry restore, a bad private property).
type Noter interface {
	Note(resource, text string)
}

// RunnerEvent is a change the runner decided on its own: a failure found by polling, a
// restart, the restart threshold exceeded. The runner passes them to Agent.Notify.
type RunnerEvent struct {
	Resource string
	State    string // clusterdb.StateOnline, …
	Err      error
	// Restarting: the runner brings the resource online again by itself.
	Restarting bool
	// Failover: the restart threshold was exceeded and RestartAction asks for failover.
	Failover bool
}

// SetupError is a Runner.Online failure before anything started (an unknown type, a
// missing private property): the runner will not retry, so the agent applies the
// restart policy itself.
type SetupError struct{ Err error }

func (e *SetupError) Error() string { return e.Err.Error() }
func (e *SetupError) Unwrap() error { return e.Err }

package resmon

import (
	"errors"
	"fmt"
	"strings"
)

// Errors returned by the Monitor, compared with errors.Is.
var (
	// ErrUnknownType: the resource type name is not one of Types().
	ErrUnknownType = errors.New("resmon: unknown resource type")
	// ErrUnknownResource: the Monitor has no resource by that name.
	ErrUnknownResource = errors.New("resmon: no such resource")
	// ErrExists: Add was called with a name the Monitor already runs.
	ErrExists = errors.New("resmon: resource already exists")
	// ErrNotOffline: Remove was called on a resource that is not Offline or Failed.
	ErrNotOffline = errors.New("resmon: resource is not offline")
	// ErrClosed: the Monitor was closed.
	ErrClosed = errors.New("resmon: monitor closed")
	// ErrSuperseded: an Online call ended because Offline or Terminate was asked for
	// before the resource came online.
	ErrSuperseded = errors.New("resmon: superseded by a later request")
	// ErrPendingTimeout: an Online or Offline entry point (or a health check) did not
	// return within the resource's PendingTimeout; the resource was terminated.
	ErrPendingTimeout = errors.New("resmon: pending timeout")
	// ErrNotAlive: the resource's health check (LooksAlive confirmed by IsAlive) failed.
	ErrNotAlive = errors.New("resmon: resource is not alive")
	// ErrRestartThresholdExceeded: the resource failed more than RestartThreshold times
	// within RestartPeriod; the monitor stops restarting it. Wrapped together with the
	// failure that crossed the threshold.
	ErrRestartThresholdExceeded = errors.New("resmon: restart threshold exceeded")
	// ErrNotRunning: the resource's process or agent reports that it is not running.
	ErrNotRunning = errors.New("resmon: not running")
)

// PropertyError reports a bad or missing private property of a resource type.
type PropertyError struct {
	Type     string // resource type name, e.g. "Generic Application"
	Property string // private property name, e.g. "CommandLine"
	Value    string // the offending value ("" when missing)
	Msg      string
	Unknown  bool // the type has no property of that name
}

func (e *PropertyError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("resmon: %s: private property %s: %s", e.Type, e.Property, e.Msg)
	}
	return fmt.Sprintf("resmon: %s: private property %s=%q: %s", e.Type, e.Property, e.Value, e.Msg)
}

// ActionError reports a failed action of an external program: a Generic Script entry
// point or an OCF resource agent action.
type ActionError struct {
	Program string // path of the script or agent
	Action  string // "online", "start", "monitor", ...
	Code    int    // exit status; -1 when killed by a signal or not started
	OCF     bool   // Code is an OCF exit code (see OCFCode)
	Reason  string // the agent's ocf-exit-reason, or the last line of its stderr
}

func (e *ActionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "resmon: %s %s: ", e.Program, e.Action)
	switch {
	case e.OCF:
		fmt.Fprintf(&b, "exit %d (%s)", e.Code, OCFCode(e.Code))
	case e.Code < 0:
		b.WriteString("killed")
	default:
		fmt.Fprintf(&b, "exit status %d", e.Code)
	}
	if e.Reason != "" {
		fmt.Fprintf(&b, ": %s", e.Reason)
	}
	return b.String()
}

// Is makes an OCF_NOT_RUNNING action error match ErrNotRunning.
func (e *ActionError) Is(target error) bool {
	return target == ErrNotRunning && e.OCF && OCFCode(e.Code) == OCFNotRunning
}

// CycleError reports a dependency cycle found by Order.
type CycleError struct {
	Cycle []string // resource names along the cycle; the first is repeated at the end
}

func (e *CycleError) Error() string {
	return "resmon: dependency cycle: " + strings.Join(e.Cycle, " -> ")
}

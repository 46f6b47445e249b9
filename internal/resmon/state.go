package resmon

import (
	"fmt"
	"time"
)

// State is a resource's state, numbered and named as WSFC's CLUSTER_RESOURCE_STATE.
type State int

const (
	StateUnknown        State = -1
	StateOnline         State = 2
	StateOffline        State = 3
	StateFailed         State = 4
	StateOnlinePending  State = 129 // ClusterResourceOnlinePending (ClusterResourcePending + 1)
	StateOfflinePending State = 130 // ClusterResourceOfflinePending
)

// String returns the name cluster.exe prints: "Online", "Offline", "Failed",
// "Online Pending", "Offline Pending".
func (s State) String() string {
	switch s {
	case StateOnline:
		return "Online"
	case StateOffline:
		return "Offline"
	case StateFailed:
		return "Failed"
	case StateOnlinePending:
		return "Online Pending"
	case StateOfflinePending:
		return "Offline Pending"
	case StateUnknown:
		return "Unknown"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Event reports one state change of a resource. The Monitor delivers events to
// Options.OnEvent one at a time, in the order they happened.
type Event struct {
	Time     time.Time
	Resource string
	Old, New State
	// Err says why the resource failed (New == StateFailed), else nil.
	Err error
	// Restarting is true when New == StateFailed and the monitor will bring the resource
	// online again after RestartDelay (RestartAction allows it and RestartThreshold is
	// not reached). Otherwise the resource stays Failed (until the RetryPeriodOnFailure
	// retry, if any, or the caller's next Online).
	Restarting bool
	// Failover is the distinct "restart threshold exceeded, failover wanted" signal: the
	// resource failed more than RestartThreshold times within RestartPeriod and its
	// RestartAction is RestartNotify, so the agent should move its group to another node.
	// Err then wraps ErrRestartThresholdExceeded.
	Failover bool
}

func (e Event) String() string {
	s := fmt.Sprintf("%s: %s -> %s", e.Resource, e.Old, e.New)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.Restarting {
		s += " (restarting)"
	}
	if e.Failover {
		s += " (failover wanted)"
	}
	return s
}

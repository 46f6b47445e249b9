package resmon

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// RestartAction says what the monitor does when a resource fails; WSFC's
// CLUSTER_RESOURCE_RESTART_ACTION, with its numbers.
type RestartAction uint32

const (
	// RestartDontRestart (ClusterResourceDontRestart, 0): leave the resource Failed.
	RestartDontRestart RestartAction = 0
	// RestartNoNotify (ClusterResourceRestartNoNotify, 1): restart on this node; when the
	// threshold is exceeded, leave it Failed without asking for failover.
	RestartNoNotify RestartAction = 1
	// RestartNotify (ClusterResourceRestartNotify, 2): restart on this node; when the
	// threshold is exceeded, signal Event.Failover so that the group fails over.
	RestartNotify RestartAction = 2
)

func (a RestartAction) String() string {
	switch a {
	case RestartDontRestart:
		return "ClusterResourceDontRestart"
	case RestartNoNotify:
		return "ClusterResourceRestartNoNotify"
	case RestartNotify:
		return "ClusterResourceRestartNotify"
	}
	return fmt.Sprintf("RestartAction(%d)", uint32(a))
}

// Policy holds the WSFC common properties that govern how the monitor polls and restarts
// one resource. Start from DefaultPolicy; every duration is kept in milliseconds by
// WSFC and accepted here as a time.Duration.
type Policy struct {
	LooksAlivePollInterval time.Duration // cheap check period (WSFC default 5000 ms)
	IsAlivePollInterval    time.Duration // thorough check period (60000 ms)
	PendingTimeout         time.Duration // bound on Online, Offline and each check (180000 ms)
	RestartAction          RestartAction // RestartNotify by default
	RestartThreshold       int           // restarts allowed within RestartPeriod (3)
	RestartPeriod          time.Duration // window for RestartThreshold (900000 ms)
	RestartDelay           time.Duration // wait before each restart (500 ms)
	// RetryPeriodOnFailure: after the threshold is exceeded the resource stays Failed; if
	// it is still on this monitor after this period, the monitor tries again with a fresh
	// restart count (3600000 ms). 0 disables the retry.
	RetryPeriodOnFailure time.Duration
}

// DefaultPolicy returns WSFC's defaults.
func DefaultPolicy() Policy {
	return Policy{
		LooksAlivePollInterval: 5000 * time.Millisecond,
		IsAlivePollInterval:    60000 * time.Millisecond,
		PendingTimeout:         180000 * time.Millisecond,
		RestartAction:          RestartNotify,
		RestartThreshold:       3,
		RestartPeriod:          900000 * time.Millisecond,
		RestartDelay:           500 * time.Millisecond,
		RetryPeriodOnFailure:   3600000 * time.Millisecond,
	}
}

// Validate reports a policy the monitor cannot run.
func (p Policy) Validate() error {
	pos := []struct {
		name string
		d    time.Duration
	}{
		{"LooksAlivePollInterval", p.LooksAlivePollInterval},
		{"IsAlivePollInterval", p.IsAlivePollInterval},
		{"PendingTimeout", p.PendingTimeout},
		{"RestartPeriod", p.RestartPeriod},
	}
	for _, f := range pos {
		if f.d <= 0 {
			return fmt.Errorf("resmon: policy: %s must be positive, got %v", f.name, f.d)
		}
	}
	if p.RestartAction > RestartNotify {
		return fmt.Errorf("resmon: policy: RestartAction %d is not 0, 1 or 2", uint32(p.RestartAction))
	}
	if p.RestartThreshold < 0 || p.RestartDelay < 0 || p.RetryPeriodOnFailure < 0 {
		return fmt.Errorf("resmon: policy: RestartThreshold, RestartDelay and RetryPeriodOnFailure must not be negative")
	}
	return nil
}

// useTypeDefault is WSFC's 0xFFFFFFFF: "use the resource type's value" (here the default).
const useTypeDefault = 0xFFFFFFFF

// ParsePolicy reads a policy from WSFC common properties as stored by the cluster
// database: names as WSFC's (case-insensitive), values decimal numbers of milliseconds
// (RestartAction and RestartThreshold plain numbers; RestartAction also takes its
// name). Properties that are absent, or 4294967295 (0xFFFFFFFF, WSFC's "use the resource
// type's value"), keep DefaultPolicy's value; other names are ignored,
// so the whole common-property map can be passed.
func ParsePolicy(props map[string]string) (Policy, error) {
	p := DefaultPolicy()
	ms := map[string]*time.Duration{
		"looksalivepollinterval": &p.LooksAlivePollInterval,
		"isalivepollinterval":    &p.IsAlivePollInterval,
		"pendingtimeout":         &p.PendingTimeout,
		"restartperiod":          &p.RestartPeriod,
		"restartdelay":           &p.RestartDelay,
		"retryperiodonfailure":   &p.RetryPeriodOnFailure,
	}
	for name, v := range props {
		key := strings.ToLower(name)
		v = strings.TrimSpace(v)
		if d, ok := ms[key]; ok {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return Policy{}, fmt.Errorf("resmon: policy: %s=%q: want milliseconds as a DWORD", name, v)
			}
			if n == useTypeDefault {
				continue
			}
			*d = time.Duration(n) * time.Millisecond
			continue
		}
		switch key {
		case "restartthreshold":
			n, err := strconv.ParseUint(v, 10, 31)
			if err != nil {
				return Policy{}, fmt.Errorf("resmon: policy: %s=%q: want a number", name, v)
			}
			p.RestartThreshold = int(n)
		case "restartaction":
			a, err := parseRestartAction(v)
			if err != nil {
				return Policy{}, fmt.Errorf("resmon: policy: %s=%q: %w", name, v, err)
			}
			p.RestartAction = a
		}
	}
	return p, p.Validate()
}

func parseRestartAction(v string) (RestartAction, error) {
	for a := RestartDontRestart; a <= RestartNotify; a++ {
		if strings.EqualFold(v, a.String()) || v == strconv.Itoa(int(a)) {
			return a, nil
		}
	}
	return 0, fmt.Errorf("want 0 (ClusterResourceDontRestart), 1 (ClusterResourceRestartNoNotify) or 2 (ClusterResourceRestartNotify)")
}

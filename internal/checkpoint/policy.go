package checkpoint

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"wolfpack/internal/clusterdb"
)

// Private properties of a resource that the Manager reads.
const (
	PropRestoreFailureAction = "RestoreFailureAction"
	PropRestoreRetryTimeout  = "RestoreRetryTimeout" // ms
	PropCheckpointHistory    = "CheckpointHistory"
)

// Defaults of the properties.
const (
	DefaultRestoreRetryTimeout = 30 * time.Second
	DefaultHistory             = clusterdb.DefaultCheckpointHistory
	// MaxHistory keeps a key's version list (one etcd value) well below etcd's request
	// limit.
	MaxHistory = 1000
)

// Action is what a refused restore does (RestoreFailureAction).
type Action int

// The actions; Retry is the default.
const (
	Retry Action = iota
	Continue
	Fail
	Force
)

var actionNames = [...]string{Retry: "Retry", Continue: "Continue", Fail: "Fail", Force: "Force"}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// ParseAction parses an action name (case-insensitive) or its number.
func ParseAction(s string) (Action, error) {
	s = strings.TrimSpace(s)
	for i, n := range actionNames {
		if strings.EqualFold(s, n) || s == strconv.Itoa(i) {
			return Action(i), nil
		}
	}
	return Retry, fmt.Errorf("checkpoint: RestoreFailureAction %q is not Continue, Retry, Fail or Force", s)
}

// Policy is a resource's checkpoint settings, read from its private properties.
type Policy struct {
	Action       Action
	RetryTimeout time.Duration
	History      int
}

// PolicyOf reads r's settings; unset or malformed properties take their defaults (a
// malformed one is reported in the returned error, which callers may log).
func PolicyOf(r Resource) (Policy, error) {
	p := Policy{Action: Retry, RetryTimeout: DefaultRestoreRetryTimeout, History: DefaultHistory}
	var errs []string
	if s, ok := prop(r.Private, PropRestoreFailureAction); ok {
		a, err := ParseAction(s)
		if err != nil {
			errs = append(errs, err.Error())
		} else {
			p.Action = a
		}
	}
	if s, ok := prop(r.Private, PropRestoreRetryTimeout); ok {
		ms, err := strconv.ParseUint(strings.TrimSpace(s), 0, 32)
		if err != nil {
			errs = append(errs, fmt.Sprintf("RestoreRetryTimeout %q is not a number of milliseconds", s))
		} else {
			p.RetryTimeout = time.Duration(ms) * time.Millisecond
		}
	}
	if s, ok := prop(r.Private, PropCheckpointHistory); ok {
		n, err := strconv.ParseUint(strings.TrimSpace(s), 0, 16)
		if err != nil || n < 1 || n > MaxHistory {
			errs = append(errs, fmt.Sprintf("CheckpointHistory %q is not a number from 1 to %d", s, MaxHistory))
		} else {
			p.History = int(n)
		}
	}
	if len(errs) > 0 {
		return p, fmt.Errorf("resource %q: %s", r.Name, strings.Join(errs, "; "))
	}
	return p, nil
}

// prop looks a property up case-insensitively, as cluster.exe's property names are.
func prop(m map[string]string, name string) (string, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// CheckPolicyProperty checks a value of one of PolicyProperties (name in any case) as
// `/priv NAME=VALUE` sets it; the error names the values the property takes.
func CheckPolicyProperty(name, value string) error {
	v := strings.TrimSpace(value)
	switch {
	case strings.EqualFold(name, PropRestoreFailureAction):
		_, err := ParseAction(v)
		return err
	case strings.EqualFold(name, PropRestoreRetryTimeout):
		if _, err := strconv.ParseUint(v, 0, 32); err != nil {
			return fmt.Errorf("checkpoint: RestoreRetryTimeout %q is not a number of milliseconds", value)
		}
	case strings.EqualFold(name, PropCheckpointHistory):
		if n, err := strconv.ParseUint(v, 0, 16); err != nil || n < 1 || n > MaxHistory {
			return fmt.Errorf("checkpoint: CheckpointHistory %q is not a number from 1 to %d", value, MaxHistory)
		}
	default:
		return fmt.Errorf("checkpoint: %q is not a checkpoint property", name)
	}
	return nil
}

// PolicyProperties are the private properties that belong to the cluster's checkpoint
// manager rather than to the resource's type: a resource type's own validation (resmon)
// must not see them.
var PolicyProperties = []string{PropRestoreFailureAction, PropRestoreRetryTimeout, PropCheckpointHistory}

// IsPolicyProperty reports whether name (any case) is one of PolicyProperties.
func IsPolicyProperty(name string) bool {
	for _, p := range PolicyProperties {
		if strings.EqualFold(p, name) {
			return true
		}
	}
	return false
}

// TypeProperties returns private without PolicyProperties: what the resource's type
// gets to see and validate.
func TypeProperties(private map[string]string) map[string]string {
	out := make(map[string]string, len(private))
	for k, v := range private {
		if !IsPolicyProperty(k) {
			out[k] = v
		}
	}
	return out
}

package checkpoint

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"wolfpack/internal/resmon"
)

// Private properties of a resource that the Manager reads. They are declared with the
// resource types (resmon.CheckpointProperties), where the agent lists and checks them.
const (
	PropRestoreFailureAction = resmon.PropRestoreFailureAction
	PropRestoreRetryTimeout  = resmon.PropRestoreRetryTimeout // ms
	PropCheckpointHistory    = resmon.PropCheckpointHistory
)

// Defaults of the properties.
const (
	DefaultRestoreRetryTimeout = resmon.DefaultRestoreRetryTimeout
	DefaultHistory             = resmon.DefaultCheckpointHistory
	MaxHistory                 = resmon.MaxCheckpointHistory
)

// Action is what a refused restore does (RestoreFailureAction).
type Action int

// The actions, numbered as resmon.RestoreFailureActions lists them; Retry is the default.
const (
	Retry Action = iota
	Continue
	Fail
	Force
)

func (a Action) String() string {
	if a >= 0 && int(a) < len(resmon.RestoreFailureActions) {
		return resmon.RestoreFailureActions[a]
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// ParseAction parses an action name (case-insensitive) or its number.
func ParseAction(s string) (Action, error) {
	i, err := resmon.ParseRestoreFailureAction(s)
	if err != nil {
		return Retry, fmt.Errorf("checkpoint: %w", err)
	}
	return Action(i), nil
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
		d, err := resmon.ParseRestoreRetryTimeout(s)
		if err != nil {
			errs = append(errs, err.Error())
		} else {
			p.RetryTimeout = d
		}
	}
	if s, ok := prop(r.Private, PropCheckpointHistory); ok {
		n, err := resmon.ParseCheckpointHistory(s)
		if err != nil {
			errs = append(errs, err.Error())
		} else {
			p.History = n
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

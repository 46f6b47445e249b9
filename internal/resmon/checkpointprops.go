package resmon

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Private properties that every resource type takes beside its own: the policy of the
// cluster's registry checkpoints for the resource, which internal/checkpoint reads. They
// are declared here, with the types, so that the agent lists and checks them with the
// type's own (and keeps them from the type's validation) without knowing the checkpoint
// manager.
const (
	PropRestoreFailureAction = "RestoreFailureAction"
	PropRestoreRetryTimeout  = "RestoreRetryTimeout" // ms
	PropCheckpointHistory    = "CheckpointHistory"
)

// RestoreFailureActions are the values of RestoreFailureAction in the order of their
// numbers (a value may also be its number); the first, Retry, is the default.
var RestoreFailureActions = []string{"Retry", "Continue", "Fail", "Force"}

// Defaults and bounds of the checkpoint properties.
const (
	DefaultRestoreRetryTimeout = 30 * time.Second
	// DefaultCheckpointHistory is the cluster database's default (checkpoint's tests
	// hold the two together).
	DefaultCheckpointHistory = 10
	// MaxCheckpointHistory keeps a key's version list (one etcd value) well below etcd's
	// request limit.
	MaxCheckpointHistory = 1000
)

// CheckpointProperties declares the checkpoint properties as a type declares its own.
var CheckpointProperties = []PropertyInfo{
	{Name: PropRestoreFailureAction, Format: "String", Default: RestoreFailureActions[0],
		Allowed:     RestoreFailureActions,
		Description: "what a registry checkpoint restore refused by open handles does: wait for them (Retry), go on with the old values (Continue), fail the resource (Fail) or restore anyway (Force)"},
	{Name: PropRestoreRetryTimeout, Format: "DWORD", Default: fmt.Sprint(DefaultRestoreRetryTimeout.Milliseconds()),
		Description: "milliseconds a Retry restore waits for the handles to close"},
	{Name: PropCheckpointHistory, Format: "DWORD", Default: fmt.Sprint(DefaultCheckpointHistory),
		Description: fmt.Sprintf("versions kept of each registry checkpoint (1 to %d)", MaxCheckpointHistory)},
}

// ParseRestoreFailureAction returns the number of an action's name (any case) or of its
// number written out.
func ParseRestoreFailureAction(s string) (int, error) {
	s = strings.TrimSpace(s)
	for i, n := range RestoreFailureActions {
		if strings.EqualFold(s, n) || s == strconv.Itoa(i) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("RestoreFailureAction %q is not Continue, Retry, Fail or Force", s)
}

// ParseRestoreRetryTimeout reads RestoreRetryTimeout (milliseconds).
func ParseRestoreRetryTimeout(s string) (time.Duration, error) {
	ms, err := strconv.ParseUint(strings.TrimSpace(s), 0, 32)
	if err != nil {
		return 0, fmt.Errorf("RestoreRetryTimeout %q is not a number of milliseconds", s)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// ParseCheckpointHistory reads CheckpointHistory (1 to MaxCheckpointHistory).
func ParseCheckpointHistory(s string) (int, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 0, 16)
	if err != nil || n < 1 || n > MaxCheckpointHistory {
		return 0, fmt.Errorf("CheckpointHistory %q is not a number from 1 to %d", s, MaxCheckpointHistory)
	}
	return int(n), nil
}

// CheckCheckpointProperty checks a value of one of CheckpointProperties (name in any
// case) as `/priv NAME=VALUE` sets it; the error names the values the property takes.
func CheckCheckpointProperty(name, value string) error {
	var err error
	switch {
	case strings.EqualFold(name, PropRestoreFailureAction):
		_, err = ParseRestoreFailureAction(value)
	case strings.EqualFold(name, PropRestoreRetryTimeout):
		_, err = ParseRestoreRetryTimeout(value)
	case strings.EqualFold(name, PropCheckpointHistory):
		_, err = ParseCheckpointHistory(value)
	default:
		err = fmt.Errorf("%q is not a checkpoint property", name)
	}
	return err
}

// IsCheckpointProperty reports whether name (any case) is one of CheckpointProperties.
func IsCheckpointProperty(name string) bool {
	for _, p := range CheckpointProperties {
		if strings.EqualFold(p.Name, name) {
			return true
		}
	}
	return false
}

// TypeProperties returns private without the checkpoint properties: what the resource's
// type gets to see and validate.
func TypeProperties(private map[string]string) map[string]string {
	out := make(map[string]string, len(private))
	for k, v := range private {
		if !IsCheckpointProperty(k) {
			out[k] = v
		}
	}
	return out
}

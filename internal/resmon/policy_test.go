package resmon

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParsePolicy(t *testing.T) {
	p, err := ParsePolicy(nil)
	if err != nil || p != DefaultPolicy() {
		t.Fatalf("ParsePolicy(nil) = %+v, %v; want the defaults", p, err)
	}
	d := DefaultPolicy()
	if d.LooksAlivePollInterval != 5*time.Second || d.IsAlivePollInterval != time.Minute ||
		d.PendingTimeout != 3*time.Minute || d.RestartAction != RestartNotify || d.RestartThreshold != 3 ||
		d.RestartPeriod != 15*time.Minute {
		t.Fatalf("defaults %+v differ from WSFC's", d)
	}
	p, err = ParsePolicy(map[string]string{
		"looksalivepollinterval": "20", "IsAlivePollInterval": "100", "PendingTimeout": "1000",
		"RestartAction": "1", "RestartThreshold": "5", "RestartPeriod": "60000", "RestartDelay": "0",
		"RetryPeriodOnFailure": "0", "Description": "ignored",
	})
	want := Policy{20 * time.Millisecond, 100 * time.Millisecond, time.Second, RestartNoNotify, 5, time.Minute, 0, 0}
	if err != nil || p != want {
		t.Fatalf("ParsePolicy = %+v, %v; want %+v", p, err, want)
	}
	p, err = ParsePolicy(map[string]string{"LooksAlivePollInterval": "4294967295", "IsAlivePollInterval": "4294967295"})
	if err != nil || p != DefaultPolicy() {
		t.Fatalf("0xFFFFFFFF intervals: %+v, %v; want the defaults", p, err)
	}
	p, err = ParsePolicy(map[string]string{"RestartAction": "ClusterResourceDontRestart"})
	if err != nil || p.RestartAction != RestartDontRestart {
		t.Fatalf("RestartAction by name: %+v, %v", p, err)
	}
	for _, bad := range []map[string]string{
		{"RestartAction": "3"},
		{"RestartAction": "sometimes"},
		{"PendingTimeout": "-1"},
		{"PendingTimeout": "0"},
		{"LooksAlivePollInterval": "5s"},
		{"RestartThreshold": "x"},
	} {
		if _, err := ParsePolicy(bad); err == nil {
			t.Errorf("ParsePolicy(%v) accepted", bad)
		}
	}
}

func TestTypes(t *testing.T) {
	types := Types()
	var names []string
	for _, ti := range types {
		names = append(names, ti.Name)
	}
	if !slices.Equal(names, []string{"Generic Application", "Generic Script", "OCF", "Test"}) {
		t.Fatalf("Types() = %v", names)
	}
	props := func(ti TypeInfo) (out []string) {
		for _, p := range ti.Properties {
			out = append(out, p.Name)
		}
		return out
	}
	if got := props(types[0]); !slices.Equal(got, []string{"CommandLine", "CurrentDirectory", "Environment"}) {
		t.Errorf("Generic Application properties %v", got)
	}
	if !types[0].Properties[0].Required || types[0].Properties[2].Format != "MultiString" {
		t.Errorf("Generic Application property details %+v", types[0].Properties)
	}
	if got := props(types[1]); !slices.Equal(got, []string{"ScriptFilePath"}) || !types[1].OpenProperties {
		t.Errorf("Generic Script properties %v", got)
	}
	if got := props(types[2]); !slices.Equal(got, []string{"Agent"}) || !types[2].OpenProperties {
		t.Errorf("OCF properties %v", got)
	}
	// The caller's copy is its own.
	types[0].Properties[0].Name = "changed"
	if Types()[0].Properties[0].Name != "CommandLine" {
		t.Fatal("Types() shares its table with the caller")
	}

	errIs(t, ValidateProperties("Generic Service", nil), ErrUnknownType)
	if err := ValidateProperties("generic application", map[string]string{"commandline": "sleep 1"}); err != nil {
		t.Fatalf("case-insensitive names: %v", err)
	}
	var pe *PropertyError
	err := ValidateProperties("Test", map[string]string{"OnlineDelay": "soon"})
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "OnlineDelay") {
		t.Fatalf("Test OnlineDelay=soon: %v", err)
	}
	err = ValidateProperties(TypeGenericApplication, nil)
	if err == nil || err.Error() != "resmon: Generic Application: private property CommandLine: required, not set" {
		t.Fatalf("missing CommandLine: %v", err)
	}
}

func TestStateNames(t *testing.T) {
	for s, want := range map[State]string{
		StateOnline: "Online", StateOffline: "Offline", StateFailed: "Failed",
		StateOnlinePending: "Online Pending", StateOfflinePending: "Offline Pending", StateUnknown: "Unknown",
	} {
		if s.String() != want {
			t.Errorf("State(%d) = %q, want %q", int(s), s.String(), want)
		}
	}
	if int(StateOnline) != 2 || int(StateOnlinePending) != 129 || RestartNotify.String() != "ClusterResourceRestartNotify" {
		t.Error("WSFC numbering or names changed")
	}
}

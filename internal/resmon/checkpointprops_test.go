package resmon

import "testing"

func TestTypeProperties(t *testing.T) {
	got := TypeProperties(map[string]string{"CommandLine": "x", "restorefailureaction": "Force", "CheckpointHistory": "3", "RestoreRetryTimeout": "1"})
	if len(got) != 1 || got["CommandLine"] != "x" {
		t.Fatalf("TypeProperties = %v", got)
	}
}

func TestCheckCheckpointProperty(t *testing.T) {
	for _, c := range []struct {
		name, value string
		ok          bool
	}{
		{"restorefailureaction", "force", true},
		{PropRestoreFailureAction, "2", true},
		{PropRestoreFailureAction, "panic", false},
		{PropRestoreRetryTimeout, "200", true},
		{PropRestoreRetryTimeout, "-1", false},
		{PropCheckpointHistory, "1000", true},
		{PropCheckpointHistory, "0", false},
		{PropCheckpointHistory, "1001", false},
		{"CommandLine", "x", false},
	} {
		if err := CheckCheckpointProperty(c.name, c.value); (err == nil) != c.ok {
			t.Errorf("CheckCheckpointProperty(%s, %s) = %v", c.name, c.value, err)
		}
	}
}

package clustercmd

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"wolfpack/internal/api"
)

// `cluster resource /checkpoints` with no resource name lists every resource's
// checkpoints, as text and with /f:json; other options still need a name.
func TestRunResourceCheckpointsWithoutName(t *testing.T) {
	c := checkpointAPI(t)
	connect := func() (*api.Client, error) { return c, nil }
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		st := Run(context.Background(), args, &out, &errOut, connect)
		return st, out.String(), errOut.String()
	}
	st, out, errOut := run("resource", "/checkpoints")
	if st != 0 || !strings.Contains(out, "App") || !strings.Contains(out, `SOFTWARE\App`) {
		t.Errorf("text: status %d\nstdout:\n%s\nstderr:\n%s", st, out, errOut)
	}
	st, out, errOut = run("resource", "/checkpoints", "/f:json")
	var m map[string][]api.CheckpointInfo
	if err := json.Unmarshal([]byte(out), &m); st != 0 || err != nil || len(m["App"]) != 1 || m["App"][0].Version != 3 {
		t.Errorf("json: status %d, %v\nstdout:\n%s\nstderr:\n%s", st, err, out, errOut)
	}
	if st, _, errOut = run("resource", "/checkpointverify"); st != 2 || !strings.Contains(errOut, "needs a resource name") {
		t.Errorf("/checkpointverify without a name: status %d, stderr %q", st, errOut)
	}
}

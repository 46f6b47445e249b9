package clustercmd

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"wolfpack/internal/api/client"
	"wolfpack/internal/api/wire"
)

// `cluster resource /checkpoints` with no resource name lists every resource's
// checkpoints, as text and with /f:json; other options still need a name.
func TestRunResourceCheckpointsWithoutName(t *testing.T) {
	c := checkpointAPI(t)
	connect := func() (*client.Client, error) { return c, nil }
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
	var m map[string][]wire.CheckpointInfo
	if err := json.Unmarshal([]byte(out), &m); st != 0 || err != nil || len(m["App"]) != 1 || m["App"][0].Version != 3 {
		t.Errorf("json: status %d, %v\nstdout:\n%s\nstderr:\n%s", st, err, out, errOut)
	}
	if st, _, errOut = run("resource", "/checkpointverify"); st != 2 || !strings.Contains(errOut, "needs a resource name") {
		t.Errorf("/checkpointverify without a name: status %d, stderr %q", st, errOut)
	}
}

// `cluster group G1 /moveto:N3 /wait` of an online group waits until it is online on N3:
// right after the owner changes the group shows Offline there (the new owner has not
// started it yet), and Partially Online between its first resource coming online and the
// next one starting; neither is the end of the move.
func TestRunGroupMoveWaitsForOnline(t *testing.T) {
	st, out, errOut := runMove(t, "N3", []wire.ClusterGroup{
		{Name: "G1", Node: "N1", State: "Online"},
		{Name: "G1", Node: "N3", State: "Offline"},
		{Name: "G1", Node: "N3", State: "Offline"},
		{Name: "G1", Node: "N3", State: "PartialOnline"},
		{Name: "G1", Node: "N3", State: "PartialOnline"},
		{Name: "G1", Node: "N3", State: "Online"},
	})
	if st != 0 || !regexp.MustCompile(`(?m)^G1 +N3 +Online$`).MatchString(out) {
		t.Errorf("status %d\nstdout:\n%s\nstderr:\n%s", st, out, errOut)
	}
}

// runMove runs `cluster group G1 /moveto:target /wait:30` against a node on which G1 is
// Online on N1 until the move request, and then shows the states of after, one per
// read (the last one from then on).
func runMove(t *testing.T, target string, after []wire.ClusterGroup) (status int, stdout, stderr string) {
	t.Helper()
	var mu sync.Mutex
	before := wire.ClusterGroup{Name: "G1", Node: "N1", State: "Online"}
	moved := false
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/groups/G1", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		g := before
		if moved {
			g = after[0]
			if len(after) > 1 {
				after = after[1:]
			}
		}
		json.NewEncoder(w).Encode(g)
	})
	mux.HandleFunc("POST /v1/groups/G1/move", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		moved = true
		mu.Unlock()
		json.NewEncoder(w).Encode(before)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	var out, errOut bytes.Buffer
	st := Run(context.Background(), []string{"group", "G1", "/moveto:" + target, "/wait:30"}, &out, &errOut,
		func() (*client.Client, error) { return client.New(srv.URL, "t", nil), nil })
	return st, out.String(), errOut.String()
}

// A move whose group is Online on the target for an instant and then Failed (a program
// that exits as soon as it started, and whose restart fails too) ends Failed: Online is
// the end of a wait only when it holds.
func TestRunGroupMoveOnlineThatDoesNotHold(t *testing.T) {
	st, out, errOut := runMove(t, "N2", []wire.ClusterGroup{
		{Name: "G1", Node: "N2", State: "Online"},
		{Name: "G1", Node: "N2", State: "Pending"},
		{Name: "G1", Node: "N2", State: "Online"},
		{Name: "G1", Node: "N2", State: "Failed", Error: "resource 'App' failed: exit status 3"},
	})
	if st == 0 || !regexp.MustCompile(`(?m)^G1 +N2 +Failed$`).MatchString(out) ||
		!strings.Contains(errOut, "is Failed on node N2, not Online: resource 'App' failed") {
		t.Errorf("status %d\nstdout:\n%s\nstderr:\n%s", st, out, errOut)
	}
}

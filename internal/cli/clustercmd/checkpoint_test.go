package clustercmd

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"wolfpack/internal/api/client"
	"wolfpack/internal/api/wire"
)

func TestSplitCheckpointList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		bad  bool
	}{
		{in: `SYSTEM\CurrentControlSet\Services\MSExchangeIMC`, want: []string{`SYSTEM\CurrentControlSet\Services\MSExchangeIMC`}},
		{in: `"SOFTWARE\A","SOFTWARE\B"`, want: []string{`SOFTWARE\A`, `SOFTWARE\B`}},
		{in: `"SOFTWARE\A,B",3`, want: []string{`SOFTWARE\A,B`, "3"}},
		{in: `SOFTWARE\A, 1 ,2`, want: []string{`SOFTWARE\A`, "1", "2"}},
		{in: ``, want: nil},
		{in: `"SOFTWARE\A`, bad: true},
		{in: `SOFTWARE\A,,2`, bad: true},
		{in: `SOFTWARE\A,`, bad: true},
	} {
		got, err := splitCheckpointList(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: no error (got %q)", tc.in, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%q = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// checkpointAPI answers the checkpoint routes with fixed data, as a node would.
func checkpointAPI(t *testing.T) *client.Client {
	t.Helper()
	at := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	list := []wire.CheckpointInfo{{Key: `SOFTWARE\App`, Version: 3, Time: at, Node: "N1", Size: 8192}}
	mux := http.NewServeMux()
	reply := func(v any) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(v)
		}
	}
	mux.HandleFunc("GET /v1/resources", reply([]wire.ClusterResource{{Name: "App", Checkpoints: []string{`SOFTWARE\App`}}, {Name: "Other"}}))
	mux.HandleFunc("GET /v1/resources/App/checkpoints", reply(list))
	mux.HandleFunc("POST /v1/resources/App/checkpoints", reply(list))
	mux.HandleFunc("GET /v1/resources/App/checkpoints/history", reply([]wire.CheckpointVersion{
		{Number: 2, Time: at, Node: "N1", Size: 8192, Hash: strings.Repeat("a", 64)},
		{Number: 3, Time: at, Node: "N2", Size: 8192, Hash: strings.Repeat("b", 64), RolledBackFrom: 1}}))
	mux.HandleFunc("GET /v1/resources/App/checkpoints/diff", reply(wire.CheckpointDiff{Key: `SOFTWARE\App`, V1: 2, V2: 3, Text: "Windows Registry Editor Version 5.00\n"}))
	mux.HandleFunc("POST /v1/resources/App/checkpoints/rollback", reply(wire.CheckpointRollbackAnswer{
		Version: wire.CheckpointVersion{Number: 4}, Node: "N2", RestoreError: "keys in use"}))
	mux.HandleFunc("GET /v1/resources/App/checkpoints/verify", reply([]wire.CheckpointDrift{{Key: `SOFTWARE\App`, Node: "N2", Version: 3, Diff: "[HKEY_LOCAL_MACHINE\\SOFTWARE\\App]\n"}}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return client.New(srv.URL, "token", nil)
}

// With /f:json each checkpoint option prints the API's answer as JSON, without progress
// lines, and keeps its exit status (drift and a failed rollback restore are 1).
func TestCheckpointOptionsJSON(t *testing.T) {
	c := checkpointAPI(t)
	for _, tc := range []struct {
		resource, option, value string
		status                  int
		into                    any
		check                   func(v any) bool
	}{
		{"App", "checkpoints", "", 0, &[]wire.CheckpointInfo{}, func(v any) bool {
			l := *v.(*[]wire.CheckpointInfo)
			return len(l) == 1 && l[0].Version == 3 && l[0].Node == "N1"
		}},
		{"App", "addcheckpoints", `SOFTWARE\App`, 0, &[]wire.CheckpointInfo{}, func(v any) bool {
			return len(*v.(*[]wire.CheckpointInfo)) == 1
		}},
		{"", "checkpoints", "", 0, &map[string][]wire.CheckpointInfo{}, func(v any) bool {
			m := *v.(*map[string][]wire.CheckpointInfo)
			return len(m) == 1 && len(m["App"]) == 1
		}},
		{"App", "checkpointhistory", `SOFTWARE\App`, 0, &[]wire.CheckpointVersion{}, func(v any) bool {
			l := *v.(*[]wire.CheckpointVersion)
			return len(l) == 2 && l[1].RolledBackFrom == 1 && l[1].Node == "N2"
		}},
		{"App", "checkpointdiff", `SOFTWARE\App,2`, 0, &wire.CheckpointDiff{}, func(v any) bool {
			d := v.(*wire.CheckpointDiff)
			return d.V1 == 2 && d.V2 == 3 && strings.HasPrefix(d.Text, "Windows Registry Editor")
		}},
		{"App", "checkpointrollback", `SOFTWARE\App,1`, 1, &wire.CheckpointRollbackAnswer{}, func(v any) bool {
			a := v.(*wire.CheckpointRollbackAnswer)
			return a.Version.Number == 4 && a.RestoreError == "keys in use"
		}},
		{"App", "checkpointverify", "", 1, &[]wire.CheckpointDrift{}, func(v any) bool {
			l := *v.(*[]wire.CheckpointDrift)
			return len(l) == 1 && !l[0].InSync && l[0].Version == 3
		}},
	} {
		var out, errOut bytes.Buffer
		st := checkpointCommandAs(context.Background(), c, &out, &errOut, tc.resource, tc.option, tc.value, true, false)
		if st != tc.status {
			t.Errorf("/%s: status %d, want %d (stderr %q)", tc.option, st, tc.status, errOut.String())
		}
		if err := json.Unmarshal(out.Bytes(), tc.into); err != nil {
			t.Errorf("/%s: output is not one JSON value: %v\n%s", tc.option, err, out.String())
			continue
		}
		if !tc.check(tc.into) {
			t.Errorf("/%s: unexpected JSON:\n%s", tc.option, out.String())
		}
	}
	// Without /f:json the same answers print as text.
	var out bytes.Buffer
	if st := checkpointCommandAs(context.Background(), c, &out, io.Discard, "App", "checkpoints", "", false, false); st != 0 ||
		!strings.Contains(out.String(), "Listing registry checkpoints for resource 'App'...") {
		t.Errorf("text: status %d\n%s", st, out.String())
	}
}

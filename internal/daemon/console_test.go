package daemon_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"wolfpack/internal/api/client"
	"wolfpack/internal/api/wire"
	"wolfpack/internal/eventlog"
)

// sseEvent is one server-sent event of the watch stream.
type sseEvent struct {
	kind string
	data []byte
}

// readSSE reads the stream's events into a channel until the body ends.
func readSSE(resp *http.Response) <-chan sseEvent {
	out := make(chan sseEvent, 64)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.kind = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = append(ev.data, strings.TrimPrefix(line, "data: ")...)
			case line == "" && ev.kind != "":
				out <- ev
				ev = sseEvent{}
			}
		}
	}()
	return out
}

// The console's routes on a real node: the summary with the database's health, the
// watch stream (the whole view, then changes and new events as they happen, for a
// ReadOnly token too), the events of every node with the filters, and the relay to a
// node's registry and event log routes (only those).
func TestConsoleRoutes(t *testing.T) {
	n1 := t.TempDir()
	runNode(t, n1, "--name", "N1")
	ep := nodeEndpoint(t, n1)
	full, err := client.FromDataDir(n1)
	if err != nil {
		t.Fatal(err)
	}
	var grant wire.AccessGrant
	do(t, full, http.MethodPost, "/v1/access", wire.AccessGrantRequest{Name: "console", Level: wire.LevelReadOnly}, &grant)
	ctx := context.Background()

	var sum wire.ClusterSummary
	do(t, full, http.MethodGet, "/v1/cluster/summary", nil, &sum)
	if sum.Node != "N1" || len(sum.Nodes) != 1 || sum.Nodes[0].State != "Up" || len(sum.Etcd.Members) != 1 ||
		!sum.Etcd.Members[0].Healthy || !sum.Etcd.Members[0].Leader || sum.Etcd.Quorum != (wire.Quorum{Voters: 1, Healthy: 1, Needed: 1, Has: true}) {
		t.Errorf("summary: %+v", sum)
	}

	// The watch stream, read with the ReadOnly token.
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(wctx, http.MethodGet, ep.base+"/v1/cluster/watch", nil)
	req.Header.Set("Authorization", "Bearer "+grant.Token)
	resp, err := ep.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("watch: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	events := readSSE(resp)
	next := func(kind string, ok func([]byte) bool) []byte {
		t.Helper()
		for {
			select {
			case ev, open := <-events:
				if !open {
					t.Fatalf("watch stream ended while waiting for %q", kind)
				}
				if ev.kind == kind && ok(ev.data) {
					return ev.data
				}
			case <-wctx.Done():
				t.Fatalf("no %q event in the watch stream", kind)
			}
		}
	}
	var state wire.ClusterState
	if err := json.Unmarshal(next("state", func([]byte) bool { return true }), &state); err != nil || state.Node != "N1" || len(state.Nodes) != 1 {
		t.Fatalf("first event: %+v %v", state, err)
	}
	do(t, full, http.MethodPost, "/v1/groups", wire.ClusterAction{Name: "Web"}, nil)
	next("change", func(b []byte) bool {
		var ch wire.ClusterChange
		return json.Unmarshal(b, &ch) == nil && len(ch.Groups) == 1 && ch.Groups[0].Name == "Web" && ch.Groups[0].Node == "N1"
	})
	next("etcd", func(b []byte) bool {
		var h wire.EtcdHealth
		return json.Unmarshal(b, &h) == nil && h.Quorum.Has
	})
	do(t, full, http.MethodPost, "/v1/eventlog/logs/Application/events", eventlog.Event{Source: "ConsoleTest", EventID: 4242,
		Type: eventlog.TypeWarning, Strings: []string{"seen live"}}, nil)
	next("event", func(b []byte) bool {
		var e wire.NodeEvent
		return json.Unmarshal(b, &e) == nil && e.Node == "N1" && e.EventID == 4242 && e.Log == "Application" && strings.Contains(e.Message, "seen live")
	})

	// The events of every node, filtered.
	var evs wire.ClusterEvents
	do(t, full, http.MethodGet, "/v1/cluster/events?source=ConsoleTest&id=4242&level=Warning&log=Application", nil, &evs)
	if len(evs.Events) != 1 || evs.Events[0].Node != "N1" || !strings.Contains(evs.Events[0].Message, "seen live") || len(evs.Unreachable) != 0 {
		t.Errorf("filtered events: %+v", evs)
	}
	do(t, full, http.MethodGet, "/v1/cluster/events?id=4242&level=Error", nil, &evs)
	if len(evs.Events) != 0 {
		t.Errorf("level=Error found the warning: %+v", evs.Events)
	}
	for _, q := range []string{"level=Loud", "id=x", "c=0", "source=a'b", "log=Nope", "node=N9"} {
		if st, b := ep.call(ctx, t, grant.Token, http.MethodGet, "/v1/cluster/events?"+q, nil); st/100 != 4 {
			t.Errorf("events?%s: %d %s, want 4xx", q, st, b)
		}
	}

	// The relay: this node's registry and event logs by name; nothing else.
	path := url.QueryEscape(`HKLM\SOFTWARE`)
	if st, b := ep.call(ctx, t, grant.Token, http.MethodGet, "/v1/nodes/N1/api/v1/registry/key?path="+path, nil); st != http.StatusOK || !strings.Contains(string(b), "subkeys") {
		t.Errorf("relay to N1's registry: %d %s", st, b)
	}
	if st, b := ep.call(ctx, t, grant.Token, http.MethodGet, "/v1/nodes/n1/api/v1/eventlog/logs/System", nil); st != http.StatusOK {
		t.Errorf("relay to n1's System log: %d %s", st, b)
	}
	for _, p := range []string{"/v1/nodes/N1/api/v1/access", "/v1/nodes/N1/api/v1/registry/../access", "/v1/nodes/N1/api/metrics", "/v1/nodes/N9/api/v1/registry/key?path=" + path} {
		if st, b := ep.call(ctx, t, full.Token(), http.MethodGet, p, nil); st != http.StatusNotFound {
			t.Errorf("relay %s: %d %s, want 404", p, st, b)
		}
	}
	body := `{"path":"HKLM\\SOFTWARE\\ConsoleRelay","name":"V","type":4,"data":"AQAAAA=="}`
	do(t, full, http.MethodPost, "/v1/registry/key", map[string]string{"path": `HKLM\SOFTWARE\ConsoleRelay`}, nil)
	if st, b := ep.call(ctx, t, grant.Token, http.MethodPut, "/v1/nodes/N1/api/v1/registry/value", []byte(body)); st != http.StatusForbidden {
		t.Errorf("relayed write with the ReadOnly token: %d %s, want 403", st, b)
	}
	if st, b := ep.call(ctx, t, full.Token(), http.MethodPut, "/v1/nodes/N1/api/v1/registry/value", []byte(body)); st != http.StatusNoContent {
		t.Errorf("relayed write with the Full token: %d %s, want 204", st, b)
	}
	var v wire.RegistryValue
	do(t, full, http.MethodGet, "/v1/registry/value?name=V&path="+url.QueryEscape(`HKLM\SOFTWARE\ConsoleRelay`), nil, &v)
	if v.Type != 4 || len(v.Data) != 4 || v.Data[0] != 1 {
		t.Errorf("value written through the relay: %+v", v)
	}

	// The type's private property names, with the checkpoint policy's allowed values.
	var types []wire.ClusterResourceType
	do(t, full, http.MethodGet, "/v1/resourcetypes", nil, &types)
	found := false
	for _, rt := range types {
		if rt.Name != "Generic Application" {
			continue
		}
		for _, p := range rt.Properties {
			if p.Name == "RestoreFailureAction" && strings.Join(p.Values, ",") == "Retry,Continue,Fail,Force" {
				found = true
			}
		}
		if rt.Properties[0].Name != "CommandLine" || !rt.Properties[0].Required {
			t.Errorf("Generic Application's properties: %+v", rt.Properties)
		}
	}
	if !found {
		t.Errorf("resource types without the checkpoint policy: %+v", types)
	}
}

package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"wolfpack/internal/api/client"
	"wolfpack/internal/api/wire"
	"wolfpack/internal/eventlog"
)

func eventlogServer(t *testing.T) (*client.Client, *eventlog.Service) {
	t.Helper()
	svc, err := eventlog.Open(t.TempDir(), eventlog.Options{Computer: "N1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	s := NewServer("tok", nil)
	RegisterEventlog(s, svc)
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return client.New(hs.URL, "tok", nil), svc
}

func TestEventlogRoutes(t *testing.T) {
	c, svc := eventlogServer(t)
	ctx := context.Background()

	// Subscribe first, so the report below arrives on the stream.
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.Stream(sctx, "/v1/eventlog/subscribe?log=System")
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()

	var rep wire.EventlogReported
	ev := eventlog.Event{Source: "ClusSvc", EventID: eventlog.EventCheckpointRestoreFailed, Strings: []string{"R", `SOFTWARE\X`}}
	if err := c.Do(ctx, http.MethodPost, "/v1/eventlog/logs/system/events", ev, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Log != "System" || rep.RecordID != 1 {
		t.Fatalf("reported %+v", rep)
	}
	var got eventlog.Record
	line, err := bufio.NewReader(stream).ReadBytes('\n')
	if err != nil || json.Unmarshal(line, &got) != nil || got.EventID != 1024 || got.Category != 64 {
		t.Fatalf("subscription got %q, %v", line, err)
	}

	var recs []eventlog.Record
	if err := c.Do(ctx, http.MethodGet, "/v1/eventlog/logs/System/events?q=*%5BSystem%5B(EventID%3D1024)%5D%5D&c=1&rd=true", nil, &recs); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Type != eventlog.TypeError || svc.Render(recs[0]) == "" {
		t.Fatalf("query: %+v", recs)
	}

	err = c.Do(ctx, http.MethodGet, "/v1/eventlog/logs/System/events?q=*%5BSystem", nil, &recs)
	if ae, ok := err.(*wire.Error); !ok || ae.Status != 400 || ae.Code != 15001 {
		t.Fatalf("bad query: %v", err)
	}
	err = c.Do(ctx, http.MethodGet, "/v1/eventlog/logs/Security", nil, nil)
	if ae, ok := err.(*wire.Error); !ok || ae.Status != 404 || ae.Code != 15007 {
		t.Fatalf("unknown log: %v", err)
	}

	size := int64(1 << 20)
	var in eventlog.LogInfo
	if err := c.Do(ctx, http.MethodPut, "/v1/eventlog/logs/System", wire.EventlogConfig{MaxSize: &size}, &in); err != nil || in.MaxSize != size || in.NumberOfLogRecords != 1 {
		t.Fatalf("set-log: %+v %v", in, err)
	}
	small := int64(10)
	err = c.Do(ctx, http.MethodPut, "/v1/eventlog/logs/System", wire.EventlogConfig{MaxSize: &small}, &in)
	if ae, ok := err.(*wire.Error); !ok || ae.Code != 87 {
		t.Fatalf("tiny size: %v", err)
	}

	var backup []byte
	if err := c.Do(ctx, http.MethodPost, "/v1/eventlog/logs/System/clear?backup=1", nil, &backup); err != nil {
		t.Fatal(err)
	}
	_, saved, err := eventlog.ReadExport(bytes.NewReader(backup), nil)
	if err != nil || len(saved) != 1 || saved[0].EventID != 1024 {
		t.Fatalf("backup: %v %+v", err, saved)
	}
	// After the clear, System holds only event 104.
	if err := c.Do(ctx, http.MethodGet, "/v1/eventlog/logs/System/events", nil, &recs); err != nil || len(recs) != 1 || recs[0].EventID != 104 {
		t.Fatalf("after clear: %+v %v", recs, err)
	}
}

func TestEventlogMetrics(t *testing.T) {
	c, svc := eventlogServer(t)
	if _, err := svc.Report(context.Background(), eventlog.Event{Source: "M", EventID: 1}); err != nil {
		t.Fatal(err)
	}
	var body []byte
	if err := c.Do(context.Background(), http.MethodGet, "/metrics", nil, &body); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`wolfpack_eventlog_records_total{log="System"} 1`, `wolfpack_eventlog_commits_total{log="System"} 1`,
		`wolfpack_eventlog_records_total{log="Application"} 0`, `wolfpack_eventlog_size_bytes{log="System"}`} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

package api

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"wolfpack/internal/api/wire"
	"wolfpack/internal/eventlog"
)

// Event log routes (wevtutil, eventcreate, the web console):
//
//	GET  /v1/eventlog/logs                       → ["Application","System"]
//	GET  /v1/eventlog/logs/{log}                 → eventlog.LogInfo
//	PUT  /v1/eventlog/logs/{log}                 ← EventlogConfig → eventlog.LogInfo
//	GET  /v1/eventlog/logs/{log}/events?q=&c=&rd=&after= → []eventlog.Record (query, count, newest first, after a bookmark)
//	POST /v1/eventlog/logs/{log}/events          ← eventlog.Event → EventlogReported
//	GET  /v1/eventlog/logs/{log}/export?q=       → export file (JSON Lines)
//	POST /v1/eventlog/logs/{log}/clear?backup=1  → with backup=1 the export file of what was cleared
//	GET  /v1/eventlog/subscribe?log=             → a stream of records, one JSON object per line
//
// Errors carry Windows' numbers: 15007 for an unknown log, 15001 for a query the parser
// does not accept (the message says at which position), 87 for bad settings.

// RegisterEventlog serves svc's logs and adds their counters to the server's metrics.
func RegisterEventlog(s *Server, svc *eventlog.Service) {
	registerEventlogMetrics(s, svc)
	s.Handle("GET /v1/eventlog/logs", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, svc.Logs())
	})
	s.Handle("GET /v1/eventlog/logs/{log}", func(w http.ResponseWriter, r *http.Request) {
		in, err := svc.Info(r.PathValue("log"))
		if err != nil {
			WriteError(w, err)
			return
		}
		WriteJSON(w, http.StatusOK, in)
	})
	s.Handle("PUT /v1/eventlog/logs/{log}", func(w http.ResponseWriter, r *http.Request) {
		var c wire.EventlogConfig
		if err := ReadJSON(r, &c); err != nil {
			WriteError(w, err)
			return
		}
		in, err := svc.Info(r.PathValue("log"))
		if err != nil {
			WriteError(w, err)
			return
		}
		size, ret := in.MaxSize, in.Retention
		if c.MaxSize != nil {
			size = *c.MaxSize
		}
		if c.Retention != nil {
			ret = *c.Retention
		}
		if in, err = svc.SetConfig(in.Name, size, ret); err != nil {
			WriteError(w, err)
			return
		}
		WriteJSON(w, http.StatusOK, in)
	})
	s.Handle("GET /v1/eventlog/logs/{log}/events", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		opts := eventlog.QueryOptions{}
		if c := q.Get("c"); c != "" {
			n, err := strconv.Atoi(c)
			if err != nil || n < 0 {
				WriteError(w, wire.BadRequest("bad count %q", wire.Clip(c)))
				return
			}
			opts.Count = n
		}
		if after := q.Get("after"); after != "" {
			n, err := strconv.ParseUint(after, 10, 64)
			if err != nil {
				WriteError(w, wire.BadRequest("bad bookmark record number %q", wire.Clip(after)))
				return
			}
			opts.After = n
		}
		if rd := q.Get("rd"); rd != "" {
			b, err := strconv.ParseBool(rd)
			if err != nil {
				WriteError(w, wire.BadRequest("bad reverse direction %q", wire.Clip(rd)))
				return
			}
			opts.Reverse = b
		}
		recs, err := svc.Query(r.Context(), r.PathValue("log"), q.Get("q"), opts)
		if err != nil {
			WriteError(w, err)
			return
		}
		if recs == nil {
			recs = []eventlog.Record{}
		}
		WriteJSON(w, http.StatusOK, recs)
	})
	s.Handle("POST /v1/eventlog/logs/{log}/events", func(w http.ResponseWriter, r *http.Request) {
		var e eventlog.Event
		if err := ReadJSON(r, &e); err != nil {
			WriteError(w, err)
			return
		}
		e.Log = r.PathValue("log")
		id, err := svc.Report(r.Context(), e)
		if err != nil {
			WriteError(w, err)
			return
		}
		in, _ := svc.Info(e.Log)
		WriteJSON(w, http.StatusCreated, wire.EventlogReported{Log: in.Name, RecordID: id})
	})
	s.Handle("GET /v1/eventlog/logs/{log}/export", func(w http.ResponseWriter, r *http.Request) {
		log := r.PathValue("log")
		if _, err := svc.Info(log); err != nil {
			WriteError(w, err)
			return
		}
		if _, err := eventlog.ParseQueryFor(log, r.URL.Query().Get("q")); err != nil {
			WriteError(w, err)
			return
		}
		f, err := spool(func(w io.Writer) error { return svc.Export(r.Context(), log, r.URL.Query().Get("q"), w) })
		if err != nil {
			WriteError(w, err)
			return
		}
		defer closeSpool(f)
		w.Header().Set("Content-Type", "application/x-ndjson")
		if _, err := io.Copy(w, f); err != nil {
			panic(http.ErrAbortHandler) // the client sees a cut-short file, which ReadExport refuses
		}
	})
	s.Handle("POST /v1/eventlog/logs/{log}/clear", func(w http.ResponseWriter, r *http.Request) {
		log := r.PathValue("log")
		if _, err := svc.Info(log); err != nil {
			WriteError(w, err)
			return
		}
		if backup, _ := strconv.ParseBool(r.URL.Query().Get("backup")); backup {
			f, err := spool(func(w io.Writer) error { return svc.Clear(r.Context(), log, w) })
			if err != nil {
				WriteError(w, err)
				return
			}
			w.Header().Set("Content-Type", "application/x-ndjson")
			if _, err := io.Copy(w, f); err != nil {
				// The log is cleared: keep its backup where an administrator can find it.
				f.Close()
				s.log.Error("event log cleared but its backup could not be sent; kept on the node", "log", log, "file", f.Name(), "err", err)
				panic(http.ErrAbortHandler)
			}
			closeSpool(f)
			return
		}
		if err := svc.Clear(r.Context(), log, nil); err != nil {
			WriteError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	s.Handle("GET /v1/eventlog/subscribe", func(w http.ResponseWriter, r *http.Request) {
		log := r.URL.Query().Get("log")
		if log != "" {
			if _, err := svc.Info(log); err != nil {
				WriteError(w, err)
				return
			}
		}
		ch := svc.Subscribe(r.Context(), log)
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		rc.Flush()
		bw := bufio.NewWriter(w)
		enc := json.NewEncoder(bw)
		for rec := range ch {
			if enc.Encode(rec) != nil {
				return
			}
			// Flush once the burst is written.
			if len(ch) == 0 {
				if bw.Flush() != nil || rc.Flush() != nil {
					return
				}
			}
		}
	})
}

// spool runs fill into a temporary file and returns it rewound, so that a slow client
// never holds a log's lock while the bytes travel.
func spool(fill func(io.Writer) error) (*os.File, error) {
	f, err := os.CreateTemp("", "wolfpack-eventlog-*.evtj")
	if err != nil {
		return nil, err
	}
	if err := fill(f); err != nil {
		closeSpool(f)
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		closeSpool(f)
		return nil, err
	}
	return f, nil
}

func closeSpool(f *os.File) {
	f.Close()
	os.Remove(f.Name())
}

// registerEventlogMetrics exports, per log, the records and commits (fsyncs) since the
// daemon started and the log's size on disk.
func registerEventlogMetrics(s *Server, svc *eventlog.Service) {
	stat := func(log string, f func(eventlog.Stats) uint64) func() float64 {
		return func() float64 {
			st, err := svc.Stats(log)
			if err != nil {
				return 0
			}
			return float64(f(st))
		}
	}
	for _, log := range svc.Logs() {
		labels := prometheus.Labels{"log": log}
		for _, c := range []prometheus.Collector{
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "wolfpack_eventlog_records_total",
				Help: "Records written to the event log.", ConstLabels: labels},
				stat(log, func(st eventlog.Stats) uint64 { return st.Records })),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "wolfpack_eventlog_commits_total",
				Help: "Group commits (one write and one fdatasync each) of the event log.", ConstLabels: labels},
				stat(log, func(st eventlog.Stats) uint64 { return st.Commits })),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "wolfpack_eventlog_size_bytes",
				Help: "Bytes the event log's files take.", ConstLabels: labels},
				func() float64 {
					in, err := svc.Info(log)
					if err != nil {
						return 0
					}
					return float64(in.FileSize)
				}),
		} {
			_ = s.Metrics.Register(c) // a second registration of the same log is harmless
		}
	}
	_ = s.Metrics.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "wolfpack_eventlog_subscriber_drops_total",
		Help: "Records that a slow subscriber (console, wevtutil stream) missed."},
		stat(eventlog.LogSystem, func(st eventlog.Stats) uint64 { return st.SubscriberDrops })))
}

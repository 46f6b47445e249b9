package api

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server is one node's HTTP API. Routes use net/http's patterns ("GET /v1/nodes/{name}").
// Every route, /metrics included, requires the bearer token.
type Server struct {
	mux      *http.ServeMux
	open     *http.ServeMux // routes that authenticate their callers themselves (the join)
	peers    *http.Client   // forwarded requests to other nodes (peer.go)
	token    string
	log      *slog.Logger
	Metrics  *prometheus.Registry
	requests *prometheus.CounterVec
}

// NewServer returns a server that accepts requests bearing token.
func NewServer(token string, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{mux: http.NewServeMux(), open: http.NewServeMux(), token: token, log: log, Metrics: prometheus.NewRegistry()}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wolfpack_api_requests_total",
		Help: "HTTP API requests by route pattern and status class.",
	}, []string{"pattern", "status"})
	s.Metrics.MustRegister(s.requests,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.Metrics, promhttp.HandlerOpts{}))
	return s
}

// Handle registers h for pattern.
func (s *Server) Handle(pattern string, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, h)
}

// HandleUnauthenticated registers h for pattern without the bearer-token check: h
// authenticates the caller itself (the join route checks the join secret).
func (s *Server) HandleUnauthenticated(pattern string, h http.HandlerFunc) {
	s.open.HandleFunc(pattern, h)
}

// ServeHTTP authenticates the request and dispatches it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, pattern := s.open.Handler(r); pattern != "" {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		s.requests.WithLabelValues(pattern, statusClass(rec.status)).Inc()
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="wolfpack"`)
		WriteError(w, &Error{Status: http.StatusUnauthorized, Code: 5, Message: "missing or wrong bearer token"})
		return
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.mux.ServeHTTP(rec, r)
	_, pattern := s.mux.Handler(r)
	if pattern == "" {
		pattern = "unmatched"
	}
	s.requests.WithLabelValues(pattern, statusClass(rec.status)).Inc()
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || s.token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(tok), []byte(s.token)) == 1
}

// Serve serves on ln until ctx ends, then shuts down gracefully. With tlsConfig non-nil
// it serves HTTPS.
func (s *Server) Serve(ctx context.Context, ln net.Listener, tlsConfig *tls.Config) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err := hs.Shutdown(sctx)
		if errors.Is(err, context.DeadlineExceeded) {
			err = hs.Close()
		}
		<-errc
		return err
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Flush lets streaming handlers (event subscriptions, registry watches) flush through.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func statusClass(code int) string {
	switch {
	case code >= 500:
		return "5xx"
	case code >= 400:
		return "4xx"
	case code >= 300:
		return "3xx"
	default:
		return "2xx"
	}
}

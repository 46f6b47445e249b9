package api

import (
	"cmp"
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"wolfpack/internal/api/wire"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/semaphore"
)

// Limits on request bodies.
const (
	// DefaultBodyLimit is a route's body limit unless it asks for more (WithBodyLimit):
	// enough for any JSON request of the control routes.
	DefaultBodyLimit = 1 << 20
	// DefaultBodyBudget bounds the bytes of request bodies that the server holds at
	// once, all requests together. A request whose body would go past it waits (up to
	// BodyWait) for others to finish; a body larger than the budget waits until it is
	// alone.
	DefaultBodyBudget = 64 << 20
	// BodyWait is how long a request waits for room in the budget before 503.
	BodyWait = 30 * time.Second
)

// Access says who may call a route.
type Access int

const (
	// AccessRead routes (GET, HEAD) answer any valid token, ReadOnly included.
	AccessRead Access = iota + 1
	// AccessWrite routes (every other method) need a Full token.
	AccessWrite
	// AccessPublic routes take no API token: the handler authenticates the caller itself
	// (the join handshake, which proves knowledge of the join secret).
	AccessPublic
	// AccessAsset routes take no API token and answer GET only: they serve the web
	// console's embedded files (HTML, CSS, JavaScript), which hold no cluster data.
	// Everything the console shows comes from token-checked routes.
	AccessAsset
)

func (a Access) String() string {
	switch a {
	case AccessRead:
		return "read"
	case AccessWrite:
		return "write"
	case AccessPublic:
		return "public"
	case AccessAsset:
		return "asset"
	}
	return fmt.Sprintf("Access(%d)", int(a))
}

// MarshalText writes the access's name: read, write or public.
func (a Access) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads an access's name.
func (a *Access) UnmarshalText(b []byte) error {
	for _, v := range []Access{AccessRead, AccessWrite, AccessPublic, AccessAsset} {
		if string(b) == v.String() {
			*a = v
			return nil
		}
	}
	return fmt.Errorf("api: no route access %q", wire.Clip(string(b)))
}

// Route is a registered route: its pattern, who may call it and how large a body it takes
// (GET /v1/routes lists them).
type Route struct {
	Pattern   string `json:"pattern"` // as registered: "GET /v1/nodes/{name}"
	Method    string `json:"method"`
	Path      string `json:"path"`
	Access    Access `json:"access"`
	BodyLimit int64  `json:"bodyLimit"` // bytes
}

// RouteOption adjusts a route at registration.
type RouteOption func(*Route)

// WithBodyLimit lets a route take bodies up to n bytes (DefaultBodyLimit otherwise); for
// uploads such as hives.
func WithBodyLimit(n int64) RouteOption { return func(r *Route) { r.BodyLimit = n } }

// ServerOptions configure a Server.
type ServerOptions struct {
	// NodeName names the node: its own token is logged as "node:<NodeName>".
	NodeName string
	// NodeToken is the node's own token (its data directory's token file): Full, and
	// checked without the cluster database, so the node's CLIs work when etcd does not.
	NodeToken string
	Log       *slog.Logger
	// BodyBudget bounds the request body bytes in flight (DefaultBodyBudget when 0).
	BodyBudget int64
	// BodyWait is how long a request waits for room in the budget (BodyWait when 0).
	BodyWait time.Duration
}

// Server is one node's HTTP API. Routes use net/http's patterns ("GET /v1/nodes/{name}"),
// always with a method: the method decides who may call the route (Access). Every route
// but the public ones, /metrics included, needs a bearer token: the node's own token, or
// one of the cluster's tokens (SetAuthenticator). Every request is logged with the name
// of its token, its method, its route pattern and its status.
//
// Invariants: routes holds every pattern registered on mux, with its Access derived from
// the pattern's method (or AccessPublic); a request's body is read through a
// MaxBytesReader of its route's limit, and its bytes are counted against bodies from
// before the handler runs until it returns.
type Server struct {
	mux      *http.ServeMux
	peers    *http.Client // forwarded requests to other nodes (peer.go)
	log      *slog.Logger
	Metrics  *prometheus.Registry
	requests *prometheus.CounterVec

	nodeName  string // caller name of nodeToken
	nodeToken string
	auth      atomic.Pointer[authenticatorBox]

	mu     sync.RWMutex
	routes map[string]*Route // by pattern

	budget   int64
	bodyWait time.Duration
	bodies   *semaphore.Weighted
}

type authenticatorBox struct{ a Authenticator }

// NewServer returns a server that accepts the node token token (and, once
// SetAuthenticator is called, the cluster's tokens).
func NewServer(token string, log *slog.Logger) *Server {
	return New(ServerOptions{NodeToken: token, Log: log})
}

// New returns a server configured by o.
func New(o ServerOptions) *Server {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	name := "node"
	if o.NodeName != "" {
		name = "node:" + o.NodeName
	}
	budget := o.BodyBudget
	if budget <= 0 {
		budget = DefaultBodyBudget
	}
	s := &Server{mux: http.NewServeMux(), log: log, Metrics: prometheus.NewRegistry(),
		nodeName: name, nodeToken: o.NodeToken, routes: map[string]*Route{},
		budget: budget, bodyWait: cmp.Or(o.BodyWait, BodyWait), bodies: semaphore.NewWeighted(budget)}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wolfpack_api_requests_total",
		Help: "HTTP API requests by route pattern and status class.",
	}, []string{"pattern", "status"})
	s.Metrics.MustRegister(s.requests,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := promhttp.HandlerFor(s.Metrics, promhttp.HandlerOpts{})
	s.Handle("GET /metrics", metrics.ServeHTTP)
	s.Handle("GET /v1/routes", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, s.Routes())
	})
	s.Handle("GET /v1/whoami", func(w http.ResponseWriter, r *http.Request) {
		c, _ := CallerFrom(r.Context())
		WriteJSON(w, http.StatusOK, wire.Whoami{Name: c.Name, Level: c.Level, Node: o.NodeName})
	})
	return s
}

// SetAuthenticator makes the server accept the tokens a answers for, besides the node's
// own. The daemon sets it once the cluster database is up, before the API listens.
func (s *Server) SetAuthenticator(a Authenticator) { s.auth.Store(&authenticatorBox{a}) }

// NodeToken is the node's own token, which it sends when it forwards a request to
// another node.
func (s *Server) NodeToken() string { return s.nodeToken }

// Handle registers h for pattern, which must name a method: GET and HEAD routes answer
// any valid token, the others need a Full one.
func (s *Server) Handle(pattern string, h http.HandlerFunc, opts ...RouteOption) {
	s.register(pattern, h, 0, opts)
}

// HandleUnauthenticated registers h for pattern without token checks: the handler
// authenticates the caller itself. Only for callers that cannot hold an API token yet (a
// node that is joining proves the join secret).
func (s *Server) HandleUnauthenticated(pattern string, h http.HandlerFunc, opts ...RouteOption) {
	s.register(pattern, h, AccessPublic, opts)
}

// HandleAsset registers h, a GET pattern, for the web console's embedded files: no
// token is asked for, so a browser can load the sign-in page. An asset route serves
// only files built into the binary, never cluster data.
func (s *Server) HandleAsset(pattern string, h http.HandlerFunc) {
	if method, _, _ := strings.Cut(pattern, " "); method != http.MethodGet {
		panic(fmt.Sprintf("api: asset route %q is not a GET route", pattern))
	}
	s.register(pattern, h, AccessAsset, nil)
}

func (s *Server) register(pattern string, h http.HandlerFunc, access Access, opts []RouteOption) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || method == "" || strings.HasPrefix(method, "/") {
		// A programming error, refused at start as http.ServeMux refuses a bad pattern:
		// without a method the route's access level would be unknown.
		panic(fmt.Sprintf("api: route %q has no method", pattern))
	}
	rt := &Route{Pattern: pattern, Method: method, Path: strings.TrimSpace(path), Access: AccessWrite, BodyLimit: DefaultBodyLimit}
	switch {
	case access != 0:
		rt.Access = access
	case method == http.MethodGet || method == http.MethodHead:
		rt.Access = AccessRead
	}
	for _, o := range opts {
		o(rt)
	}
	s.mu.Lock()
	s.routes[pattern] = rt
	s.mu.Unlock()
	s.mux.Handle(pattern, s.guard(rt, h))
}

// Routes returns the registered routes, sorted by pattern.
func (s *Server) Routes() []Route {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Route, 0, len(s.routes))
	for _, p := range slices.Sorted(maps.Keys(s.routes)) {
		out = append(out, *s.routes[p])
	}
	return out
}

func (s *Server) route(pattern string) *Route {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.routes[pattern]
}

// ServeHTTP authenticates the request (unless its route is public), dispatches it and
// logs it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	_, pattern := s.mux.Handler(r)
	rt := s.route(pattern)
	var caller Caller
	if rt == nil || rt.Access != AccessPublic && rt.Access != AccessAsset {
		c, err := s.authenticate(r)
		if err != nil {
			var ae *wire.Error
			if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
				rec.Header().Set("WWW-Authenticate", `Bearer realm="wolfpack"`)
			}
			WriteError(rec, err)
			s.logRequest(r, pattern, caller, rec.status, start)
			return
		}
		caller = c
	}
	s.mux.ServeHTTP(rec, r.WithContext(withCaller(r.Context(), caller)))
	s.logRequest(r, pattern, caller, rec.status, start)
}

func (s *Server) logRequest(r *http.Request, pattern string, c Caller, status int, start time.Time) {
	if pattern == "" {
		pattern = "unmatched"
	}
	s.requests.WithLabelValues(pattern, statusClass(status)).Inc()
	attrs := []slog.Attr{
		slog.String("token", cmp.Or(c.Name, "-")),
		slog.String("method", r.Method),
		slog.String("route", pattern),
		slog.Int("status", status),
		slog.Duration("took", time.Since(start)),
		slog.String("remote", r.RemoteAddr),
	}
	if on := r.Header.Get(forwardedHeader); on != "" && c.Node {
		attrs = append(attrs, slog.String("on_behalf_of", wire.Clip(on)))
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "api request", attrs...)
}

// errUnauthorized is the answer to a request without a valid token. It never says which
// of "missing", "unknown" or "revoked" it was.
var errUnauthorized = &wire.Error{Status: http.StatusUnauthorized, Code: 5, Message: "missing or wrong bearer token"}

func (s *Server) authenticate(r *http.Request) (Caller, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return Caller{}, errUnauthorized
	}
	if s.nodeToken != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.nodeToken)) == 1 {
		return Caller{Name: s.nodeName, Level: wire.LevelFull, Node: true}, nil
	}
	box := s.auth.Load()
	if box == nil {
		return Caller{}, errUnauthorized
	}
	c, err := box.a.Authenticate(r.Context(), tok)
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, ErrUnknownToken):
		return Caller{}, errUnauthorized
	default:
		s.log.Warn("cannot check an API token", "err", err)
		return Caller{}, &wire.Error{Status: http.StatusServiceUnavailable, Code: 1450, // ERROR_NO_SYSTEM_RESOURCES
			Message: "cannot check the bearer token now (the cluster database is out of reach); the node's own token still works"}
	}
}

// guard wraps a route's handler: the level check, then the body's admission.
func (s *Server) guard(rt *Route, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.Access == AccessWrite {
			c, _ := CallerFrom(r.Context())
			if c.Level < wire.LevelFull {
				WriteError(w, accessDenied(c))
				return
			}
		}
		release, err := s.admitBody(w, r, rt)
		if err != nil {
			WriteError(w, err)
			return
		}
		defer release()
		h(w, r)
	})
}

// accessDenied is the answer to a write by a token below Full.
func accessDenied(c Caller) *wire.Error {
	return &wire.Error{Status: http.StatusForbidden, Code: 5, // ERROR_ACCESS_DENIED
		Message: fmt.Sprintf("access denied: token '%s' has %s access; this request needs Full", wire.Clip(c.Name), c.Level)}
}

// admitBody refuses a body over the route's limit and waits for room in the server's
// body budget; release gives the room back once the handler is done with the body.
func (s *Server) admitBody(w http.ResponseWriter, r *http.Request, rt *Route) (release func(), err error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 || r.Context().Value(relayedKey{}) != nil {
		// No body, or one admitted already by the relay route that passed it on here.
		return func() {}, nil
	}
	limit := rt.BodyLimit
	n := r.ContentLength
	if n < 0 {
		// A body of unknown length (chunked) is read into a buffer that grows as it
		// comes, at twice its size: only small ones are taken that way. Large uploads
		// announce their length, and get a buffer of exactly that size.
		limit = min(limit, DefaultBodyLimit)
		n = limit
	}
	if r.ContentLength > limit {
		return nil, bodyTooLarge(limit)
	}
	n = min(n, s.budget)
	ctx, cancel := context.WithTimeout(r.Context(), s.bodyWait)
	defer cancel()
	if err := s.bodies.Acquire(ctx, n); err != nil {
		w.Header().Set("Retry-After", "5")
		return nil, &wire.Error{Status: http.StatusServiceUnavailable, Code: 1450, // ERROR_NO_SYSTEM_RESOURCES
			Message: "server busy: too many large request bodies at once; try again"}
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	return func() {
		if n >= largeBody {
			// The body is garbage now. Collect it before the next large body is let in:
			// left to the collector's pace, each would take fresh memory while the last
			// one's is still held, and the peak would be several bodies, not one.
			runtime.GC()
		}
		s.bodies.Release(n)
	}, nil
}

// largeBody is the size from which a body's memory is collected as soon as its request
// is done (admitBody).
const largeBody = 8 << 20

func bodyTooLarge(limit int64) *wire.Error {
	return &wire.Error{Status: http.StatusRequestEntityTooLarge, Code: 87,
		Message: fmt.Sprintf("request body too large: this route takes at most %d bytes", limit)}
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

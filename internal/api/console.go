package api

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"wolfpack/internal/api/wire"
	"wolfpack/internal/eventlog"
)

// The routes behind the web console (internal/web serves the page; the daemon's
// internal/daemon/console.go is the backend). All are read routes but the relay's
// writes, so a ReadOnly token sees everything and changes nothing:
//
//	GET  /v1/cluster/summary            ClusterSummary: nodes, etcd members and health, quorum
//	GET  /v1/cluster/watch              text/event-stream: "state" (ClusterState) first, then
//	                                    "change" (ClusterChange), "etcd" (EtcdHealth) and
//	                                    "event" (NodeEvent, a new record of any node's logs)
//	GET  /v1/cluster/events?node=&log=&source=&id=&level=&c=
//	                                    ClusterEvents: the logs of every node, newest first
//	ANY  /v1/nodes/{name}/api/{path...} the request relayed to node name's /{path}: its
//	                                    registry (/v1/registry/…) and event logs (/v1/eventlog/…)
//
// The watch stream is server-sent events read with fetch (so that the token travels in
// the Authorization header, never in a URL): "event: KIND\ndata: JSON\n\n", and a
// comment line every 15 s that keeps idle connections open.

// ConsoleBackend is what the console routes read (the daemon's).
type ConsoleBackend interface {
	// View reads the nodes, groups and resources at one revision.
	View(ctx context.Context) (wire.ClusterView, error)
	// Etcd reports the database's members, their health and the quorum.
	Etcd(ctx context.Context) (wire.EtcdHealth, error)
	// Changes signals changes of the cluster database from the call on, coalesced,
	// until ctx ends (then it is closed).
	Changes(ctx context.Context) <-chan struct{}
}

// Limits of the console routes.
const (
	// DefaultEventCount is how many records GET /v1/cluster/events answers unless c= says.
	DefaultEventCount = 200
	// MaxEventCount bounds c=.
	MaxEventCount = 5000
	// peerTimeout bounds a request to another node for a cluster-wide answer.
	peerTimeout = 10 * time.Second
	// watchPing is the interval of the watch stream's keep-alive comments.
	watchPing = 15 * time.Second
	// watchSettle lets a burst of database changes settle into one change message.
	watchSettle = 50 * time.Millisecond
	// etcdPoll is how often the watch stream checks the database members' health.
	etcdPoll = 3 * time.Second
)

// RegisterConsole registers the console's routes. node is this node's name; events its
// event logs.
func RegisterConsole(s *Server, node string, b ConsoleBackend, events *eventlog.Service) {
	c := &console{s: s, node: node, b: b, events: events}
	s.Handle("GET /v1/cluster/summary", c.summary)
	s.Handle("GET /v1/cluster/watch", c.watch)
	s.Handle("GET /v1/cluster/events", c.clusterEvents)
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		var opts []RouteOption
		if m == http.MethodPut {
			opts = append(opts, WithBodyLimit(maxValueBody))
		}
		s.Handle(m+" /v1/nodes/{name}/api/{path...}", c.relay, opts...)
	}
}

type console struct {
	s      *Server
	node   string
	b      ConsoleBackend
	events *eventlog.Service
}

func coordinatorOf(nodes []wire.ClusterNode) string {
	for _, n := range nodes {
		if n.Coordinator {
			return n.Name
		}
	}
	return ""
}

func (c *console) summary(w http.ResponseWriter, r *http.Request) {
	v, err := c.b.View(r.Context())
	if err != nil {
		WriteError(w, err)
		return
	}
	h, err := c.b.Etcd(r.Context())
	if err != nil {
		WriteError(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, wire.ClusterSummary{Node: c.node, Coordinator: coordinatorOf(v.Nodes), Nodes: v.Nodes, Etcd: h})
}

// sse writes server-sent events; the first write error sticks.
type sse struct {
	w   *bufio.Writer
	rc  *http.ResponseController
	err error
}

func (e *sse) send(kind string, v any) {
	if e.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		e.err = err
		return
	}
	fmt.Fprintf(e.w, "event: %s\ndata: %s\n\n", kind, b)
	e.flush()
}

func (e *sse) comment(text string) {
	if e.err == nil {
		fmt.Fprintf(e.w, ": %s\n\n", text)
		e.flush()
	}
}

func (e *sse) flush() {
	if e.err == nil {
		e.err = e.w.Flush()
	}
	if e.err == nil {
		e.err = e.rc.Flush()
	}
}

func (c *console) watch(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	// Subscribe before the first read, so that no change between the two is missed.
	changes := c.b.Changes(ctx)
	view, err := c.b.View(ctx)
	if err != nil {
		WriteError(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	out := &sse{w: bufio.NewWriterSize(w, 64<<10), rc: http.NewResponseController(w)}
	out.send("state", wire.ClusterState{Node: c.node, ClusterView: view})

	records := make(chan wire.NodeEvent, 256)
	f := &eventFollower{c: c, ctx: ctx, out: records, started: map[string]bool{}}
	f.follow(view.Nodes)
	health := make(chan wire.EtcdHealth, 1)
	go c.pollEtcd(ctx, health)
	ping := time.NewTicker(watchPing)
	defer ping.Stop()
	var settle <-chan time.Time
	for out.err == nil {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-changes:
			if !ok {
				return
			}
			if settle == nil {
				settle = time.After(watchSettle)
			}
		case <-settle:
			settle = nil
			next, err := c.b.View(ctx)
			if err != nil {
				// The database is out of reach: the next change or the etcd poll
				// tells the console; the view it has stays.
				continue
			}
			if ch, changed := diffViews(view, next); changed {
				out.send("change", ch)
			}
			view = next
			f.follow(view.Nodes)
		case h := <-health:
			out.send("etcd", h)
		case rec := <-records:
			out.send("event", rec)
		case <-ping.C:
			out.comment("ping")
		}
	}
}

// pollEtcd sends the database's health at once and then whenever it changes.
func (c *console) pollEtcd(ctx context.Context, out chan<- wire.EtcdHealth) {
	var last []byte
	for {
		h, err := c.b.Etcd(ctx)
		if err != nil {
			h = wire.EtcdHealth{Error: err.Error()}
		}
		b, _ := json.Marshal(h)
		if !bytes.Equal(b, last) {
			select {
			case out <- h:
				last = b
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(etcdPoll):
		}
	}
}

// diffViews returns what changed from a to b.
func diffViews(a, b wire.ClusterView) (wire.ClusterChange, bool) {
	ch := wire.ClusterChange{Revision: b.Revision}
	if !jsonEqual(a.Nodes, b.Nodes) {
		ch.Nodes = b.Nodes
	}
	ch.Groups, ch.RemovedGroups = diffByName(a.Groups, b.Groups, func(g wire.ClusterGroup) string { return g.Name })
	ch.Resources, ch.RemovedResources = diffByName(a.Resources, b.Resources, func(r wire.ClusterResource) string { return r.Name })
	changed := ch.Nodes != nil || len(ch.Groups)+len(ch.RemovedGroups)+len(ch.Resources)+len(ch.RemovedResources) > 0
	return ch, changed
}

func diffByName[T any](a, b []T, name func(T) string) (changed []T, removed []string) {
	old := make(map[string][]byte, len(a))
	for _, x := range a {
		j, _ := json.Marshal(x)
		old[name(x)] = j
	}
	for _, x := range b {
		j, _ := json.Marshal(x)
		if prev, ok := old[name(x)]; !ok || !bytes.Equal(prev, j) {
			changed = append(changed, x)
		}
		delete(old, name(x))
	}
	for n := range old {
		removed = append(removed, n)
	}
	slices.Sort(removed)
	return changed, removed
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// eventFollower follows the event logs of every node for one watch stream: this
// node's through the service, the others' through their subscribe streams.
type eventFollower struct {
	c       *console
	ctx     context.Context
	out     chan<- wire.NodeEvent
	started map[string]bool // by node name (lower case)
}

// follow starts following the nodes of the list it has not followed yet.
func (f *eventFollower) follow(nodes []wire.ClusterNode) {
	for _, n := range nodes {
		k := strings.ToLower(n.Name)
		if f.started[k] {
			continue
		}
		switch {
		case strings.EqualFold(n.Name, f.c.node):
			if f.c.events == nil {
				continue
			}
			f.started[k] = true
			go f.local()
		case strings.HasPrefix(n.API, "https://"):
			f.started[k] = true
			go f.remote(n.Name, n.API)
		}
	}
}

func (f *eventFollower) deliver(ev wire.NodeEvent) bool {
	select {
	case f.out <- ev:
		return true
	case <-f.ctx.Done():
		return false
	}
}

func (f *eventFollower) local() {
	for rec := range f.c.events.Subscribe(f.ctx, "") {
		if !f.deliver(wire.NodeEvent{Node: f.c.node, Message: f.c.events.Render(rec), Record: rec}) {
			return
		}
	}
}

// remote reads node's subscribe stream, and opens it again (every 2 s while the node
// is down) until the watch ends.
func (f *eventFollower) remote(node, base string) {
	for f.ctx.Err() == nil {
		f.remoteOnce(node, base)
		select {
		case <-f.ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
}

func (f *eventFollower) remoteOnce(node, base string) {
	req, err := http.NewRequestWithContext(f.ctx, http.MethodGet, strings.TrimRight(base, "/")+"/v1/eventlog/subscribe", nil)
	if err != nil {
		return
	}
	f.c.s.setPeerHeaders(f.ctx, req)
	resp, err := f.c.s.peerClient().Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return
	}
	dec := json.NewDecoder(resp.Body)
	for {
		var rec eventlog.Record
		if err := dec.Decode(&rec); err != nil {
			return
		}
		msg := ""
		if f.c.events != nil {
			msg = f.c.events.Render(rec)
		}
		if !f.deliver(wire.NodeEvent{Node: node, Message: msg, Record: rec}) {
			return
		}
	}
}

// peerHeaders makes req a forwarded request: this node's own token (the caller's level
// was checked here), and the caller's name for the other node's log.
func (s *Server) setPeerHeaders(ctx context.Context, req *http.Request) {
	req.Header.Set("Authorization", "Bearer "+s.nodeToken)
	on := "-"
	if c, ok := CallerFrom(ctx); ok && c.Name != "" {
		on = c.Name
	}
	req.Header.Set(forwardedHeader, on)
}

// eventFilter is the query of GET /v1/cluster/events.
type eventFilter struct {
	node  string
	logs  []string
	query string
	count int
}

var levelNames = map[string]string{
	"critical": "Level=1", "error": "Level=2", "warning": "Level=3",
	"information": "(wire.Level=0 or wire.Level=4)", "verbose": "Level=5",
	"1": "Level=1", "2": "Level=2", "3": "Level=3", "4": "(wire.Level=0 or wire.Level=4)", "5": "Level=5",
}

func (c *console) parseEventFilter(q url.Values) (eventFilter, error) {
	f := eventFilter{node: q.Get("node"), count: DefaultEventCount}
	if s := q.Get("c"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxEventCount {
			return f, wire.BadRequest("c: a count from 1 to %d, not %q", MaxEventCount, wire.Clip(s))
		}
		f.count = n
	}
	if c.events != nil {
		f.logs = c.events.Logs()
	}
	if l := q.Get("log"); l != "" {
		i := slices.IndexFunc(f.logs, func(x string) bool { return strings.EqualFold(x, l) })
		if i < 0 {
			return f, &wire.Error{Status: http.StatusNotFound, Code: 15007, Message: fmt.Sprintf("The specified channel could not be found: %s", wire.Clip(l))}
		}
		f.logs = []string{f.logs[i]}
	}
	var terms []string
	if s := q.Get("source"); s != "" {
		if strings.ContainsAny(s, `'"[]`) {
			return f, wire.BadRequest("source: a name without quotes or brackets, not %q", wire.Clip(s))
		}
		terms = append(terms, "Provider[@Name='"+s+"']")
	}
	if s := q.Get("id"); s != "" {
		id, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return f, wire.BadRequest("id: an event ID, not %q", wire.Clip(s))
		}
		terms = append(terms, "(EventID="+strconv.FormatUint(id, 10)+")")
	}
	if s := q.Get("level"); s != "" {
		t, ok := levelNames[strings.ToLower(s)]
		if !ok {
			return f, wire.BadRequest("level: Critical, wire.Error, Warning, Information or Verbose, not %q", wire.Clip(s))
		}
		terms = append(terms, t)
	}
	if len(terms) > 0 {
		f.query = "*[System[" + strings.Join(terms, " and ") + "]]"
	}
	return f, nil
}

func (c *console) clusterEvents(w http.ResponseWriter, r *http.Request) {
	f, err := c.parseEventFilter(r.URL.Query())
	if err != nil {
		WriteError(w, err)
		return
	}
	view, err := c.b.View(r.Context())
	if err != nil {
		WriteError(w, err)
		return
	}
	var nodes []wire.ClusterNode
	for _, n := range view.Nodes {
		if f.node == "" || strings.EqualFold(n.Name, f.node) {
			nodes = append(nodes, n)
		}
	}
	if len(nodes) == 0 {
		WriteError(w, &wire.Error{Status: http.StatusNotFound, Code: 5042, Message: fmt.Sprintf("The cluster node was not found: %s", wire.Clip(f.node))})
		return
	}
	var (
		mu  sync.Mutex
		ans = wire.ClusterEvents{Events: []wire.NodeEvent{}}
		wg  sync.WaitGroup
	)
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			evs, err := c.nodeEvents(r, n, f)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				ans.Unreachable = append(ans.Unreachable, wire.NodeError{Node: n.Name, Error: err.Error()})
				return
			}
			ans.Events = append(ans.Events, evs...)
		}()
	}
	wg.Wait()
	slices.SortFunc(ans.Events, func(a, b wire.NodeEvent) int {
		return cmp.Or(b.TimeCreated.Compare(a.TimeCreated), strings.Compare(a.Node, b.Node), cmp.Compare(b.RecordID, a.RecordID))
	})
	if len(ans.Events) > f.count {
		ans.Events = ans.Events[:f.count]
	}
	slices.SortFunc(ans.Unreachable, func(a, b wire.NodeError) int { return strings.Compare(a.Node, b.Node) })
	WriteJSON(w, http.StatusOK, ans)
}

// nodeEvents queries node n's logs: here through the service, elsewhere through its
// API. A node that is down is reported, not asked.
func (c *console) nodeEvents(r *http.Request, n wire.ClusterNode, f eventFilter) ([]wire.NodeEvent, error) {
	var out []wire.NodeEvent
	if strings.EqualFold(n.Name, c.node) {
		if c.events == nil {
			return nil, fmt.Errorf("this node keeps no event logs")
		}
		for _, log := range f.logs {
			recs, err := c.events.Query(r.Context(), log, f.query, eventlog.QueryOptions{Count: f.count, Reverse: true})
			if err != nil {
				return nil, err
			}
			for _, rec := range recs {
				out = append(out, wire.NodeEvent{Node: n.Name, Message: c.events.Render(rec), Record: rec})
			}
		}
		return out, nil
	}
	if n.State == "Down" {
		return nil, fmt.Errorf("node %s is down", n.Name)
	}
	if !strings.HasPrefix(n.API, "https://") {
		return nil, fmt.Errorf("node %s has no https API address", n.Name)
	}
	ctx, cancel := context.WithTimeout(r.Context(), peerTimeout)
	defer cancel()
	for _, log := range f.logs {
		u := strings.TrimRight(n.API, "/") + "/v1/eventlog/logs/" + url.PathEscape(log) + "/events?" +
			url.Values{"q": {f.query}, "c": {strconv.Itoa(f.count)}, "rd": {"true"}}.Encode()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		c.s.setPeerHeaders(r.Context(), req)
		resp, err := c.s.peerClient().Do(req)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", n.Name, err)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", n.Name, err)
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("node %s answered %s: %s", n.Name, resp.Status, wire.Clip(strings.TrimSpace(string(b))))
		}
		var recs []eventlog.Record
		if err := json.Unmarshal(b, &recs); err != nil {
			return nil, fmt.Errorf("node %s: %w", n.Name, err)
		}
		for _, rec := range recs {
			msg := ""
			if c.events != nil {
				msg = c.events.Render(rec)
			}
			out = append(out, wire.NodeEvent{Node: n.Name, Message: msg, Record: rec})
		}
	}
	return out, nil
}

// relayPrefixes are the routes a relay reaches on another node: those that answer for
// that node alone (its registry and its event logs). The cluster routes answer the
// same on every node.
var relayPrefixes = []string{"/v1/registry/", "/v1/eventlog/"}

type relayedKey struct{}

// relay sends the request to node {name}'s /{path}: to this node's own routes when it
// is this node, else over TLS to the node's API with this node's token (this node has
// checked the caller's level: the relay route's method is the relayed route's).
func (c *console) relay(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	p := path.Clean("/" + r.PathValue("path"))
	if !slices.ContainsFunc(relayPrefixes, func(x string) bool { return strings.HasPrefix(p, x) }) {
		WriteError(w, &wire.Error{Status: http.StatusNotFound, Code: 87,
			Message: "a relay reaches a node's /v1/registry/ and /v1/eventlog/ routes only"})
		return
	}
	if strings.EqualFold(name, c.node) {
		r2 := r.Clone(context.WithValue(r.Context(), relayedKey{}, true))
		r2.URL.Path, r2.URL.RawPath = p, ""
		// The prefixes keep the relay from reaching itself; the mux sets the route's
		// path values.
		c.s.mux.ServeHTTP(w, r2)
		return
	}
	if r.Header.Get(forwardedHeader) != "" {
		WriteError(w, &wire.Error{Status: http.StatusBadGateway, Code: 5050, Message: "a relayed request is not relayed again"})
		return
	}
	view, err := c.b.View(r.Context())
	if err != nil {
		WriteError(w, err)
		return
	}
	i := slices.IndexFunc(view.Nodes, func(n wire.ClusterNode) bool { return strings.EqualFold(n.Name, name) })
	if i < 0 {
		WriteError(w, &wire.Error{Status: http.StatusNotFound, Code: 5042, Message: "The cluster node was not found: " + wire.Clip(name)})
		return
	}
	n := view.Nodes[i]
	if !strings.HasPrefix(n.API, "https://") {
		WriteError(w, &wire.Error{Status: http.StatusBadGateway, Code: 5050, Message: "node " + n.Name + " has no https API address"})
		return
	}
	u := strings.TrimRight(n.API, "/") + p
	if r.URL.RawQuery != "" {
		u += "?" + r.URL.RawQuery
	}
	var body io.Reader
	if r.ContentLength != 0 && r.Body != nil {
		body = r.Body
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u, body)
	if err != nil {
		WriteError(w, err)
		return
	}
	req.ContentLength = max(r.ContentLength, 0)
	if body == nil {
		req.ContentLength = 0
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	c.s.setPeerHeaders(r.Context(), req)
	resp, err := c.s.peerClient().Do(req)
	if err != nil {
		WriteError(w, &wire.Error{Status: http.StatusBadGateway, Code: 5050, Message: "Cannot reach node " + n.Name + ": " + wire.Clip(err.Error())})
		return
	}
	defer resp.Body.Close()
	for _, h := range []string{"Content-Type", "Content-Length", "Cache-Control"} {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		k, err := resp.Body.Read(buf)
		if k > 0 {
			if _, werr := w.Write(buf[:k]); werr != nil {
				return
			}
			_ = rc.Flush() // streams (watch, subscribe) pass through as they come
		}
		if err != nil {
			return
		}
	}
}

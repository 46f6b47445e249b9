package daemon

import (
	"net"
	"net/http"
	"os"
	"strings"
	"sync"

	"wolfpack/internal/api"
)

// Readiness: the node is ready when every part runs (the event log, the registry and its
// socket, the cluster membership, the checkpoint manager, the API). It says so once:
// api.addr (which the CLIs wait for), the "node ready" log line, and sd_notify(READY=1)
// to a service manager that asked for it ($NOTIFY_SOCKET, Type=notify). GET /v1/health
// answers each part's state.

// partStates records each part's state for /v1/health.
type partStates struct {
	mu    sync.Mutex
	order []string
	state map[string]string
}

func (p *partStates) set(name, state string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == nil {
		p.state = map[string]string{}
	}
	if _, ok := p.state[name]; !ok {
		p.order = append(p.order, name)
	}
	p.state[name] = state
}

// Health is the answer of GET /v1/health.
type Health struct {
	Status string       `json:"status"` // "ok" when every part is, else "degraded" (or "stopping", with 503)
	Node   string       `json:"node"`
	Parts  []PartHealth `json:"parts"`
}

// PartHealth is one part's state: "ok", "starting", or what is wrong.
type PartHealth struct {
	Name  string `json:"name"`
	State string `json:"state"`
}

// health reports the parts; the cluster membership is read live (a node whose session
// is not renewed is degraded: its resources are stopped).
func (n *Node) health() (Health, int) {
	n.partStates.mu.Lock()
	h := Health{Status: "ok", Node: n.Cfg.Name}
	for _, name := range n.partStates.order {
		st := n.partStates.state[name]
		if name == "cluster" && st == "ok" && n.Cluster != nil && !n.Cluster.Live() {
			st = "not a member: the node's cluster session is not renewed (etcd out of reach or quorum lost); its resources are stopped"
		}
		h.Parts = append(h.Parts, PartHealth{Name: name, State: st})
		switch {
		case st == "ok":
		case st == "starting" && h.Status == "ok":
			h.Status = "starting"
		case st == "stopping":
			h.Status = "stopping"
		default:
			if h.Status == "ok" {
				h.Status = "degraded"
			}
		}
	}
	n.partStates.mu.Unlock()
	// A degraded node still answers (its own view, its logs, its registry): 200 with
	// the status; only a node that stops answers 503.
	if h.Status == "stopping" {
		return h, http.StatusServiceUnavailable
	}
	return h, http.StatusOK
}

func (n *Node) serveHealth(w http.ResponseWriter, r *http.Request) {
	h, code := n.health()
	api.WriteJSON(w, code, h)
}

// sdNotify sends state to the service manager when it asked for notifications
// ($NOTIFY_SOCKET, systemd's Type=notify); it does nothing otherwise.
func sdNotify(state string) error {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil
	}
	if strings.HasPrefix(path, "@") {
		path = "\x00" + path[1:] // an abstract socket
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(state))
	return err
}

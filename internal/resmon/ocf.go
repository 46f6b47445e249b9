package resmon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// defaultOCFRoot is OCF_ROOT as Debian's resource-agents package installs it.
const defaultOCFRoot = "/usr/lib/ocf"

// OCFCode is an OCF resource agent exit code (OCF Resource Agent API 1.1, "Return codes").
type OCFCode int

const (
	OCFSuccess          OCFCode = 0 // OCF_SUCCESS
	OCFErrGeneric       OCFCode = 1 // OCF_ERR_GENERIC
	OCFErrArgs          OCFCode = 2 // OCF_ERR_ARGS
	OCFErrUnimplemented OCFCode = 3 // OCF_ERR_UNIMPLEMENTED
	OCFErrPerm          OCFCode = 4 // OCF_ERR_PERM
	OCFErrInstalled     OCFCode = 5 // OCF_ERR_INSTALLED
	OCFErrConfigured    OCFCode = 6 // OCF_ERR_CONFIGURED
	OCFNotRunning       OCFCode = 7 // OCF_NOT_RUNNING
	OCFRunningMaster    OCFCode = 8 // OCF_RUNNING_MASTER (OCF_RUNNING_PROMOTED)
	OCFFailedMaster     OCFCode = 9 // OCF_FAILED_MASTER (OCF_FAILED_PROMOTED)
)

var ocfNames = [...]string{
	"OCF_SUCCESS", "OCF_ERR_GENERIC", "OCF_ERR_ARGS", "OCF_ERR_UNIMPLEMENTED", "OCF_ERR_PERM",
	"OCF_ERR_INSTALLED", "OCF_ERR_CONFIGURED", "OCF_NOT_RUNNING", "OCF_RUNNING_MASTER", "OCF_FAILED_MASTER",
}

func (c OCFCode) String() string {
	if c >= 0 && int(c) < len(ocfNames) {
		return ocfNames[c]
	}
	return "OCF exit " + strconv.Itoa(int(c))
}

// ocfAgent is the "OCF" type: an unmodified OCF resource agent run with the
// environment the OCF standard defines. Online is "start", Offline "stop", LooksAlive
// "monitor" at OCF_CHECK_LEVEL 0, IsAlive "monitor" at OCF_CHECK_LEVEL 10; monitor's
// OCF_SUCCESS and OCF_RUNNING_MASTER mean alive, OCF_NOT_RUNNING and anything else not.
type ocfAgent struct {
	name     string
	provider string
	agent    string
	path     string
	env      []string // OCF_ROOT, OCF_RESOURCE_*, OCF_RESKEY_*
	interval time.Duration
	r        *actionRunner

	mu   sync.Mutex
	last error
}

// parseAgent splits "provider:agent", "ocf:provider:agent" or "agent" (provider
// heartbeat) and checks both names are plain file names.
func parseAgent(s string) (provider, agent string, ok bool) {
	parts := strings.Split(strings.TrimSpace(s), ":")
	if len(parts) == 3 && strings.EqualFold(parts[0], "ocf") {
		parts = parts[1:]
	}
	switch len(parts) {
	case 1:
		provider, agent = "heartbeat", parts[0]
	case 2:
		provider, agent = parts[0], parts[1]
	default:
		return "", "", false
	}
	for _, n := range []string{provider, agent} {
		if n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/\x00") {
			return "", "", false
		}
	}
	return provider, agent, true
}

func sameAgent(a, b string) bool {
	p1, a1, ok1 := parseAgent(a)
	p2, a2, ok2 := parseAgent(b)
	return ok1 && ok2 && p1 == p2 && a1 == a2
}

func openOCF(name string, p props, e *env) (Resource, error) {
	spec, _ := p.get("Agent")
	provider, agent, ok := parseAgent(strings.TrimPrefix(spec, "ocf:"))
	if !ok {
		return nil, &PropertyError{Type: p.typ, Property: "Agent", Value: spec, Msg: "want provider:agent, e.g. heartbeat:Dummy"}
	}
	root := e.ocfRoot
	path := filepath.Join(root, "resource.d", provider, agent)
	fi, err := os.Stat(path)
	if err != nil || fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return nil, &PropertyError{Type: p.typ, Property: "Agent", Value: spec,
			Msg: fmt.Sprintf("unknown OCF agent: no executable %s (is its package, e.g. resource-agents, installed?)", path)}
	}
	o := &ocfAgent{name: name, provider: provider, agent: agent, path: path, r: newActionRunner(name, e)}
	o.env = append(e.processEnv(),
		"OCF_ROOT="+root,
		"OCF_RA_VERSION_MAJOR=1",
		"OCF_RA_VERSION_MINOR=1",
		"OCF_RESOURCE_INSTANCE="+safeName(name),
		"OCF_RESOURCE_TYPE="+agent,
		"OCF_RESOURCE_PROVIDER="+provider,
	)
	keys := make([]string, 0, len(p.m))
	for k := range p.m {
		if !strings.EqualFold(k, "Agent") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !envName.MatchString(k) {
			return nil, &PropertyError{Type: p.typ, Property: k, Msg: "not a valid OCF parameter name (letters, digits and _ only)"}
		}
		o.env = append(o.env, "OCF_RESKEY_"+k+"="+p.m[k])
	}
	return o, nil
}

// action runs one agent action. interval is the monitor's recurring interval (0 makes
// it a probe, as OCF defines); depth is OCF_CHECK_LEVEL.
func (o *ocfAgent) action(ctx context.Context, action string, depth int, keep bool) (OCFCode, error) {
	env := o.env[:len(o.env):len(o.env)]
	timeout := 20 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	env = append(env,
		"OCF_RESKEY_CRM_meta_timeout="+strconv.FormatInt(max(timeout.Milliseconds(), 1), 10),
		"OCF_CHECK_LEVEL="+strconv.Itoa(depth),
	)
	if action == "monitor" {
		o.mu.Lock()
		interval := o.interval
		o.mu.Unlock()
		env = append(env, "OCF_RESKEY_CRM_meta_interval="+strconv.FormatInt(interval.Milliseconds(), 10))
	}
	code, reason, err := o.r.run(ctx, []string{o.path, action}, env, keep, action == "monitor")
	if err != nil {
		return OCFErrGeneric, err
	}
	switch {
	case code == 0,
		action == "monitor" && OCFCode(code) == OCFRunningMaster,
		action == "stop" && OCFCode(code) == OCFNotRunning: // stopped already: what stop is for
		return OCFCode(code), nil
	}
	return OCFCode(code), &ActionError{Program: o.path, Action: action, Code: code, OCF: true, Reason: reason}
}

func (o *ocfAgent) Online(ctx context.Context) error {
	_, err := o.action(ctx, "start", 0, true)
	return err
}

func (o *ocfAgent) Offline(ctx context.Context) error {
	if _, err := o.action(ctx, "stop", 0, false); err != nil {
		return err
	}
	o.r.forget()
	return nil
}

func (o *ocfAgent) monitor(ctx context.Context, depth int) bool {
	_, err := o.action(ctx, "monitor", depth, false)
	o.mu.Lock()
	o.last = err
	o.mu.Unlock()
	return err == nil
}

func (o *ocfAgent) LooksAlive(ctx context.Context) bool { return o.monitor(ctx, 0) }
func (o *ocfAgent) IsAlive(ctx context.Context) bool    { return o.monitor(ctx, 10) }

// Terminate kills running actions, runs "stop" (bounded by ctx: OCF has no kill entry
// point, and stop is required to be safe to call on a failed resource), then kills what
// the start action left in its process group.
func (o *ocfAgent) Terminate(ctx context.Context) {
	o.r.killAll(false)
	if _, err := o.action(ctx, "stop", 0, false); err != nil {
		o.r.e.log.Warn("resmon: OCF stop during terminate", "resource", o.name, "err", err)
	}
	o.r.killAll(true)
}

func (o *ocfAgent) lastFailure() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last
}

// setInterval tells the agent the LooksAlive poll interval, passed to monitor as
// OCF_RESKEY_CRM_meta_interval so that agents do not take checks for probes.
func (o *ocfAgent) setInterval(d time.Duration) {
	o.mu.Lock()
	o.interval = d
	o.mu.Unlock()
}

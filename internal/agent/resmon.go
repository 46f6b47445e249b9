package agent

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"wolfpack/internal/clusterdb"
	"wolfpack/internal/resmon"
)

// MonitorRunner runs resources on a resmon.Monitor. Create it before the Monitor, pass
// its OnEvent to resmon.Options, then Attach the Monitor and the Agent.
type MonitorRunner struct {
	mu    sync.Mutex
	mon   *resmon.Monitor
	agent *Agent
	specs map[string]resmon.Spec // what each resource was added with
}

// NewMonitorRunner returns a runner to attach to a Monitor.
func NewMonitorRunner() *MonitorRunner { return &MonitorRunner{specs: map[string]resmon.Spec{}} }

// Attach sets the Monitor that runs the resources and the Agent that hears its events.
func (m *MonitorRunner) Attach(mon *resmon.Monitor, a *Agent) {
	m.mu.Lock()
	m.mon, m.agent = mon, a
	m.mu.Unlock()
}

// OnEvent is resmon.Options.OnEvent: it passes failures and restarts to the agent.
func (m *MonitorRunner) OnEvent(ev resmon.Event) {
	m.mu.Lock()
	a := m.agent
	m.mu.Unlock()
	if a == nil {
		return
	}
	a.Notify(RunnerEvent{Resource: ev.Resource, State: stateName(ev.New), Err: ev.Err, Restarting: ev.Restarting, Failover: ev.Failover})
}

func stateName(s resmon.State) string {
	switch s {
	case resmon.StateOnline:
		return clusterdb.StateOnline
	case resmon.StateOnlinePending:
		return clusterdb.StateOnlinePending
	case resmon.StateOfflinePending:
		return clusterdb.StateOfflinePending
	case resmon.StateFailed:
		return clusterdb.StateFailed
	}
	return clusterdb.StateOffline
}

// PolicyOf returns the monitor policy of a resource's common properties.
func PolicyOf(r clusterdb.Resource) resmon.Policy {
	p := resmon.DefaultPolicy()
	ms := func(v uint32, d *time.Duration) {
		if v > 0 {
			*d = time.Duration(v) * time.Millisecond
		}
	}
	ms(r.LooksAlivePollInterval, &p.LooksAlivePollInterval)
	ms(r.IsAlivePollInterval, &p.IsAlivePollInterval)
	ms(r.PendingTimeout, &p.PendingTimeout)
	ms(r.RestartPeriod, &p.RestartPeriod)
	p.RetryPeriodOnFailure = time.Duration(r.RetryPeriodOnFailure) * time.Millisecond
	p.RestartAction = resmon.RestartAction(min(r.RestartAction, 2))
	p.RestartThreshold = int(r.RestartThreshold)
	return p
}

// Online adds the resource (again, when its properties changed) and brings it online.
func (m *MonitorRunner) Online(ctx context.Context, r clusterdb.Resource) error {
	m.mu.Lock()
	mon, a := m.mon, m.agent
	old, had := m.specs[r.Name]
	m.mu.Unlock()
	if mon == nil {
		return errors.New("agent: no resource monitor attached")
	}
	// The checkpoint policy properties (RestoreFailureAction, …) belong to the cluster
	// service, not to the resource's type, which would refuse them as unknown. The
	// epoch is the session the resource comes online under: the resource host starts
	// its processes (restarts included) only while that session's permit holds.
	spec := resmon.Spec{Name: r.Name, Type: r.Type, Private: resmon.TypeProperties(r.Private), Policy: PolicyOf(r)}
	if a != nil {
		spec.Epoch = a.lease.Load()
	}
	if had && !reflect.DeepEqual(old, spec) {
		mon.Terminate(ctx, r.Name)
		mon.Remove(ctx, r.Name)
		had = false
	}
	if !had {
		if err := mon.Add(spec); err != nil && !errors.Is(err, resmon.ErrExists) {
			return &SetupError{fmt.Errorf("resource %s: %w", r.Name, err)}
		}
		m.mu.Lock()
		m.specs[r.Name] = spec
		m.mu.Unlock()
	}
	return mon.Online(ctx, r.Name)
}

// Note appends a line to the resource's log (resmon.Monitor.Note).
func (m *MonitorRunner) Note(name, text string) {
	m.mu.Lock()
	mon := m.mon
	m.mu.Unlock()
	if mon != nil {
		mon.Note(name, text)
	}
}

// Offline takes the resource offline and forgets it.
func (m *MonitorRunner) Offline(ctx context.Context, name string) error {
	m.mu.Lock()
	mon := m.mon
	m.mu.Unlock()
	if mon == nil {
		return nil
	}
	err := mon.Offline(ctx, name)
	if errors.Is(err, resmon.ErrUnknownResource) {
		err = nil
	}
	m.forget(ctx, mon, name)
	return err
}

// Terminate stops the resource at once and forgets it.
func (m *MonitorRunner) Terminate(ctx context.Context, name string) {
	m.mu.Lock()
	mon := m.mon
	m.mu.Unlock()
	if mon == nil {
		return
	}
	mon.Terminate(ctx, name)
	m.forget(ctx, mon, name)
}

func (m *MonitorRunner) forget(ctx context.Context, mon *resmon.Monitor, name string) {
	if err := mon.Remove(ctx, name); err == nil || errors.Is(err, resmon.ErrUnknownResource) {
		m.mu.Lock()
		delete(m.specs, name)
		m.mu.Unlock()
	}
}

// ResourceTypes returns resmon's types as cluster records.
func ResourceTypes() []clusterdb.ResourceType {
	var out []clusterdb.ResourceType
	for _, t := range resmon.Types() {
		out = append(out, clusterdb.ResourceType{Name: t.Name, DisplayName: t.Name, DLL: "resmon"})
	}
	return out
}

// KnownType reports whether resmon knows a type name ("ocf:provider:agent" included).
func KnownType(name string) bool {
	err := resmon.ValidateProperties(name, nil)
	return err == nil || !errors.Is(err, resmon.ErrUnknownType)
}

package resmon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"
)

// Options configure a Monitor.
type Options struct {
	// LogDir receives <resource>.log for each resource that runs programs (the
	// process's or the script's stdout and stderr). "" discards the output.
	LogDir string
	// OCFRoot is OCF_ROOT; "" means /usr/lib/ocf.
	OCFRoot string
	// MaxLogBytes: a resource's log that has grown past this size is rotated to
	// <resource>.log.1 when the resource next starts a program; 0 means 16 MiB.
	MaxLogBytes int64
	// StopGracePeriod is how long a Generic Application gets between SIGTERM and
	// SIGKILL on Offline; 0 means 10 s.
	StopGracePeriod time.Duration
	// Logger receives the monitor's logs; nil means slog.Default().
	Logger *slog.Logger
	// OnEvent receives every state change, one at a time and in order, from a goroutine
	// of the Monitor. It may block (the queue grows meanwhile) but must not call Close.
	OnEvent func(Event)
	// Env is added to the environment of every process a resource starts (after the
	// daemon's own), e.g. WOLFPACK_NODE.
	Env []string
	// Launcher starts the resources' processes; nil runs them as children of this
	// process (a locked-thread spawner, see process.go).
	Launcher Launcher
}

// Spec names a resource to run: its type, private properties and policy.
type Spec struct {
	Name    string
	Type    string            // a name from Types(), or "ocf:<provider>:<agent>"
	Private map[string]string // private properties (names case-insensitive)
	Policy  Policy            // the zero Policy means DefaultPolicy()
	// Epoch is passed with every process the resource starts (Launcher, ProcSpec.Epoch):
	// the authority it runs under. A resource is re-added to change it.
	Epoch int64
}

// Monitor runs the resources of one node (WSFC's resource monitor, rhs.exe): it calls
// their entry points, polls LooksAlive and IsAlive, restarts failed resources by their
// policy and reports every state change. Dependencies and placement are the caller's
// business: it brings resources online and offline in the order it wants (see Order).
type Monitor struct {
	env     *env
	events  *eventQueue
	log     *slog.Logger
	spawner *spawner // nil when Options.Launcher was given

	mu       sync.Mutex
	machines map[string]*machine // by name as given to Add
	closed   bool
}

// NewMonitor starts a Monitor. It creates LogDir when it does not exist.
func NewMonitor(o Options) (*Monitor, error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	if o.LogDir != "" {
		if err := os.MkdirAll(o.LogDir, 0o750); err != nil {
			return nil, fmt.Errorf("resmon: log directory: %w", err)
		}
	}
	root := o.OCFRoot
	if root == "" {
		root = defaultOCFRoot
	}
	grace := o.StopGracePeriod
	if grace <= 0 {
		grace = 10 * time.Second
	}
	maxLog := o.MaxLogBytes
	if maxLog <= 0 {
		maxLog = 16 << 20
	}
	launch := o.Launcher
	var sp *spawner
	if launch == nil {
		sp = newSpawner()
		launch = localLauncher{sp}
	}
	m := &Monitor{
		env:      &env{launch: launch, extra: o.Env, logDir: o.LogDir, ocfRoot: root, grace: grace, maxLog: maxLog, log: log},
		events:   newEventQueue(o.OnEvent),
		log:      log,
		spawner:  sp,
		machines: map[string]*machine{},
	}
	return m, nil
}

// Add creates a resource of a built-in type from its spec; it starts Offline. Bad type
// names give ErrUnknownType, bad private properties a *PropertyError.
func (m *Monitor) Add(s Spec) error {
	if s.Name == "" {
		return errors.New("resmon: resource name is empty")
	}
	e := *m.env
	e.epoch = s.Epoch
	r, err := newResource(s.Name, s.Type, s.Private, &e)
	if err != nil {
		return fmt.Errorf("resmon: add %q: %w", s.Name, err)
	}
	return m.add(s.Name, s.Type, r, s.Policy)
}

// AddResource adds a resource of the caller's own type; it starts Offline.
func (m *Monitor) AddResource(name string, r Resource, p Policy) error {
	if name == "" || r == nil {
		return errors.New("resmon: resource name is empty or resource is nil")
	}
	return m.add(name, reflect.TypeOf(r).String(), r, p)
}

func (m *Monitor) add(name, typ string, r Resource, p Policy) error {
	if p == (Policy{}) {
		p = DefaultPolicy()
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("resmon: add %q: %w", name, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if _, ok := m.machines[name]; ok {
		return fmt.Errorf("%w: %q", ErrExists, name)
	}
	mc := newMachine(m, name, r, p)
	m.machines[name] = mc
	go mc.run()
	m.log.Debug("resmon: resource added", "resource", name, "type", typ)
	return nil
}

func (m *Monitor) get(name string) (*machine, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	mc, ok := m.machines[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownResource, name)
	}
	return mc, nil
}

// send hands a command to the resource's state machine and waits for its answer. When
// ctx ends first the command still takes effect; only the wait is abandoned.
func (m *Monitor) send(ctx context.Context, name string, c command) error {
	mc, err := m.get(name)
	if err != nil {
		return err
	}
	c.reply = make(chan error, 1)
	select {
	case mc.cmds <- c:
	case <-mc.exited:
		return m.goneErr(name)
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-c.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *Monitor) goneErr(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	return fmt.Errorf("%w: %q", ErrUnknownResource, name)
}

// Online brings the resource online and returns when it is Online (nil) or has failed
// (the error; the monitor may still restart it by its policy, which later events
// report). The resource is Online Pending meanwhile. If ctx ends first, Online returns
// ctx.Err() and the resource keeps coming online.
func (m *Monitor) Online(ctx context.Context, name string) error {
	return m.send(ctx, name, command{kind: cmdOnline})
}

// Offline takes the resource offline gracefully and returns when it is Offline. A
// pending Online is cancelled. If the resource's Offline fails or overruns
// PendingTimeout, the resource is terminated, ends Failed, and the error is returned.
// Either way nothing of the resource is left running when Offline returns.
func (m *Monitor) Offline(ctx context.Context, name string) error {
	return m.send(ctx, name, command{kind: cmdOffline})
}

// Terminate stops the resource at once (the Terminate entry point) and leaves it
// Offline; pending calls are abandoned. For a node that must give up its resources fast.
func (m *Monitor) Terminate(ctx context.Context, name string) error {
	return m.send(ctx, name, command{kind: cmdTerminate})
}

// SetPolicy changes a resource's policy; it applies from the next poll or failure.
func (m *Monitor) SetPolicy(ctx context.Context, name string, p Policy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return m.send(ctx, name, command{kind: cmdPolicy, policy: p})
}

// Remove forgets a resource that is Offline or Failed (else ErrNotOffline).
func (m *Monitor) Remove(ctx context.Context, name string) error {
	if err := m.send(ctx, name, command{kind: cmdRemove}); err != nil {
		return err
	}
	m.mu.Lock()
	delete(m.machines, name)
	m.mu.Unlock()
	return nil
}

// Note appends a line about resource name to its log (LogDir/<name>.log), as the
// monitor's own lines are written there ("--- TIME wolfpack: TEXT"): the failures the
// monitor saw, and those its caller saw (a registry restore that was refused), end up
// next to the program's own output. Without a LogDir it does nothing; a log that cannot
// be written is logged, never an error of the caller's operation.
func (m *Monitor) Note(name, text string) {
	if m.env.logDir == "" {
		return
	}
	f, err := openLog(m.env.logDir, name, m.env.maxLog)
	if err == nil {
		sep := ""
		if fi, serr := f.Stat(); serr == nil && fi.Size() > 0 {
			// The program's output may end without a newline: the note starts a line.
			last := make([]byte, 1)
			if r, rerr := os.Open(f.Name()); rerr == nil {
				if _, rerr := r.ReadAt(last, fi.Size()-1); rerr == nil && last[0] != '\n' {
					sep = "\n"
				}
				r.Close()
			}
		}
		_, err = fmt.Fprintf(f, "%s--- %s wolfpack: %s\n", sep, time.Now().UTC().Format(time.RFC3339), oneLine(text))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		m.log.Warn("resmon: cannot write the resource's log", "resource", name, "err", err)
	}
}

// oneLine keeps a note on one line of the log.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " | ", "\n", " | ", "\r", " | ").Replace(s)
}

// Status is a resource's current state as the Monitor sees it.
type Status struct {
	State State
	Err   error // why it failed, when State is StateFailed
	// Restarts counts the restarts within the current RestartPeriod.
	Restarts int
}

// State returns the resource's current state.
func (m *Monitor) State(name string) (State, error) {
	st, err := m.Status(name)
	return st.State, err
}

// Status returns the resource's current state, failure and restart count.
func (m *Monitor) Status(name string) (Status, error) {
	mc, err := m.get(name)
	if err != nil {
		return Status{State: StateUnknown}, err
	}
	mc.mu.Lock()
	defer mc.mu.Unlock()
	return mc.status, nil
}

// Resource returns the Resource instance behind name (for tests: a Test resource is a
// *TestResource).
func (m *Monitor) Resource(name string) (Resource, error) {
	mc, err := m.get(name)
	if err != nil {
		return nil, err
	}
	return mc.res, nil
}

// Names lists the resources, sorted.
func (m *Monitor) Names() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make([]string, 0, len(m.machines))
	for n := range m.machines {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Close terminates every resource that is not Offline (take them offline in order
// first for a graceful stop), delivers the remaining events and stops the Monitor.
// Later calls answer ErrClosed.
func (m *Monitor) Close(ctx context.Context) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	machines := make([]*machine, 0, len(m.machines))
	for _, mc := range m.machines {
		machines = append(machines, mc)
	}
	m.mu.Unlock()
	var errs []error
	for _, mc := range machines {
		c := command{kind: cmdClose, reply: make(chan error, 1)}
		select {
		case mc.cmds <- c:
		case <-mc.exited:
			continue
		}
		select {
		case <-mc.exited:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("resmon: close %q: %w", mc.name, ctx.Err()))
		}
	}
	if len(errs) == 0 && m.spawner != nil {
		// Ending the spawner's thread kills its children: only after every resource
		// was terminated.
		m.spawner.close()
	}
	m.events.close()
	return errors.Join(errs...)
}

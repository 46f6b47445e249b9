package resmon

import "context"

// Resource is one instance of a resource type: the entry points of a WSFC resource DLL
// (Online, Offline, LooksAlive, IsAlive, Terminate) as a Go interface. The Monitor calls
// them from its own goroutines, never two of Online/Offline/LooksAlive/IsAlive at once
// for one resource; Terminate may be called at any time, even while another call is
// still running (it is how the monitor ends a call that overran PendingTimeout).
type Resource interface {
	// Online brings the resource online and returns when it is online (nil) or has
	// failed (the error says why). The monitor shows the resource as Online Pending while
	// Online runs, and cancels ctx when PendingTimeout passes or Offline is requested.
	Online(ctx context.Context) error
	// Offline takes the resource offline gracefully and returns when it is offline.
	// The resource shows Offline Pending meanwhile; ctx ends at PendingTimeout.
	Offline(ctx context.Context) error
	// LooksAlive is the cheap, frequent check (every LooksAlivePollInterval). A false
	// answer is confirmed with IsAlive before the resource is declared failed.
	LooksAlive(ctx context.Context) bool
	// IsAlive is the thorough check (every IsAlivePollInterval, and after a false
	// LooksAlive). False means the resource has failed.
	IsAlive(ctx context.Context) bool
	// Terminate stops the resource at once, without grace, and returns when nothing of
	// it is left running, or when ctx ends (the monitor waits for it, bounded by
	// PendingTimeout). It is called after a failure, after an overrun, and on Close.
	Terminate(ctx context.Context)
}

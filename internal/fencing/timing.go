package fencing

import (
	"fmt"
	"time"
)

// Timing is the fencing timing rule for one session TTL (see the package doc).
type Timing struct {
	TTL    time.Duration // the membership lease's TTL
	Renew  time.Duration // keep-alive period
	Window time.Duration // a permit lasts this long from the keep-alive's send time
	Stop   time.Duration // the resource host's budget to freeze every resource
	Margin time.Duration // frozen → earliest lease expiry
	Kill   time.Duration // the resource host's budget to kill what is frozen
	Settle time.Duration // lease gone → a survivor may place the node's groups
}

// ForTTL returns the rule for a session TTL. The fractions keep their proportions at any
// TTL, so --session-ttl scales the whole rule.
func ForTTL(ttl time.Duration) Timing {
	t := Timing{
		TTL:    ttl,
		Renew:  ttl / 10,
		Stop:   ttl / 40,
		Margin: ttl / 2,
		Kill:   ttl / 8,
		Settle: ttl / 8,
	}
	t.Window = ttl - t.Margin - t.Stop
	return t
}

// Permit returns the permit a keep-alive sent at sent earns: run until Until, stay frozen
// until KillAt, then die.
func (t Timing) Permit(sent Instant) (until, killAt Instant) {
	return sent.Add(t.Window), sent.Add(t.TTL - t.Kill)
}

// Validate checks the rule's invariants: a permit outlives a few renewals, the freeze
// ends Margin before the lease can expire, and the kill before it.
func (t Timing) Validate() error {
	switch {
	case t.TTL <= 0 || t.Renew <= 0 || t.Stop <= 0 || t.Kill <= 0 || t.Window <= 0:
		return fmt.Errorf("fencing: timing %v: every period must be positive", t)
	case t.Window < 3*t.Renew:
		return fmt.Errorf("fencing: timing %v: a permit must outlive three renewals", t)
	case t.Window+t.Stop+t.Margin > t.TTL:
		return fmt.Errorf("fencing: timing %v: permit + stop + margin exceed the TTL", t)
	case t.Window+t.Stop > t.TTL-t.Kill:
		return fmt.Errorf("fencing: timing %v: the kill would start before the freeze ends", t)
	}
	return nil
}

func (t Timing) String() string {
	return fmt.Sprintf("ttl=%v renew=%v window=%v stop=%v margin=%v kill=%v settle=%v", t.TTL, t.Renew, t.Window, t.Stop, t.Margin, t.Kill, t.Settle)
}

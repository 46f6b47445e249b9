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
	Kill   time.Duration // the resource host's budget to stop every resource
	Margin time.Duration // kill finished → earliest lease expiry
	Settle time.Duration // lease gone → a survivor may place the node's groups
}

// ForTTL returns the rule for a session TTL. The fractions keep their proportions at any
// TTL, so --session-ttl scales the whole rule.
func ForTTL(ttl time.Duration) Timing {
	t := Timing{
		TTL:    ttl,
		Renew:  ttl / 10,
		Kill:   ttl / 8,
		Margin: ttl / 2,
		Settle: ttl / 8,
	}
	t.Window = ttl - t.Margin - t.Kill
	return t
}

// Validate checks the rule's invariants: a permit outlives a few renewals, and the kill
// ends Margin before the lease can expire.
func (t Timing) Validate() error {
	switch {
	case t.TTL <= 0 || t.Renew <= 0 || t.Kill <= 0 || t.Window <= 0:
		return fmt.Errorf("fencing: timing %v: every period must be positive", t)
	case t.Window < 3*t.Renew:
		return fmt.Errorf("fencing: timing %v: a permit must outlive three renewals", t)
	case t.Window+t.Kill+t.Margin > t.TTL:
		return fmt.Errorf("fencing: timing %v: permit + kill + margin exceed the TTL", t)
	}
	return nil
}

func (t Timing) String() string {
	return fmt.Sprintf("ttl=%v renew=%v window=%v kill=%v margin=%v settle=%v", t.TTL, t.Renew, t.Window, t.Kill, t.Margin, t.Settle)
}

package fencing

import (
	"testing"
	"time"
)

func TestForTTL(t *testing.T) {
	for _, ttl := range []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 30 * time.Second, 600 * time.Second} {
		tm := ForTTL(ttl)
		if err := tm.Validate(); err != nil {
			t.Errorf("ttl %v: %v", ttl, err)
		}
	}
	d := ForTTL(2 * time.Second)
	// The promise at default settings: the kill has finished at least 1 s
	// before the lease can expire.
	if got := d.TTL - (d.Window + d.Kill); got < time.Second {
		t.Errorf("default margin %v < 1s (%v)", got, d)
	}
	if d.Window != 750*time.Millisecond || d.Renew != 200*time.Millisecond {
		t.Errorf("default timing %v", d)
	}
}

func TestValidateRejects(t *testing.T) {
	bad := ForTTL(2 * time.Second)
	bad.Window = time.Second + 800*time.Millisecond
	if bad.Validate() == nil {
		t.Errorf("a window that leaves no margin passed: %v", bad)
	}
	bad = ForTTL(2 * time.Second)
	bad.Renew = bad.Window
	if bad.Validate() == nil {
		t.Errorf("a renewal as long as the window passed: %v", bad)
	}
}

func TestClock(t *testing.T) {
	a := Now()
	time.Sleep(10 * time.Millisecond)
	b := Now()
	if d := b.Sub(a); d < 10*time.Millisecond || d > time.Second {
		t.Errorf("boottime advanced %v over a 10ms sleep", d)
	}
	if u := b.Add(time.Second).Until(); u <= 0 || u > time.Second {
		t.Errorf("Until = %v", u)
	}
}

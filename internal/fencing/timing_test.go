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
	// The promise at default settings: every resource process is stopped at least 1 s
	// before the lease can expire, and killed before it can.
	if got := d.TTL - (d.Window + d.Stop); got < time.Second {
		t.Errorf("default margin %v < 1s (%v)", got, d)
	}
	sent := Now()
	until, kill := d.Permit(sent)
	if until.Sub(sent) != 950*time.Millisecond || kill.Sub(sent) != 1750*time.Millisecond || d.Renew != 200*time.Millisecond {
		t.Errorf("default timing %v: permit %v, kill %v", d, until.Sub(sent), kill.Sub(sent))
	}
	if kill.Add(d.Kill) != sent.Add(d.TTL) {
		t.Errorf("the kill does not end at the lease's earliest expiry")
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
	bad = ForTTL(2 * time.Second)
	bad.Kill = time.Second + 500*time.Millisecond
	if bad.Validate() == nil {
		t.Errorf("a kill that starts before the freeze passed: %v", bad)
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

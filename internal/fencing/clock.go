package fencing

import (
	"time"

	"golang.org/x/sys/unix"
)

// Instant is a point on CLOCK_BOOTTIME, in nanoseconds: the same for every process of
// the machine, monotonic, and counting through suspend (unlike CLOCK_MONOTONIC, which
// Go's timers use). Permits are sent between processes as Instants.
type Instant int64

// Now reads CLOCK_BOOTTIME.
func Now() Instant {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		// CLOCK_BOOTTIME exists since Linux 2.6.39; fall back on the monotonic clock.
		unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	}
	return Instant(ts.Nano())
}

// Add returns i + d.
func (i Instant) Add(d time.Duration) Instant { return i + Instant(d) }

// Sub returns i − j.
func (i Instant) Sub(j Instant) time.Duration { return time.Duration(i - j) }

// Until returns how long from now until i (negative once i has passed).
func (i Instant) Until() time.Duration { return i.Sub(Now()) }

package reshost

import (
	"os"
	"time"

	"golang.org/x/sys/unix"

	"wolfpack/internal/fencing"
)

// wakeup is a timer on CLOCK_BOOTTIME (a timerfd), armed at the host's next deadline —
// the end of the permit, or the kill time of frozen processes — so that the host sleeps
// between events instead of polling, and still wakes on time after the machine was
// suspended (a timer of Go's runs on CLOCK_MONOTONIC, which stops while the machine
// sleeps, and would fire late).
type wakeup struct {
	f  *os.File
	fd int
	c  chan struct{}
}

// newWakeup returns a disarmed wakeup.
func newWakeup() (*wakeup, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_BOOTTIME, unix.TFD_CLOEXEC|unix.TFD_NONBLOCK)
	if err != nil {
		return nil, err
	}
	w := &wakeup{f: os.NewFile(uintptr(fd), "timerfd"), fd: fd, c: make(chan struct{}, 1)}
	go w.read()
	return w, nil
}

func (w *wakeup) read() {
	var b [8]byte
	for {
		if _, err := w.f.Read(b[:]); err != nil {
			return // closed
		}
		select {
		case w.c <- struct{}{}:
		default:
		}
	}
}

// set arms the timer at at (an Instant already past fires at once); 0 disarms it.
func (w *wakeup) set(at fencing.Instant) error {
	var spec unix.ItimerSpec
	if at > 0 {
		spec.Value = unix.NsecToTimespec(int64(at))
	}
	return unix.TimerfdSettime(w.fd, unix.TFD_TIMER_ABSTIME, &spec, nil)
}

func (w *wakeup) close() { w.f.Close() }

// sweep is how often the host reaps and checks its permit whatever else happens: a
// safety net under the SIGCHLDs and the wakeup.
const sweep = time.Second

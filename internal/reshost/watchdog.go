package reshost

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// watchdog is a Linux watchdog device (/dev/watchdog; softdog works): once opened it
// resets the machine unless it is written to within its timeout. Writing 'V' before
// closing disarms it ("magic close"); closing without it leaves it counting.
type watchdog struct {
	f        *os.File
	path     string
	interval time.Duration
	last     time.Time
	log      *slog.Logger
}

// openWatchdog opens the device and sets its timeout (whole seconds, at least 1). A
// device that does not take the timeout ioctl (a test's plain file) is used with its own.
func openWatchdog(path string, timeout time.Duration, log *slog.Logger) (*watchdog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("reshost: watchdog %s: %w", path, err)
	}
	secs := int((timeout + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	if err := unix.IoctlSetPointerInt(int(f.Fd()), unix.WDIOC_SETTIMEOUT, secs); err != nil {
		log.Warn("resource host: watchdog timeout not set (not a watchdog device?)", "device", path, "err", err)
	}
	if got, err := unix.IoctlGetInt(int(f.Fd()), unix.WDIOC_GETTIMEOUT); err == nil && got > 0 {
		secs = got
	}
	wd := &watchdog{f: f, path: path, interval: time.Duration(secs) * time.Second / 4, log: log}
	log.Info("resource host: watchdog armed", "device", path, "timeout", time.Duration(secs)*time.Second)
	wd.pet()
	return wd, nil
}

// pet writes to the device at most every quarter of its timeout.
func (w *watchdog) pet() {
	if time.Since(w.last) < w.interval {
		return
	}
	if _, err := w.f.Write([]byte{'.'}); err != nil {
		w.log.Error("resource host: watchdog write", "device", w.path, "err", err)
		return
	}
	w.last = time.Now()
}

// disarm writes the magic 'V' and closes: a clean end does not reset the machine.
func (w *watchdog) disarm() {
	w.f.Write([]byte{'V'})
	w.f.Close()
}

// abandon closes without disarming: the machine resets when the timeout passes.
func (w *watchdog) abandon() { w.f.Close() }

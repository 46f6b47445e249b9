package eventlog

import (
	"context"
	"io"
	"os"
)

// clear deletes every record; with backup non-nil it first writes them to it as an
// export file, and clears only when that succeeded. Record numbers start again at 1.
func (l *logFile) clear(ctx context.Context, backup io.Writer, computer string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if backup != nil {
		if err := l.exportLocked(ctx, backup, nil, computer); err != nil {
			return err
		}
	}
	next := l.segs[len(l.segs)-1].seq + 1
	cfg := l.cfg
	cfg.ClearedBefore = next
	// Once the configuration says so, the old segments are gone even if we crash now.
	if err := l.writeConfig(cfg); err != nil {
		return err
	}
	l.cfg = cfg
	for _, s := range l.segs {
		s.f.Close()
		os.Remove(s.path)
	}
	l.segs, l.size = nil, 0
	l.x.reset()
	l.nextID = 1
	l.gen++
	return l.newSegment(next)
}

package eventlog

import (
	"context"
	"strings"
	"sync"
)

// subscriberBuffer is how many records a subscriber may fall behind before records
// are dropped for it (and counted in Dropped).
const subscriberBuffer = 1024

type subscriber struct {
	log string // "" for every log
	ch  chan Record
}

// hub fans committed records out to subscribers. A slow subscriber loses records
// rather than slowing down reporters.
type hub struct {
	mu      sync.Mutex
	subs    map[*subscriber]struct{}
	closed  bool
	dropped uint64
}

func newHub() *hub { return &hub{subs: map[*subscriber]struct{}{}} }

func (h *hub) subscribe(ctx context.Context, log string) <-chan Record {
	s := &subscriber{log: log, ch: make(chan Record, subscriberBuffer)}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		close(s.ch)
		return s.ch
	}
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	go func() {
		<-ctx.Done()
		h.mu.Lock()
		if _, ok := h.subs[s]; ok {
			delete(h.subs, s)
			close(s.ch)
		}
		h.mu.Unlock()
	}()
	return s.ch
}

func (h *hub) publish(recs []Record) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		for i := range recs {
			if s.log != "" && !strings.EqualFold(s.log, recs[i].Log) {
				continue
			}
			select {
			case s.ch <- recs[i]:
			default:
				h.dropped++
			}
		}
	}
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		close(s.ch)
		delete(h.subs, s)
	}
}

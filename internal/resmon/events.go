package resmon

import "sync"

// eventQueue delivers events to a callback from one goroutine, in order, without ever
// blocking the resources' state machines: a slow callback (one that writes to etcd)
// only lets the queue grow.
type eventQueue struct {
	fn func(Event)

	mu      sync.Mutex
	cond    *sync.Cond
	q       []Event
	closing bool
	done    chan struct{}
}

func newEventQueue(fn func(Event)) *eventQueue {
	e := &eventQueue{fn: fn, done: make(chan struct{})}
	e.cond = sync.NewCond(&e.mu)
	if fn == nil {
		close(e.done)
		return e
	}
	go e.loop()
	return e
}

func (e *eventQueue) push(ev Event) {
	if e.fn == nil {
		return
	}
	e.mu.Lock()
	if !e.closing {
		e.q = append(e.q, ev)
		e.cond.Signal()
	}
	e.mu.Unlock()
}

func (e *eventQueue) loop() {
	defer close(e.done)
	for {
		e.mu.Lock()
		for len(e.q) == 0 && !e.closing {
			e.cond.Wait()
		}
		if len(e.q) == 0 {
			e.mu.Unlock()
			return
		}
		ev := e.q[0]
		e.q[0] = Event{}
		e.q = e.q[1:]
		e.mu.Unlock()
		e.fn(ev)
	}
}

// close delivers what is queued, then stops.
func (e *eventQueue) close() {
	e.mu.Lock()
	e.closing = true
	e.cond.Broadcast()
	e.mu.Unlock()
	<-e.done
}

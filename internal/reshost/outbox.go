package reshost

import (
	"os"
	"sync"
)

// outbox sends messages from one goroutine, in order, so that neither end ever blocks on
// a peer that does not read: the host on a frozen daemon (that is when the host
// matters), the daemon's keep-alive loop on a frozen host.
type outbox struct {
	c      *conn
	mu     sync.Mutex
	cond   *sync.Cond
	queue  []outMsg
	closed bool
	done   chan struct{}
}

func newOutbox(c *conn) *outbox {
	o := &outbox{c: c, done: make(chan struct{})}
	o.cond = sync.NewCond(&o.mu)
	go o.loop()
	return o
}

type outMsg struct {
	m    message
	file *os.File // sent with the message, then closed
}

func (o *outbox) send(m message) { o.sendFile(m, nil) }

// sendFile queues m with file (which the outbox closes once sent); false when the
// outbox is closed (file is closed then too).
func (o *outbox) sendFile(m message, file *os.File) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		if file != nil {
			file.Close()
		}
		return false
	}
	o.queue = append(o.queue, outMsg{m, file})
	o.cond.Signal()
	return true
}

func (o *outbox) loop() {
	defer close(o.done)
	for {
		o.mu.Lock()
		for len(o.queue) == 0 && !o.closed {
			o.cond.Wait()
		}
		if len(o.queue) == 0 {
			o.mu.Unlock()
			return
		}
		m := o.queue[0]
		o.queue = o.queue[1:]
		o.mu.Unlock()
		err := o.c.send(m.m, m.file)
		if m.file != nil {
			m.file.Close()
		}
		if err != nil {
			// The peer is gone; the reader will notice.
			o.mu.Lock()
			for _, q := range o.queue {
				if q.file != nil {
					q.file.Close()
				}
			}
			o.queue, o.closed = nil, true
			o.mu.Unlock()
			return
		}
	}
}

// close delivers what is queued (while the daemon reads) and stops.
func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.cond.Signal()
	o.mu.Unlock()
	<-o.done
}

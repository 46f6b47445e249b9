package registry

import (
	"context"

	"wolfpack/internal/regipc/wire"
)

// Notify filters (RegNotifyChangeKeyValue).
const (
	REG_NOTIFY_CHANGE_NAME       = 0x1 // a subkey was added or deleted
	REG_NOTIFY_CHANGE_ATTRIBUTES = 0x2
	REG_NOTIFY_CHANGE_LAST_SET   = 0x4 // a value was added, changed or deleted
	REG_NOTIFY_CHANGE_SECURITY   = 0x8
	REG_NOTIFY_ALL               = 0xf
)

// Change is one change reported by Notify.
type Change struct {
	Key    string // the resolved path of the key that changed
	Filter uint32 // which kind of change (one REG_NOTIFY_CHANGE_* bit)
	// Value names the value that a REG_NOTIFY_CHANGE_LAST_SET change set or deleted,
	// when the node knows it (HasValue; "" is the default value).
	Value    string
	HasValue bool
}

// watchBuffer bounds the changes queued for a slow receiver; past it changes are dropped,
// as Windows coalesces changes into one signalled event.
const watchBuffer = 1024

type watch struct {
	ch     chan Change
	ended  chan struct{} // closed with ch, for the goroutine that watches ctx
	closed bool
}

// end closes the channel; the caller holds c.mu.
func (w *watch) end() {
	if !w.closed {
		w.closed = true
		close(w.ch)
		close(w.ended)
	}
}

// Notify reports changes to the key (and, with subtree, to its subkeys) of the kinds in
// filter, as RegNotifyChangeKeyValue does, on a channel. The channel is closed when ctx
// ends, the key is closed or deleted, or the connection ends.
func (k Key) Notify(ctx context.Context, subtree bool, filter uint32) (<-chan Change, error) {
	c, err := k.conn()
	if err != nil {
		return nil, err
	}
	w := &watch{ch: make(chan Change, watchBuffer), ended: make(chan struct{})}
	id := c.nextID.Add(1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	c.watches[id] = w
	if !c.pumping {
		c.pumping = true
		go c.pump()
	}
	c.mu.Unlock()

	req := wire.Request{Op: wire.OpNotify, ID: id, Handle: k.h, Flags: filter, Access: boolU32(subtree)}
	if err := c.roundTrip(&req, nil); err != nil {
		c.mu.Lock()
		delete(c.watches, id)
		w.end()
		c.mu.Unlock()
		return nil, err
	}
	go func() {
		select {
		case <-ctx.Done():
		case <-w.ended:
			return
		}
		c.mu.Lock()
		_, live := c.watches[id]
		delete(c.watches, id)
		w.end()
		c.mu.Unlock()
		if live {
			cancel := wire.Request{Op: wire.OpNotifyCancel, Flags: id}
			_ = c.roundTrip(&cancel, nil)
		}
	}()
	return w.ch, nil
}

// deliverWatch hands a push to its watch; the caller holds c.mu.
func (c *Conn) deliverWatch(w *watch, r wire.Reply) {
	if r.Kind == wire.KindNotifyDone {
		for id, x := range c.watches {
			if x == w {
				delete(c.watches, id)
			}
		}
		w.end()
		return
	}
	d := wire.NewDecoder(r.Payload)
	ch := d.Change()
	if d.End() != nil || w.closed {
		return
	}
	select {
	case w.ch <- Change{Key: ch.Key, Filter: ch.Filter, Value: ch.Value, HasValue: ch.HasValue}:
	default: // the receiver is behind: coalesce
	}
}

// pump reads the socket while watches exist, so that pushes arrive without a call in
// flight; it holds the read token meanwhile and delivers replies to their callers.
func (c *Conn) pump() {
	<-c.token
	for {
		c.mu.Lock()
		if len(c.watches) == 0 || c.err != nil {
			c.pumping = false
			c.mu.Unlock()
			c.token <- struct{}{}
			return
		}
		c.mu.Unlock()
		r, err := c.readFrame()
		if err != nil {
			c.fail(err)
			continue
		}
		c.dispatch(r)
	}
}

func boolU32(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

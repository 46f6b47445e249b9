package registry

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"wolfpack/internal/nodestate"
	"wolfpack/internal/regipc/wire"
)

// SocketFile is the name of the registry socket in a node's data directory.
const SocketFile = "reg.sock"

// DefaultSocket is the socket of the node whose data directory is $WOLFPACK_DATA, else
// /var/lib/wolfpack for root, else ~/.local/state/wolfpack (the daemon's defaults) when a
// node of the user's own runs there, else the machine's node in /var/lib/wolfpack (whose
// socket every user may use).
func DefaultSocket() string {
	if d := os.Getenv("WOLFPACK_DATA"); d != "" {
		return filepath.Join(d, SocketFile)
	}
	system := filepath.Join("/var/lib/wolfpack", SocketFile)
	if os.Geteuid() == 0 {
		return system
	}
	if home, err := os.UserHomeDir(); err == nil {
		own := filepath.Join(home, ".local", "state", "wolfpack", SocketFile)
		if _, err := os.Stat(own); err == nil {
			return own
		}
	}
	return system
}

// ErrClosed is returned by calls on a closed connection.
var ErrClosed = errors.New("registry: connection closed")

// Conn is a connection to a node's registry. Its handles belong to it: they close when
// it closes. A Conn is safe for concurrent use; concurrent calls are pipelined.
//
// Replies are read by whichever waiting caller holds the read token, so a lone caller
// reads its own reply without a goroutine switch; replies for other callers are copied
// to them. While change notifications are subscribed, a background goroutine holds the
// token and delivers everything.
type Conn struct {
	nc   *net.UnixConn
	path string

	wmu  sync.Mutex
	wbuf []byte

	nextID atomic.Uint32
	token  chan struct{} // capacity 1; its holder reads the socket
	br     *bufio.Reader
	rbuf   []byte // frame buffer, owned by the token holder

	mu      sync.Mutex
	pending map[uint32]*call
	watches map[uint32]*watch
	pumping bool
	err     error // once set, the connection is dead
}

type call struct {
	done    chan struct{} // capacity 1
	status  uint32
	payload []byte
	err     error
	dec     wire.Decoder // reused for the reply, so decoding does not allocate
}

var callPool = sync.Pool{New: func() any { return &call{done: make(chan struct{}, 1)} }}

// Dial connects to the registry socket at path ("" for DefaultSocket).
func Dial(ctx context.Context, path string) (*Conn, error) {
	if path == "" {
		path = DefaultSocket()
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		if filepath.Base(path) == SocketFile {
			// Say why: the node of the socket's data directory does not run.
			if st, _ := nodestate.Check(filepath.Dir(path)); st == nodestate.NoDirectory || st == nodestate.NotRunning {
				return nil, fmt.Errorf("registry: %w", &nodestate.Error{Dir: filepath.Dir(path), State: st})
			}
		}
		return nil, fmt.Errorf("registry: connect to %s (is wolfpackd running?): %w", path, err)
	}
	c := &Conn{
		nc:      nc.(*net.UnixConn),
		path:    path,
		token:   make(chan struct{}, 1),
		br:      bufio.NewReaderSize(nc, 32<<10),
		pending: make(map[uint32]*call),
		watches: make(map[uint32]*watch),
	}
	c.token <- struct{}{}
	return c, nil
}

// Close closes the connection; the node closes every handle opened through it.
func (c *Conn) Close() error {
	c.fail(ErrClosed)
	return c.nc.Close()
}

// LocalMachine is HKEY_LOCAL_MACHINE on this connection.
func (c *Conn) LocalMachine() Key { return Key{c: c, h: hkeyLocalMachine} }

// Users is HKEY_USERS on this connection.
func (c *Conn) Users() Key { return Key{c: c, h: hkeyUsers} }

// Key binds a predefined key (LOCAL_MACHINE, USERS) to this connection; other keys are
// returned as they are.
func (c *Conn) Key(k Key) Key {
	if k.predefined() {
		k.c = c
	}
	return k
}

// OpenKey is OpenKey(c.Key(k), path, access).
func (c *Conn) OpenKey(k Key, path string, access uint32) (Key, error) {
	return OpenKey(c.Key(k), path, access)
}

// CreateKey is CreateKey(c.Key(k), path, access).
func (c *Conn) CreateKey(k Key, path string, access uint32) (Key, bool, error) {
	return CreateKey(c.Key(k), path, access)
}

// Ping sends data to the node and reads it back (a round trip of the protocol).
func (c *Conn) Ping(data []byte) error {
	req := wire.Request{Op: wire.OpPing, Data: data}
	return c.roundTrip(&req, func(d *wire.Decoder) {
		if got := d.Bytes(); len(got) != len(data) {
			d.U8() // force an error below
		}
	})
}

// roundTrip sends req and waits for its reply. decode, when not nil, reads the payload of
// a successful reply; it must copy what it keeps.
func (c *Conn) roundTrip(req *wire.Request, decode func(*wire.Decoder)) error {
	cl := callPool.Get().(*call)
	if req.ID == 0 {
		req.ID = c.nextID.Add(1)
	}
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		callPool.Put(cl)
		return err
	}
	c.pending[req.ID] = cl
	c.mu.Unlock()

	c.wmu.Lock()
	c.wbuf = wire.AppendRequest(c.wbuf[:0], req)
	_, err := c.nc.Write(c.wbuf)
	if cap(c.wbuf) > 1<<20 {
		c.wbuf = nil // do not pin a hive image
	}
	c.wmu.Unlock()
	if err != nil {
		c.fail(fmt.Errorf("registry: send: %w", err))
	}

	for {
		select {
		case <-cl.done:
			return c.finish(cl, decode)
		case <-c.token:
			select {
			case <-cl.done:
				c.token <- struct{}{}
				return c.finish(cl, decode)
			default:
			}
			err := c.readUntil(req.ID, cl, decode)
			c.token <- struct{}{}
			if err == errDelivered {
				<-cl.done // fail completed the call
				return c.finish(cl, decode)
			}
			callPool.Put(cl)
			return err
		}
	}
}

var errDelivered = errors.New("delivered")

// readUntil reads frames, as the token holder, until the reply to id arrives, and
// decodes it in place. It returns errDelivered when cl was completed meanwhile
// (by a connection failure).
func (c *Conn) readUntil(id uint32, cl *call, decode func(*wire.Decoder)) error {
	for {
		r, err := c.readFrame()
		if err != nil {
			c.fail(err)
			return errDelivered // fail completed every pending call, ours included
		}
		if r.Kind == wire.KindReply && r.ID == id {
			c.mu.Lock()
			delete(c.pending, id)
			c.mu.Unlock()
			return replyError(&cl.dec, r.Status, r.Payload, decode)
		}
		c.dispatch(r)
	}
}

func (c *Conn) readFrame() (wire.Reply, error) {
	body, err := wire.ReadFrame(c.br, c.rbuf)
	if cap(body) <= 1<<20 {
		c.rbuf = body
	} else {
		c.rbuf = nil
	}
	if err != nil {
		c.mu.Lock()
		if c.err != nil {
			err = c.err
		}
		c.mu.Unlock()
		return wire.Reply{}, fmt.Errorf("registry: receive: %w", err)
	}
	r, err := wire.DecodeReply(body)
	if err != nil {
		return r, fmt.Errorf("registry: receive: %w", err)
	}
	return r, nil
}

// dispatch hands a frame that is not the reader's own to its call or watch.
func (c *Conn) dispatch(r wire.Reply) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch r.Kind {
	case wire.KindReply:
		cl := c.pending[r.ID]
		if cl == nil {
			return
		}
		delete(c.pending, r.ID)
		cl.status = r.Status
		cl.payload = append(cl.payload[:0], r.Payload...)
		cl.done <- struct{}{}
	case wire.KindChange, wire.KindNotifyDone:
		if w := c.watches[r.ID]; w != nil {
			c.deliverWatch(w, r)
		}
	}
}

func (c *Conn) finish(cl *call, decode func(*wire.Decoder)) error {
	var err error
	if cl.err != nil {
		err = cl.err
	} else {
		err = replyError(&cl.dec, cl.status, cl.payload, decode)
	}
	cl.err = nil
	if cap(cl.payload) > 64<<10 {
		cl.payload = nil
	}
	callPool.Put(cl)
	return err
}

// replyError turns a reply into the call's result, decoding a successful payload.
func replyError(d *wire.Decoder, status uint32, payload []byte, decode func(*wire.Decoder)) error {
	d.Reset(payload)
	defer d.Reset(nil)
	if status != wire.StatusSuccess {
		ep := d.ErrorPayload()
		if len(ep.Holders) > 0 {
			return &KeysInUseError{Key: ep.Message, Holders: fromWireHandles(ep.Holders)} // the message is the subtree's path
		}
		return Errno(status)
	}
	if decode != nil {
		decode(d)
		if err := d.End(); err != nil {
			return fmt.Errorf("registry: bad reply: %w", err)
		}
	}
	return nil
}

// fail marks the connection dead with err and completes every pending call and watch.
func (c *Conn) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
	}
	for id, cl := range c.pending {
		delete(c.pending, id)
		cl.err = c.err
		cl.done <- struct{}{}
	}
	for id, w := range c.watches {
		delete(c.watches, id)
		w.end()
	}
}

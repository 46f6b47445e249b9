package regipc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"wolfpack/internal/regipc/wire"
	"wolfpack/internal/registry"
)

// Server serves one registry on unix-socket connections.
type Server struct {
	Reg *registry.Registry
	Log *slog.Logger
	// LoadDir is where hive images sent by Load (without wire.LoadFromFile) are kept
	// while mounted; such a Load fails when it is empty. A Load with LoadFromFile mounts
	// the client's file in place instead (see LoadHiveFile).
	LoadDir string
	// Owner, when set, replaces the peer-credential lookup (for tests on platforms
	// without SO_PEERCRED).
	Owner func(*net.UnixConn) (registry.Owner, error)
	// Metrics, when set, receives the socket's counters (connections, requests and
	// failures by operation, malformed requests).
	Metrics prometheus.Registerer

	m *metrics
}

// Serve serves reg on ln until ctx ends, with the server's defaults (no directory for
// loaded hives): (&Server{Reg: reg, Log: log}).Serve(ctx, ln).
func Serve(ctx context.Context, ln *net.UnixListener, reg *registry.Registry, log *slog.Logger) error {
	return (&Server{Reg: reg, Log: log}).Serve(ctx, ln)
}

// Listen creates the socket at path with mode 0666: every local user may connect, and
// what each may do is decided key by key by the keys' security descriptors, with the
// identity the kernel gives (SO_PEERCRED). A stale socket file left by a crashed daemon
// is replaced; a socket that still answers is an error.
func Listen(path string) (*net.UnixListener, error) {
	if _, err := os.Lstat(path); err == nil {
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("regipc: %s is in use by another server", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("regipc: remove stale socket: %w", err)
		}
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("regipc: listen: %w", err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		ln.Close()
		return nil, fmt.Errorf("regipc: socket mode: %w", err)
	}
	return ln, nil
}

// Serve accepts connections on ln until ctx ends, then closes ln and every connection
// (which closes their handles) and returns nil once all have finished.
func (s *Server) Serve(ctx context.Context, ln *net.UnixListener) error {
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	s.m = newMetrics(s.Metrics)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := make(map[*net.UnixConn]struct{})
	go func() {
		<-ctx.Done()
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	var err error
	for {
		var nc *net.UnixConn
		nc, err = ln.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil {
				err = nil
				break
			}
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ECONNABORTED) {
				// Out of descriptors or a client gone before accept: wait and go on,
				// as net/http does, rather than stop serving.
				log.Warn("registry socket: accept", "err", err)
				select {
				case <-time.After(100 * time.Millisecond):
				case <-ctx.Done():
				}
				continue
			}
			break
		}
		owner, oerr := s.owner(nc)
		if oerr != nil {
			log.Warn("registry socket: refused a client without credentials", "err", oerr)
			nc.Close()
			continue
		}
		mu.Lock()
		conns[nc] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		s.m.conns.Inc()
		go func() {
			defer wg.Done()
			defer s.m.conns.Dec()
			c := newConn(s, nc, owner, log)
			c.serve(ctx)
			mu.Lock()
			delete(conns, nc)
			mu.Unlock()
		}()
	}
	cancel()
	wg.Wait()
	if err != nil {
		return fmt.Errorf("regipc: accept: %w", err)
	}
	return nil
}

func (s *Server) owner(nc *net.UnixConn) (registry.Owner, error) {
	if s.Owner != nil {
		return s.Owner(nc)
	}
	return PeerOwner(nc)
}

// conn is one client connection: one goroutine reads, runs and answers its requests in
// order; notification forwarders write pushes under wmu.
type conn struct {
	srv  *Server
	nc   *net.UnixConn
	sess *registry.Session
	log  *slog.Logger

	br  *bufio.Reader
	in  []byte // frame buffer
	out []byte // reply being built

	wmu sync.Mutex
	bw  *bufio.Writer

	nmu      sync.Mutex
	notifies map[uint32]context.CancelFunc
	nwg      sync.WaitGroup
}

func newConn(s *Server, nc *net.UnixConn, owner registry.Owner, log *slog.Logger) *conn {
	return &conn{
		srv:      s,
		nc:       nc,
		sess:     s.Reg.NewSession(owner),
		log:      log.With("pid", owner.PID, "exe", owner.Exe),
		br:       bufio.NewReaderSize(nc, 32<<10),
		bw:       bufio.NewWriterSize(nc, 32<<10),
		in:       make([]byte, 0, 4<<10),
		out:      make([]byte, 0, 4<<10),
		notifies: make(map[uint32]context.CancelFunc),
	}
}

func (c *conn) serve(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		c.nc.Close()
		c.nwg.Wait()
		if err := c.sess.Close(); err != nil {
			c.log.Warn("registry socket: close session", "err", err)
		}
	}()
	for {
		body, err := wire.ReadFrame(c.br, c.in)
		if cap(body) <= 1<<20 {
			c.in = body[:0]
		} else {
			c.in = make([]byte, 0, 4<<10) // do not pin a hive image
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				c.log.Debug("registry socket: connection ends", "err", err)
			}
			return
		}
		req, err := wire.DecodeRequest(body)
		c.out = c.out[:0]
		if err != nil {
			c.log.Debug("registry socket: malformed request", "err", err)
			c.srv.m.bad.Inc()
			var start int
			c.out, start = wire.BeginReply(c.out, wire.KindReply, req.ID, wire.StatusInvalidParameter)
			c.out = wire.EndFrame(wire.AppendError(c.out, err.Error(), nil), start)
		} else {
			c.out = c.handle(ctx, &req, c.out)
		}
		// Reply now unless more requests are already waiting: a pipelining client gets
		// its replies in one write.
		if err := c.write(c.out, c.br.Buffered() == 0); err != nil {
			return
		}
		if cap(c.out) > 1<<20 {
			c.out = make([]byte, 0, 4<<10)
		}
	}
}

func (c *conn) write(frame []byte, flush bool) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := c.bw.Write(frame); err != nil {
		return err
	}
	if flush {
		return c.bw.Flush()
	}
	return nil
}

// handle runs one request and appends its reply frame to b.
func (c *conn) handle(ctx context.Context, req *wire.Request, b []byte) []byte {
	b, start := wire.BeginReply(b, wire.KindReply, req.ID, wire.StatusSuccess)
	s := c.sess
	h := registry.Handle(req.Handle)
	var err error
	switch req.Op {
	case wire.OpPing:
		b = wire.AppendBytes(b, req.Data)
	case wire.OpOpenKey:
		var nh registry.Handle
		nh, err = s.OpenKey(h, req.Name, req.Flags, req.Access)
		b = wire.AppendU64(b, uint64(nh))
	case wire.OpCreateKey:
		var nh registry.Handle
		var created bool
		nh, created, err = s.CreateKey(h, req.Name, registry.CreateOptions{Class: req.Class, Options: req.Flags, Access: req.Access})
		b = wire.AppendU64(b, uint64(nh))
		if created {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	case wire.OpCloseKey:
		err = s.CloseKey(h)
	case wire.OpDeleteKey:
		err = s.DeleteKey(h, req.Name)
	case wire.OpDeleteTree:
		err = s.DeleteTree(h, req.Name)
	case wire.OpSetValue:
		// req.Data aliases the frame buffer, which the next request reuses.
		err = s.SetValue(h, req.Name, req.Flags, bytes.Clone(req.Data))
	case wire.OpQueryValue:
		var typ uint32
		var data []byte
		typ, data, err = s.QueryValue(h, req.Name)
		b = wire.AppendU32(b, typ)
		b = wire.AppendBytes(b, data)
	case wire.OpDeleteValue:
		err = s.DeleteValue(h, req.Name)
	case wire.OpEnumKeys:
		var names []string
		names, err = s.EnumKeys(h)
		b = wire.AppendStrings(b, names)
	case wire.OpEnumValues:
		var vals []registry.Value
		vals, err = s.EnumValues(h)
		b = wire.AppendU32(b, uint32(len(vals)))
		for _, v := range vals {
			b = wire.AppendValue(b, wire.Value(v))
		}
	case wire.OpQueryInfo:
		var ki registry.KeyInfo
		ki, err = s.QueryInfo(h)
		b = wire.AppendKeyInfo(b, wireKeyInfo(ki))
	case wire.OpNotify:
		err = c.notify(ctx, req)
	case wire.OpNotifyCancel:
		c.nmu.Lock()
		if cancel := c.notifies[req.Flags]; cancel != nil {
			cancel()
		}
		c.nmu.Unlock()
	case wire.OpFlush:
		err = s.Flush(ctx, h)
	case wire.OpHandles:
		var hs []registry.HandleInfo
		hs, err = s.Handles(h, req.Access != 0)
		b = wire.AppendU32(b, uint32(len(hs)))
		for _, hi := range hs {
			b = wire.AppendHandleInfo(b, wireHandleInfo(hi))
		}
	case wire.OpSave, wire.OpRestore, wire.OpLoad, wire.OpUnload:
		b, err = c.hiveOp(ctx, req, b)
	case wire.OpGetSecurity:
		var sd []byte
		sd, err = s.GetSecurity(h, req.Flags)
		b = wire.AppendBytes(b, sd)
	case wire.OpSetSecurity:
		err = s.SetSecurity(h, req.Flags, req.Data)
	default:
		err = errUnknownOp
	}
	c.srv.m.request(req.Op, err != nil)
	if err != nil {
		return c.errorReply(b[:start], req, err)
	}
	return wire.EndFrame(b, start)
}

var errUnknownOp = errors.New("regipc: unknown op")

// errorReply appends the failure of req to b: the Windows code of err, its message, and
// the holders when a restore was blocked by open handles.
func (c *conn) errorReply(b []byte, req *wire.Request, err error) []byte {
	status := wire.StatusGenFailure
	var errno registry.Errno
	var inUse *registry.KeysInUseError
	switch {
	case errors.Is(err, errUnknownOp):
		status = wire.StatusInvalidFunction
	case errors.As(err, &inUse):
		status = wire.StatusAccessDenied
	case errors.As(err, &errno):
		status = uint32(errno)
	default:
		c.log.Warn("registry socket: request failed without a Windows error code", "op", req.Op, "err", err)
	}
	b, start := wire.BeginReply(b, wire.KindReply, req.ID, status)
	if inUse != nil {
		holders := make([]wire.HandleInfo, len(inUse.Holders))
		for i, h := range inUse.Holders {
			holders[i] = wireHandleInfo(h)
		}
		b = wire.AppendError(b, inUse.Key, holders)
	} else {
		b = wire.AppendError(b, err.Error(), nil)
	}
	return wire.EndFrame(b, start)
}

// notify starts a subscription whose changes are pushed on the connection.
func (c *conn) notify(ctx context.Context, req *wire.Request) error {
	nctx, cancel := context.WithCancel(ctx)
	ch, err := c.sess.Notify(nctx, registry.Handle(req.Handle), req.Access != 0, req.Flags)
	if err != nil {
		cancel()
		return err
	}
	id := req.ID
	c.nmu.Lock()
	if old := c.notifies[id]; old != nil {
		old()
	}
	c.notifies[id] = cancel
	c.nmu.Unlock()
	c.nwg.Add(1)
	go func() {
		defer c.nwg.Done()
		var buf []byte
		for ch := range ch {
			var start int
			buf, start = wire.BeginReply(buf[:0], wire.KindChange, id, wire.StatusSuccess)
			buf = wire.EndFrame(wire.AppendChange(buf, wire.Change(ch)), start)
			if c.write(buf, true) != nil {
				cancel()
			}
		}
		c.nmu.Lock()
		delete(c.notifies, id)
		c.nmu.Unlock()
		cancel()
		buf, start := wire.BeginReply(buf[:0], wire.KindNotifyDone, id, wire.StatusSuccess)
		_ = c.write(wire.EndFrame(buf, start), true)
	}()
	return nil
}

func wireKeyInfo(ki registry.KeyInfo) wire.KeyInfo {
	var attrs uint32
	if ki.Volatile {
		attrs |= wire.AttrVolatile
	}
	if ki.Link {
		attrs |= wire.AttrLink
	}
	return wire.KeyInfo{
		SubKeys: uint32(ki.SubKeys), MaxSubKeyLen: uint32(ki.MaxSubKeyLen), Values: uint32(ki.Values),
		MaxValueNameLen: uint32(ki.MaxValueNameLen), MaxValueLen: uint32(ki.MaxValueLen),
		Class: ki.Class, LastWrite: ki.LastWrite, Attrs: attrs,
	}
}

func wireHandleInfo(h registry.HandleInfo) wire.HandleInfo {
	return wire.HandleInfo{ID: uint64(h.ID), PID: uint32(h.Owner.PID), UID: uint32(h.Owner.UID), Exe: h.Owner.Exe,
		OpenedAs: h.OpenedAs, Resolved: h.Resolved, Access: h.Access, Opened: h.Opened}
}

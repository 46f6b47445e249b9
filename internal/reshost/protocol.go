package reshost

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"wolfpack/internal/fencing"
)

// Message kinds. Daemon → host: hello, permit, start, bye. Host → daemon: ready,
// started, exit, fenced.
const (
	kindHello   = "hello"
	kindPermit  = "permit"
	kindStart   = "start"
	kindBye     = "bye"
	kindReady   = "ready"
	kindStarted = "started"
	kindExit    = "exit"
	kindFenced  = "fenced"
)

// maxPacket bounds one message (argv and environment of a process fit many times).
const maxPacket = 1 << 20

// Hello configures the host; the daemon sends it first (and again to a new host).
type Hello struct {
	Node string `json:"node"`
	// Kill is the budget to kill every process when fencing (fencing.Timing.Kill).
	Kill time.Duration `json:"kill"`
	// Stop is the budget to freeze every process when the permit runs out
	// (fencing.Timing.Stop); the watchdog rule counts it.
	Stop time.Duration `json:"stop"`
	// Watchdog is a watchdog device to pet ("" for none); WatchdogTimeout is set on it.
	Watchdog        string        `json:"watchdog,omitempty"`
	WatchdogTimeout time.Duration `json:"watchdogTimeout,omitempty"`
	// Etcd is how the host reaches etcd to revoke the node's lease when the daemon dies.
	Etcd EtcdAccess `json:"etcd"`
}

// EtcdAccess is the node's own access to etcd: the host holds nothing more.
type EtcdAccess struct {
	Endpoints []string `json:"endpoints"`
	CertFile  string   `json:"certFile,omitempty"` // client certificate (mutual TLS)
	KeyFile   string   `json:"keyFile,omitempty"`
	CAFile    string   `json:"caFile,omitempty"`
}

// Permit lets the host run processes of lease Lease until Until; from then on it keeps
// them frozen (SIGSTOP) until a new permit of the same lease lets them continue, or
// kills them at KillAt (fencing.Timing.Permit).
type Permit struct {
	Lease  int64           `json:"lease"`
	Until  fencing.Instant `json:"until"`
	KillAt fencing.Instant `json:"killAt"`
}

// startReq asks for one process; the log file travels as SCM_RIGHTS.
type startReq struct {
	ID    uint64   `json:"id"`
	Argv  []string `json:"argv"`
	Env   []string `json:"env"`
	Dir   string   `json:"dir,omitempty"`
	Epoch int64    `json:"epoch"`
}

type startedMsg struct {
	ID  uint64 `json:"id"`
	Pid int    `json:"pid,omitempty"`
	Err string `json:"err,omitempty"`
	// Refused: the host would not start it (no valid permit for its epoch).
	Refused bool `json:"refused,omitempty"`
}

type exitMsg struct {
	Pid    int    `json:"pid"`
	Code   int    `json:"code"`
	Signal int    `json:"signal,omitempty"`
	Cause  string `json:"cause,omitempty"`
}

// FenceReport says what a fence did: why, how long it took, and the processes that
// were still there when the kill budget ended (none, normally).
type FenceReport struct {
	Reason    string        `json:"reason"`
	Killed    int           `json:"killed"`
	Took      time.Duration `json:"took"`
	Survivors []int         `json:"survivors,omitempty"`
}

// message is one packet: Kind and the one field it uses.
type message struct {
	Kind    string       `json:"kind"`
	Hello   *Hello       `json:"hello,omitempty"`
	Permit  *Permit      `json:"permit,omitempty"`
	Start   *startReq    `json:"start,omitempty"`
	Started *startedMsg  `json:"started,omitempty"`
	Exit    *exitMsg     `json:"exit,omitempty"`
	Fenced  *FenceReport `json:"fenced,omitempty"`
}

// conn is one end of the socket pair: whole messages, writes serialized.
type conn struct {
	c   *net.UnixConn
	wmu sync.Mutex
	buf []byte // read buffer, used by the one reader
	oob []byte
}

func newConn(c *net.UnixConn) *conn {
	return &conn{c: c, buf: make([]byte, maxPacket), oob: make([]byte, syscall.CmsgSpace(4*4))}
}

// send writes m, with file's descriptor attached when file is not nil.
func (c *conn) send(m message, file *os.File) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("reshost: encode %s: %w", m.Kind, err)
	}
	if len(b) > maxPacket {
		return fmt.Errorf("reshost: %s message of %d bytes exceeds %d", m.Kind, len(b), maxPacket)
	}
	var oob []byte
	if file != nil {
		oob = syscall.UnixRights(int(file.Fd()))
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, _, err := c.c.WriteMsgUnix(b, oob, nil); err != nil {
		return fmt.Errorf("reshost: send %s: %w", m.Kind, err)
	}
	return nil
}

// errClosed is the peer's end closing (EOF on a SOCK_SEQPACKET socket reads 0 bytes).
var errClosed = errors.New("reshost: connection closed")

// recv reads one message and the descriptors that came with it (the caller closes them).
func (c *conn) recv() (message, []*os.File, error) {
	n, oobn, flags, _, err := c.c.ReadMsgUnix(c.buf, c.oob)
	if err != nil {
		return message{}, nil, fmt.Errorf("reshost: receive: %w", err)
	}
	var files []*os.File
	if oobn > 0 {
		cms, perr := syscall.ParseSocketControlMessage(c.oob[:oobn])
		if perr == nil {
			for _, cm := range cms {
				fds, _ := syscall.ParseUnixRights(&cm)
				for _, fd := range fds {
					syscall.CloseOnExec(fd)
					files = append(files, os.NewFile(uintptr(fd), "passed"))
				}
			}
		}
	}
	if n == 0 && oobn == 0 {
		return message{}, nil, errClosed
	}
	if flags&syscall.MSG_TRUNC != 0 || flags&syscall.MSG_CTRUNC != 0 {
		closeAll(files)
		return message{}, nil, errors.New("reshost: message truncated")
	}
	var m message
	if err := json.Unmarshal(c.buf[:n], &m); err != nil {
		closeAll(files)
		return message{}, nil, fmt.Errorf("reshost: decode message: %w", err)
	}
	return m, files, nil
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// socketPair returns the two ends of a SOCK_SEQPACKET pair as files (close-on-exec).
func socketPair() (*os.File, *os.File, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("reshost: socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "reshost-daemon"), os.NewFile(uintptr(fds[1]), "reshost-host"), nil
}

// fileConn wraps a socket file in a conn (the file is closed; the conn has a dup).
func fileConn(f *os.File) (*conn, error) {
	defer f.Close()
	nc, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("reshost: socket: %w", err)
	}
	uc, ok := nc.(*net.UnixConn)
	if !ok {
		nc.Close()
		return nil, fmt.Errorf("reshost: socket is %T, not a unix socket", nc)
	}
	return newConn(uc), nil
}

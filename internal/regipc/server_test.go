package regipc_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"wolfpack/internal/regipc"
	"wolfpack/internal/regipc/wire"
	"wolfpack/internal/registry"
)

func serve(t *testing.T) string {
	t.Helper()
	reg := registry.OpenMemory(registry.Options{})
	sock := filepath.Join(t.TempDir(), "reg.sock")
	ln, err := regipc.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- regipc.Serve(ctx, ln, reg, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		reg.Close()
	})
	return sock
}

type rawConn struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func rawDial(t *testing.T, sock string) *rawConn {
	nc, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (c *rawConn) send(b []byte) {
	c.t.Helper()
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

func (c *rawConn) reply() (wire.Reply, error) {
	body, err := wire.ReadFrame(c.br, nil)
	if err != nil {
		return wire.Reply{}, err
	}
	return wire.DecodeReply(body)
}

func frame(body []byte) []byte {
	return append(binary.LittleEndian.AppendUint32(nil, uint32(len(body))), body...)
}

func TestMalformedFrames(t *testing.T) {
	sock := serve(t)
	c := rawDial(t, sock)

	good := wire.AppendRequest(nil, &wire.Request{Op: wire.OpOpenKey, ID: 7, Handle: uint64(registry.HKEY_LOCAL_MACHINE), Name: "SOFTWARE", Access: registry.KEY_READ})
	bad := []struct {
		name string
		body []byte
		id   uint32
	}{
		{"unknown op", append([]byte{200}, good[5:]...), 7},
		{"truncated", good[4 : len(good)-3], 7},
		{"trailing bytes", append(append([]byte(nil), good[4:]...), 1, 2), 7},
		{"empty", nil, 0},
		{"invalid utf-8", frame0(wire.AppendRequest(nil, &wire.Request{Op: wire.OpOpenKey, ID: 9, Name: "\xff\xfe"})), 9},
	}
	for _, b := range bad {
		c.send(frame(b.body))
		r, err := c.reply()
		if err != nil {
			t.Fatalf("%s: %v", b.name, err)
		}
		if r.Kind != wire.KindReply || r.Status != wire.StatusInvalidParameter || r.ID != b.id {
			t.Errorf("%s: reply %+v, want ERROR_INVALID_PARAMETER for id %d", b.name, r, b.id)
		}
	}
	// Unknown handles and ops answer with Windows' codes; the connection lives on.
	c.send(wire.AppendRequest(nil, &wire.Request{Op: wire.OpQueryValue, ID: 11, Handle: 12345}))
	if r, err := c.reply(); err != nil || r.Status != wire.StatusInvalidHandle {
		t.Errorf("unknown handle: %+v, %v", r, err)
	}
	c.send(good)
	r, err := c.reply()
	if err != nil || r.Status != 0 || r.ID != 7 {
		t.Fatalf("valid request after garbage: %+v, %v", r, err)
	}

	// A length beyond MaxFrame cannot be skipped: the connection is closed, the server
	// and other connections go on.
	other := rawDial(t, sock)
	c.send(binary.LittleEndian.AppendUint32(nil, wire.MaxFrame+1))
	if _, err := c.reply(); !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("oversized frame: %v, want the connection closed", err)
	}
	other.send(wire.AppendRequest(nil, &wire.Request{Op: wire.OpPing, ID: 1, Data: []byte("still here")}))
	r, err = other.reply()
	if err != nil || r.Status != 0 {
		t.Fatalf("other connection after a bad one: %+v, %v", r, err)
	}
	if d := wire.NewDecoder(r.Payload); string(d.Bytes()) != "still here" {
		t.Errorf("ping payload %q", r.Payload)
	}
}

func frame0(f []byte) []byte { return f[4:] }

func TestPipelinedRepliesInOrder(t *testing.T) {
	sock := serve(t)
	c := rawDial(t, sock)
	var batch []byte
	for id := uint32(1); id <= 100; id++ {
		batch = wire.AppendRequest(batch, &wire.Request{Op: wire.OpPing, ID: id, Data: []byte{byte(id)}})
	}
	c.send(batch)
	for id := uint32(1); id <= 100; id++ {
		r, err := c.reply()
		if err != nil || r.ID != id {
			t.Fatalf("reply %d: %+v, %v", id, r, err)
		}
	}
}

func TestListenReplacesStaleSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "reg.sock")
	if err := os.WriteFile(sock, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := regipc.Listen(sock)
	if err != nil {
		t.Fatalf("stale file: %v", err)
	}
	defer ln.Close()
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o666 {
		t.Errorf("socket mode %v, %v", fi.Mode(), err)
	}
	if _, err := regipc.Listen(sock); err == nil {
		t.Error("a live socket was taken over")
	}
}

func TestPeerOwner(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "p.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := net.Dial("unix", sock)
		if err == nil {
			time.Sleep(100 * time.Millisecond)
			c.Close()
		}
	}()
	nc, err := ln.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	o, err := regipc.PeerOwner(nc)
	if err != nil {
		t.Fatal(err)
	}
	comm, _ := os.ReadFile("/proc/self/comm")
	if o.PID != os.Getpid() || o.UID != os.Getuid() || o.Exe+"\n" != string(comm) {
		t.Errorf("owner %+v, want pid %d uid %d exe %q", o, os.Getpid(), os.Getuid(), comm)
	}
	groups, _ := os.Getgroups()
	want := map[int]bool{os.Getgid(): true}
	for _, g := range groups {
		want[g] = true
	}
	got := map[int]bool{}
	for _, g := range o.GIDs {
		got[g] = true
	}
	if len(o.GIDs) == 0 || o.GIDs[0] != os.Getgid() || !maps.Equal(got, want) {
		t.Errorf("groups %v, want the primary %d first and %v", o.GIDs, os.Getgid(), groups)
	}
}

func TestMetrics(t *testing.T) {
	reg := registry.OpenMemory(registry.Options{})
	defer reg.Close()
	sock := filepath.Join(t.TempDir(), "reg.sock")
	ln, err := regipc.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	pr := prometheus.NewRegistry()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&regipc.Server{Reg: reg, Metrics: pr}).Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()

	c := rawDial(t, sock)
	c.send(wire.AppendRequest(nil, &wire.Request{Op: wire.OpPing, ID: 1}))
	c.send(wire.AppendRequest(nil, &wire.Request{Op: wire.OpQueryValue, ID: 2, Handle: 999}))
	c.send(frame([]byte{99}))
	for range 3 {
		if _, err := c.reply(); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]float64{}
	mfs, err := pr.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "/" + l.GetValue()
			}
			switch {
			case m.Counter != nil:
				got[name] = m.Counter.GetValue()
			case m.Gauge != nil:
				got[name] = m.Gauge.GetValue()
			}
		}
	}
	want := map[string]float64{
		"wolfpack_registry_socket_connections":               1,
		"wolfpack_registry_socket_requests_total/Ping":       1,
		"wolfpack_registry_socket_requests_total/QueryValue": 1,
		"wolfpack_registry_socket_failures_total/QueryValue": 1,
		"wolfpack_registry_socket_failures_total/Ping":       0,
		"wolfpack_registry_socket_malformed_requests_total":  1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

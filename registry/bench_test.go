package registry_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

	"wolfpack/internal/regipc"
	"wolfpack/internal/regipc/wire"
	engine "wolfpack/internal/registry"
	"wolfpack/registry"
)

// The IPC benchmarks run over a real unix socket against an in-process server, with one
// client and with 32 clients (32 connections, as 32 processes would have). BenchmarkIPCEcho
// is the peer: a bare Go unix-socket echo of frames of the size of a GetValue round trip,
// so the protocol's overhead shows as the ratio of the two.

var clientCounts = []int{1, 32}

// runClients runs f for b.N operations spread over n clients, each with its own state
// from setup (run on the client's goroutine before the timer matters).
func runClients[T any](b *testing.B, n int, setup func() T, f func(T)) {
	b.Helper()
	if n == 1 {
		st := setup()
		b.ResetTimer()
		for b.Loop() {
			f(st)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		return
	}
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((n + procs - 1) / procs)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		st := setup()
		for pb.Next() {
			f(st)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func benchKey(b *testing.B, sock string) {
	c, err := registry.Dial(context.Background(), sock)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	k, _, err := registry.CreateKey(c.LocalMachine(), `SOFTWARE\Bench`, registry.ALL_ACCESS)
	if err != nil {
		b.Fatal(err)
	}
	if err := k.SetQWordValue("Value", 42); err != nil {
		b.Fatal(err)
	}
	k.Close()
}

func openBench(b *testing.B, sock string) registry.Key {
	c, err := registry.Dial(context.Background(), sock)
	if err != nil {
		b.Error(err)
		return registry.Key{}
	}
	b.Cleanup(func() { c.Close() })
	k, err := registry.OpenKey(c.LocalMachine(), `SOFTWARE\Bench`, registry.ALL_ACCESS)
	if err != nil {
		b.Error(err)
	}
	return k
}

func BenchmarkIPCGetValue(b *testing.B) {
	for _, n := range clientCounts {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			sock, _ := startServer(b)
			benchKey(b, sock)
			runClients(b, n, func() registry.Key { return openBench(b, sock) }, func(k registry.Key) {
				if _, _, err := k.GetIntegerValue("Value"); err != nil {
					b.Error(err)
				}
			})
		})
	}
}

func BenchmarkIPCSetValue(b *testing.B) {
	for _, n := range clientCounts {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			sock, _ := startServer(b)
			benchKey(b, sock)
			var i atomic.Uint64
			runClients(b, n, func() registry.Key { return openBench(b, sock) }, func(k registry.Key) {
				if err := k.SetQWordValue("Value", i.Add(1)); err != nil {
					b.Error(err)
				}
			})
		})
	}
}

func BenchmarkIPCOpenClose(b *testing.B) {
	for _, n := range clientCounts {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			sock, _ := startServer(b)
			benchKey(b, sock)
			runClients(b, n, func() registry.Key { return openBench(b, sock) }, func(k registry.Key) {
				sub, err := registry.OpenKey(k.Conn().LocalMachine(), `SOFTWARE\Bench`, registry.QUERY_VALUE)
				if err != nil {
					b.Error(err)
					return
				}
				if err := sub.Close(); err != nil {
					b.Error(err)
				}
			})
		})
	}
}

// BenchmarkIPCFlushedSetValue is SetValue followed by Flush (RegFlushKey) on a registry
// persisted on disk: each operation is durable when it returns. Concurrent clients share
// the engine's group commit.
func BenchmarkIPCFlushedSetValue(b *testing.B) {
	for _, n := range clientCounts {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			reg, err := engine.Open(context.Background(), filepath.Join(dir, "registry"), engine.Options{})
			if err != nil {
				b.Fatal(err)
			}
			sock := filepath.Join(dir, registry.SocketFile)
			ln, err := regipc.Listen(sock)
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); (&regipc.Server{Reg: reg}).Serve(ctx, ln) }()
			defer func() { cancel(); <-done; reg.Close() }()
			benchKey(b, sock)
			var i atomic.Uint64
			runClients(b, n, func() registry.Key { return openBench(b, sock) }, func(k registry.Key) {
				if err := k.SetQWordValue("Value", i.Add(1)); err != nil {
					b.Error(err)
				}
				if err := k.Flush(); err != nil {
					b.Error(err)
				}
			})
		})
	}
}

// BenchmarkIPCEcho is the peer: a Go unix-socket server that reads length-prefixed
// frames the size of a GetValue request and answers each with a frame the size of its
// reply, one goroutine per connection, bufio on both sides — the floor under any protocol
// on this socket.
func BenchmarkIPCEcho(b *testing.B) {
	reqSize := len(wire.AppendRequest(nil, &wire.Request{Op: wire.OpQueryValue, ID: 1, Handle: 1, Name: "Value"}))
	replySize := 4 + 9 + 4 + 4 + 8 // header, type, data length, QWORD
	for _, n := range clientCounts {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			sock := filepath.Join(b.TempDir(), "echo.sock")
			ln, err := net.Listen("unix", sock)
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go echo(c, replySize)
				}
			}()
			type client struct {
				c        net.Conn
				br       *bufio.Reader
				req, buf []byte
			}
			runClients(b, n, func() *client {
				c, err := net.Dial("unix", sock)
				if err != nil {
					b.Error(err)
					return nil
				}
				b.Cleanup(func() { c.Close() })
				req := make([]byte, reqSize)
				binary.LittleEndian.PutUint32(req, uint32(reqSize-4))
				return &client{c: c, br: bufio.NewReader(c), req: req, buf: make([]byte, replySize)}
			}, func(cl *client) {
				if _, err := cl.c.Write(cl.req); err != nil {
					b.Error(err)
					return
				}
				if _, err := io.ReadFull(cl.br, cl.buf); err != nil {
					b.Error(err)
				}
			})
		})
	}
}

func echo(c net.Conn, replySize int) {
	defer c.Close()
	br := bufio.NewReader(c)
	buf := make([]byte, 64<<10)
	reply := make([]byte, replySize)
	binary.LittleEndian.PutUint32(reply, uint32(replySize-4))
	for {
		var hdr [4]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return
		}
		n := binary.LittleEndian.Uint32(hdr[:])
		if _, err := io.ReadFull(br, buf[:n]); err != nil {
			return
		}
		if _, err := c.Write(reply); err != nil {
			return
		}
	}
}

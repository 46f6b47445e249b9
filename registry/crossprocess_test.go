package registry_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"wolfpack/internal/regipc"
	"wolfpack/internal/regipc/wire"
	engine "wolfpack/internal/registry"
	"wolfpack/registry"
)

// serverChildEnv makes the test binary a server process ("registry:SOCKET" serves an
// in-memory registry, "echo:SOCKET" the bare echo) for the cross-process benchmarks.
const serverChildEnv = "WOLFPACK_BENCH_SERVER"

func TestMain(m *testing.M) {
	if spec := os.Getenv(serverChildEnv); spec != "" {
		os.Exit(serverChild(spec))
	}
	if sock := os.Getenv(aclChildEnv); sock != "" {
		os.Exit(aclChild(sock))
	}
	os.Exit(m.Run())
}

func serverChild(spec string) int {
	mode, sock, _ := strings.Cut(spec, ":")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	switch mode {
	case "registry":
		reg := engine.OpenMemory(engine.Options{})
		defer reg.Close()
		ln, err := regipc.Listen(sock)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := (&regipc.Server{Reg: reg}).Serve(ctx, ln); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	case "echo":
		ln, err := net.Listen("unix", sock)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		go func() { <-ctx.Done(); ln.Close() }()
		for {
			c, err := ln.Accept()
			if err != nil {
				return 0
			}
			go echo(c, echoReplySize)
		}
	}
	return 0
}

// startChildServer runs a server process and waits for its socket.
func startChildServer(b *testing.B, mode string) string {
	b.Helper()
	sock := filepath.Join(b.TempDir(), mode+".sock")
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), serverChildEnv+"="+mode+":"+sock)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
			return sock
		}
		if time.Now().After(deadline) {
			b.Fatalf("server process did not start: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

const echoReplySize = 4 + 9 + 4 + 4 + 8 // a GetValue reply of a QWORD

// BenchmarkIPCCrossProcess is the one-client benchmarks with the server in another
// process, as wolfpackd is: the round trip then includes waking another process.
func BenchmarkIPCCrossProcess(b *testing.B) {
	b.Run("Echo", func(b *testing.B) {
		sock := startChildServer(b, "echo")
		c, err := net.Dial("unix", sock)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		br := bufio.NewReader(c)
		reqSize := len(wire.AppendRequest(nil, &wire.Request{Op: wire.OpQueryValue, ID: 1, Handle: 1, Name: "Value"}))
		req := make([]byte, reqSize)
		binary.LittleEndian.PutUint32(req, uint32(reqSize-4))
		buf := make([]byte, echoReplySize)
		for b.Loop() {
			if _, err := c.Write(req); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(br, buf); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	})
	calls := []struct {
		name string
		f    func(registry.Key) error
	}{
		{"GetValue", func(k registry.Key) error { _, _, err := k.GetIntegerValue("Value"); return err }},
		{"SetValue", func(k registry.Key) error { return k.SetQWordValue("Value", 7) }},
		{"OpenClose", func(k registry.Key) error {
			sub, err := registry.OpenKey(k.Conn().LocalMachine(), `SOFTWARE\Bench`, registry.QUERY_VALUE)
			if err != nil {
				return err
			}
			return sub.Close()
		}},
	}
	for _, call := range calls {
		b.Run(call.name, func(b *testing.B) {
			sock := startChildServer(b, "registry")
			benchKey(b, sock)
			k := openBench(b, sock)
			for b.Loop() {
				if err := call.f(k); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

package registry_test

import (
	"context"
	"path/filepath"
	"testing"

	"wolfpack/internal/regipc"
	engine "wolfpack/internal/registry"
	"wolfpack/registry"
)

// startServer serves a fresh in-memory registry on a socket in a temporary directory and
// returns the socket's path; the server stops when the test ends.
func startServer(tb testing.TB) (string, *engine.Registry) {
	tb.Helper()
	reg := engine.OpenMemory(engine.Options{})
	dir := tb.TempDir()
	sock := filepath.Join(dir, registry.SocketFile)
	ln, err := regipc.Listen(sock)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	srv := &regipc.Server{Reg: reg, LoadDir: filepath.Join(dir, "loaded")}
	go func() { done <- srv.Serve(ctx, ln) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("Serve: %v", err)
		}
		reg.Close()
	})
	return sock, reg
}

func dial(tb testing.TB, sock string) *registry.Conn {
	tb.Helper()
	c, err := registry.Dial(context.Background(), sock)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

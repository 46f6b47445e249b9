package registry_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"testing"

	"wolfpack/internal/regipc"
	engine "wolfpack/internal/registry"
	"wolfpack/registry"
)

// BenchmarkIPCAccessChecks is what the keys' access checks cost over the socket, for an
// unprivileged client (uid 65534, in Users: every check walks the key's DACL, with no
// privilege to shortcut it). Each case runs with the checks on and, as the peer in the
// same run, off (engine.Options.NoAccessChecks: every session may do everything, as
// before keys had descriptors):
//
//   - GetValue: RegQueryValueEx on a handle opened once — the call checks the access the
//     handle was granted, as Windows does;
//   - OpenGetClose: RegOpenKeyEx (the access check against the key's descriptor), a
//     value read and RegCloseKey — three round trips, one check.
func BenchmarkIPCAccessChecks(b *testing.B) {
	for _, op := range []string{"GetValue", "OpenGetClose"} {
		for _, checks := range []string{"on", "off"} {
			for _, n := range clientCounts {
				b.Run(fmt.Sprintf("op=%s/checks=%s/clients=%d", op, checks, n), func(b *testing.B) {
					sock := startUserServer(b, engine.Options{NoAccessChecks: checks == "off"})
					open := func() registry.Key {
						c, err := registry.Dial(context.Background(), sock)
						if err != nil {
							b.Error(err)
							return registry.Key{}
						}
						b.Cleanup(func() { c.Close() })
						k, err := registry.OpenKey(c.LocalMachine(), `SOFTWARE\Bench`, registry.QUERY_VALUE)
						if err != nil {
							b.Error(err)
						}
						return k
					}
					get := func(k registry.Key) {
						if _, _, err := k.GetIntegerValue("Value"); err != nil {
							b.Error(err)
						}
					}
					if op == "GetValue" {
						runClients(b, n, open, get)
						return
					}
					runClients(b, n, open, func(k registry.Key) {
						sub, err := registry.OpenKey(k.Conn().LocalMachine(), `SOFTWARE\Bench`, registry.QUERY_VALUE)
						if err != nil {
							b.Error(err)
							return
						}
						get(sub)
						if err := sub.Close(); err != nil {
							b.Error(err)
						}
					})
				})
			}
		}
	}
}

// startUserServer serves an in-memory registry holding HKLM\SOFTWARE\Bench (created by
// root, so with the descriptor SOFTWARE passes on: Users read) to clients it takes for
// uid 65534, whoever they are.
func startUserServer(b *testing.B, opts engine.Options) string {
	b.Helper()
	reg := engine.OpenMemory(opts)
	s := reg.NewSession(engine.Owner{Exe: "setup"})
	h, _, err := s.CreatePath(`HKLM\SOFTWARE\Bench`, engine.CreateOptions{})
	if err == nil {
		err = s.SetValue(h, "Value", registry.QWORD, []byte{42, 0, 0, 0, 0, 0, 0, 0})
	}
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	dir := b.TempDir()
	sock := filepath.Join(dir, registry.SocketFile)
	ln, err := regipc.Listen(sock)
	if err != nil {
		b.Fatal(err)
	}
	user := func(*net.UnixConn) (engine.Owner, error) {
		return engine.Owner{PID: 1, UID: 65534, GIDs: []int{65534}, Exe: "bench"}, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&regipc.Server{Reg: reg, Owner: user}).Serve(ctx, ln) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("Serve: %v", err)
		}
		reg.Close()
	})
	return sock
}

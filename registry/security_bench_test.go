package registry_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"wolfpack/internal/regipc"
	engine "wolfpack/internal/registry"
	"wolfpack/registry"
)

// BenchmarkIPCAccessChecks is what the keys' access checks cost over the socket, for an
// unprivileged client (uid 65534, in Users: every check walks the key's DACL, with no
// privilege to shortcut it):
//
//   - GetValue: RegQueryValueEx on a handle opened once — the call checks the access the
//     handle was granted, as Windows does;
//   - OpenGetClose: RegOpenKeyEx (the access check against the key's descriptor), a
//     value read and RegCloseKey — three round trips, one check.
//
// The peer runs in the same benchmark, interleaved: two servers, one with the checks and
// one without (engine.Options.NoAccessChecks: every session may do everything, as
// before keys had descriptors), and each client alternates between them every 64
// operations, so that both see the same load from the rest of the machine. ns/op-on and
// ns/op-off are the mean time of one operation against each; overhead-% is the checks'
// cost relative to the peer (negative: within the noise).
func BenchmarkIPCAccessChecks(b *testing.B) {
	for _, op := range []string{"GetValue", "OpenGetClose"} {
		for _, n := range clientCounts {
			b.Run(fmt.Sprintf("op=%s/clients=%d", op, n), func(b *testing.B) {
				socks := [2]string{
					startUserServer(b, engine.Options{}),
					startUserServer(b, engine.Options{NoAccessChecks: true}),
				}
				open := func(sock string) registry.Key {
					c, err := registry.Dial(context.Background(), sock)
					if err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() { c.Close() })
					k, err := registry.OpenKey(c.LocalMachine(), `SOFTWARE\Bench`, registry.QUERY_VALUE)
					if err != nil {
						b.Fatal(err)
					}
					return k
				}
				do := func(k registry.Key) {
					if op == "OpenGetClose" {
						sub, err := registry.OpenKey(k.Conn().LocalMachine(), `SOFTWARE\Bench`, registry.QUERY_VALUE)
						if err != nil {
							b.Error(err)
							return
						}
						defer sub.Close()
						k = sub
					}
					if _, _, err := k.GetIntegerValue("Value"); err != nil {
						b.Error(err)
					}
				}
				var spent, count [2]atomic.Int64
				clients := make([][2]registry.Key, n)
				for i := range clients {
					clients[i] = [2]registry.Key{open(socks[0]), open(socks[1])}
				}
				var next atomic.Int64
				var wg sync.WaitGroup
				b.ResetTimer()
				for i := range clients {
					wg.Go(func() {
						keys := clients[i]
						var t [2]time.Duration
						var c [2]int64
						for j := 0; ; j++ {
							if next.Add(1) > int64(b.N) {
								break
							}
							side := (j / 64) % 2
							start := time.Now()
							do(keys[side])
							t[side] += time.Since(start)
							c[side]++
						}
						for s := range 2 {
							spent[s].Add(int64(t[s]))
							count[s].Add(c[s])
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				var mean [2]float64
				for s := range 2 {
					if count[s].Load() > 0 {
						mean[s] = float64(spent[s].Load()) / float64(count[s].Load())
					}
				}
				b.ReportMetric(mean[0], "ns/op-on")
				b.ReportMetric(mean[1], "ns/op-off")
				if mean[1] > 0 {
					b.ReportMetric(100*(mean[0]-mean[1])/mean[1], "overhead-%")
				}
			})
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

package regipc_test

import (
	"bufio"
	"context"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"wolfpack/internal/regipc"
	"wolfpack/internal/regipc/wire"
	"wolfpack/internal/registry"
	"wolfpack/internal/secdesc"
)

// FuzzServe sends arbitrary bytes to a live server — well-formed requests with arbitrary
// ops, handles, names and data among them — and checks that the server answers a fresh
// connection afterwards: nothing a client sends may stop it.
func FuzzServe(f *testing.F) {
	hklm := uint64(registry.HKEY_LOCAL_MACHINE)
	seed := func(reqs ...wire.Request) []byte {
		var b []byte
		for i := range reqs {
			b = wire.AppendRequest(b, &reqs[i])
		}
		return b
	}
	f.Add(seed(wire.Request{Op: wire.OpCreateKey, ID: 1, Handle: hklm, Name: `SOFTWARE\F`},
		wire.Request{Op: wire.OpSetValue, ID: 2, Handle: 1, Name: "v", Flags: 4, Data: []byte{1, 2, 3, 4}}))
	f.Add(seed(wire.Request{Op: wire.OpRestore, ID: 1, Handle: hklm, Data: []byte("regf")}))
	f.Add(seed(wire.Request{Op: wire.OpNotify, ID: 1, Handle: hklm, Flags: 0xf, Access: 1},
		wire.Request{Op: wire.OpDeleteTree, ID: 2, Handle: hklm, Name: "SOFTWARE"}))
	f.Add(seed(wire.Request{Op: wire.OpLoad, ID: 1, Handle: hklm, Name: "..", Data: []byte("x")}))
	sd, err := secdesc.ParseSDDL("O:BAD:PAI(A;CI;KA;;;BA)(A;CI;KR;;;S-1-22-1-1000)")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed(wire.Request{Op: wire.OpCreateKey, ID: 1, Handle: hklm, Name: `SOFTWARE\S`},
		wire.Request{Op: wire.OpSetSecurity, ID: 2, Handle: 0x104, Flags: 5, Data: sd.Bytes()},
		wire.Request{Op: wire.OpGetSecurity, ID: 3, Handle: 0x104, Flags: 7}))
	f.Add(seed(wire.Request{Op: wire.OpSetSecurity, ID: 1, Handle: hklm, Flags: 4, Data: sd.Bytes()[:24]}))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{5, 0, 0, 0, 2, 1})

	reg := registry.OpenMemory(registry.Options{})
	dir := f.TempDir()
	sock := filepath.Join(dir, "reg.sock")
	ln, err := regipc.Listen(sock)
	if err != nil {
		f.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		(&regipc.Server{Reg: reg, LoadDir: filepath.Join(dir, "loaded")}).Serve(ctx, ln)
	}()
	f.Cleanup(func() { cancel(); wg.Wait(); reg.Close() })

	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		// Write while reading what comes back (the server stops reading while its replies
		// are not read), until the server has nothing more to say.
		c.SetWriteDeadline(time.Now().Add(2 * time.Second))
		go c.Write(in)
		br := bufio.NewReader(c)
		for {
			c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			if _, err := wire.ReadFrame(br, nil); err != nil {
				break
			}
		}
		c.Close()

		// A fresh connection is served.
		p, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatalf("server gone: %v", err)
		}
		defer p.Close()
		p.SetDeadline(time.Now().Add(5 * time.Second))
		p.Write(wire.AppendRequest(nil, &wire.Request{Op: wire.OpPing, ID: 1}))
		body, err := wire.ReadFrame(bufio.NewReader(p), nil)
		if err != nil {
			t.Fatalf("no answer after fuzz input: %v", err)
		}
		if r, err := wire.DecodeReply(body); err != nil || r.Status != 0 {
			t.Fatalf("ping after fuzz input: %+v, %v", r, err)
		}
	})
}

package resmon

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkOnlineOffline measures one Online and one Offline of a Test resource through
// the Monitor: the state machine's own overhead per pair of transitions (four events).
func BenchmarkOnlineOffline(b *testing.B) {
	m, err := NewMonitor(Options{Logger: quietLogger(), OnEvent: func(Event) {}})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close(context.Background())
	p := DefaultPolicy()
	if err := m.Add(Spec{Name: "R", Type: TypeTest, Policy: p}); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		if err := m.Online(ctx, "R"); err != nil {
			b.Fatal(err)
		}
		if err := m.Offline(ctx, "R"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStartProcess compares starting and reaping /bin/true through the Monitor's
// locked-thread spawner (own process group, parent-death signal) with a plain
// exec.Cmd.Run from the calling goroutine.
func BenchmarkStartProcess(b *testing.B) {
	b.Run("spawner", func(b *testing.B) {
		sp := newSpawner()
		defer sp.close()
		ctx := context.Background()
		for b.Loop() {
			cmd := exec.Command("/bin/true")
			if err := sp.start(ctx, cmd); err != nil {
				b.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("exec.Cmd.Run", func(b *testing.B) {
		for b.Loop() {
			if err := exec.Command("/bin/true").Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCheck measures one LooksAlive of each process-backed type: a Generic
// Application (no process started: a channel and /proc read), the OCF Dummy agent's
// monitor (a shell sourcing ocf-shellfuncs), and a Generic Script that only exits 0.
func BenchmarkCheck(b *testing.B) {
	m, err := NewMonitor(Options{Logger: quietLogger(), LogDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	seq := 0
	add := func(b *testing.B, s Spec) Resource {
		seq++
		s.Name = fmt.Sprint(s.Name, seq) // sub-benchmarks run more than once
		s.Policy = DefaultPolicy()
		if err := m.Add(s); err != nil {
			b.Fatal(err)
		}
		if err := m.Online(ctx, s.Name); err != nil {
			b.Fatal(err)
		}
		r, _ := m.Resource(s.Name)
		return r
	}
	b.Run("GenericApplication", func(b *testing.B) {
		r := add(b, Spec{Name: "app", Type: TypeGenericApplication, Private: map[string]string{"CommandLine": "sleep 1000"}})
		for b.Loop() {
			if !r.IsAlive(ctx) {
				b.Fatal("not alive")
			}
		}
	})
	b.Run("GenericScript", func(b *testing.B) {
		script := filepath.Join(b.TempDir(), "s")
		writeFile(b, script, "#!/bin/sh\nexit 0\n")
		r := add(b, Spec{Name: "script", Type: TypeGenericScript, Private: map[string]string{"ScriptFilePath": script}})
		for b.Loop() {
			if !r.LooksAlive(ctx) {
				b.Fatal("not alive")
			}
		}
	})
	b.Run("OCFDummy", func(b *testing.B) {
		r := add(b, Spec{Name: "dummy", Type: "ocf:heartbeat:Dummy", Private: map[string]string{"state": filepath.Join(b.TempDir(), "st")}})
		for b.Loop() {
			if !r.LooksAlive(ctx) {
				b.Fatal("not alive")
			}
		}
	})
}

package checkpoint

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"wolfpack/internal/clusterdb"
	"wolfpack/internal/hive"
	"wolfpack/internal/pki"
	"wolfpack/internal/registry"
)

const crashKey = `SOFTWARE\Crash`

// TestKillOwnerMidCapture kills the owner with SIGKILL while it captures a checkpoint
// of several chunks, then checks, as the node that takes the group over, that the newest
// version is whole (its hash matches and every byte of its one value comes from the same
// write), that it is no older than the last version the owner saw committed, and that
// it restores and can be superseded. 3 cycles; 20 with WOLFPACK_LONG=1.
func TestKillOwnerMidCapture(t *testing.T) {
	cycles := 3
	if os.Getenv("WOLFPACK_LONG") == "1" {
		cycles = 20
	}
	cli, tlsDir := startEtcdDir(t)
	store := clusterdb.NewCheckpointStore(cli)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	interrupted := 0
	for c := range cycles {
		owner := takeOwnership(t, cli, "G", fmt.Sprintf("owner%d", c))
		acked := runAndKillOwner(t, cli, tlsDir, owner, rng)
		mid := partialChunks(t, cli, store)
		if mid {
			interrupted++
		}

		survivor := takeOwnership(t, cli, "G", fmt.Sprintf("survivor%d", c))
		v, data, err := store.Latest(ctx, "R", crashKey)
		if err != nil {
			t.Fatalf("cycle %d: the survivor cannot read the checkpoint: %v", c, err)
		}
		if v.Number < acked {
			t.Fatalf("cycle %d: newest version %d is older than version %d the owner saw committed", c, v.Number, acked)
		}
		fill, err := uniformValue(data)
		if err != nil {
			t.Fatalf("cycle %d: version %d is not whole: %v", c, v.Number, err)
		}
		// The survivor restores it and commits over it; the dead owner's fence is refused.
		n := newBenchNode(t, "survivor", store)
		res := Resource{Name: "R", Group: "G", Keys: []string{crashKey}}
		if err := n.m.BeforeOnline(ctx, res, survivor); err != nil {
			t.Fatalf("cycle %d: restore: %v", c, err)
		}
		got, err := n.m.cfg.Registry.Save(ctx, crashKey)
		if err != nil {
			t.Fatal(err)
		}
		if b, err := uniformValue(got); err != nil || b != fill {
			t.Fatalf("cycle %d: restored value %v, %v; want all 0x%02x", c, b, err, fill)
		}
		if _, err := store.Put(ctx, survivor, "R", crashKey, got, clusterdb.CheckpointVersion{Node: "survivor"}, 3); err != nil {
			t.Fatalf("cycle %d: the survivor cannot commit: %v", c, err)
		}
		if _, err := store.Put(ctx, owner, "R", crashKey, got, clusterdb.CheckpointVersion{}, 3); err == nil {
			t.Fatalf("cycle %d: the dead owner's fence still holds", c)
		}
		t.Logf("cycle %d: owner acked version %d; survivor found version %d (value 0x%02x); killed mid-capture: %v", c, acked, v.Number, fill, mid)
	}
	t.Logf("%d of %d kills interrupted a capture (chunks written, not switched in)", interrupted, cycles)
	if cycles >= 20 && interrupted == 0 {
		t.Fatal("no kill landed in the middle of a capture: the test did not test what it says")
	}
	// Nothing but the kept versions (and their meta) remains: the dead owners' partial
	// chunks were cleared by the later commits.
	m, _, err := store.Meta(ctx, "R", crashKey)
	if err != nil {
		t.Fatal(err)
	}
	want := 1
	for _, v := range m.Versions {
		want += v.Chunks
	}
	resp, err := cli.Get(ctx, clusterdb.CheckpointResourcePrefix("R"), clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil || resp.Count != int64(want) {
		t.Fatalf("%d keys under the resource, want %d (%v)", resp.Count, want, err)
	}
}

// partialChunks reports whether chunks of a version that was never switched in are in
// etcd: the owner died in the middle of a capture.
func partialChunks(t *testing.T, cli *clientv3.Client, store *clusterdb.CheckpointStore) bool {
	t.Helper()
	ctx := context.Background()
	m, _, err := store.Meta(ctx, "R", crashKey)
	if err != nil {
		t.Fatal(err)
	}
	committed := 0
	gens := map[int64]bool{}
	for _, v := range m.Versions {
		if !gens[v.Gen] {
			gens[v.Gen] = true
			committed += v.Chunks
		}
	}
	resp, err := cli.Get(ctx, clusterdb.CheckpointResourcePrefix("R"), clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	return resp.Count > int64(committed+1)
}

// runAndKillOwner runs an owner process that keeps rewriting a 6 MiB value and
// capturing it, lets it commit a few versions, kills it with SIGKILL at a random moment
// and returns the newest version it reported committed.
func runAndKillOwner(t *testing.T, cli *clientv3.Client, tlsDir string, f Fence, rng *rand.Rand) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashOwnerProcess$", "-test.v")
	cmd.Env = append(os.Environ(), "WOLFPACK_CRASH_OWNER="+strings.Join([]string{
		cli.Endpoints()[0], f.Node, f.Group, strconv.FormatInt(f.Revision, 10), tlsDir}, ","))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	want := 2 + rng.IntN(3)
	acked, seen := 0, 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
			acked, _ = strconv.Atoi(n)
			if seen++; seen == want {
				break
			}
		}
	}
	if seen < want {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the owner process ended before committing %d versions:\n%s", want, stderr.String())
	}
	// Captures follow each other every ~100 ms and take tens of ms: a kill at a random
	// moment within 120 ms often lands in the middle of one.
	time.Sleep(time.Duration(rng.IntN(120)) * time.Millisecond)
	// Lines written before the kill may still be in the pipe.
	cmd.Process.Signal(syscall.SIGKILL)
	for sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
			acked, _ = strconv.Atoi(n)
		}
	}
	cmd.Wait()
	return acked
}

// uniformValue checks that a saved hive holds one key with one value whose bytes are
// all the same, and returns that byte.
func uniformValue(data []byte) (byte, error) {
	hv, err := hive.Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return 0, err
	}
	if len(hv.Root.Values) != 1 {
		return 0, fmt.Errorf("%d values", len(hv.Root.Values))
	}
	d := hv.Root.Values[0].Data
	if len(d) != crashValueSize {
		return 0, fmt.Errorf("value of %d bytes", len(d))
	}
	for i, b := range d {
		if b != d[0] {
			return 0, fmt.Errorf("byte %d is 0x%02x, byte 0 is 0x%02x: two writes mixed", i, b, d[0])
		}
	}
	return d[0], nil
}

const crashValueSize = 6 << 20

// TestCrashOwnerProcess is the owner process of TestKillOwnerMidCapture (it does nothing
// unless WOLFPACK_CRASH_OWNER is set): it writes a 6 MiB value of one repeated byte, a
// new byte every 30 ms, while the Manager captures it, and prints "committed N" for each
// committed version, until it is killed.
func TestCrashOwnerProcess(t *testing.T) {
	spec := os.Getenv("WOLFPACK_CRASH_OWNER")
	if spec == "" {
		return
	}
	parts := strings.Split(spec, ",")
	rev, _ := strconv.ParseInt(parts[3], 10, 64)
	f := Fence{Node: parts[1], Group: parts[2], Revision: rev}
	tlsCfg, err := clusterdb.ClientTLSInfo(pki.PathsIn(parts[4])).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{parts[0]}, TLS: tlsCfg, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.OpenMemory(registry.Options{})
	s := reg.NewSession(registry.Owner{PID: os.Getpid(), Exe: "wolfpackd"})
	prog := reg.NewSession(registry.Owner{PID: os.Getpid(), Exe: "program"})
	m := New(Config{Node: f.Node, Registry: NewSessionRegistry(s), Store: clusterdb.NewCheckpointStore(cli),
		Committed: func(_, _ string, v clusterdb.CheckpointVersion) { fmt.Printf("committed %d\n", v.Number) }})
	h, _, err := prog.CreatePath(`HKLM\`+crashKey, registry.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	val := make([]byte, crashValueSize)
	for g := 1; ; g++ {
		for i := range val {
			val[i] = byte(g)
		}
		if err := prog.SetValue(h, "Data", registry.REG_BINARY, val); err != nil {
			t.Fatal(err)
		}
		if g == 1 {
			m.Online(context.Background(), Resource{Name: "R", Group: f.Group, Keys: []string{crashKey}}, f)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

package checkpoint

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"wolfpack/internal/clusterdb"
)

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestStorePutLatestHistory(t *testing.T) {
	cli := startEtcd(t)
	s := clusterdb.NewCheckpointStore(cli)
	f := takeOwnership(t, cli, "G", "N1")
	ctx := context.Background()
	if _, _, err := s.Latest(ctx, "R", imcKey); !errors.Is(err, clusterdb.ErrNoCheckpoint) {
		t.Fatalf("Latest of nothing: %v", err)
	}
	var want [][]byte
	for i := range 13 {
		data := randomBytes(1000+i, uint64(i))
		want = append(want, data)
		v, err := s.Put(ctx, f, "R", imcKey, data, clusterdb.CheckpointVersion{Node: "N1"}, 10)
		if err != nil {
			t.Fatal(err)
		}
		if v.Number != i+1 || v.Size != int64(len(data)) || len(v.Hash) != 64 || v.Chunks != 1 {
			t.Fatalf("version %+v", v)
		}
	}
	// The key is looked up case-insensitively.
	v, data, err := s.Latest(ctx, "r", strings.ToLower(imcKey))
	if err != nil || v.Number != 13 || !bytes.Equal(data, want[12]) {
		t.Fatalf("Latest = %d, %v", v.Number, err)
	}
	hist, err := s.History(ctx, "R", imcKey)
	if err != nil || len(hist) != 10 || hist[0].Number != 4 || hist[9].Number != 13 {
		t.Fatalf("history %d versions from %d, %v", len(hist), hist[0].Number, err)
	}
	if _, _, err := s.Version(ctx, "R", imcKey, 3); !errors.Is(err, clusterdb.ErrNoCheckpoint) {
		t.Fatalf("pruned version 3: %v", err)
	}
	_, data, err = s.Version(ctx, "R", imcKey, 5)
	if err != nil || !bytes.Equal(data, want[4]) {
		t.Fatalf("version 5: %v", err)
	}
	// Pruned generations are gone from etcd: 10 versions, 10 chunks.
	resp, err := cli.Get(ctx, clusterdb.CheckpointResourcePrefix("R"), clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil || resp.Count != 11 {
		t.Fatalf("%d keys under the resource (want 10 chunks + meta), %v", resp.Count, err)
	}
}

func TestStoreFencing(t *testing.T) {
	cli := startEtcd(t)
	s := clusterdb.NewCheckpointStore(cli)
	ctx := context.Background()
	f1 := takeOwnership(t, cli, "G", "N1")
	if _, err := s.Put(ctx, f1, "R", imcKey, []byte("one"), clusterdb.CheckpointVersion{}, 10); err != nil {
		t.Fatal(err)
	}
	f2 := takeOwnership(t, cli, "G", "N2")
	for _, size := range []int{10, 3 << 20} { // one transaction; chunked
		_, err := s.Put(ctx, f1, "R", imcKey, randomBytes(size, 1), clusterdb.CheckpointVersion{}, 10)
		if !errors.Is(err, clusterdb.ErrFenced) {
			t.Fatalf("put of %d bytes by the old owner: %v", size, err)
		}
	}
	_, data, _ := s.Latest(ctx, "R", imcKey)
	if string(data) != "one" {
		t.Fatalf("newest %q after fenced writes", data)
	}
	if _, err := s.Put(ctx, f2, "R", imcKey, []byte("two"), clusterdb.CheckpointVersion{}, 10); err != nil {
		t.Fatal(err)
	}
	// Nothing of the fenced writer's chunks remains.
	resp, _ := cli.Get(ctx, clusterdb.CheckpointResourcePrefix("R"), clientv3.WithPrefix(), clientv3.WithCountOnly())
	if resp.Count != 3 {
		t.Fatalf("%d keys, want 2 chunks + meta", resp.Count)
	}
}

// TestStoreChunked: a checkpoint past etcd's request limit is stored in chunks, and a
// concurrent reader only ever sees whole versions.
func TestStoreChunked(t *testing.T) {
	cli := startEtcd(t)
	s := clusterdb.NewCheckpointStore(cli)
	f := takeOwnership(t, cli, "G", "N1")
	ctx := context.Background()
	versions := [][]byte{randomBytes(5<<20+123, 1), randomBytes(3<<20, 2), randomBytes(4<<20+7, 3)}
	if _, err := s.Put(ctx, f, "R", imcKey, versions[0], clusterdb.CheckpointVersion{}, 2); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var reads atomic.Int64
	var readErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			v, data, err := s.Latest(ctx, "R", imcKey)
			if err != nil {
				readErr = err
				return
			}
			if !bytes.Equal(data, versions[v.Number-1]) {
				readErr = errors.New("read a version whose bytes are not the version's")
				return
			}
			reads.Add(1)
		}
	}()
	for _, data := range versions[1:] {
		v, err := s.Put(ctx, f, "R", imcKey, data, clusterdb.CheckpointVersion{}, 2)
		if err != nil {
			t.Fatal(err)
		}
		if v.Chunks != (len(data)+(1<<20)-1)>>20 {
			t.Fatalf("%d bytes in %d chunks", len(data), v.Chunks)
		}
	}
	stop.Store(true)
	wg.Wait()
	if readErr != nil {
		t.Fatal(readErr)
	}
	if reads.Load() == 0 {
		t.Fatal("the reader never read")
	}
	// Two versions kept (3 + 5 chunks) and the meta record.
	resp, _ := cli.Get(ctx, clusterdb.CheckpointResourcePrefix("R"), clientv3.WithPrefix(), clientv3.WithCountOnly())
	if resp.Count != 3+5+1 {
		t.Fatalf("%d keys", resp.Count)
	}
}

// TestStoreOrphanChunksCleared: chunks written by a capture that died before its switch
// are never read and are removed by the next capture.
func TestStoreOrphanChunksCleared(t *testing.T) {
	cli := startEtcd(t)
	s := clusterdb.NewCheckpointStore(cli)
	s.ChunkSize = 100
	f := takeOwnership(t, cli, "G", "N1")
	ctx := context.Background()
	if _, err := s.Put(ctx, f, "R", imcKey, randomBytes(250, 1), clusterdb.CheckpointVersion{}, 10); err != nil {
		t.Fatal(err)
	}
	// A writer dies after two chunks of generation 2 (and one of a later generation).
	for _, k := range []string{"data/000000000002/000000", "data/000000000002/000001", "data/000000000007/000000"} {
		cli.Put(ctx, clusterdb.CheckpointResourcePrefix("R")+strings.ReplaceAll(strings.ToLower(imcKey), `\`, `%5C`)+"/"+k, "junk")
	}
	v, data, err := s.Latest(ctx, "R", imcKey)
	if err != nil || v.Number != 1 || !bytes.Equal(data, randomBytes(250, 1)) {
		t.Fatalf("Latest with orphans: %d, %v", v.Number, err)
	}
	if _, err := s.Put(ctx, f, "R", imcKey, randomBytes(150, 2), clusterdb.CheckpointVersion{}, 10); err != nil {
		t.Fatal(err)
	}
	resp, _ := cli.Get(ctx, clusterdb.CheckpointResourcePrefix("R"), clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if len(resp.Kvs) != 3+2+1 {
		var keys []string
		for _, kv := range resp.Kvs {
			keys = append(keys, string(kv.Key))
		}
		t.Fatalf("keys after the next capture:\n%s", strings.Join(keys, "\n"))
	}
	_, data, _ = s.Latest(ctx, "R", imcKey)
	if !bytes.Equal(data, randomBytes(150, 2)) {
		t.Fatal("newest version damaged by the orphans")
	}
}

func TestStoreRollbackAndDelete(t *testing.T) {
	cli := startEtcd(t)
	s := clusterdb.NewCheckpointStore(cli)
	f := takeOwnership(t, cli, "G", "N1")
	ctx := context.Background()
	for _, c := range []string{"a", "b", "c"} {
		if _, err := s.Put(ctx, f, "R", imcKey, []byte(c), clusterdb.CheckpointVersion{}, 3); err != nil {
			t.Fatal(err)
		}
	}
	v, err := s.Rollback(ctx, "R", imcKey, 1, "N2", 3)
	if err != nil || v.Number != 4 || v.RolledBackFrom != 1 || v.Node != "N2" {
		t.Fatalf("Rollback = %+v, %v", v, err)
	}
	_, data, err := s.Latest(ctx, "R", imcKey)
	if err != nil || string(data) != "a" {
		t.Fatalf("after rollback the newest is %q, %v", data, err)
	}
	// Version 1 is pruned but its generation lives on in version 4.
	if _, err := s.Put(ctx, f, "R", imcKey, []byte("d"), clusterdb.CheckpointVersion{}, 3); err != nil {
		t.Fatal(err)
	}
	if _, data, err := s.Version(ctx, "R", imcKey, 4); err != nil || string(data) != "a" {
		t.Fatalf("version 4: %q, %v", data, err)
	}
	if _, err := s.Rollback(ctx, "R", imcKey, 1, "N2", 3); !errors.Is(err, clusterdb.ErrNoCheckpoint) {
		t.Fatalf("rollback to a pruned version: %v", err)
	}
	metas, err := s.Checkpoints(ctx)
	if err != nil || len(metas) != 1 || metas[0].Key != imcKey || metas[0].Resource != "R" {
		t.Fatalf("Checkpoints = %+v, %v", metas, err)
	}
	if err := s.DeleteKey(ctx, "R", imcKey); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Latest(ctx, "R", imcKey); !errors.Is(err, clusterdb.ErrNoCheckpoint) {
		t.Fatalf("after delete: %v", err)
	}
	s.Put(ctx, f, "R", `SOFTWARE\X`, []byte("x"), clusterdb.CheckpointVersion{}, 3)
	s.Put(ctx, f, "R2", `SOFTWARE\X`, []byte("y"), clusterdb.CheckpointVersion{}, 3)
	if err := s.DeleteResource(ctx, "r"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Latest(ctx, "R2", `SOFTWARE\X`); err != nil {
		t.Fatalf("another resource's checkpoint deleted: %v", err)
	}
	resp, _ := cli.Get(ctx, clusterdb.CheckpointResourcePrefix("R"), clientv3.WithPrefix(), clientv3.WithCountOnly())
	if resp.Count != 0 {
		t.Fatalf("%d keys left", resp.Count)
	}
}

// TestStoreHistoryLowered: lowering the history limit far below the number of kept
// versions prunes them over a few commits, each within etcd's operations limit.
func TestStoreHistoryLowered(t *testing.T) {
	cli := startEtcd(t)
	s := clusterdb.NewCheckpointStore(cli)
	f := takeOwnership(t, cli, "G", "N1")
	ctx := context.Background()
	for i := range 200 {
		if _, err := s.Put(ctx, f, "R", imcKey, []byte{byte(i)}, clusterdb.CheckpointVersion{}, 1000); err != nil {
			t.Fatal(err)
		}
	}
	for range 4 {
		if _, err := s.Put(ctx, f, "R", imcKey, []byte("new"), clusterdb.CheckpointVersion{}, 2); err != nil {
			t.Fatal(err)
		}
	}
	hist, err := s.History(ctx, "R", imcKey)
	if err != nil || len(hist) != 2 || hist[1].Number != 204 {
		t.Fatalf("history of %d versions, %v", len(hist), err)
	}
	resp, _ := cli.Get(ctx, clusterdb.CheckpointResourcePrefix("R"), clientv3.WithPrefix(), clientv3.WithCountOnly())
	if resp.Count != 3 {
		t.Fatalf("%d keys left", resp.Count)
	}
}

// A Put of the content the newest version already holds (same digest) adds no version:
// a capture whose commit went through although its caller saw an error is not copied
// when the next capture commits the same content.
func TestStorePutSameContentAddsNoVersion(t *testing.T) {
	cli := startEtcd(t)
	s := clusterdb.NewCheckpointStore(cli)
	f := takeOwnership(t, cli, "G", "N1")
	ctx := context.Background()
	put := func(data []byte, digest string) clusterdb.CheckpointVersion {
		t.Helper()
		v, err := s.Put(ctx, f, "R", imcKey, data, clusterdb.CheckpointVersion{Node: "N1", Digest: digest}, 10)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v1 := put([]byte("hive at 10:00"), "d1")
	// The same content saved a moment later: other bytes (timestamps), same digest.
	if v := put([]byte("hive at 10:01"), "d1"); v.Number != 1 || v.Hash != v1.Hash {
		t.Fatalf("same digest made version %d (hash %s), want version 1 (%s)", v.Number, v.Hash, v1.Hash)
	}
	if v := put([]byte("changed"), "d2"); v.Number != 2 {
		t.Fatalf("new content: version %d, want 2", v.Number)
	}
	// Back to the first content: a change from the newest, so a new version.
	if v := put([]byte("hive at 10:02"), "d1"); v.Number != 3 {
		t.Fatalf("content of version 1 again: version %d, want 3", v.Number)
	}
	// No digest: every Put is a version.
	put([]byte("x"), "")
	if v := put([]byte("x"), ""); v.Number != 5 {
		t.Fatalf("without digests: version %d, want 5", v.Number)
	}
	hist, err := s.History(ctx, "R", imcKey)
	if err != nil || len(hist) != 5 {
		t.Fatalf("history: %d versions, %v", len(hist), err)
	}
	_, data, err := s.Latest(ctx, "R", imcKey)
	if err != nil || string(data) != "x" {
		t.Fatalf("latest %q, %v", data, err)
	}
}

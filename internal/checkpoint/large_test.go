package checkpoint

import (
	"context"
	"testing"

	"wolfpack/internal/clusterdb"
)

// TestCheckpoint64MiB: a 64 MiB subtree is captured in chunks past etcd's request limit
// and restored whole on another node.
func TestCheckpoint64MiB(t *testing.T) {
	cli := startEtcd(t)
	store := clusterdb.NewCheckpointStore(cli)
	f := takeOwnership(t, cli, "G", "N1")
	src := newBenchNode(t, "N1", store)
	src.fill(t, `SOFTWARE\Huge`, 64, 1<<20)
	ctx := context.Background()
	res := Resource{Name: "R", Group: "G", Keys: []string{`SOFTWARE\Huge`}}
	src.m.Online(ctx, res, f)
	v := <-src.committed
	if v.Size < 64<<20 || v.Chunks < 64 {
		t.Fatalf("captured %d bytes in %d chunks", v.Size, v.Chunks)
	}
	if err := src.m.Offline(ctx, res, f); err != nil {
		t.Fatal(err)
	}
	dst := newBenchNode(t, "N2", store)
	f2 := takeOwnership(t, cli, "G", "N2")
	if err := dst.m.BeforeOnline(ctx, res, f2); err != nil {
		t.Fatal(err)
	}
	a, err := src.m.cfg.Registry.Save(ctx, `SOFTWARE\Huge`)
	if err != nil {
		t.Fatal(err)
	}
	b, err := dst.m.cfg.Registry.Save(ctx, `SOFTWARE\Huge`)
	if err != nil {
		t.Fatal(err)
	}
	if ContentDigest(a) != ContentDigest(b) {
		t.Fatal("the restored 64 MiB subtree differs from the captured one")
	}
}

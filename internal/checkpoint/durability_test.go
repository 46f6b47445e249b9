package checkpoint

import (
	"bytes"
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"wolfpack/internal/clusterdb"
)

// walFsyncs is how many fdatasyncs of their write-ahead log the etcd members of this
// process have completed: etcd's own histogram, observed after each fdatasync returns
// and only then (a member set to skip its fsyncs, as embed.Config.UnsafeNoFsync does,
// observes nothing).
func walFsyncs(t *testing.T) uint64 {
	t.Helper()
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "etcd_disk_wal_fsync_duration_seconds" && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	t.Fatal("etcd's WAL fsync histogram (etcd_disk_wal_fsync_duration_seconds) is not registered")
	return 0
}

// TestCommittedCheckpointsAreSynced: a checkpoint version is acknowledged when
// CheckpointStore.Put returns; by then each of its etcd writes (one fenced put per chunk
// but the last, and the switching transaction) must have been made durable by a WAL
// fdatasync of the member, as clusterdb.StartEmbedded configures it — a single member
// commits an entry only once it is in its synced log, so at least Chunks fsyncs complete
// during each Put. No other client writes to the member meanwhile. Starting the member
// with etcd's UnsafeNoFsync makes this fail.
func TestCommittedCheckpointsAreSynced(t *testing.T) {
	cli := startEtcd(t)
	s := clusterdb.NewCheckpointStore(cli)
	s.ChunkSize = 64 << 10
	f := takeOwnership(t, cli, "G", "N1")
	ctx := context.Background()
	for i, size := range []int{100, 64 << 10, 64<<10 + 1, 200 << 10, 1000, 300 << 10} {
		data := randomBytes(size, uint64(i))
		before := walFsyncs(t)
		v, err := s.Put(ctx, f, "R", imcKey, data, clusterdb.CheckpointVersion{Node: "N1"}, 10)
		if err != nil {
			t.Fatal(err)
		}
		synced := walFsyncs(t) - before
		if synced < uint64(v.Chunks) {
			t.Errorf("version %d (%d bytes, %d chunks) acknowledged after %d WAL fsyncs, want at least %d",
				v.Number, size, v.Chunks, synced, v.Chunks)
		}
		got, back, err := s.Latest(ctx, "R", imcKey)
		if err != nil || got.Number != v.Number || !bytes.Equal(back, data) {
			t.Fatalf("Latest after version %d: %d, %v", v.Number, got.Number, err)
		}
		t.Logf("version %d: %d bytes, %d chunks, %d WAL fsyncs", v.Number, size, v.Chunks, synced)
	}
}

package daemon

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"wolfpack/internal/api"
	"wolfpack/internal/clusterdb"
	"wolfpack/internal/pki"
)

// backupService makes backups of the cluster database (POST /v1/cluster/backup,
// `cluster /backup:FILE`): an etcd snapshot with the cluster CA, made in a file of the
// data directory (mode 0600, as the CA key) and handed to the API, which sends it and
// closes it; closing removes it.
type backupService struct {
	n  *Node
	db *clusterdb.DB
}

func (b *backupService) Backup(ctx context.Context) (io.ReadCloser, int64, error) {
	p := pki.PathsIn(b.n.Cfg.DataDir)
	caCert, err := os.ReadFile(p.CACert)
	if err != nil {
		return nil, 0, fmt.Errorf("backup: %w", err)
	}
	caKey, err := os.ReadFile(p.CAKey)
	if err != nil {
		return nil, 0, fmt.Errorf("backup: %w", err)
	}
	f, err := os.CreateTemp(b.n.Cfg.DataDir, ".backup-*.tar")
	if err != nil {
		return nil, 0, fmt.Errorf("backup: %w", err)
	}
	info, err := b.db.Backup(ctx, b.n.Cfg.Name, caCert, caKey, b.n.Cfg.DataDir, f)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	var size int64
	if err == nil {
		var st os.FileInfo
		if st, err = f.Stat(); err == nil {
			size = st.Size()
		}
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, err
	}
	b.n.Log.Info("cluster database backed up", "revision", info.Revision, "keys", info.Keys, "bytes", size)
	return &removeOnClose{f}, size, nil
}

type removeOnClose struct{ *os.File }

func (r *removeOnClose) Close() error {
	err := r.File.Close()
	os.Remove(r.File.Name())
	return err
}

var _ api.BackupService = (*backupService)(nil)

// restore is `wolfpackd --restore FILE` on a new data directory: a one-member etcd made
// from the backup's snapshot (etcd's restore: its integrity hash checked, a new cluster
// identity), the cluster CA from the backup, and a new join token for the nodes that
// join the restored cluster. The database is adopted once etcd runs (adoptRestored).
func (n *Node) restore(hosts []string) error {
	cfg := n.Cfg
	p := pki.PathsIn(cfg.DataDir)
	etcdDir := filepath.Join(cfg.DataDir, "etcd")
	if p.HasCA() || clusterdb.HasData(etcdDir) {
		return fmt.Errorf("--restore: %s already holds a node (its tls/ or etcd/): restore into a new data directory", cfg.DataDir)
	}
	r, err := clusterdb.RestoreBackup(cfg.Restore, etcdDir, cfg.Name, "https://"+cfg.Peer)
	if err != nil {
		return fmt.Errorf("--restore %s: %w", cfg.Restore, err)
	}
	ca, err := pki.ParseCA(r.CACert, r.CAKey)
	if err != nil {
		os.RemoveAll(etcdDir)
		return fmt.Errorf("--restore %s: the cluster CA in the backup: %w", cfg.Restore, err)
	}
	if err := p.WriteCA(ca); err != nil {
		os.RemoveAll(etcdDir)
		return err
	}
	tok, err := clusterdb.NewJoinToken(ca.Hash())
	if err != nil {
		return err
	}
	if err := clusterdb.WriteJoinToken(cfg.DataDir, tok); err != nil {
		return err
	}
	n.restored = true
	n.Log.Info("cluster database restored from a backup: this node is the restored cluster's first; the other nodes join it with the new join token",
		"backup", cfg.Restore, "taken", r.Info.Created, "by", r.Info.Node, "revision", r.Info.Revision, "keys", r.Info.Keys,
		"join-token", filepath.Join(cfg.DataDir, clusterdb.JoinTokenFile))
	return nil
}

// adoptRestored makes the restored database this cluster's: the old cluster's sessions
// (and with them its nodes' membership) end, its pending role requests go, and the new
// join token's secret replaces the old one.
func (n *Node) adoptRestored(ctx context.Context, db *clusterdb.DB) error {
	if err := db.ForgetOldCluster(ctx, 0); err != nil {
		return err
	}
	tok, err := clusterdb.ReadJoinToken(filepath.Join(n.Cfg.DataDir, clusterdb.JoinTokenFile))
	if err != nil {
		return err
	}
	return db.SetJoinSecret(ctx, tok.Secret)
}

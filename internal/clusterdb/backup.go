package clusterdb

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/etcdutl/v3/snapshot"
	"go.uber.org/zap"
)

// A backup of the cluster database (WSFC's cluster database backup) is a tar archive:
//
//	backup.json  BackupInfo: when, from which node, the etcd revision and key count
//	etcd.db      an etcd snapshot (Maintenance.Snapshot: the whole keyspace at one
//	             revision — nodes, groups, resources, properties, states, tokens and
//	             every registry checkpoint version — with etcd's integrity hash)
//	ca.crt       the cluster CA's certificate
//	ca.key       the cluster CA's key: a restored cluster keeps its identity (the
//	             nodes' certificates, the CLIs' trust); the backup is as secret as the key
//
// RestoreBackup makes a new one-member etcd data directory from it (etcdutl's restore);
// the other nodes then join the restored node.

// Names of the archive's members.
const (
	backupInfoName = "backup.json"
	backupDBName   = "etcd.db"
	backupCACert   = "ca.crt"
	backupCAKey    = "ca.key"
)

// BackupInfo describes a backup.
type BackupInfo struct {
	Created  time.Time `json:"created"`
	Node     string    `json:"node"`     // the node that took it
	Revision int64     `json:"revision"` // the etcd revision of the snapshot
	Keys     int       `json:"keys"`     // keys in the snapshot
	Size     int64     `json:"size"`     // bytes of the etcd snapshot
	Hash     uint32    `json:"hash"`     // etcd's hash of the snapshot's contents
}

// ErrBackup: a file that is not a complete Wolfpack backup.
var ErrBackup = errors.New("clusterdb: not a complete Wolfpack backup")

// Backup writes a backup to w: an etcd snapshot taken through cli, and the cluster CA.
// The snapshot goes through a file in tmpDir (the archive needs its size first).
func (db *DB) Backup(ctx context.Context, node string, caCert, caKey []byte, tmpDir string, w io.Writer) (BackupInfo, error) {
	cli := db.cli
	info := BackupInfo{Created: time.Now().UTC(), Node: node}
	f, err := os.CreateTemp(tmpDir, ".backup-*.db")
	if err != nil {
		return info, fmt.Errorf("clusterdb: backup: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	rc, err := cli.Snapshot(ctx)
	if err != nil {
		return info, fmt.Errorf("clusterdb: backup: etcd snapshot: %w", err)
	}
	n, err := io.Copy(f, rc)
	rc.Close()
	if err != nil {
		return info, fmt.Errorf("clusterdb: backup: etcd snapshot: %w", err)
	}
	if err := f.Sync(); err != nil {
		return info, fmt.Errorf("clusterdb: backup: %w", err)
	}
	st, err := snapshot.NewV3(zap.NewNop()).Status(f.Name())
	if err != nil {
		return info, fmt.Errorf("clusterdb: backup: the snapshot etcd sent: %w", err)
	}
	info.Revision, info.Keys, info.Size, info.Hash = st.Revision, st.TotalKey, n, st.Hash
	meta, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return info, err
	}
	tw := tar.NewWriter(w)
	add := func(name string, size int64, r io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: info.Created, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := io.Copy(tw, r)
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return info, err
	}
	for _, m := range []struct {
		name string
		size int64
		r    io.Reader
	}{
		{backupInfoName, int64(len(meta)), bytesReader(meta)},
		{backupDBName, n, f},
		{backupCACert, int64(len(caCert)), bytesReader(caCert)},
		{backupCAKey, int64(len(caKey)), bytesReader(caKey)},
	} {
		if err := add(m.name, m.size, m.r); err != nil {
			return info, fmt.Errorf("clusterdb: backup: write %s: %w", m.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return info, fmt.Errorf("clusterdb: backup: %w", err)
	}
	return info, nil
}

// Restored is what RestoreBackup read from a backup besides the etcd data.
type Restored struct {
	Info   BackupInfo
	CACert []byte
	CAKey  []byte
}

// RestoreBackup makes etcdDir (which must not exist) a new one-member etcd data directory,
// member name with peer URL peerURL, from the backup in file: etcd's restore, which checks
// the snapshot's integrity hash and gives the new cluster a new identity. It returns the
// backup's description and the cluster CA.
func RestoreBackup(file, etcdDir, name, peerURL string) (Restored, error) {
	var out Restored
	if _, err := os.Stat(etcdDir); err == nil {
		return out, fmt.Errorf("clusterdb: restore: %s exists: restore into a new data directory", etcdDir)
	}
	f, err := os.Open(file)
	if err != nil {
		return out, fmt.Errorf("clusterdb: restore: %w", err)
	}
	defer f.Close()
	if err := os.MkdirAll(filepath.Dir(etcdDir), 0o700); err != nil {
		return out, fmt.Errorf("clusterdb: restore: %w", err)
	}
	db, err := os.CreateTemp(filepath.Dir(etcdDir), ".restore-*.db")
	if err != nil {
		return out, fmt.Errorf("clusterdb: restore: %w", err)
	}
	defer os.Remove(db.Name())
	defer db.Close()
	seen := map[string]bool{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return out, fmt.Errorf("%w: %s: %v", ErrBackup, file, err)
		}
		seen[h.Name] = true
		switch h.Name {
		case backupInfoName:
			b, err := io.ReadAll(io.LimitReader(tr, 1<<20))
			if err == nil {
				err = json.Unmarshal(b, &out.Info)
			}
			if err != nil {
				return out, fmt.Errorf("%w: %s: %v", ErrBackup, backupInfoName, err)
			}
		case backupDBName:
			if _, err := io.Copy(db, tr); err != nil {
				return out, fmt.Errorf("clusterdb: restore: %w", err)
			}
		case backupCACert, backupCAKey:
			b, err := io.ReadAll(io.LimitReader(tr, 1<<20))
			if err != nil {
				return out, fmt.Errorf("%w: %s: %v", ErrBackup, h.Name, err)
			}
			if h.Name == backupCACert {
				out.CACert = b
			} else {
				out.CAKey = b
			}
		}
	}
	for _, n := range []string{backupInfoName, backupDBName, backupCACert, backupCAKey} {
		if !seen[n] {
			return out, fmt.Errorf("%w: %s has no %s", ErrBackup, file, n)
		}
	}
	if err := db.Sync(); err != nil {
		return out, fmt.Errorf("clusterdb: restore: %w", err)
	}
	err = snapshot.NewV3(zap.NewNop()).Restore(snapshot.RestoreConfig{
		SnapshotPath:        db.Name(),
		Name:                name,
		OutputDataDir:       etcdDir,
		PeerURLs:            []string{peerURL},
		InitialCluster:      name + "=" + peerURL,
		InitialClusterToken: initialClusterToken,
	})
	if err != nil {
		os.RemoveAll(etcdDir)
		return out, fmt.Errorf("clusterdb: restore the etcd snapshot: %w", err)
	}
	return out, nil
}

// ForgetOldCluster removes, from a database just restored, what belonged to the running
// cluster it was taken from: its sessions' leases (the nodes' membership keys and the
// coordinator's election key go with them, so the groups of the old nodes are placed
// again at once) — except keep, this node's own — and the role requests in flight.
func (db *DB) ForgetOldCluster(ctx context.Context, keep int64) error {
	cli := db.cli
	ls, err := cli.Leases(ctx)
	if err != nil {
		return fmt.Errorf("clusterdb: leases of the restored database: %w", err)
	}
	for _, l := range ls.Leases {
		if int64(l.ID) == keep {
			continue
		}
		if _, err := cli.Revoke(ctx, l.ID); err != nil && !isLeaseNotFound(err) {
			return fmt.Errorf("clusterdb: revoke lease %x of the restored database: %w", l.ID, err)
		}
	}
	if _, err := cli.Delete(ctx, RolesPrefix, clientv3.WithPrefix()); err != nil {
		return fmt.Errorf("clusterdb: role requests of the restored database: %w", err)
	}
	return nil
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func isLeaseNotFound(err error) bool {
	return errors.Is(err, rpctypes.ErrLeaseNotFound) || errors.Is(err, rpctypes.ErrGRPCLeaseNotFound)
}

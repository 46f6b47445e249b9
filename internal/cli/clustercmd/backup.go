package clustercmd

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
)

// backup is `cluster /backup:FILE`, WSFC's cluster database backup: the node sends an
// etcd snapshot of the whole database (checkpoints included) with the cluster CA, which
// is written to FILE (mode 0600: it holds the CA's key) only once it is complete.
// `wolfpackd --restore FILE` makes a new cluster from it.
func (r *runner) backup() int {
	file := r.cmd.action.value
	if file == "" {
		return r.usage("/backup needs a file: /backup:FILE")
	}
	if !r.json {
		fmt.Fprintf(r.out, "Backing up the cluster database to '%s'...\n", file)
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	if err != nil {
		return r.fail(err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return r.fail(err)
	}
	err = r.do(http.MethodPost, "/v1/cluster/backup", nil, io.Writer(tmp))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return r.fail(err)
	}
	info, err := readBackupInfo(tmp.Name())
	if err != nil {
		return r.fail(err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return r.fail(err)
	}
	if r.json {
		printJSON(r.out, info)
		return 0
	}
	fmt.Fprintf(r.out, "Backed up by node %s at etcd revision %v: %v keys, %v bytes.\n", info["node"], info["revision"], info["keys"], info["size"])
	return 0
}

// readBackupInfo reads the description (backup.json) at the head of a backup.
func readBackupInfo(file string) (map[string]any, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	h, err := tr.Next()
	if err != nil || h.Name != "backup.json" {
		return nil, fmt.Errorf("the node's answer is not a backup (%v)", err)
	}
	var info map[string]any
	if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&info); err != nil {
		return nil, fmt.Errorf("the backup's description: %w", err)
	}
	return info, nil
}

package api

import (
	"context"
	"io"
	"net/http"
	"strconv"
)

// The backup route (wired by internal/daemon/backup.go):
//
//	POST /v1/cluster/backup   → the backup file (application/x-tar; its first member,
//	                            backup.json, describes it)
//
// A backup holds the cluster CA's key and every checkpoint: it is a POST, so that only
// a Full token gets one (GET routes answer ReadOnly tokens).

// BackupService makes backups of the cluster database.
type BackupService interface {
	// Backup makes a backup whole (a failure is an error reply, never a truncated file
	// that looks like a backup) and returns it to be read once, and its size.
	Backup(ctx context.Context) (io.ReadCloser, int64, error)
}

// RegisterBackup registers the backup route on s.
func RegisterBackup(s *Server, b BackupService) {
	s.Handle("POST /v1/cluster/backup", func(w http.ResponseWriter, r *http.Request) {
		rc, size, err := b.Backup(r.Context())
		if err != nil {
			WriteError(w, err)
			return
		}
		defer rc.Close()
		w.Header().Set("Content-Type", "application/x-tar")
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		w.WriteHeader(http.StatusOK)
		io.Copy(w, rc)
	})
}

package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"wolfpack/internal/nodestate"
)

// PidFile is the data directory's wolfpackd.pid: the running daemon's pid, and its lock
// (internal/nodestate reads both).
const PidFile = nodestate.PidFile

// ErrDataDirInUse is returned by Run when another wolfpackd runs on the data directory.
var ErrDataDirInUse = errors.New("data directory in use")

// InUseError says which process holds the data directory.
type InUseError struct {
	Dir string
	PID int // 0 when the holder's pid could not be read
}

func (e *InUseError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("data directory %s is in use by pid %d (another wolfpackd): stop it first, or give this one another --data-dir", e.Dir, e.PID)
	}
	return fmt.Sprintf("data directory %s is in use by another wolfpackd: stop it first, or give this one another --data-dir", e.Dir)
}

func (e *InUseError) Unwrap() error { return ErrDataDirInUse }

// lockDataDir takes the data directory for this process: an exclusive flock on its pid
// file, which then holds this pid. A second wolfpackd on the same directory is refused at
// once, before it touches anything (the running daemon's socket, api.addr and files
// stay as they are). The lock goes with the process, also on kill -9; the file is
// removed at a clean stop (release).
func lockDataDir(dir string) (release func(), err error) {
	path := filepath.Join(dir, PidFile)
	for range 10 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		for i := 0; errors.Is(err, syscall.EWOULDBLOCK) && i < 10; i++ {
			// A CLI probes the lock for an instant (internal/nodestate): a daemon
			// holds it for good.
			time.Sleep(20 * time.Millisecond)
			err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		}
		if err != nil {
			b, _ := os.ReadFile(path)
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
				return nil, &InUseError{Dir: dir, PID: pid}
			}
			return nil, fmt.Errorf("data directory: lock %s: %w", path, err)
		}
		// The file may have been removed by the daemon that stopped while this one
		// opened it: then the lock is on a file no one else will see. Try again.
		fi, ferr := f.Stat()
		pi, perr := os.Stat(path)
		if ferr != nil || perr != nil || !os.SameFile(fi, pi) {
			f.Close()
			continue
		}
		if err := f.Truncate(0); err == nil {
			_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("data directory: write %s: %w", path, err)
		}
		// An api.addr left by a daemon that was killed would make the CLIs take this
		// starting node for a ready one.
		os.Remove(filepath.Join(dir, nodestate.AddrFile))
		return func() {
			os.Remove(path) // while the lock is held: no one else took it meanwhile
			f.Close()
		}, nil
	}
	return nil, fmt.Errorf("data directory: %s keeps changing under the lock", path)
}

// EvictedFile marks a data directory whose node was evicted from its cluster.
const EvictedFile = "evicted"

// evictedRecord is the content of EvictedFile.
type evictedRecord struct {
	Node    string    `json:"node"`
	At      time.Time `json:"at"`
	Member  string    `json:"etcdMember,omitempty"` // where the old etcd member was moved
	Because string    `json:"because"`
}

// readEvicted returns the data directory's eviction record, if any.
func readEvicted(dir string) (*evictedRecord, error) {
	b, err := os.ReadFile(filepath.Join(dir, EvictedFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r evictedRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, EvictedFile), err)
	}
	return &r, nil
}

// retire puts the evicted node's etcd member aside (it can never serve again: a new
// member joins in its place) and writes the eviction record. The registry, the event
// logs, the certificates and the node's token stay: the node joins again with them.
func retire(dir, node, because string) (*evictedRecord, error) {
	now := time.Now().UTC()
	rec := &evictedRecord{Node: node, At: now, Because: because}
	etcd := filepath.Join(dir, "etcd")
	if _, err := os.Stat(etcd); err == nil {
		aside := filepath.Join(dir, "etcd.evicted-"+now.Format("20060102T150405Z"))
		if err := os.Rename(etcd, aside); err != nil {
			return nil, err
		}
		rec.Member = filepath.Base(aside)
	}
	b, _ := json.MarshalIndent(rec, "", "  ")
	if err := writeFileAtomic(filepath.Join(dir, EvictedFile), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	return rec, nil
}

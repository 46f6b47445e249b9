package regipc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"wolfpack/internal/registry"
)

// A client's hive file is mounted by the daemon, which usually runs as root and so could
// read and replace any file. Before it mounts a file in place (Load with LoadFromFile) it
// checks that the client itself could: the client's uid and groups (SO_PEERCRED and
// SO_PEERGROUPS) must be granted read and write by
// the file's mode bits, and write and search by its directory's, because writing the hive
// back replaces the file (a new file renamed over it, keeping its owner and mode). uid 0
// is granted everything, as the kernel grants root. Symbolic links are resolved first and
// the check applies to the file they lead to; the file must be a regular file. ACLs and
// the search permission of the directories above are not consulted: the check is the
// classic owner/group/other one, which is what a hive file in a user's own directory
// needs. (Passing an open descriptor over the socket would defer the check to the kernel,
// but the registry writes the hive back by path, long after the request.)

// callerCreds are the identities the mode-bit check compares with.
type callerCreds struct {
	uid    int
	groups map[int]bool // primary and supplementary gids
}

// credsOf takes the client's groups from its Owner (SO_PEERCRED and SO_PEERGROUPS), else
// from its /proc status; when they cannot be read (the process is gone), only the uid
// counts.
func credsOf(o registry.Owner) callerCreds {
	c := callerCreds{uid: o.UID, groups: map[int]bool{}}
	if len(o.GIDs) > 0 {
		for _, g := range o.GIDs {
			c.groups[g] = true
		}
		return c
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(o.PID), "status"))
	if err != nil {
		return c
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "Gid" && k != "Groups") {
			continue
		}
		f := strings.Fields(v)
		if k == "Gid" && len(f) > 1 {
			f = f[1:2] // the effective gid
		}
		for _, g := range f {
			if n, err := strconv.Atoi(g); err == nil {
				c.groups[n] = true
			}
		}
	}
	return c
}

// allows reports whether fi's mode grants c every bit of want (a combination of 4 read,
// 2 write, 1 execute/search).
func (c callerCreds) allows(fi fs.FileInfo, want fs.FileMode) bool {
	if c.uid == 0 {
		return true
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	perm := fi.Mode().Perm()
	switch {
	case int(st.Uid) == c.uid:
		perm >>= 6
	case c.groups[int(st.Gid)]:
		perm >>= 3
	}
	return perm&want == want
}

// checkHiveFile resolves path (absolute) and checks that the client may read and write
// the file and replace it in its directory. It returns the resolved path. Errors carry
// ERROR_FILE_NOT_FOUND, ERROR_INVALID_PARAMETER or ERROR_ACCESS_DENIED.
func checkHiveFile(o registry.Owner, path string) (string, error) {
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("%w (the hive file's path %q is not absolute)", registry.ERROR_INVALID_PARAMETER, path)
	}
	real, err := filepath.EvalSymlinks(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w (%s)", registry.ERROR_FILE_NOT_FOUND, path)
	}
	if err != nil {
		return "", fmt.Errorf("%w (%w)", registry.ERROR_ACCESS_DENIED, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", fmt.Errorf("%w (%w)", registry.ERROR_ACCESS_DENIED, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%w (%s is not a regular file)", registry.ERROR_ACCESS_DENIED, path)
	}
	c := credsOf(o)
	if !c.allows(fi, 0o6) {
		return "", fmt.Errorf("%w (uid %d may not read and write %s)", registry.ERROR_ACCESS_DENIED, o.UID, path)
	}
	dir := filepath.Dir(real)
	di, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("%w (%w)", registry.ERROR_ACCESS_DENIED, err)
	}
	if !c.allows(di, 0o3) {
		return "", fmt.Errorf("%w (uid %d may not replace files in %s)", registry.ERROR_ACCESS_DENIED, o.UID, dir)
	}
	return real, nil
}

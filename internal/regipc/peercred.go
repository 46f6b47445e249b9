package regipc

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"wolfpack/internal/registry"
)

// PeerOwner identifies the process at the other end of a unix-socket connection: pid and
// uid from SO_PEERCRED, the executable name from /proc/<pid>/comm (else the base name of
// /proc/<pid>/exe).
func PeerOwner(nc *net.UnixConn) (registry.Owner, error) {
	raw, err := nc.SyscallConn()
	if err != nil {
		return registry.Owner{}, err
	}
	var cred *unix.Ucred
	var serr error
	if err := raw.Control(func(fd uintptr) {
		cred, serr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return registry.Owner{}, err
	}
	if serr != nil {
		return registry.Owner{}, fmt.Errorf("SO_PEERCRED: %w", serr)
	}
	return registry.Owner{PID: int(cred.Pid), UID: int(cred.Uid), Exe: processName(int(cred.Pid))}, nil
}

func processName(pid int) string {
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	if b, err := os.ReadFile(filepath.Join(dir, "comm")); err == nil {
		if s := strings.TrimSpace(string(b)); s != "" {
			return s
		}
	}
	if exe, err := os.Readlink(filepath.Join(dir, "exe")); err == nil {
		return filepath.Base(exe)
	}
	return "?"
}

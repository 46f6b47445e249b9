package regipc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"wolfpack/internal/registry"
)

// PeerOwner identifies the process at the other end of a unix-socket connection: pid,
// uid and primary gid from SO_PEERCRED, the supplementary groups from SO_PEERGROUPS
// (both recorded by the kernel when the client connected, so a process cannot claim
// another identity), the executable name from /proc/<pid>/comm (else the base name of
// /proc/<pid>/exe).
func PeerOwner(nc *net.UnixConn) (registry.Owner, error) {
	raw, err := nc.SyscallConn()
	if err != nil {
		return registry.Owner{}, err
	}
	var cred *unix.Ucred
	var groups []int
	var serr, gerr error
	if err := raw.Control(func(fd uintptr) {
		cred, serr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		groups, gerr = peerGroups(int(fd))
	}); err != nil {
		return registry.Owner{}, err
	}
	if serr != nil {
		return registry.Owner{}, fmt.Errorf("SO_PEERCRED: %w", serr)
	}
	if gerr != nil {
		return registry.Owner{}, fmt.Errorf("SO_PEERGROUPS: %w", gerr)
	}
	gids := []int{int(cred.Gid)}
	for _, g := range groups {
		if g != int(cred.Gid) {
			gids = append(gids, g)
		}
	}
	return registry.Owner{PID: int(cred.Pid), UID: int(cred.Uid), GIDs: gids, Exe: processName(int(cred.Pid))}, nil
}

// peerGroups reads SO_PEERGROUPS: the peer's supplementary gids as an array of 32-bit
// values, grown when the kernel says ERANGE.
func peerGroups(fd int) ([]int, error) {
	buf := make([]byte, 64*4)
	for range 4 {
		n := uint32(len(buf))
		_, _, e := syscall.Syscall6(syscall.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_PEERGROUPS,
			uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)), 0)
		if e == syscall.ERANGE {
			buf = make([]byte, max(int(n), 2*len(buf)))
			continue
		}
		if e != 0 {
			return nil, e
		}
		gids := make([]int, 0, n/4)
		for i := uint32(0); i+4 <= n; i += 4 {
			gids = append(gids, int(binary.NativeEndian.Uint32(buf[i:])))
		}
		return gids, nil
	}
	return nil, errors.New("the group list keeps growing")
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

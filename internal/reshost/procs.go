package reshost

import (
	"bytes"
	"os"
	"strconv"
)

type child struct{ pid, pgid int }

// children lists the live (not zombie) processes whose parent is ppid, from /proc.
func children(ppid int) []child {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	var out []child
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + n + "/stat")
		if err != nil {
			continue
		}
		state, pp, pg, ok := parseStat(b)
		if ok && pp == ppid && state != 'Z' && state != 'X' {
			out = append(out, child{pid, pg})
		}
	}
	return out
}

// parseStat reads state, ppid and pgrp from /proc/PID/stat ("pid (comm) S ppid pgrp
// …"; comm may hold spaces and parentheses, so the last ')' ends it).
func parseStat(b []byte) (state byte, ppid, pgrp int, ok bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, 0, 0, false
	}
	f := bytes.Fields(b[i+2:])
	if len(f) < 3 || len(f[0]) != 1 {
		return 0, 0, 0, false
	}
	pp, err1 := strconv.Atoi(string(f[1]))
	pg, err2 := strconv.Atoi(string(f[2]))
	if err1 != nil || err2 != nil {
		return 0, 0, 0, false
	}
	return f[0][0], pp, pg, true
}

package reshost

import (
	"bytes"
	"os"
	"strconv"
)

type child struct{ pid, pgid int }

// descendants lists the live (not zombie) processes below root in the process tree,
// from /proc: its children, theirs, and so on (processes that detached into a session
// of their own while their parent lives included).
func descendants(root int) []child {
	all := processes()
	kids := map[int][]child{}
	for _, p := range all {
		kids[p.ppid] = append(kids[p.ppid], child{p.pid, p.pgid})
	}
	var out []child
	queue := []int{root}
	for len(queue) > 0 {
		pp := queue[0]
		queue = queue[1:]
		for _, c := range kids[pp] {
			out = append(out, c)
			queue = append(queue, c.pid)
		}
	}
	return out
}

type proc struct{ pid, ppid, pgid int }

// processes lists the live (not zombie) processes, from /proc.
func processes() []proc {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	var out []proc
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
		if ok && state != 'Z' && state != 'X' {
			out = append(out, proc{pid, pp, pg})
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

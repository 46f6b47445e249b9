// Package clustertest is what the tests that run real wolfpackd processes share: a test
// binary that doubles as wolfpackd, cluster and reg (and any program a test adds), run
// by the name it is started under. The failover, scale and web console tests use it;
// nothing outside tests imports it.
package clustertest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"wolfpack/internal/cli/clustercmd"
	"wolfpack/internal/cli/regcmd"
	"wolfpack/internal/daemon"
	"wolfpack/internal/reshost"
)

// Main is a test package's TestMain: started as wolfpackd (or as its resource host),
// cluster, reg or one of extra's names, the binary runs that program and exits;
// otherwise it makes a directory of links by those names to itself, sets *binDir to
// it, runs the tests, and removes the directory. It returns the exit code.
func Main(m *testing.M, binDir *string, extra map[string]func(args []string) int) int {
	progs := map[string]func([]string) int{
		"wolfpackd": daemon.Main,
		"cluster":   clustercmd.Main,
		"reg":       regcmd.Main,
	}
	for n, f := range extra {
		progs[n] = f
	}
	if reshost.IsHostProcess() {
		return daemon.Main(os.Args[1:])
	}
	if f, ok := progs[filepath.Base(os.Args[0])]; ok {
		return f(os.Args[1:])
	}
	dir, err := os.MkdirTemp("", filepath.Base(os.Args[0])+"-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, "clustertest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "clustertest:", err)
		return 1
	}
	for n := range progs {
		if err := os.Symlink(exe, filepath.Join(dir, n)); err != nil {
			fmt.Fprintln(os.Stderr, "clustertest:", err)
			return 1
		}
	}
	*binDir = dir
	return m.Run()
}

// Package buildinfo says which build of Wolfpack a binary is: every binary answers
// --version with it (the module version and the VCS revision the Go toolchain stamped).
package buildinfo

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// IsVersionFlag reports whether arg asks for the version (--version, -version, /version).
func IsVersionFlag(arg string) bool {
	switch strings.ToLower(arg) {
	case "--version", "-version", "/version":
		return true
	}
	return false
}

// IsHelpFlag reports whether arg asks for the usage as /? does (--help, -h, -?, /?).
func IsHelpFlag(arg string) bool {
	switch strings.ToLower(arg) {
	case "--help", "-help", "-h", "-?", "/?", "/help":
		return true
	}
	return false
}

// Version is the line --version prints: the program, Wolfpack's module version, the VCS
// revision and time (with "+dirty" for a modified tree) and the Go version.
func Version(program string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return program + " (wolfpack): no build information"
	}
	return program + " " + describe(bi)
}

func describe(bi *debug.BuildInfo) string {
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var rev, at string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "(%s %s", bi.Main.Path, version)
	if rev != "" {
		fmt.Fprintf(&b, ", revision %s", rev)
		if dirty {
			b.WriteString("+dirty")
		}
		if at != "" {
			fmt.Fprintf(&b, " of %s", at)
		}
	} else {
		b.WriteString(", no VCS revision stamped")
	}
	fmt.Fprintf(&b, ", %s)", bi.GoVersion)
	return b.String()
}

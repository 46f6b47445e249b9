package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestDescribe(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "wolfpack", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"},
			{Key: "vcs.modified", Value: "true"}}}
	if got, want := describe(bi), "(wolfpack v1.2.3, revision abc123+dirty of 2026-01-02T03:04:05Z, go1.26.0)"; got != want {
		t.Errorf("describe = %q, want %q", got, want)
	}
	bi = &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "wolfpack"}}
	if got, want := describe(bi), "(wolfpack (devel), no VCS revision stamped, go1.26.0)"; got != want {
		t.Errorf("describe = %q, want %q", got, want)
	}
}

func TestFlags(t *testing.T) {
	for _, a := range []string{"--version", "-version", "/version", "/VERSION"} {
		if !IsVersionFlag(a) {
			t.Errorf("%s is a version flag", a)
		}
	}
	for _, a := range []string{"--help", "-h", "-?", "/?", "/help"} {
		if !IsHelpFlag(a) {
			t.Errorf("%s is a help flag", a)
		}
	}
	if IsHelpFlag("-hx") || IsVersionFlag("-v") {
		t.Error("not flags")
	}
}

// Package layers holds the test that keeps Wolfpack's packages in their layers
// (doc/LAYERS.md): the API is the outer layer, and clusterdb is the one door to etcd.
package layers

import (
	"go/build"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "wolfpack/"

// domain are the parts the API calls. None of them speaks HTTP or knows the API.
var domain = []string{
	"internal/agent",
	"internal/checkpoint",
	"internal/clusterdb",
	"internal/eventlog",
	"internal/registry",
	"internal/reshost",
	"internal/resmon",
}

// A rule forbids a set of imports to a set of packages.
type rule struct {
	why       string
	applies   func(pkg string) bool
	forbidden func(imp string) bool
}

var rules = []rule{
	{
		why:     "the API is the outer layer: a part of the daemon does not import it or net/http",
		applies: func(pkg string) bool { return slices.Contains(domain, pkg) },
		forbidden: func(imp string) bool {
			return imp == "net/http" || imp == module+"internal/api" || imp == module+"internal/api/client"
		},
	},
	{
		why:     "clusterdb is the one door to etcd: nothing else imports etcd's client",
		applies: func(pkg string) bool { return pkg != "internal/clusterdb" },
		forbidden: func(imp string) bool {
			return imp == "go.etcd.io/etcd/client/v3" ||
				strings.HasPrefix(imp, "go.etcd.io/etcd/client/v3/") ||
				imp == "go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
		},
	},
	{
		why:       "the agent states what it needs of checkpoints as an interface; the daemon wires the checkpoint manager in",
		applies:   func(pkg string) bool { return pkg == "internal/agent" },
		forbidden: func(imp string) bool { return imp == module+"internal/checkpoint" },
	},
	{
		why:     "the wire types are a leaf: no HTTP, and nothing of ours but the event record (eventlog.Record is the form events travel in)",
		applies: func(pkg string) bool { return pkg == "internal/api/wire" },
		forbidden: func(imp string) bool {
			return imp == "net/http" || strings.HasPrefix(imp, module) && imp != module+"internal/eventlog"
		},
	},
}

// TestLayers checks every package of the module (test files aside: a test may start an
// etcd or an API server) against the rules.
func TestLayers(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
			return filepath.SkipDir
		}
		p, err := build.ImportDir(path, 0)
		if err != nil {
			return nil // no Go files here, or only tests
		}
		rel, _ := filepath.Rel(root, path)
		pkg := filepath.ToSlash(rel)
		seen++
		for _, imp := range p.Imports {
			for _, r := range rules {
				if !r.applies(pkg) || !r.forbidden(imp) {
					continue
				}
				t.Errorf("%s imports %s: %s", pkg, imp, r.why)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 20 {
		t.Fatalf("read %d packages under %s; expected the whole module", seen, root)
	}
}

package scripttest

import (
	"os"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// TestREADME checks that testdata/readme.txtar runs the README's examples as they are
// written: each readme-*.sh file of the scenario is one of the README's example blocks,
// word for word.
func TestREADME(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	a, err := txtar.ParseFile("testdata/readme.txtar")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range a.Files {
		if !strings.HasPrefix(f.Name, "readme-") {
			continue
		}
		n++
		var block strings.Builder
		for _, line := range strings.Split(strings.TrimRight(string(f.Data), "\n"), "\n") {
			if line != "" {
				block.WriteString("    ")
			}
			block.WriteString(line + "\n")
		}
		if !strings.Contains(string(readme), block.String()) {
			t.Errorf("README.md has no example block that is readme.txtar's %s:\n%s", f.Name, block.String())
		}
	}
	if n == 0 {
		t.Fatal("readme.txtar has no readme-*.sh file")
	}
}

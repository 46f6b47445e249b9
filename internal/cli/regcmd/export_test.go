package regcmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"wolfpack/internal/utf16le"
	"wolfpack/registry"
)

// keyByKey hides localStore's Snapshot: export then walks the tree key by key.
type keyByKey struct{ Store }

// TestExportSnapshotMatchesWalk: reg export reads a local subtree in one snapshot; its
// file must be byte for byte the one the key-by-key walk writes (regedit's view:
// volatile keys and loaded hives included, links followed), for every value type.
func TestExportSnapshotMatchesWalk(t *testing.T) {
	h := newHarness(t)
	h.ok(`add HKLM\SYSTEM\ControlSet001\Services\App /v Name /d hello~world /f`)
	h.ok(`add HKLM\SYSTEM\ControlSet001\Services\App /ve /d def /f`)
	h.ok(`add HKLM\SYSTEM\ControlSet001\Services\App /v Z /t REG_DWORD /d 42 /f`)
	h.ok(`add HKLM\SYSTEM\ControlSet001\Services\App /v A /t REG_QWORD /d 7 /f`)
	h.ok(`add HKLM\SYSTEM\ControlSet001\Services\App /v M /t REG_MULTI_SZ /d a\0b /f`)
	h.ok(`add HKLM\SYSTEM\ControlSet001\Services\App /v E /t REG_EXPAND_SZ /d %PATH% /f`)
	h.ok(`add HKLM\SYSTEM\ControlSet001\Services\App /v B /t REG_BINARY /d 0102ff /f`)
	h.ok(`add HKLM\SYSTEM\ControlSet001\Services\App\sub\Ünïcode /v N /t REG_NONE /f`)
	h.ok(`add HKLM\SYSTEM\ControlSet001\Services\App\Sub\b /f`)
	c, err := registry.Dial(context.Background(), h.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v, _, err := registry.CreateKeyEx(c.LocalMachine(), `SYSTEM\ControlSet001\Services\App\Volatile`, "", registry.REG_OPTION_VOLATILE, registry.ALL_ACCESS)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.SetDWordValue("Up", 1); err != nil {
		t.Fatal(err)
	}
	v.Close()
	hiv := filepath.Join(h.dir, "m.hiv")
	h.ok(`save HKLM\SYSTEM\ControlSet001\Services\App ` + hiv)
	h.ok(`load HKLM\Mounted ` + hiv)

	for _, key := range []string{`HKLM\SYSTEM\ControlSet001\Services\App`, `HKLM\SYSTEM`, `HKLM`, `HKLM\SYSTEM\CurrentControlSet\Services`} {
		var files [2][]byte
		for i, walk := range []bool{false, true} {
			h.noSnapshot = walk
			file := filepath.Join(h.dir, "x.reg")
			h.ok(`export ` + key + ` ` + file + ` /y`)
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			files[i] = b
		}
		h.noSnapshot = false
		if !bytes.Equal(files[0], files[1]) {
			t.Errorf("export %s: the snapshot wrote %d bytes, the walk %d, and they differ", key, len(files[0]), len(files[1]))
		}
		for _, want := range []string{"Volatile", "Mounted", "Ünïcode", "CurrentControlSet"} {
			if key == `HKLM` && !bytes.Contains(files[0], utf16le.Encode(want)) {
				t.Errorf("export HKLM lacks %s", want)
			}
		}
	}
}

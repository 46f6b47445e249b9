package hive

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, minor := range []uint32{5, 3, 4, 6} {
		tree := testTree(5000)
		b, err := Marshal(tree, WriteOptions{Minor: minor, FileName: `\??\C:\test\hive`})
		if err != nil {
			t.Fatalf("1.%d: Marshal: %v", minor, err)
		}
		h, err := Read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("1.%d: Read: %v", minor, err)
		}
		if h.Major != 1 || h.Minor != minor || h.Dirty || h.FileName != `\??\C:\test\hive` || len(h.Damage) != 0 {
			t.Errorf("1.%d: header: %+v", minor, h)
		}
		if d := diffTrees(sortedCopy(tree), h.Root, "", false); d != "" {
			t.Errorf("1.%d: %s", minor, d)
		}

		// Flags: the root's are set, KEY_COMP_NAME follows the name, others are kept.
		if f := h.Root.Flags; f != KEY_HIVE_ENTRY|KEY_NO_DELETE|KEY_COMP_NAME {
			t.Errorf("1.%d: root flags %#x", minor, f)
		}
		def := DefaultSecurityDescriptor()
		var walk func(k *Key)
		walk = func(k *Key) {
			if comp := k.Flags&KEY_COMP_NAME != 0; comp != encodeName(k.Name).compressed {
				t.Errorf("1.%d: %q: KEY_COMP_NAME %v", minor, k.Name, comp)
			}
			if k.Name == "Link" && k.Flags&KEY_SYM_LINK == 0 {
				t.Errorf("1.%d: Link lost KEY_SYM_LINK: %#x", minor, k.Flags)
			}
			if !bytes.Equal(k.Security, def) {
				t.Errorf("1.%d: %q: security descriptor % x", minor, k.Name, k.Security)
			}
			for _, s := range k.Subkeys {
				walk(s)
			}
		}
		walk(h.Root)

		// Writing what was read gives the same bytes.
		again, err := Marshal(h.Root, WriteOptions{Minor: minor, FileName: `\??\C:\test\hive`})
		if err != nil || !bytes.Equal(again, b) {
			t.Errorf("1.%d: rewriting the tree read back changes the file (err %v)", minor, err)
		}
	}
}

// Every readable hive Windows wrote survives Read → Write → Read, and hivexml
// counts the same keys and values in our copy as in Windows' original.
func TestRewriteSharedHives(t *testing.T) {
	dir := sharedHives(t)
	for _, name := range []string{"BigDataHive", "BogusKeyNamesHive", "CompHive", "DeletedDataHive", "DupNameHive",
		"EmptyHive", "ExtendedASCIIHive", "InvalidParentHive", "ManySubkeysHive", "MultiSzHive", "NewFlagsHive",
		"OffHive", "SlackHive", "StringValuesHive", "UnicodeHive", "UpcaseHive", "ValuesOrderHive", "WrongOrderHive",
		"NewDirtyHive1/RecoveredHive_Windows10", "OldDirtyHive/RecoveredHive_Windows7"} {
		h, err := readHiveFile(t, filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, err := Marshal(h.Root, WriteOptions{Minor: h.Minor, FileName: h.FileName})
		if err != nil {
			t.Errorf("%s: Marshal: %v", name, err)
			continue
		}
		h2, err := Read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("%s: reading our copy: %v", name, err)
		}
		if d := diffTrees(sortedCopy(h.Root), h2.Root, "", false); d != "" {
			t.Errorf("%s: %s", name, d)
		}
		var sec func(a, b *Key) bool
		sec = func(a, b *Key) bool {
			if !bytes.Equal(a.Security, b.Security) || len(a.Subkeys) != len(b.Subkeys) {
				return false
			}
			for i := range a.Subkeys {
				if !sec(a.Subkeys[i], b.Subkeys[i]) {
					return false
				}
			}
			return true
		}
		if !sec(sortedCopy(h.Root), h2.Root) {
			t.Errorf("%s: security descriptors changed", name)
		}
		path := filepath.Join(t.TempDir(), "copy")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		origXML, oursXML := run(t, "hivexml", filepath.Join(dir, name)), run(t, "hivexml", path)
		for _, tag := range []string{"<node ", "<value "} {
			orig, ours := strings.Count(origXML, tag), strings.Count(oursXML, tag)
			if orig != ours {
				t.Errorf("%s: hivexml counts %d %q in ours, %d in Windows'", name, ours, tag, orig)
			}
		}
		if n := strings.Count(oursXML, "<node "); n != h.Root.CountKeys() {
			t.Errorf("%s: hivexml counts %d keys, we read %d", name, n, h.Root.CountKeys())
		}
	}
}

package hive

import (
	"bytes"
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

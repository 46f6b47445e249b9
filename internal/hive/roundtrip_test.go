package hive

import (
	"bytes"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, minor := range []uint32{5, 3} {
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
	}
}

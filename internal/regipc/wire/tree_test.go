package wire

import (
	"errors"
	"testing"
)

// TestTreeRecords: tree records round-trip, and a reply whose depths jump, restart at 0
// or end mid-record is a FrameError, never a panic or an index out of range.
func TestTreeRecords(t *testing.T) {
	var b []byte
	b = AppendTreeKey(b, 0, 0, "Top", []Value{{Name: "", Type: 1, Data: []byte{'a', 0, 0, 0}}})
	b = AppendTreeKey(b, 1, TreeLink, "Link", []Value{{Name: "SymbolicLinkValue", Type: 6, Data: []byte{'x', 0}}})
	b = AppendTreeKey(b, 1, 0, "Sub", nil)
	b = AppendTreeKey(b, 2, 0, "Leaf", nil)
	d := NewDecoder(b)
	var tk TreeKey
	var got []string
	prev := -1
	for d.More() {
		d.TreeKey(&tk, prev)
		prev = int(tk.Depth)
		got = append(got, tk.Name)
		if tk.Name == "Link" && (tk.Flags != TreeLink || len(tk.Values) != 1 || tk.Values[0].Type != 6) {
			t.Errorf("link record = %+v", tk)
		}
	}
	if err := d.End(); err != nil || len(got) != 4 {
		t.Fatalf("decoded %v, %v", got, err)
	}

	for name, bad := range map[string][]byte{
		"depth jumps":         append(AppendTreeKey(nil, 0, 0, "A", nil), AppendTreeKey(nil, 2, 0, "B", nil)...),
		"first not at 0":      AppendTreeKey(nil, 1, 0, "A", nil),
		"second root":         append(AppendTreeKey(nil, 0, 0, "A", nil), AppendTreeKey(nil, 0, 0, "B", nil)...),
		"truncated":           b[:len(b)-3],
		"hostile value count": append(AppendTreeKey(nil, 0, 0, "A", nil)[:len(AppendTreeKey(nil, 0, 0, "A", nil))-4], 0xff, 0xff, 0xff, 0xff),
	} {
		d := NewDecoder(bad)
		prev := -1
		for d.More() {
			d.TreeKey(&tk, prev)
			prev = int(tk.Depth)
		}
		var fe *FrameError
		if err := d.End(); !errors.As(err, &fe) {
			t.Errorf("%s: %v, want a FrameError", name, err)
		}
	}
}

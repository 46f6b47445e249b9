package wire

// The payload of a Save reply with SaveTree: the subtree as a stream of keys, depth
// first, each key before its subkeys, subkeys in enumeration order, until the payload
// ends:
//
//	treekey = depth:u32 flags:u32 (1 link key) name:str n:u32 n×(name:str type:u32 data:bytes)
//
// depth is 0 for the key itself and at most one more than the previous key's. A link
// key carries its own values (SymbolicLinkValue); its target is not included.

// TreeLink is the flag of a link key in a tree record.
const TreeLink uint32 = 1

// TreeKey is one record of a tree payload.
type TreeKey struct {
	Depth  uint32
	Flags  uint32 // TreeLink
	Name   string
	Values []Value
}

// AppendTreeKey appends one record.
func AppendTreeKey(b []byte, depth, flags uint32, name string, values []Value) []byte {
	b = AppendU32(b, depth)
	b = AppendU32(b, flags)
	b = AppendString(b, name)
	b = AppendU32(b, uint32(len(values)))
	for _, v := range values {
		b = AppendValue(b, v)
	}
	return b
}

// More reports whether bytes remain to be decoded and no error happened so far.
func (d *Decoder) More() bool { return d.err == nil && d.off < len(d.b) }

// TreeKey decodes one record into tk, reusing tk.Values; names and data alias the
// frame. A depth more than one below the previous record's is a FrameError: prev is
// the previous record's depth, or -1 before the first.
func (d *Decoder) TreeKey(tk *TreeKey, prev int) {
	start := d.off
	tk.Depth = d.U32()
	tk.Flags = d.U32()
	tk.Name = d.String()
	n := d.Count(12)
	tk.Values = tk.Values[:0]
	for range n {
		v := Value{Name: d.String(), Type: d.U32()}
		v.Data = d.Bytes()
		tk.Values = append(tk.Values, v)
	}
	if d.err == nil && (int64(tk.Depth) > int64(prev)+1 || prev >= 0 && tk.Depth == 0) {
		d.err = &FrameError{Off: start, Msg: "tree record out of order"}
	}
}

// Rest returns the bytes not decoded yet and consumes them; they alias the frame.
func (d *Decoder) Rest() []byte {
	if d.err != nil {
		return nil
	}
	b := d.b[d.off:]
	d.off = len(d.b)
	return b
}

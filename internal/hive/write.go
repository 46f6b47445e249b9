package hive

import (
	"bytes"
	"io"
	"slices"
	"unicode/utf16"

	"wolfpack/internal/utf16le"
)

// WriteOptions tune Write and Marshal.
type WriteOptions struct {
	Minor    uint32 // format minor version: 5 (the default, when 0); 3, 4 and 6 work too (lf below 5, db from 4)
	FileName string // stored in the base block (Windows keeps a path there); at most 31 characters are kept
}

// LeafSize is the number of entries Write puts in one subkeys leaf (lh or lf)
// before it splits the list under an index root (ri). Windows splits at about
// 1012; 500 keeps each leaf cell (4 + 8×500 bytes) inside one 4 KiB hive bin.
const LeafSize = 500

// Write encodes the tree under root as a hive file and writes it to w.
func Write(w io.Writer, root *Key, opts WriteOptions) error {
	b, err := Marshal(root, opts)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Marshal encodes the tree under root as a hive file, in one pass into memory.
//
// Subkeys are sorted by their upper-cased UTF-16 names (two subkeys whose names
// differ only in case are refused), names that fit Latin-1 are stored compressed,
// keys with equal security descriptors share one sk cell (a nil Security gets a
// default descriptor), data over 16344 bytes goes into db records (1.5) or one big
// cell (1.3). The root is flagged KEY_HIVE_ENTRY|KEY_NO_DELETE; the flags Write
// computes (KEY_COMP_NAME) or that have no meaning on disk (KEY_VOLATILE,
// KEY_HIVE_EXIT, KEY_PREDEF_HANDLE) are replaced, the rest are kept.
func Marshal(root *Key, opts WriteOptions) ([]byte, error) {
	if root == nil {
		return nil, writeError("nil root key")
	}
	minor := opts.Minor
	if minor == 0 {
		minor = 5
	}
	if minor < 3 || minor > 6 {
		return nil, writeError("unsupported minor version %d (3 to 6)", minor)
	}
	w := &writer{minor: minor, sk: make(map[string]int)}
	estimate, _ := estimateSize(root, 0)
	w.b = make([]byte, BaseBlockSize, BaseBlockSize+min(estimate*9/8, 1<<31)+HbinAlignment)
	w.lastWritten = timeToFiletime(root.LastWrite)
	rootOff, err := w.key(root, CellOffsetNil, 0)
	if err != nil {
		return nil, err
	}
	w.closeBin()
	w.linkSecurity()

	bb := BaseBlock{
		Signature:               [4]byte{'r', 'e', 'g', 'f'},
		PrimarySequenceNumber:   1,
		SecondarySequenceNumber: 1,
		LastWrittenTimestamp:    w.lastWritten,
		MajorVersion:            1,
		MinorVersion:            minor,
		FileType:                FileTypePrimary,
		FileFormat:              FileFormatDirect,
		RootCellOffset:          rootOff,
		HiveBinsDataSize:        uint32(len(w.b) - BaseBlockSize),
		ClusteringFactor:        1,
	}
	name := utf16.Encode([]rune(opts.FileName))
	for i := 0; i < len(name) && 2*i+2 < bbFileNameSize; i++ {
		put16(bb.FileName[:], 2*i, name[i])
	}
	bb.put(w.b)
	return w.b, nil
}

// writer builds a hive in memory. Offsets are relative to the hive bins data,
// which starts at w.b[BaseBlockSize].
type writer struct {
	minor       uint32
	b           []byte
	pos, binEnd int // next free byte and end of the current hive bin (relative)
	lastWritten uint64
	sk          map[string]int // descriptor bytes -> index in skCells
	skCells     []skCell
	names       []uint16 // upper-cased subkey names, append-only
	defaultSD   []byte
}

type skCell struct {
	off  uint32
	refs uint32
}

// at returns the hive-bins-relative offset off as an index into w.b.
func at(off uint32) int { return BaseBlockSize + int(off) }

// alloc reserves an allocated cell with room for n bytes of data and returns its
// offset; its data starts at w.b[at(off)+4].
func (w *writer) alloc(n int) (uint32, error) {
	size := (n + 4 + CellAlignment - 1) &^ (CellAlignment - 1)
	if w.pos+size > w.binEnd {
		w.closeBin()
		binSize := (size + HbinHeaderSize + HbinAlignment - 1) &^ (HbinAlignment - 1)
		if uint64(w.binEnd)+uint64(binSize) > 0x7FFFF000 {
			return 0, writeError("hive larger than 2 GiB")
		}
		start := w.binEnd
		w.b = slices.Grow(w.b, binSize)
		w.b = w.b[:len(w.b)+binSize]
		clear(w.b[at(uint32(start)):])
		hb := HiveBin{Signature: [4]byte{'h', 'b', 'i', 'n'}, Offset: uint32(start), Size: uint32(binSize)}
		if start == 0 {
			hb.Timestamp = w.lastWritten // a backup of the base block's
		}
		hb.put(w.b[at(uint32(start)):])
		w.pos, w.binEnd = start+HbinHeaderSize, start+binSize
	}
	off := uint32(w.pos)
	put32(w.b, at(off), uint32(-int32(size)))
	w.pos += size
	return off, nil
}

// closeBin turns the rest of the current hive bin into one free cell.
func (w *writer) closeBin() {
	if rest := w.binEnd - w.pos; rest > 0 {
		put32(w.b, at(uint32(w.pos)), uint32(rest))
	}
	w.pos = w.binEnd
}

// data returns the data of the cell at off.
func (w *writer) data(off uint32) []byte { return w.b[at(off)+4:] }

// encodedName is a key or value name as stored: Latin-1 when every character is
// below U+0100 (compressed), else UTF-16LE.
type encodedName struct {
	s          string
	compressed bool
	units      int // length in UTF-16 code units
}

func encodeName(s string) encodedName {
	n := encodedName{s: s, compressed: true}
	for _, r := range s {
		if r >= 0x100 {
			n.compressed = false
		}
		if r >= 0x10000 {
			n.units += 2
		} else {
			n.units++
		}
	}
	return n
}

// size is the stored length in bytes.
func (n encodedName) size() int {
	if n.compressed {
		return n.units
	}
	return 2 * n.units
}

// put stores the name at b.
func (n encodedName) put(b []byte) {
	if n.compressed {
		i := 0
		for _, r := range n.s {
			b[i] = byte(r)
			i++
		}
		return
	}
	i := 0
	for _, u := range utf16.Encode([]rune(n.s)) {
		put16(b, i, u)
		i += 2
	}
}

// subkey is a child on its way into a sorted subkeys list.
type subkey struct {
	k    *Key
	up   []uint16 // upper-cased UTF-16 name: sort order and lh hash
	off  uint32
	hint uint32 // lh hash or lf name hint
}

// key writes k (and everything below it) and returns its nk offset.
func (w *writer) key(k *Key, parent uint32, depth int) (uint32, error) {
	if depth > maxKeyDepth {
		return 0, writeError("keys nested deeper than %d (a cycle?)", maxKeyDepth)
	}
	name := encodeName(k.Name)
	if name.size() > 0xFFFF {
		return 0, writeError("key name of %d bytes is too long: %.40q", name.size(), k.Name)
	}
	off, err := w.alloc(nkKeyName + name.size())
	if err != nil {
		return 0, err
	}
	name.put(w.data(off)[nkKeyName:])
	nk := KeyNode{
		Flags:                     k.Flags &^ (KEY_VOLATILE | KEY_HIVE_EXIT | KEY_HIVE_ENTRY | KEY_COMP_NAME | KEY_PREDEF_HANDLE),
		LastWrittenTimestamp:      timeToFiletime(k.LastWrite),
		Parent:                    parent,
		SubkeysListOffset:         CellOffsetNil,
		VolatileSubkeysListOffset: CellOffsetNil,
		KeyValuesListOffset:       CellOffsetNil,
		ClassNameOffset:           CellOffsetNil,
		KeyNameLength:             uint16(name.size()),
	}
	if name.compressed {
		nk.Flags |= KEY_COMP_NAME
	}
	if depth == 0 {
		nk.Flags |= KEY_HIVE_ENTRY | KEY_NO_DELETE
	}

	if k.Class != "" {
		class := utf16.Encode([]rune(k.Class))
		if 2*len(class) > 0xFFFF {
			return 0, writeError("class name of key %.40q is too long", k.Name)
		}
		if nk.ClassNameOffset, err = w.alloc(2 * len(class)); err != nil {
			return 0, err
		}
		cc := w.data(nk.ClassNameOffset)
		for i, u := range class {
			put16(cc, 2*i, u)
		}
		nk.ClassNameLength = uint16(2 * len(class))
	}

	if nk.KeySecurityOffset, err = w.security(k.Security); err != nil {
		return 0, err
	}

	if len(k.Values) > 0 {
		if nk.KeyValuesListOffset, err = w.alloc(4 * len(k.Values)); err != nil {
			return 0, err
		}
		for i := range k.Values {
			v := &k.Values[i]
			voff, nameBytes, err := w.value(v)
			if err != nil {
				return 0, err
			}
			put32(w.data(nk.KeyValuesListOffset), 4*i, voff)
			nk.LargestValueNameLength = max(nk.LargestValueNameLength, uint32(nameBytes))
			nk.LargestValueDataSize = max(nk.LargestValueDataSize, uint32(len(v.Data)))
		}
		nk.NumberOfKeyValues = uint32(len(k.Values))
	}

	// Subkeys, sorted as Windows compares names.
	if len(k.Subkeys) > 0 {
		subs := make([]subkey, len(k.Subkeys))
		for i, s := range k.Subkeys {
			if s == nil {
				return 0, writeError("nil subkey of key %.40q", k.Name)
			}
			// Names go into one append-only pool: earlier slices stay valid.
			n := len(w.names)
			w.names = appendUpcase(w.names, s.Name)
			u := w.names[n:len(w.names):len(w.names)]
			nk.LargestSubkeyNameLength = max(nk.LargestSubkeyNameLength, uint32(2*len(u)))
			nk.LargestSubkeyClassNameLength = max(nk.LargestSubkeyClassNameLength, uint32(2*utf16le.Len(s.Class)))
			subs[i] = subkey{k: s, up: u}
		}
		slices.SortFunc(subs, func(a, b subkey) int { return slices.Compare(a.up, b.up) })
		for i := 1; i < len(subs); i++ {
			if slices.Equal(subs[i-1].up, subs[i].up) {
				return 0, writeError("key %.40q has two subkeys named %q", k.Name, subs[i].k.Name)
			}
		}
		for i := range subs {
			if subs[i].off, err = w.key(subs[i].k, off, depth+1); err != nil {
				return 0, err
			}
			subs[i].hint = w.hint(subs[i])
		}
		if nk.SubkeysListOffset, err = w.subkeysList(subs); err != nil {
			return 0, err
		}
		nk.NumberOfSubkeys = uint32(len(subs))
	}
	nk.put(w.data(off))
	return off, nil
}

// hint is the second field of a leaf element: the name hash of an lh leaf (1.5)
// or the name hint of an lf leaf (1.3): its first 4 characters (Latin-1, NUL
// padded), or 0 when one of them is not below U+0100.
func (w *writer) hint(s subkey) uint32 {
	if w.minor >= 5 {
		var h uint32
		for _, u := range s.up {
			h = 37*h + uint32(u)
		}
		return h
	}
	var h [4]byte
	i := 0
	for _, r := range s.k.Name {
		if i == 4 {
			break
		}
		if r >= 0x100 {
			return 0 // not representable: Windows leaves the hint null
		}
		h[i] = byte(r)
		i++
	}
	return le32(h[:], 0)
}

// subkeysList writes one leaf, or leaves of LeafSize under an index root.
func (w *writer) subkeysList(subs []subkey) (uint32, error) {
	sig := sigLH
	if w.minor < 5 {
		sig = sigLF // lh exists from 1.5 on
	}
	leaf := func(subs []subkey) (uint32, error) {
		off, err := w.alloc(listElements + 8*len(subs))
		if err != nil {
			return 0, err
		}
		c := w.data(off)
		put16(c, listSignature, sig)
		put16(c, listNumElements, uint16(len(subs)))
		for i, s := range subs {
			put32(c, listElements+8*i, s.off)
			put32(c, listElements+8*i+4, s.hint)
		}
		return off, nil
	}
	if len(subs) <= LeafSize {
		return leaf(subs)
	}
	n := (len(subs) + LeafSize - 1) / LeafSize
	if n > 0xFFFF {
		return 0, writeError("too many subkeys (%d) under one key", len(subs))
	}
	leaves := make([]uint32, 0, n)
	for len(subs) > 0 {
		m := min(len(subs), LeafSize)
		off, err := leaf(subs[:m])
		if err != nil {
			return 0, err
		}
		leaves = append(leaves, off)
		subs = subs[m:]
	}
	off, err := w.alloc(listElements + 4*len(leaves))
	if err != nil {
		return 0, err
	}
	c := w.data(off)
	put16(c, listSignature, sigRI)
	put16(c, listNumElements, uint16(len(leaves)))
	for i, l := range leaves {
		put32(c, listElements+4*i, l)
	}
	return off, nil
}

// value writes the vk cell of v and its data; it returns the vk offset and the
// name's length as a UTF-16 string (for the nk's largest value name length).
func (w *writer) value(v *Value) (uint32, int, error) {
	name := encodeName(v.Name)
	if name.size() > 0xFFFF {
		return 0, 0, writeError("value name of %d bytes is too long: %.40q", name.size(), v.Name)
	}
	if uint64(len(v.Data)) >= DataSizeInline {
		return 0, 0, writeError("value %.40q: data of %d bytes is too long", v.Name, len(v.Data))
	}
	off, err := w.alloc(vkName + name.size())
	if err != nil {
		return 0, 0, err
	}
	name.put(w.data(off)[vkName:])
	vk := KeyValue{NameLength: uint16(name.size()), DataType: v.Type, DataSize: uint32(len(v.Data))}
	if name.compressed && name.size() > 0 {
		vk.Flags = VALUE_COMP_NAME
	}
	switch n := len(v.Data); {
	case n <= 4:
		vk.DataSize |= DataSizeInline
		var inline [4]byte
		copy(inline[:], v.Data)
		vk.DataOffset = le32(inline[:], 0)
	case n > BigDataSegment && w.minor >= 4:
		vk.DataOffset, err = w.bigData(v.Data)
	default:
		if vk.DataOffset, err = w.alloc(n); err == nil {
			copy(w.data(vk.DataOffset), v.Data)
		}
	}
	if err != nil {
		return 0, 0, err
	}
	vk.put(w.data(off))
	return off, 2 * name.units, nil
}

// bigData writes data as db record: segments of 16344 bytes, their list, the db.
func (w *writer) bigData(data []byte) (uint32, error) {
	n := (len(data) + BigDataSegment - 1) / BigDataSegment
	if n > 0xFFFF {
		return 0, writeError("value data of %d bytes is too long", len(data))
	}
	segs := make([]uint32, n)
	for i := range segs {
		chunk := data[i*BigDataSegment : min(len(data), (i+1)*BigDataSegment)]
		off, err := w.alloc(len(chunk))
		if err != nil {
			return 0, err
		}
		copy(w.data(off), chunk)
		segs[i] = off
	}
	list, err := w.alloc(4 * n)
	if err != nil {
		return 0, err
	}
	for i, s := range segs {
		put32(w.data(list), 4*i, s)
	}
	off, err := w.alloc(dbHeaderSize)
	if err != nil {
		return 0, err
	}
	db := BigData{NumberOfSegments: uint16(n), SegmentsListOffset: list}
	db.put(w.data(off))
	return off, nil
}

// security returns the sk cell holding desc (or the default descriptor when nil),
// writing it the first time and counting one more reference.
func (w *writer) security(desc []byte) (uint32, error) {
	if desc == nil {
		if w.defaultSD == nil {
			w.defaultSD = DefaultSecurityDescriptor()
		}
		desc = w.defaultSD
	}
	if i, ok := w.sk[string(desc)]; ok {
		w.skCells[i].refs++
		return w.skCells[i].off, nil
	}
	if len(desc) > 0xFFFF {
		return 0, writeError("security descriptor of %d bytes is too long", len(desc))
	}
	off, err := w.alloc(skDescriptor + len(desc))
	if err != nil {
		return 0, err
	}
	c := w.data(off)
	sk := KeySecurity{SecurityDescriptorSize: uint32(len(desc))}
	sk.put(c)
	copy(c[skDescriptor:], desc)
	w.sk[string(desc)] = len(w.skCells)
	w.skCells = append(w.skCells, skCell{off: off, refs: 1})
	return off, nil
}

// linkSecurity links the sk cells into one circular list (flink to the next,
// blink to the previous) and stores their reference counts.
func (w *writer) linkSecurity() {
	n := len(w.skCells)
	for i, s := range w.skCells {
		c := w.data(s.off)
		sk := parseKeySecurity(c)
		sk.Flink = w.skCells[(i+1)%n].off
		sk.Blink = w.skCells[(i+n-1)%n].off
		sk.ReferenceCount = s.refs
		sk.put(c)
	}
}

// DefaultSecurityDescriptor returns the self-relative descriptor Write gives keys
// without one: owner BUILTIN\Administrators, group SYSTEM, and a DACL granting
// KEY_ALL_ACCESS to SYSTEM and Administrators and KEY_READ to Everyone, all
// inherited by subkeys (CONTAINER_INHERIT_ACE).
func DefaultSecurityDescriptor() []byte {
	system := sid(5, 18)          // S-1-5-18
	admins := sid(5, 32, 544)     // S-1-5-32-544
	everyone := sid(1, 0)         // S-1-1-0
	const keyAllAccess = 0xF003F  // KEY_ALL_ACCESS
	const keyRead = 0x20019       // KEY_READ
	const containerInherit = 0x02 // CONTAINER_INHERIT_ACE
	var acl bytes.Buffer
	aces := []struct {
		mask uint32
		sid  []byte
	}{{keyAllAccess, system}, {keyAllAccess, admins}, {keyRead, everyone}}
	for _, a := range aces {
		ace := make([]byte, 8, 8+len(a.sid))
		ace[0] = 0 // ACCESS_ALLOWED_ACE_TYPE
		ace[1] = containerInherit
		put16(ace, 2, uint16(8+len(a.sid)))
		put32(ace, 4, a.mask)
		acl.Write(append(ace, a.sid...))
	}
	hdr := make([]byte, 8)
	hdr[0] = 2 // ACL_REVISION
	put16(hdr, 2, uint16(8+acl.Len()))
	put16(hdr, 4, uint16(len(aces)))

	sd := make([]byte, 20)
	sd[0] = 1                // SECURITY_DESCRIPTOR_REVISION
	put16(sd, 2, 0x8000|0x4) // SE_SELF_RELATIVE | SE_DACL_PRESENT
	daclOff := len(sd)
	sd = append(append(sd, hdr...), acl.Bytes()...)
	ownerOff := len(sd)
	sd = append(sd, admins...)
	groupOff := len(sd)
	sd = append(sd, system...)
	put32(sd, 4, uint32(ownerOff))
	put32(sd, 8, uint32(groupOff))
	put32(sd, 12, 0) // no SACL
	put32(sd, 16, uint32(daclOff))
	return sd
}

// sid encodes a SID with a 6-byte identifier authority and sub-authorities.
func sid(authority byte, subs ...uint32) []byte {
	b := make([]byte, 8+4*len(subs))
	b[0] = 1 // revision
	b[1] = byte(len(subs))
	b[7] = authority
	for i, s := range subs {
		put32(b, 8+4*i, s)
	}
	return b
}

// sortKeys sorts keys the way Write stores them: by upper-cased UTF-16 name.
func sortKeys(keys []*Key) {
	slices.SortStableFunc(keys, func(a, b *Key) int {
		return slices.Compare(appendUpcase(nil, a.Name), appendUpcase(nil, b.Name))
	})
}

// appendUpcase appends the upper-cased UTF-16 code units of s to dst.
func appendUpcase(dst []uint16, s string) []uint16 {
	start := len(dst)
	for _, r := range s {
		dst = utf16.AppendRune(dst, r)
	}
	for i := start; i < len(dst); i++ {
		dst[i] = upcase16(dst[i])
	}
	return dst
}

// estimateSize guesses the size of the hive bins a tree needs, so that the
// writer's buffer rarely grows. It gives up (false) on a tree nested too deep,
// which Write refuses anyway, so that a cyclic tree costs linear time.
func estimateSize(k *Key, depth int) (int, bool) {
	if depth > maxKeyDepth {
		return 0, false
	}
	n := 96 + 2*len(k.Name) + 2*len(k.Class) + 16*len(k.Subkeys) + 8*len(k.Values)
	for _, v := range k.Values {
		n += 32 + len(v.Name)
		if len(v.Data) > 4 {
			n += len(v.Data) + 12
		}
	}
	for _, s := range k.Subkeys {
		if s != nil {
			m, ok := estimateSize(s, depth+1)
			if !ok {
				return 0, false
			}
			n += m
		}
	}
	return n, true
}

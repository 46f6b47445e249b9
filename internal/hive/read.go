package hive

import (
	"fmt"
	"io"
	"unsafe"

	"wolfpack/internal/utf16le"
)

// Limits that keep a hostile hive from making the reader loop or allocate without bound.
const (
	maxKeyDepth    = 512 // nesting of keys below the root
	maxListDepth   = 8   // nesting of index roots (Windows writes one level)
	budgetPerByte  = 16  // allocation budget: this many bytes per byte of file ...
	budgetConstant = 1 << 20
	keyCost        = int64(unsafe.Sizeof(Key{})) + 8
	valueCost      = int64(unsafe.Sizeof(Value{}))
)

// Read decodes the primary file of a hive, as it is on disk: transaction logs are
// not applied, so a dirty hive (Hive.Dirty: its sequence numbers differ) gives its
// older, consistent state. A base block with a wrong checksum cannot be trusted
// without a log to recover it from, so Read refuses it. Use ReadFile or
// ReadWithLogs to apply the logs.
//
// Two keys sharing a subkey or a subkeys list (a damaged hive) are refused: the
// tree would be a graph, and writing it back or changing one key would change the
// other. A subkey count that disagrees with the subkeys list is tolerated (the list
// wins) and reported in Hive.Damage.
//
// The whole file (up to the end of its hive bins data) is read into memory once;
// names and value data of the returned tree may share that memory.
func Read(r io.ReaderAt, size int64) (*Hive, error) {
	if size < BaseBlockSize {
		return nil, &FormatError{0, "file smaller than a base block:", size}
	}
	head := make([]byte, BaseBlockSize)
	if err := readFull(r, head, 0); err != nil {
		return nil, fmt.Errorf("hive: reading base block: %w", err)
	}
	bb := parseBaseBlock(head)
	if err := checkBaseBlock(&bb, FileTypePrimary); err != nil {
		return nil, err
	}
	end := int64(BaseBlockSize) + int64(bb.HiveBinsDataSize)
	if end > size {
		return nil, &FormatError{bbHiveBinsDataSize, "hive bins data size beyond end of file:", bb.HiveBinsDataSize}
	}
	buf := make([]byte, end)
	copy(buf, head)
	if err := readFull(r, buf[BaseBlockSize:], BaseBlockSize); err != nil {
		return nil, fmt.Errorf("hive: reading hive bins: %w", err)
	}
	return decode(buf)
}

// readFull fills p from off; io.EOF with a full read is no error.
func readFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// checkBaseBlock validates the fields the reader relies on.
func checkBaseBlock(bb *BaseBlock, fileType uint32) error {
	if string(bb.Signature[:]) != sigRegf {
		return &FormatError{bbSignature, "bad base block signature", string(bb.Signature[:])}
	}
	if bb.MajorVersion != 1 {
		return &FormatError{bbMajorVersion, "unsupported major version", bb.MajorVersion}
	}
	if bb.MinorVersion < 3 || bb.MinorVersion > 6 {
		return &FormatError{bbMinorVersion, "unsupported minor version", bb.MinorVersion}
	}
	if bb.FileType != fileType {
		return &FormatError{bbFileType, "unexpected file type", bb.FileType}
	}
	if bb.FileFormat != FileFormatDirect {
		return &FormatError{bbFileFormat, "unsupported file format", bb.FileFormat}
	}
	if bb.HiveBinsDataSize == 0 || bb.HiveBinsDataSize%HbinAlignment != 0 {
		return &FormatError{bbHiveBinsDataSize, "bad hive bins data size", bb.HiveBinsDataSize}
	}
	return nil
}

// decode parses a complete primary file held in buf, which it takes ownership of.
func decode(buf []byte) (*Hive, error) {
	if len(buf) < BaseBlockSize {
		return nil, &FormatError{0, "file smaller than a base block:", int64(len(buf))}
	}
	bb := parseBaseBlock(buf)
	if err := checkBaseBlock(&bb, FileTypePrimary); err != nil {
		return nil, err
	}
	end := uint64(BaseBlockSize) + uint64(bb.HiveBinsDataSize)
	if end > uint64(len(buf)) {
		return nil, &FormatError{bbHiveBinsDataSize, "hive bins data size beyond end of file:", bb.HiveBinsDataSize}
	}
	if sum := baseBlockChecksum(buf); sum != bb.Checksum {
		return nil, &FormatError{bbChecksum, fmt.Sprintf("base block checksum mismatch (computed %#x), stored", sum), bb.Checksum}
	}
	bins := buf[BaseBlockSize:end]
	if err := checkHiveBins(bins); err != nil {
		return nil, err
	}
	h := &Hive{
		Major:       bb.MajorVersion,
		Minor:       bb.MinorVersion,
		Dirty:       bb.PrimarySequenceNumber != bb.SecondarySequenceNumber,
		FileName:    fileName(bb.FileName[:]),
		LastWritten: filetimeToTime(bb.LastWrittenTimestamp),
	}
	r := &reader{
		b:       bins,
		minor:   bb.MinorVersion,
		visited: make([]uint64, len(bins)/CellAlignment/64+1),
		budget:  int64(len(buf))*budgetPerByte + budgetConstant,
	}
	root := new(Key)
	if err := r.readKey(bb.RootCellOffset, root, 0); err != nil {
		return nil, err
	}
	h.Root = root
	h.Damage = r.damage
	return h, nil
}

// fileName decodes the base block's UTF-16LE file name up to its first NUL.
func fileName(b []byte) string {
	n := 0
	for n+1 < len(b) && (b[n] != 0 || b[n+1] != 0) {
		n += 2
	}
	return utf16le.Decode(b[:n])
}

// checkHiveBins walks the hbin headers: each must carry its own offset and a size
// that is a positive multiple of 4096 staying inside the hive bins data.
func checkHiveBins(bins []byte) error {
	for pos := 0; pos < len(bins); {
		if pos+HbinHeaderSize > len(bins) {
			return &FormatError{int64(BaseBlockSize + pos), "hive bin header beyond end of hive bins data", nil}
		}
		hb := parseHiveBin(bins[pos:])
		if string(hb.Signature[:]) != sigHbin {
			return &FormatError{int64(BaseBlockSize + pos), "bad hive bin signature", string(hb.Signature[:])}
		}
		if hb.Offset != uint32(pos) {
			return &FormatError{int64(BaseBlockSize + pos + hbinOffset), "hive bin offset does not match its position:", hb.Offset}
		}
		size := hb.Size
		if size == 0 || size%HbinAlignment != 0 || uint64(pos)+uint64(size) > uint64(len(bins)) {
			return &FormatError{int64(BaseBlockSize + pos + hbinSize), "bad hive bin size", size}
		}
		pos += int(size)
	}
	return nil
}

// reader walks the cells of one hive. Offsets are relative to the hive bins data.
type reader struct {
	b       []byte   // hive bins data
	minor   uint32   // minor version: db records exist from 4 on
	visited []uint64 // bitmap (one bit per 8 bytes) of nk and subkey-list cells seen
	budget  int64    // bytes the tree may still make us allocate
	scratch []uint32 // subkey offsets, used as a stack across the recursion
	damage  []error
}

// errAt builds a FormatError at a hive-bins-relative offset.
func errAt(off uint32, field int, msg string, val any) error {
	return &FormatError{int64(BaseBlockSize) + int64(off) + 4 + int64(field), msg, val}
}

// cell returns the data of the allocated cell at off (without its size field).
func (r *reader) cell(off uint32, what string) ([]byte, error) {
	if off == CellOffsetNil || off%CellAlignment != 0 || uint64(off)+8 > uint64(len(r.b)) {
		return nil, &FormatError{int64(BaseBlockSize) + int64(off), "bad " + what + " cell offset", off}
	}
	sz := int64(int32(le32(r.b, int(off))))
	if sz >= 0 {
		return nil, &FormatError{int64(BaseBlockSize) + int64(off), what + " cell is not allocated: size", sz}
	}
	sz = -sz
	if sz < 8 || uint64(off)+uint64(sz) > uint64(len(r.b)) {
		return nil, &FormatError{int64(BaseBlockSize) + int64(off), "bad " + what + " cell size", sz}
	}
	end := int(off) + int(sz)
	return r.b[int(off)+4 : end : end], nil
}

// spend takes n bytes from the allocation budget.
func (r *reader) spend(n int64, off uint32) error {
	r.budget -= n
	if r.budget < 0 {
		return errAt(off, 0, "hive references more data than it holds", nil)
	}
	return nil
}

// visit marks the cell at off as seen; it reports false when it already was.
func (r *reader) visit(off uint32) bool {
	i := off / CellAlignment
	w, bit := i/64, uint64(1)<<(i%64)
	if r.visited[w]&bit != 0 {
		return false
	}
	r.visited[w] |= bit
	return true
}

// name decodes a key or value name, without copying when it is ASCII.
func (r *reader) name(b []byte, compressed bool) string {
	if len(b) == 0 {
		return ""
	}
	if compressed {
		for _, c := range b {
			if c >= 0x80 {
				return decodeLatin1(b)
			}
		}
		// The buffer is ours and never written again: share it.
		return unsafe.String(&b[0], len(b))
	}
	return utf16le.Decode(b)
}

// readKey decodes the nk cell at off into k, then its values and subkeys.
func (r *reader) readKey(off uint32, k *Key, depth int) error {
	if depth > maxKeyDepth {
		return errAt(off, 0, "keys nested too deep:", depth)
	}
	c, err := r.cell(off, "key node")
	if err != nil {
		return err
	}
	if len(c) < nkKeyName || le16(c, nkSignature) != sigNK {
		return errAt(off, 0, "bad key node signature", string(c[:2]))
	}
	if !r.visit(off) {
		return errAt(off, 0, "key node referenced twice (cycle)", nil)
	}
	nk := parseKeyNode(c)
	nameLen := int(nk.KeyNameLength)
	if nkKeyName+nameLen > len(c) {
		return errAt(off, nkKeyNameLen, "key name beyond its cell: length", nameLen)
	}
	k.Name = r.name(c[nkKeyName:nkKeyName+nameLen], nk.Flags&KEY_COMP_NAME != 0)
	k.Flags = nk.Flags
	k.LastWrite = filetimeToTime(nk.LastWrittenTimestamp)

	if n := int(nk.ClassNameLength); n > 0 && nk.ClassNameOffset != CellOffsetNil {
		cc, err := r.cell(nk.ClassNameOffset, "class name")
		if err != nil {
			return err
		}
		if n > len(cc) {
			return errAt(off, nkClassNameLen, "class name beyond its cell: length", n)
		}
		if err := r.spend(int64(n), off); err != nil {
			return err
		}
		k.Class = utf16le.Decode(cc[:n])
	}

	if soff := nk.KeySecurityOffset; soff != CellOffsetNil {
		sc, err := r.cell(soff, "key security")
		if err != nil {
			return err
		}
		if len(sc) < skDescriptor || le16(sc, skSignature) != sigSK {
			return errAt(soff, 0, "bad key security signature", nil)
		}
		n := parseKeySecurity(sc).SecurityDescriptorSize
		if uint64(n) > uint64(len(sc)-skDescriptor) {
			return errAt(soff, skDescriptorSize, "security descriptor beyond its cell: size", n)
		}
		k.Security = sc[skDescriptor : skDescriptor+int(n) : skDescriptor+int(n)]
	}

	// A predefined handle keeps its handle in the value count.
	if n := nk.NumberOfKeyValues; n > 0 && nk.Flags&KEY_PREDEF_HANDLE == 0 {
		if err := r.readValues(off, nk.KeyValuesListOffset, n, k); err != nil {
			return err
		}
	}

	if nk.NumberOfSubkeys == 0 {
		return nil
	}
	base := len(r.scratch)
	if err := r.subkeyList(nk.SubkeysListOffset, 0); err != nil {
		return err
	}
	n := len(r.scratch) - base
	if want := nk.NumberOfSubkeys; uint64(want) != uint64(n) {
		r.damage = append(r.damage, errAt(off, nkNumSubkeys, fmt.Sprintf("key %q counts %d subkeys, its list holds", k.Name, want), n))
	}
	if err := r.spend(int64(n)*keyCost, off); err != nil { // the subkeys' Key structs
		return err
	}
	keys := make([]Key, n)
	k.Subkeys = make([]*Key, n)
	for i := range keys {
		k.Subkeys[i] = &keys[i]
		if err := r.readKey(r.scratch[base+i], &keys[i], depth+1); err != nil {
			return err
		}
	}
	r.scratch = r.scratch[:base]
	return nil
}

// subkeyList appends to r.scratch the nk offsets of the list (li, lf, lh or ri) at off.
func (r *reader) subkeyList(off uint32, depth int) error {
	c, err := r.cell(off, "subkeys list")
	if err != nil {
		return err
	}
	if len(c) < listElements {
		return errAt(off, 0, "subkeys list too short", len(c))
	}
	if !r.visit(off) {
		return errAt(off, 0, "subkeys list referenced twice (cycle)", nil)
	}
	sig := le16(c, listSignature)
	n := int(le16(c, listNumElements))
	step := 4
	if sig == sigLF || sig == sigLH {
		step = 8
	}
	if listElements+n*step > len(c) {
		return errAt(off, listNumElements, "subkeys list elements beyond its cell: count", n)
	}
	if err := r.spend(int64(n)*4, off); err != nil {
		return err
	}
	switch sig {
	case sigLI, sigLF, sigLH:
		for i := 0; i < n; i++ {
			r.scratch = append(r.scratch, le32(c, listElements+i*step))
		}
	case sigRI:
		if depth >= maxListDepth {
			return errAt(off, 0, "index roots nested too deep:", depth)
		}
		for i := 0; i < n; i++ {
			if err := r.subkeyList(le32(c, listElements+i*4), depth+1); err != nil {
				return err
			}
		}
	default:
		return errAt(off, 0, "bad subkeys list signature", string(c[:2]))
	}
	return nil
}

// readValues decodes the n values of the key values list at off.
func (r *reader) readValues(nk, off uint32, n uint32, k *Key) error {
	c, err := r.cell(off, "key values list")
	if err != nil {
		return err
	}
	if uint64(n)*4 > uint64(len(c)) {
		return errAt(nk, nkNumValues, "key values list shorter than the value count", n)
	}
	if err := r.spend(int64(n)*valueCost, off); err != nil {
		return err
	}
	k.Values = make([]Value, n)
	for i := range k.Values {
		if err := r.readValue(le32(c, 4*i), &k.Values[i]); err != nil {
			return err
		}
	}
	return nil
}

// readValue decodes the vk cell at off and its data.
func (r *reader) readValue(off uint32, v *Value) error {
	c, err := r.cell(off, "key value")
	if err != nil {
		return err
	}
	if len(c) < vkName || le16(c, vkSignature) != sigVK {
		return errAt(off, 0, "bad key value signature", nil)
	}
	vk := parseKeyValue(c)
	nameLen := int(vk.NameLength)
	if vkName+nameLen > len(c) {
		return errAt(off, vkNameLen, "value name beyond its cell: length", nameLen)
	}
	if err := r.spend(int64(nameLen), off); err != nil {
		return err
	}
	v.Name = r.name(c[vkName:vkName+nameLen], vk.Flags&VALUE_COMP_NAME != 0)
	v.Type = vk.DataType
	size, doff := vk.DataSize, vk.DataOffset
	switch {
	case size&DataSizeInline != 0:
		n := size &^ DataSizeInline
		if n > 4 {
			return errAt(off, vkDataSize, "inline value data longer than 4 bytes:", n)
		}
		v.Data = c[vkDataOffset : vkDataOffset+n : vkDataOffset+n]
	case size == 0:
		v.Data = nil
	default:
		dc, err := r.cell(doff, "value data")
		if err != nil {
			return err
		}
		if r.minor >= 4 && size > BigDataSegment && len(dc) >= dbHeaderSize && le16(dc, dbSignature) == sigDB {
			v.Data, err = r.bigData(doff, dc, size)
			return err
		}
		if uint64(size) > uint64(len(dc)) {
			return errAt(off, vkDataSize, "value data beyond its cell: size", size)
		}
		v.Data = dc[:size:size]
	}
	return nil
}

// bigData reassembles the segments of the db record c (at off) into size bytes.
func (r *reader) bigData(off uint32, c []byte, size uint32) ([]byte, error) {
	db := parseBigData(c)
	n := int(db.NumberOfSegments)
	if uint64(size) > uint64(n)*BigDataSegment {
		return nil, errAt(off, dbNumSegments, fmt.Sprintf("big data of %d bytes in too few segments:", size), n)
	}
	list, err := r.cell(db.SegmentsListOffset, "big data segments list")
	if err != nil {
		return nil, err
	}
	if n*4 > len(list) {
		return nil, errAt(off, dbNumSegments, "big data segments beyond their list: count", n)
	}
	if err := r.spend(int64(size), off); err != nil {
		return nil, err
	}
	data := make([]byte, 0, size)
	for i := 0; i < n && len(data) < int(size); i++ {
		soff := le32(list, 4*i)
		seg, err := r.cell(soff, "big data segment")
		if err != nil {
			return nil, err
		}
		take := min(int(size)-len(data), BigDataSegment)
		if take > len(seg) {
			return nil, errAt(soff, 0, "big data segment shorter than its share: size", len(seg))
		}
		data = append(data, seg[:take]...)
	}
	return data, nil
}

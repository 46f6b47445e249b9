package hive

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"wolfpack/internal/regtype"
	"wolfpack/internal/utf16le"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenTree is a small tree whose encoding is pinned in testdata/.
func goldenTree() *Key {
	ts := time.Date(2020, 5, 17, 8, 0, 0, 0, time.UTC)
	return &Key{Name: "Golden", LastWrite: ts, Values: []Value{
		{Name: "", Type: regtype.REG_SZ, Data: utf16le.EncodeZ("root default")},
	}, Subkeys: []*Key{
		{Name: "beta", LastWrite: ts, Class: "Klasse", Values: []Value{
			{Name: "dword", Type: regtype.REG_DWORD, Data: []byte{1, 0, 0, 0}},
			{Name: "bin", Type: regtype.REG_BINARY, Data: []byte("0123456789")},
		}},
		{Name: "Alpha", LastWrite: ts, Subkeys: []*Key{{Name: "Ключ", LastWrite: ts}}},
		{Name: "Ünïcode", LastWrite: ts, Security: DefaultSecurityDescriptor()[:len(DefaultSecurityDescriptor())]},
	}}
}

func TestGolden(t *testing.T) {
	for _, c := range []struct {
		file  string
		minor uint32
	}{{"golden-1.5.hive", 5}, {"golden-1.3.hive", 3}} {
		got, err := Marshal(goldenTree(), WriteOptions{Minor: c.minor, FileName: "golden"})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", c.file)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Errorf("%s: first difference at byte %#x (got %d bytes, want %d)", c.file, i, len(got), len(want))
					break
				}
			}
			if len(got) != len(want) {
				t.Errorf("%s: %d bytes, want %d", c.file, len(got), len(want))
			}
		}
	}
}

// cells walks the hive bins of a file and returns every cell: offset (relative
// to the hive bins data) to signed size.
func cells(t *testing.T, b []byte) map[uint32]int32 {
	t.Helper()
	bins := b[BaseBlockSize : BaseBlockSize+int(le32(b, bbHiveBinsDataSize))]
	out := map[uint32]int32{}
	for pos := 0; pos < len(bins); {
		size := int(le32(bins, pos+hbinSize))
		if string(bins[pos:pos+4]) != sigHbin || size%HbinAlignment != 0 || int(le32(bins, pos+hbinOffset)) != pos {
			t.Fatalf("bad hbin at %#x", pos)
		}
		for c := pos + HbinHeaderSize; c < pos+size; {
			sz := int32(le32(bins, c))
			abs := int(max(sz, -sz))
			if abs == 0 || abs%CellAlignment != 0 || c+abs > pos+size {
				t.Fatalf("bad cell at %#x: size %d", c, sz)
			}
			out[uint32(c)] = sz
			c += abs
		}
		pos += size
	}
	return out
}

// TestWriteStructure checks what Windows and the other readers rely on in a
// written hive, cell by cell.
func TestWriteStructure(t *testing.T) {
	tree := testTree(1200)
	shared := []byte{1, 0, 4, 0x80, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} // a minimal self-relative descriptor
	tree.Subkeys[0].Security = shared
	tree.Subkeys[1].Security = shared
	tree.Subkeys[1].Subkeys[0].Security = append([]byte(nil), shared...) // equal bytes, other slice
	for _, minor := range []uint32{5, 3, 4, 6} {
		b, err := Marshal(tree, WriteOptions{Minor: minor})
		if err != nil {
			t.Fatal(err)
		}
		bb := parseBaseBlock(b)
		if bb.Checksum != baseBlockChecksum(b) || bb.PrimarySequenceNumber != bb.SecondarySequenceNumber ||
			bb.MajorVersion != 1 || bb.MinorVersion != minor || bb.FileType != 0 || bb.FileFormat != 1 ||
			bb.ClusteringFactor != 1 || int(bb.HiveBinsDataSize)+BaseBlockSize != len(b) || bb.HiveBinsDataSize%HbinAlignment != 0 {
			t.Fatalf("1.%d: base block %+v", minor, bb)
		}
		all := cells(t, b)
		r := &reader{b: b[BaseBlockSize:], minor: minor}
		cell := func(off uint32) []byte {
			if sz, ok := all[off]; !ok || sz >= 0 {
				t.Fatalf("1.%d: offset %#x is not an allocated cell", minor, off)
			}
			c, err := r.cell(off, "test")
			if err != nil {
				t.Fatal(err)
			}
			return c
		}

		// Walk the nk tree: parents, counts, maxima, list order and hashes.
		skRefs := map[uint32]uint32{}
		var walk func(off, parent uint32, depth int) string
		walk = func(off, parent uint32, depth int) string {
			c := cell(off)
			flags := le16(c, nkFlags)
			name := r.name(c[nkKeyName:nkKeyName+int(le16(c, nkKeyNameLen))], flags&KEY_COMP_NAME != 0)
			if depth == 0 {
				if flags&(KEY_HIVE_ENTRY|KEY_NO_DELETE) != KEY_HIVE_ENTRY|KEY_NO_DELETE {
					t.Errorf("1.%d: root flags %#x", minor, flags)
				}
			} else if le32(c, nkParent) != parent || flags&KEY_HIVE_ENTRY != 0 {
				t.Errorf("1.%d: %q: parent %#x (want %#x), flags %#x", minor, name, le32(c, nkParent), parent, flags)
			}
			if compressed := flags&KEY_COMP_NAME != 0; compressed != encodeName(name).compressed {
				t.Errorf("1.%d: %q: KEY_COMP_NAME %v", minor, name, compressed)
			}
			skRefs[le32(c, nkSecurity)]++

			var maxVName, maxVData uint32
			nv := le32(c, nkNumValues)
			if nv > 0 {
				list := cell(le32(c, nkValuesList))
				for i := range nv {
					vk := cell(le32(list, int(4*i)))
					vname := r.name(vk[vkName:vkName+int(le16(vk, vkNameLen))], le16(vk, vkFlags)&VALUE_COMP_NAME != 0)
					maxVName = max(maxVName, uint32(2*utf16le.Len(vname)))
					size := le32(vk, vkDataSize)
					n := size &^ DataSizeInline
					maxVData = max(maxVData, n)
					if (size&DataSizeInline != 0) != (n <= 4) {
						t.Errorf("1.%d: value %q of %d bytes: inline bit %v", minor, vname, n, size&DataSizeInline != 0)
					}
					if n > BigDataSegment {
						dc := cell(le32(vk, vkDataOffset))
						isDB := le16(dc, dbSignature) == sigDB
						if isDB != (minor >= 4) {
							t.Errorf("1.%d: value %q of %d bytes: db record %v", minor, vname, n, isDB)
						}
					}
				}
			}
			if le32(c, nkLargestValueNameLen) != maxVName || le32(c, nkLargestValueDataSize) != maxVData {
				t.Errorf("1.%d: %q: largest value name %d data %d, want %d %d", minor, name,
					le32(c, nkLargestValueNameLen), le32(c, nkLargestValueDataSize), maxVName, maxVData)
			}

			ns := le32(c, nkNumSubkeys)
			if ns == 0 {
				return name
			}
			list := cell(le32(c, nkSubkeysList))
			var leaves [][]byte
			switch le16(list, listSignature) {
			case sigRI:
				if ns <= LeafSize {
					t.Errorf("1.%d: %q: index root for %d subkeys", minor, name, ns)
				}
				for i := range int(le16(list, listNumElements)) {
					leaves = append(leaves, cell(le32(list, listElements+4*i)))
				}
			default:
				leaves = [][]byte{list}
			}
			var total uint32
			var prev []uint16
			var maxSName uint32
			for _, leaf := range leaves {
				want := sigLH
				if minor < 5 {
					want = sigLF
				}
				if le16(leaf, listSignature) != want {
					t.Fatalf("1.%d: %q: leaf signature %q", minor, name, leaf[:2])
				}
				n := int(le16(leaf, listNumElements))
				if n > LeafSize {
					t.Errorf("1.%d: %q: leaf of %d entries", minor, name, n)
				}
				for i := range n {
					sub := walk(le32(leaf, listElements+8*i), off, depth+1)
					up := appendUpcase(nil, sub)
					if prev != nil && cmpUint16(prev, up) >= 0 {
						t.Errorf("1.%d: %q: subkey %q out of order", minor, name, sub)
					}
					prev = up
					maxSName = max(maxSName, uint32(2*len(up)))
					if got, want := le32(leaf, listElements+8*i+4), nameHint(sub, minor); got != want {
						t.Errorf("1.%d: %q: hint/hash of %q is %#x, want %#x", minor, name, sub, got, want)
					}
				}
				total += uint32(n)
			}
			if total != ns || le32(c, nkLargestSubkeyNameLen) != maxSName {
				t.Errorf("1.%d: %q: %d subkeys (count %d), largest name %d want %d", minor, name, total, ns, le32(c, nkLargestSubkeyNameLen), maxSName)
			}
			return name
		}
		walk(bb.RootCellOffset, 0, 0)

		// One sk per distinct descriptor, in one circular list, with exact counts.
		if len(skRefs) != 2 {
			t.Errorf("1.%d: %d sk cells, want 2 (default and shared)", minor, len(skRefs))
		}
		if skRefs[le32(cell(bb.RootCellOffset), nkSecurity)] != uint32(tree.CountKeys()-3) {
			t.Errorf("1.%d: default descriptor referenced by %d keys", minor, skRefs[le32(cell(bb.RootCellOffset), nkSecurity)])
		}
		for off, refs := range skRefs {
			sk := cell(off)
			if le32(sk, skReferenceCount) != refs {
				t.Errorf("1.%d: sk at %#x counts %d references, has %d", minor, off, le32(sk, skReferenceCount), refs)
			}
			next := le32(sk, skFlink)
			if _, ok := skRefs[next]; !ok || le32(cell(next), skBlink) != off {
				t.Errorf("1.%d: sk list broken at %#x", minor, off)
			}
		}
	}
}

func cmpUint16(a, b []uint16) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return int(a[i]) - int(b[i])
		}
	}
	return len(a) - len(b)
}

// nameHint computes the lh hash (1.5) or lf hint (1.3) independently of the writer.
func nameHint(name string, minor uint32) uint32 {
	if minor >= 5 {
		var h uint32
		for _, u := range utf16.Encode([]rune(strings.ToUpper(name))) {
			h = 37*h + uint32(u)
		}
		return h
	}
	var hint [4]byte
	for i, r := range []rune(name) {
		if i == 4 {
			break
		}
		if r > 0xFF {
			return 0
		}
		hint[i] = byte(r)
	}
	return le32(hint[:], 0)
}

// Windows' own hints and hashes agree with ours.
func TestWindowsHints(t *testing.T) {
	dir := sharedHives(t)
	checked := 0
	for _, file := range []string{"ManySubkeysHive", "UpcaseHive", "UnicodeHive", "CompHive", "BigDataHive", "ExtendedASCIIHive",
		"WrongOrderHive", "NewFlagsHive", "BogusKeyNamesHive", "DupNameHive", "MultiSzHive", "StringValuesHive", "NewDirtyHive1/RecoveredHive_Windows10"} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		bb := parseBaseBlock(b)
		r := &reader{b: b[BaseBlockSize : BaseBlockSize+int(bb.HiveBinsDataSize)], minor: bb.MinorVersion}
		var walk func(off uint32)
		walk = func(off uint32) {
			c, err := r.cell(off, "nk")
			if err != nil {
				t.Fatal(err)
			}
			if le32(c, nkNumSubkeys) == 0 {
				return
			}
			list, err := r.cell(le32(c, nkSubkeysList), "list")
			if err != nil {
				t.Fatal(err)
			}
			leaves := [][]byte{list}
			if le16(list, 0) == sigRI {
				leaves = nil
				for i := range int(le16(list, 2)) {
					l, err := r.cell(le32(list, 4+4*i), "leaf")
					if err != nil {
						t.Fatal(err)
					}
					leaves = append(leaves, l)
				}
			}
			for _, leaf := range leaves {
				sig := le16(leaf, 0)
				step := 8
				if sig == sigLI {
					step = 4
				}
				for i := range int(le16(leaf, 2)) {
					sub := le32(leaf, 4+step*i)
					sc, err := r.cell(sub, "nk")
					if err != nil {
						t.Fatal(err)
					}
					name := r.name(sc[nkKeyName:nkKeyName+int(le16(sc, nkKeyNameLen))], le16(sc, nkFlags)&KEY_COMP_NAME != 0)
					w := &writer{minor: 3}
					if sig == sigLH {
						w.minor = 5
					}
					// CompHive's compressed name 0x9F (U+009F) carries the
					// hint 0x81, which no rule of the format explains; the
					// hint is only a hint, so non-ASCII names are left out.
					if (sig == sigLF || sig == sigLH) && isASCII(name) {
						if got := w.hint(subkey{k: &Key{Name: name}, up: appendUpcase(nil, name)}); got != le32(leaf, 8+8*i) {
							t.Errorf("%s: %q: our hint %#x, Windows wrote %#x", file, name, got, le32(leaf, 8+8*i))
						}
						checked++
					}
					walk(sub)
				}
			}
		}
		walk(bb.RootCellOffset)
	}
	if checked < 10 {
		t.Errorf("checked only %d hints", checked)
	}
}

func isASCII(s string) bool {
	for _, r := range s {
		if r >= 0x80 {
			return false
		}
	}
	return true
}

func TestWriteEqualsMarshal(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, goldenTree(), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	want, _ := Marshal(goldenTree(), WriteOptions{})
	if !bytes.Equal(buf.Bytes(), want) {
		t.Error("Write and Marshal differ")
	}
	if err := Write(&buf, &Key{Name: "a", Subkeys: []*Key{{Name: "x"}, {Name: "X"}}}, WriteOptions{}); err == nil {
		t.Error("Write accepted duplicate names")
	}
}

// The checksum is the XOR of 127 uint32s, with 0 → 1 and 0xFFFFFFFF → 0xFFFFFFFE.
func TestBaseBlockChecksum(t *testing.T) {
	b := make([]byte, BaseBlockSize)
	if got := baseBlockChecksum(b); got != 1 {
		t.Errorf("all zero: %#x, want 1", got)
	}
	put32(b, 0, 0xFFFFFFFF)
	if got := baseBlockChecksum(b); got != 0xFFFFFFFE {
		t.Errorf("XOR 0xFFFFFFFF: %#x, want 0xFFFFFFFE", got)
	}
	put32(b, 4, 0x0F0F0F0F)
	put32(b, 504, 0x12345678)
	put32(b, 508, 0xAAAAAAAA) // the checksum field itself is not included
	if got, want := baseBlockChecksum(b), uint32(0xFFFFFFFF^0x0F0F0F0F^0x12345678); got != want {
		t.Errorf("checksum %#x, want %#x", got, want)
	}
}

// The default descriptor is a well-formed self-relative SECURITY_DESCRIPTOR.
func TestDefaultSecurityDescriptor(t *testing.T) {
	sd := DefaultSecurityDescriptor()
	if sd[0] != 1 || le16(sd, 2) != 0x8004 {
		t.Fatalf("revision %d control %#x", sd[0], le16(sd, 2))
	}
	sidAt := func(off uint32) []byte {
		if off == 0 || int(off)+8 > len(sd) {
			t.Fatalf("SID offset %d", off)
		}
		n := 8 + 4*int(sd[off+1])
		if sd[off] != 1 || int(off)+n > len(sd) {
			t.Fatalf("bad SID at %d", off)
		}
		return sd[off : int(off)+n]
	}
	if owner := sidAt(le32(sd, 4)); !bytes.Equal(owner, sid(5, 32, 544)) {
		t.Errorf("owner % x", owner)
	}
	if group := sidAt(le32(sd, 8)); !bytes.Equal(group, sid(5, 18)) {
		t.Errorf("group % x", group)
	}
	if le32(sd, 12) != 0 {
		t.Error("SACL offset set without SE_SACL_PRESENT")
	}
	dacl := int(le32(sd, 16))
	size, count := int(le16(sd, dacl+2)), int(le16(sd, dacl+4))
	if sd[dacl] != 2 || dacl+size > len(sd) || count != 3 {
		t.Fatalf("ACL revision %d size %d count %d", sd[dacl], size, count)
	}
	pos := dacl + 8
	for range count {
		aceSize := int(le16(sd, pos+2))
		if sd[pos] != 0 || sd[pos+1] != 0x02 || aceSize != 8+len(sidAt(uint32(pos+8))) {
			t.Errorf("ACE at %d: type %d flags %#x size %d", pos, sd[pos], sd[pos+1], aceSize)
		}
		pos += aceSize
	}
	if pos != dacl+size {
		t.Errorf("ACEs end at %d, ACL at %d", pos, dacl+size)
	}
}

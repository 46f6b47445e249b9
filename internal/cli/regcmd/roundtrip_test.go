package regcmd

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"wolfpack/internal/hive"
	"wolfpack/internal/regfile"
)

// roundTripFile is a .reg file with every value type (and an unknown one), the default
// value, Unicode names, an empty key and a 100 KB value, its sections in the order reg
// export writes them (depth first, subkeys by upper-cased name).
func roundTripFile() *regfile.File {
	sz := func(s string) []byte {
		u := utf16.Encode([]rune(s + "\x00"))
		b := make([]byte, 2*len(u))
		for i, c := range u {
			binary.LittleEndian.PutUint16(b[2*i:], c)
		}
		return b
	}
	big := bytes.Repeat([]byte{0, 1, 2, 3, 0xfe}, 20<<10)
	const top = `HKEY_LOCAL_MACHINE\SOFTWARE\RT`
	return &regfile.File{Format: regfile.Regedit5, Keys: []regfile.Key{
		{Path: top, Values: []regfile.Value{
			{Name: "", Type: 1, Data: sz("default")},
			{Name: "none", Type: 0, Data: []byte{1, 2}},
			{Name: "sz", Type: 1, Data: sz(`C:\path "quoted"`)},
			{Name: "expand", Type: 2, Data: sz(`%SystemRoot%\x`)},
			{Name: "binary", Type: 3, Data: []byte{0xde, 0xad}},
			{Name: "dword", Type: 4, Data: []byte{42, 0, 0, 0}},
			{Name: "dword_be", Type: 5, Data: []byte{0, 0, 0, 42}},
			{Name: "link", Type: 6, Data: sz(`\REGISTRY\MACHINE\SOFTWARE`)[:52]},
			{Name: "multi", Type: 7, Data: append(sz("a"), sz("b")...)},
			{Name: "res", Type: 8, Data: []byte{8}},
			{Name: "full", Type: 9, Data: []byte{9}},
			{Name: "req", Type: 10, Data: []byte{10}},
			{Name: "qword", Type: 11, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
			{Name: "odd type", Type: 0x1234, Data: []byte{7}},
			{Name: "big", Type: 3, Data: big},
		}},
		{Path: top + `\A`},
		{Path: top + `\A\Ünïcödé ключ`, Values: []regfile.Value{{Name: "名前", Type: 1, Data: sz("値")}}},
		{Path: top + `\b`, Values: []regfile.Value{{Name: "", Type: 4, Data: []byte{1, 0, 0, 0}}}},
		{Path: top + `\Zeta`},
		{Path: top + `\Ünï`},
	}}
}

// TestRoundTrips: .reg → registry → .reg, registry → hive → registry and .reg → hive →
// .reg each give back the same file, byte for byte.
func TestRoundTrips(t *testing.T) {
	var want bytes.Buffer
	if err := regfile.Write(&want, roundTripFile()); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	file := func(name string) string { return filepath.Join(h.dir, name) }
	if err := os.WriteFile(file("in.reg"), want.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	exported := func(step string) {
		t.Helper()
		h.ok(`export HKLM\SOFTWARE\RT ` + file("out.reg") + ` /y`)
		got, err := os.ReadFile(file("out.reg"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%s: the export differs from the original (%d bytes, want %d)", step, len(got), want.Len())
		}
	}

	h.ok(`import ` + file("in.reg"))
	exported(".reg → registry → .reg")

	h.ok(`delete HKLM\SOFTWARE\RT /f`)
	h.ok(`import ` + file("out.reg"))
	exported("registry → .reg → registry")

	h.ok(`save HKLM\SOFTWARE\RT ` + file("rt.hiv"))
	h.ok(`delete HKLM\SOFTWARE\RT /f`)
	h.ok(`add HKLM\SOFTWARE\RT /f`)
	h.ok(`restore HKLM\SOFTWARE\RT ` + file("rt.hiv"))
	exported("registry → hive → registry")

	// The codecs alone: .reg → hive → .reg.
	f, err := regfile.Parse(want.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	root := &hive.Key{Name: "RT"}
	byPath := map[string]*hive.Key{strings.ToUpper(f.Keys[0].Path): root}
	for _, k := range f.Keys {
		hk := byPath[strings.ToUpper(k.Path)]
		if hk == nil {
			i := strings.LastIndexByte(k.Path, '\\')
			parent := byPath[strings.ToUpper(k.Path[:i])]
			hk = &hive.Key{Name: k.Path[i+1:]}
			parent.Subkeys = append(parent.Subkeys, hk)
			byPath[strings.ToUpper(k.Path)] = hk
		}
		for _, v := range k.Values {
			hk.Values = append(hk.Values, hive.Value{Name: v.Name, Type: v.Type, Data: v.Data})
		}
	}
	img, err := hive.Marshal(root, hive.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hv, err := hive.Read(bytes.NewReader(img), int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	w := regfile.NewWriter(&got, regfile.Regedit5)
	var walk func(path string, k *hive.Key)
	walk = func(path string, k *hive.Key) {
		w.WriteKey(path)
		for _, v := range k.Values {
			w.WriteValue(v.Name, v.Type, v.Data)
		}
		for _, c := range k.Subkeys {
			walk(path+`\`+c.Name, c)
		}
	}
	walk(f.Keys[0].Path, hv.Root)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Errorf(".reg → hive → .reg differs (%d bytes, want %d)", got.Len(), want.Len())
	}
}

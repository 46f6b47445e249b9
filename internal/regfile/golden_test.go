package regfile

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wolfpack/internal/regtype"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// everyType is a file with a value of every type and every form Write uses.
// REGEDIT4 gets names and strings that code page 1252 holds.
func everyType(format Format) *File {
	uni, uniName := "Ünïcødé ключ 鍵 😀", "名前 😀"
	if format == Regedit4 {
		uni, uniName = "Café €uro ©", "Naïve ½"
	}
	bin := make([]byte, 200)
	for i := range bin {
		bin[i] = byte(i * 7)
	}
	return &File{Format: format, Keys: []Key{
		{Path: `HKEY_LOCAL_MACHINE\SOFTWARE\Wolfpack`, Values: []Value{
			{Name: "", Type: regtype.REG_SZ, Data: sz("default value")},
			{Name: "String", Type: regtype.REG_SZ, Data: sz(`C:\Program Files\Wolfpack "quoted"`)},
			{Name: "EmptyString", Type: regtype.REG_SZ, Data: sz("")},
			{Name: `Back\slash "Name"`, Type: regtype.REG_SZ, Data: sz(`\\server\share\`)},
			{Name: "ExpandSz", Type: regtype.REG_EXPAND_SZ, Data: sz(`%SystemRoot%\system32;%ProgramFiles%\Wolfpack`)},
			{Name: "EmptyExpandSz", Type: regtype.REG_EXPAND_SZ, Data: sz("")},
			{Name: "MultiSz", Type: regtype.REG_MULTI_SZ, Data: multi("first", "second", "third with spaces")},
			{Name: "EmptyMultiSz", Type: regtype.REG_MULTI_SZ, Data: multi()},
			{Name: "Binary", Type: regtype.REG_BINARY, Data: bin},
			{Name: "EmptyBinary", Type: regtype.REG_BINARY},
			{Name: "Dword", Type: regtype.REG_DWORD, Data: []byte{0x1f, 0, 0, 0}},
			{Name: "DwordMax", Type: regtype.REG_DWORD, Data: []byte{0xff, 0xff, 0xff, 0xff}},
			{Name: "DwordBigEndian", Type: regtype.REG_DWORD_BIG_ENDIAN, Data: []byte{0, 0, 0, 1}},
			{Name: "Qword", Type: regtype.REG_QWORD, Data: []byte{0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01}},
			{Name: "None", Type: regtype.REG_NONE, Data: []byte{0xde, 0xad}},
			{Name: "EmptyNone", Type: regtype.REG_NONE},
			{Name: "Link", Type: regtype.REG_LINK, Data: u16(`\Registry\Machine\SOFTWARE\Target`)},
			{Name: "ResourceList", Type: regtype.REG_RESOURCE_LIST, Data: []byte{1, 0, 0, 0}},
			{Name: "FullResourceDescriptor", Type: regtype.REG_FULL_RESOURCE_DESCRIPTOR, Data: []byte{2, 0, 0, 0}},
			{Name: "ResourceRequirementsList", Type: regtype.REG_RESOURCE_REQUIREMENTS_LIST, Data: []byte{3, 0, 0, 0}},
			{Name: "OtherType", Type: 0x12345, Data: []byte{0x42}},
			{Name: "SzWithoutNul", Type: regtype.REG_SZ, Data: u16("no terminator")},
			{Name: "ShortDword", Type: regtype.REG_DWORD, Data: []byte{1, 2}},
			{Name: "ARatherLongValueNameThatPushesTheHexDataFarToTheRightOfTheLine", Type: regtype.REG_BINARY, Data: bin[:40]},
			{Name: "Removed", Delete: true},
		}},
		{Path: `HKEY_LOCAL_MACHINE\SOFTWARE\Wolfpack\` + uni, Values: []Value{
			{Name: uniName, Type: regtype.REG_SZ, Data: sz(uni)},
			{Name: uniName + " expand", Type: regtype.REG_EXPAND_SZ, Data: sz("%" + uni + "%")},
			{Delete: true},
		}},
		{Path: `HKEY_LOCAL_MACHINE\SOFTWARE\Wolfpack\Empty`},
		{Path: `HKEY_LOCAL_MACHINE\SOFTWARE\Wolfpack\Old`, Delete: true},
	}}
}

func TestGolden(t *testing.T) {
	for _, tt := range []struct {
		file   string
		format Format
	}{
		{"every_type_5.reg", Regedit5},
		{"every_type_4.reg", Regedit4},
	} {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", tt.file)
			f := everyType(tt.format)
			got := mustWrite(t, f)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Write differs from %s (go test -update rewrites it):\n%s", path, readable(got))
			}
			checkRegeditBytes(t, want, tt.format)

			back, err := Parse(want)
			if err != nil {
				t.Fatalf("Parse(%s): %v", path, err)
			}
			if err := equalFiles(back, f); err != nil {
				t.Errorf("Parse(%s): %v", path, err)
			}
		})
	}
}

// checkRegeditBytes pins what regedit's files look like at the byte level.
func checkRegeditBytes(t *testing.T, b []byte, format Format) {
	t.Helper()
	var text string
	if format == Regedit5 {
		if !bytes.HasPrefix(b, []byte{0xFF, 0xFE, 'W', 0, 'i', 0}) {
			t.Fatalf("missing UTF-16LE BOM and header: % x", b[:min(len(b), 8)])
		}
		if len(b)%2 != 0 {
			t.Fatalf("odd length %d", len(b))
		}
		text = readable(b)
	} else {
		if !bytes.HasPrefix(b, []byte("REGEDIT4\r\n")) {
			t.Fatalf("missing REGEDIT4 header: %q", b[:min(len(b), 10)])
		}
		text = string(b) // bytes, each one character of code page 1252
	}
	if !strings.HasSuffix(text, "\r\n\r\n") {
		t.Error("file does not end with a blank line")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n")
	if lines[1] != "" {
		t.Error("no blank line after the header")
	}
	for i, l := range lines {
		if strings.ContainsAny(l, "\r\n") {
			t.Errorf("line %d: bare CR or LF", i+1)
		}
		if n := len([]rune(l)); n > 80 && !strings.HasPrefix(l, `"ARatherLong`) {
			t.Errorf("line %d: %d columns", i+1, n)
		}
		if strings.HasPrefix(l, "[") && lines[i-1] != "" {
			t.Errorf("line %d: key not preceded by a blank line", i+1)
		}
	}
}

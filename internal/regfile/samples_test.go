package regfile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"wolfpack/internal/regtype"
)

// The sample files under testdata/ read as they should; the two written in
// regedit's layout are reproduced byte for byte by Write.
func TestSampleFiles(t *testing.T) {
	env := func(s string) []byte { return sz(s) }
	tests := []struct {
		file     string
		want     *File
		rewrites bool // Write(Parse(file)) == file
	}{
		{"handwritten_utf8.reg", &File{Keys: []Key{
			{Path: `HKEY_LOCAL_MACHINE\SOFTWARE\Wolfpack\Handwritten`, Values: []Value{
				{Name: "", Type: regtype.REG_SZ, Data: sz("Default – with an en dash")},
				{Name: "Path", Type: regtype.REG_SZ, Data: sz(`C:\Program Files\Wolfpack\`)},
				{Name: "Quote", Type: regtype.REG_SZ, Data: sz(`say "hi"`)},
				{Name: "Timeout", Type: regtype.REG_DWORD, Data: []byte{0x60, 0xea, 0, 0}},
				{Name: "Blob", Type: regtype.REG_BINARY, Data: []byte{0xde, 0xad, 0xbe, 0xef, 0, 1, 2}},
				{Name: "Env", Type: regtype.REG_EXPAND_SZ, Data: env("%TEMP%")},
				{Name: "Old", Delete: true},
			}},
			{Path: `HKEY_LOCAL_MACHINE\SOFTWARE\Wolfpack\Obsolete`, Delete: true},
		}}, false},
		{"regedit_export_5.reg", &File{Keys: []Key{
			{Path: `HKEY_CURRENT_USER\Environment`, Values: []Value{
				{Name: "Path", Type: regtype.REG_EXPAND_SZ, Data: env(`%USERPROFILE%\AppData\Local\Microsoft\WindowsApps`)},
				{Name: "TEMP", Type: regtype.REG_EXPAND_SZ, Data: env(`%USERPROFILE%\AppData\Local\Temp`)},
				{Name: "OneDrive", Type: regtype.REG_SZ, Data: sz(`C:\Users\Zoë\OneDrive`)},
			}},
			{Path: `HKEY_CURRENT_USER\Software\Wolfpack`, Values: []Value{
				{Name: "Count", Type: regtype.REG_DWORD, Data: []byte{3, 0, 0, 0}},
				{Name: "Big", Type: regtype.REG_QWORD, Data: []byte{0, 0x10, 0, 0, 0, 0, 0, 0}},
				{Name: "Names", Type: regtype.REG_MULTI_SZ, Data: multi("a", "b")},
			}},
		}}, true},
		{"regedit_export_4.reg", &File{Format: Regedit4, Keys: []Key{
			{Path: `HKEY_LOCAL_MACHINE\SOFTWARE\Café`, Values: []Value{
				{Name: "", Type: regtype.REG_SZ, Data: sz("€ price")},
				{Name: "Dir", Type: regtype.REG_SZ, Data: sz(`C:\Café`)},
				{Name: "Expand", Type: regtype.REG_EXPAND_SZ, Data: env(`%windir%\Café`)},
				{Name: "List", Type: regtype.REG_MULTI_SZ, Data: multi("one", "two")},
				{Name: "Flags", Type: regtype.REG_DWORD, Data: []byte{1, 0, 0, 0}},
			}},
		}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			if err := equalFiles(f, tt.want); err != nil {
				t.Fatal(err)
			}
			if out := mustWrite(t, f); tt.rewrites && !bytes.Equal(out, data) {
				t.Errorf("Write(Parse(%s)) differs:\n%s", tt.file, readable(out))
			}
		})
	}
}

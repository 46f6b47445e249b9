package regfile

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"wolfpack/internal/regtype"
)

// valueText writes one value under key K and returns its line(s) as text,
// without the final CRLF.
func valueText(t *testing.T, format Format, v Value) string {
	t.Helper()
	out := readable(mustWrite(t, &File{Format: format, Keys: []Key{{Path: "K", Values: []Value{v}}}}))
	head := format.String() + "\r\n\r\n[K]\r\n"
	if !strings.HasPrefix(out, head) || !strings.HasSuffix(out, "\r\n\r\n") {
		t.Fatalf("layout: %q", out)
	}
	return strings.TrimSuffix(out[len(head):], "\r\n\r\n")
}

func TestWriteValueForms(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		v      Value
		want   string
	}{
		{"REG_SZ", Regedit5, Value{Name: "s", Type: regtype.REG_SZ, Data: sz("text")}, `"s"="text"`},
		{"default", Regedit5, Value{Type: regtype.REG_SZ, Data: sz("d")}, `@="d"`},
		{"escapes", Regedit5, Value{Name: `a"\b`, Type: regtype.REG_SZ, Data: sz(`C:\x "y"\`)}, `"a\"\\b"="C:\\x \"y\"\\"`},
		{"empty REG_SZ", Regedit5, Value{Name: "e", Type: regtype.REG_SZ, Data: sz("")}, `"e"=""`},
		{"unicode", Regedit5, Value{Name: "ключ😀", Type: regtype.REG_SZ, Data: sz("鍵😀")}, `"ключ😀"="鍵😀"`},
		{"REG_SZ without NUL", Regedit5, Value{Name: "s", Type: regtype.REG_SZ, Data: u16("ab")}, `"s"=hex(1):61,00,62,00`},
		{"REG_SZ no data", Regedit5, Value{Name: "s", Type: regtype.REG_SZ}, `"s"=hex(1):`},
		{"REG_SZ odd length", Regedit5, Value{Name: "s", Type: regtype.REG_SZ, Data: []byte{'a', 0, 0}}, `"s"=hex(1):61,00,00`},
		{"REG_SZ embedded NUL", Regedit5, Value{Name: "s", Type: regtype.REG_SZ, Data: sz("a\x00b")}, `"s"=hex(1):61,00,00,00,62,00,00,00`},
		{"REG_SZ line break", Regedit5, Value{Name: "s", Type: regtype.REG_SZ, Data: sz("a\nb")}, `"s"=hex(1):61,00,0a,00,62,00,00,00`},
		{"REG_SZ lone surrogate", Regedit5, Value{Name: "s", Type: regtype.REG_SZ, Data: []byte{0x00, 0xd8, 0, 0}}, `"s"=hex(1):00,d8,00,00`},
		{"REG_DWORD", Regedit5, Value{Name: "d", Type: regtype.REG_DWORD, Data: []byte{0x1f, 0, 0, 0}}, `"d"=dword:0000001f`},
		{"REG_DWORD high", Regedit5, Value{Name: "d", Type: regtype.REG_DWORD, Data: []byte{0x78, 0x56, 0x34, 0x12}}, `"d"=dword:12345678`},
		{"REG_DWORD short", Regedit5, Value{Name: "d", Type: regtype.REG_DWORD, Data: []byte{1, 2}}, `"d"=hex(4):01,02`},
		{"REG_BINARY", Regedit5, Value{Name: "b", Type: regtype.REG_BINARY, Data: []byte{0, 0xab, 0xff}}, `"b"=hex:00,ab,ff`},
		{"empty REG_BINARY", Regedit5, Value{Name: "b", Type: regtype.REG_BINARY}, `"b"=hex:`},
		{"REG_NONE", Regedit5, Value{Name: "n", Type: regtype.REG_NONE, Data: []byte{1}}, `"n"=hex(0):01`},
		{"REG_EXPAND_SZ", Regedit5, Value{Name: "e", Type: regtype.REG_EXPAND_SZ, Data: sz("%A%")}, `"e"=hex(2):25,00,41,00,25,00,00,00`},
		{"REG_MULTI_SZ", Regedit5, Value{Name: "m", Type: regtype.REG_MULTI_SZ, Data: multi("a", "b")}, `"m"=hex(7):61,00,00,00,62,00,00,00,00,00`},
		{"REG_QWORD", Regedit5, Value{Name: "q", Type: regtype.REG_QWORD, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}}, `"q"=hex(b):01,02,03,04,05,06,07,08`},
		{"REG_RESOURCE_REQUIREMENTS_LIST", Regedit5, Value{Name: "r", Type: 10, Data: []byte{9}}, `"r"=hex(a):09`},
		{"big type number", Regedit5, Value{Name: "x", Type: 0xffff0001, Data: []byte{9}}, `"x"=hex(ffff0001):09`},
		{"delete", Regedit5, Value{Name: "gone", Delete: true}, `"gone"=-`},
		{"delete default", Regedit5, Value{Delete: true}, `@=-`},
		{"REGEDIT4 REG_SZ", Regedit4, Value{Name: "Café", Type: regtype.REG_SZ, Data: sz("€\\")}, "\"Caf\xe9\"=\"\x80\\\\\""},
		{"REGEDIT4 REG_SZ outside 1252", Regedit4, Value{Name: "s", Type: regtype.REG_SZ, Data: sz("鍵")}, `"s"=hex(1):75,93,00,00`},
		{"REGEDIT4 REG_EXPAND_SZ narrow", Regedit4, Value{Name: "e", Type: regtype.REG_EXPAND_SZ, Data: sz("%é%")}, `"e"=hex(2):25,e9,25,00`},
		{"REGEDIT4 REG_MULTI_SZ narrow", Regedit4, Value{Name: "m", Type: regtype.REG_MULTI_SZ, Data: multi("a", "b")}, `"m"=hex(7):61,00,62,00,00`},
		{"REGEDIT4 lossy narrow", Regedit4, Value{Name: "e", Type: regtype.REG_EXPAND_SZ, Data: sz("鍵")}, `"e"=hex(2):3f,00`},
		{"REGEDIT4 lossy name", Regedit4, Value{Name: "鍵😀", Type: regtype.REG_DWORD, Data: []byte{0, 0, 0, 0}}, `"??"=dword:00000000`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := valueText(t, tt.format, tt.v); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// The wrapping rule, pinned against regedit's export of a user's Path
// (REG_EXPAND_SZ "%SystemRoot%\system32;%SystemRoot%"): 21 bytes after
// "Path"=hex(2): then 25 bytes on each continuation line.
func TestWriteWrapLikeRegedit(t *testing.T) {
	got := valueText(t, Regedit5, Value{Name: "Path", Type: regtype.REG_EXPAND_SZ, Data: sz(`%SystemRoot%\system32;%SystemRoot%`)})
	want := `"Path"=hex(2):25,00,53,00,79,00,73,00,74,00,65,00,6d,00,52,00,6f,00,6f,00,74,\` + "\r\n" +
		`  00,25,00,5c,00,73,00,79,00,73,00,74,00,65,00,6d,00,33,00,32,00,3b,00,25,00,\` + "\r\n" +
		`  53,00,79,00,73,00,74,00,65,00,6d,00,52,00,6f,00,6f,00,74,00,25,00,00,00`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// Whatever the name's length, no line passes 80 columns, every wrapped line
// ends ",\", continuation lines start with two spaces, and the data reads back.
func TestWriteWrapWidths(t *testing.T) {
	data := make([]byte, 300)
	for i := range data {
		data[i] = byte(i)
	}
	for _, format := range []Format{Regedit5, Regedit4} {
		for n := 0; n < 90; n++ {
			v := Value{Name: strings.Repeat("n", n), Type: regtype.REG_BINARY, Data: data}
			text := valueText(t, format, v)
			lines := strings.Split(text, "\r\n")
			for i, l := range lines {
				if len(l) > 80 && !(i == 0 && n+13 > 80) {
					t.Fatalf("name length %d: line %d has %d columns: %q", n, i, len(l), l)
				}
				if i < len(lines)-1 && !strings.HasSuffix(l, ",\\") {
					t.Fatalf("name length %d: line %d does not end ',\\': %q", n, i, l)
				}
				if i > 0 && (!strings.HasPrefix(l, "  ") || l[2] == ' ') {
					t.Fatalf("name length %d: line %d not indented by two: %q", n, i, l)
				}
			}
			for i, l := range lines[1:] {
				if i < len(lines)-2 && len(l) != 78 { // 25 bytes of "xx," + indent + '\'
					t.Fatalf("name length %d: continuation line %d is %d columns", n, i+1, len(l))
				}
			}
			f, err := Parse(mustWrite(t, &File{Format: format, Keys: []Key{{Path: "K", Values: []Value{v}}}}))
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Keys[0].Values[0].Data; !bytes.Equal(got, data) {
				t.Fatalf("name length %d: data read back differs", n)
			}
		}
	}
}

func TestWriteLayout(t *testing.T) {
	f := &File{Keys: []Key{
		{Path: `HKEY_LOCAL_MACHINE\SOFTWARE\A`, Values: []Value{{Name: "x", Type: regtype.REG_DWORD, Data: []byte{1, 0, 0, 0}}}},
		{Path: `HKEY_LOCAL_MACHINE\SOFTWARE\B`, Delete: true},
		{Path: `HKEY_LOCAL_MACHINE\SOFTWARE\C`},
	}}
	want := "Windows Registry Editor Version 5.00\r\n\r\n" +
		"[HKEY_LOCAL_MACHINE\\SOFTWARE\\A]\r\n\"x\"=dword:00000001\r\n\r\n" +
		"[-HKEY_LOCAL_MACHINE\\SOFTWARE\\B]\r\n\r\n" +
		"[HKEY_LOCAL_MACHINE\\SOFTWARE\\C]\r\n\r\n"
	if got := mustWrite(t, f); !bytes.Equal(got, wide5(want)) {
		t.Errorf("got\n%q\nwant\n%q", readable(got), want)
	}
	if got := mustWrite(t, &File{}); !bytes.Equal(got, wide5("Windows Registry Editor Version 5.00\r\n\r\n")) {
		t.Errorf("empty file: %q", readable(got))
	}
	f.Format = Regedit4
	want4 := strings.Replace(want, "Windows Registry Editor Version 5.00", "REGEDIT4", 1)
	if got := mustWrite(t, f); string(got) != want4 {
		t.Errorf("REGEDIT4 got\n%q\nwant\n%q", got, want4)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name string
		f    *File
		want string
	}{
		{"deleted key with values", &File{Keys: []Key{{Path: "K", Delete: true, Values: []Value{{Name: "a", Delete: true}}}}},
			`regfile: key "K": a deleted key has no values`},
		{"empty path", &File{Keys: []Key{{Path: ""}}}, `regfile: key "": empty key path`},
		{"path starting with -", &File{Keys: []Key{{Path: "-K"}}}, `regfile: key "-K": a key path starting with '-' reads back as a deletion`},
		{"line break in path", &File{Keys: []Key{{Path: "K\nL"}}}, `regfile: key "K\nL": line break in name`},
		{"line break in value name", &File{Keys: []Key{{Path: "K", Values: []Value{{Name: "a\rb", Type: regtype.REG_SZ}}}}},
			`regfile: key "K", value "a\rb": line break in name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Write(&bytes.Buffer{}, tt.f)
			var ee *EncodeError
			if !errors.As(err, &ee) || err.Error() != tt.want {
				t.Errorf("Write: %v\nwant %s", err, tt.want)
			}
		})
	}

	t.Run("value outside a key", func(t *testing.T) {
		w := NewWriter(&bytes.Buffer{}, Regedit5)
		err := w.WriteValue("a", regtype.REG_SZ, sz("b"))
		if err == nil || err.Error() != `regfile: key "", value "a": value outside a key` {
			t.Errorf("WriteValue: %v", err)
		}
		if err2 := w.Close(); err2 != err {
			t.Errorf("error is not sticky: Close gave %v", err2)
		}
	})
	t.Run("value under a deleted key", func(t *testing.T) {
		w := NewWriter(&bytes.Buffer{}, Regedit5)
		if err := w.DeleteKey("K"); err != nil {
			t.Fatal(err)
		}
		err := w.DeleteValue("a")
		if err == nil || err.Error() != `regfile: key "K", value "a": value under a deleted key` {
			t.Errorf("DeleteValue: %v", err)
		}
	})
	t.Run("unknown format", func(t *testing.T) {
		err := Write(&bytes.Buffer{}, &File{Format: 7})
		if err == nil || err.Error() != "regfile: unknown format 7" {
			t.Errorf("Write: %v", err)
		}
	})
	t.Run("strict REGEDIT4", func(t *testing.T) {
		w := NewWriter(&bytes.Buffer{}, Regedit4)
		w.Strict = true
		if err := w.WriteKey(`HKLM\鍵`); err == nil || err.Error() != `regfile: key "HKLM\\鍵": character U+9375 not in code page 1252` {
			t.Errorf("WriteKey: %v", err)
		}
		w = NewWriter(&bytes.Buffer{}, Regedit4)
		w.Strict = true
		if err := w.WriteKey("K"); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteValue("😀", regtype.REG_DWORD, []byte{0, 0, 0, 0}); err == nil || err.Error() != `regfile: key "K", value "😀": character U+1F600 not in code page 1252` {
			t.Errorf("WriteValue name: %v", err)
		}
		w = NewWriter(&bytes.Buffer{}, Regedit4)
		w.Strict = true
		w.WriteKey("K")
		if err := w.WriteValue("e", regtype.REG_EXPAND_SZ, sz("鍵")); err == nil || err.Error() != `regfile: key "K", value "e": string data has characters that REGEDIT4 (code page 1252) cannot hold` {
			t.Errorf("WriteValue data: %v", err)
		}
		// A REG_SZ outside the code page is not an error: hex(1): keeps it.
		w = NewWriter(&bytes.Buffer{}, Regedit4)
		w.Strict = true
		w.WriteKey("K")
		if err := w.WriteValue("s", regtype.REG_SZ, sz("鍵")); err != nil {
			t.Errorf("WriteValue REG_SZ: %v", err)
		}
	})
	t.Run("underlying writer fails", func(t *testing.T) {
		boom := errors.New("disk full")
		err := Write(failWriter{boom}, &File{Keys: []Key{{Path: "K"}}})
		if !errors.Is(err, boom) || err.Error() != "regfile: disk full" {
			t.Errorf("Write: %v", err)
		}
	})
}

func TestWriterClose(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, Regedit4)
	if err := w.WriteKey("K"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if got := buf.String(); got != "REGEDIT4\r\n\r\n[K]\r\n\r\n" {
		t.Errorf("output %q", got)
	}
	if err := w.WriteValue("a", regtype.REG_SZ, sz("b")); !errors.Is(err, ErrClosed) {
		t.Errorf("WriteValue after Close: %v", err)
	}
	if err := w.WriteKey("L"); !errors.Is(err, ErrClosed) {
		t.Errorf("WriteKey after Close: %v", err)
	}
}

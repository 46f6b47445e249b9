package regfile

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf16"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"wolfpack/internal/regtype"
)

// benchFile is the .reg export of internal/hive's benchmark hive: the root
// BENCH, 100 groups of 1,000 keys each, and 5 values on every leaf key — a
// default and a display name (REG_SZ), Start (REG_DWORD), ImagePath
// (REG_EXPAND_SZ, written as wrapped hex(2)) and Stamp (REG_QWORD). That is
// 100,101 sections and 500,000 values (for groups*1000 keys in general), so
// this Write plus hive.Read is the whole hive → .reg export.
func benchFile(groups int) *File {
	f := &File{Keys: make([]Key, 0, 1+groups*1001)}
	f.Keys = append(f.Keys, Key{Path: `HKEY_LOCAL_MACHINE\BENCH`})
	for i := range groups {
		group := fmt.Sprintf(`HKEY_LOCAL_MACHINE\BENCH\Group %03d`, i)
		f.Keys = append(f.Keys, Key{Path: group})
		for j := range 1000 {
			n := i*1000 + j
			q := uint64(n) * 0x9E3779B97F4A7C15
			f.Keys = append(f.Keys, Key{
				Path: fmt.Sprintf(`%s\Key %06d`, group, n),
				Values: []Value{
					{Name: "", Type: regtype.REG_SZ, Data: sz(fmt.Sprintf("default value of key %d", n))},
					{Name: "DisplayName", Type: regtype.REG_SZ, Data: sz(fmt.Sprintf("Component number %d", n))},
					{Name: "Start", Type: regtype.REG_DWORD, Data: []byte{byte(n), byte(n >> 8), 0, 0}},
					{Name: "ImagePath", Type: regtype.REG_EXPAND_SZ, Data: sz(fmt.Sprintf(`%%SystemRoot%%\system32\drivers\d%d.sys`, n))},
					{Name: "Stamp", Type: regtype.REG_QWORD, Data: []byte{byte(q), byte(q >> 8), byte(q >> 16), byte(q >> 24), byte(q >> 32), byte(q >> 40), byte(q >> 48), byte(q >> 56)}},
				},
			})
		}
	}
	return f
}

const (
	benchGroups = 100
	benchValues = benchGroups * 1000 * 5
)

// BenchmarkWrite writes 500,000 values (100,000 keys × 5) to io.Discard.
func BenchmarkWrite(b *testing.B) {
	f := benchFile(benchGroups)
	var n countWriter
	if err := Write(&n, f); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		if err := Write(io.Discard, f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteNaive is the peer: the same bytes written the obvious way,
// fmt into x/text's UTF-16LE encoder behind a bufio.Writer.
func BenchmarkWriteNaive(b *testing.B) {
	f := benchFile(benchGroups)
	var n countWriter
	if err := naiveWrite(&n, f); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		if err := naiveWrite(io.Discard, f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse parses the text BenchmarkWrite writes.
func BenchmarkParse(b *testing.B) {
	var buf bytes.Buffer
	if err := Write(&buf, benchFile(benchGroups)); err != nil {
		b.Fatal(err)
	}
	text := buf.Bytes()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := Parse(text)
		if err != nil {
			b.Fatal(err)
		}
		if n := len(f.Keys); n != 1+benchGroups*1001 {
			b.Fatalf("%d keys", n)
		}
	}
}

// BenchmarkDecodeXText is a reference for Parse: only turning the same text
// from UTF-16LE into UTF-8 with x/text, which any parser built on it pays
// before it looks at a single line.
func BenchmarkDecodeXText(b *testing.B) {
	var buf bytes.Buffer
	if err := Write(&buf, benchFile(benchGroups)); err != nil {
		b.Fatal(err)
	}
	text := buf.Bytes()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	dec := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder()
	for b.Loop() {
		if _, _, err := transform.Bytes(dec, text); err != nil {
			b.Fatal(err)
		}
	}
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

// naiveWrite writes f as Write does, by the book rather than for speed.
func naiveWrite(w io.Writer, f *File) error {
	enc := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder()
	tw := transform.NewWriter(w, enc)
	bw := bufio.NewWriter(tw)
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	fmt.Fprintf(bw, "%s\r\n", header5)
	for _, k := range f.Keys {
		fmt.Fprintf(bw, "\r\n[%s]\r\n", k.Path)
		for _, v := range k.Values {
			name := "@="
			if v.Name != "" {
				name = fmt.Sprintf(`"%s"=`, esc.Replace(v.Name))
			}
			bw.WriteString(name)
			switch {
			case v.Type == regtype.REG_SZ && cleanString(v.Data, false):
				u := make([]uint16, len(v.Data)/2-1)
				for i := range u {
					u[i] = uint16(v.Data[2*i]) | uint16(v.Data[2*i+1])<<8
				}
				fmt.Fprintf(bw, `"%s"`, esc.Replace(string(utf16.Decode(u))))
			case v.Type == regtype.REG_DWORD && len(v.Data) == 4:
				fmt.Fprintf(bw, "dword:%08x", uint32(v.Data[0])|uint32(v.Data[1])<<8|uint32(v.Data[2])<<16|uint32(v.Data[3])<<24)
			default:
				prefix := "hex:"
				if v.Type != regtype.REG_BINARY {
					prefix = fmt.Sprintf("hex(%x):", v.Type)
				}
				bw.WriteString(prefix)
				col := len(utf16.Encode([]rune(name))) + len(prefix)
				for i, c := range v.Data {
					if i == len(v.Data)-1 {
						fmt.Fprintf(bw, "%02x", c)
						break
					}
					fmt.Fprintf(bw, "%02x,", c)
					if col += 3; col >= maxHexCol {
						bw.WriteString("\\\r\n  ")
						col = 2
					}
				}
			}
			bw.WriteString("\r\n")
		}
	}
	bw.WriteString("\r\n")
	if err := bw.Flush(); err != nil {
		return err
	}
	return tw.Close()
}

// The peer must write the same bytes, or the comparison means nothing.
func TestNaiveWriteMatches(t *testing.T) {
	f := benchFile(1)
	var naive bytes.Buffer
	if err := naiveWrite(&naive, f); err != nil {
		t.Fatal(err)
	}
	if got := mustWrite(t, f); !bytes.Equal(got, naive.Bytes()) {
		t.Errorf("Write and naiveWrite differ:\n%s\n---\n%s", readable(got), readable(naive.Bytes()))
	}
}

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
)

// benchFile is 100,000 keys of 5 values each, shaped like a hive's
// SYSTEM\...\Services: a name, a start type, an image path, some binary data
// and a dependency list.
func benchFile(keys int) *File {
	f := &File{Keys: make([]Key, keys)}
	bin := make([]byte, 48)
	for i := range bin {
		bin[i] = byte(i * 37)
	}
	image := sz(`%SystemRoot%\System32\svchost.exe -k netsvcs -p`)
	deps := multi("RpcSs", "Tcpip")
	for i := range f.Keys {
		f.Keys[i] = Key{
			Path: fmt.Sprintf(`HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\WolfpackBench%06d`, i),
			Values: []Value{
				{Name: "DisplayName", Type: REG_SZ, Data: sz(fmt.Sprintf("Wolfpack benchmark service %d", i))},
				{Name: "Start", Type: REG_DWORD, Data: []byte{byte(i % 5), 0, 0, 0}},
				{Name: "ImagePath", Type: REG_EXPAND_SZ, Data: image},
				{Name: "FailureActions", Type: REG_BINARY, Data: bin},
				{Name: "DependOnService", Type: REG_MULTI_SZ, Data: deps},
			},
		}
	}
	return f
}

const benchKeys = 100_000

// BenchmarkWrite writes 500,000 values (100,000 keys × 5) to io.Discard.
func BenchmarkWrite(b *testing.B) {
	f := benchFile(benchKeys)
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
	f := benchFile(benchKeys)
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
	if err := Write(&buf, benchFile(benchKeys)); err != nil {
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
		if len(f.Keys) != benchKeys {
			b.Fatalf("%d keys", len(f.Keys))
		}
	}
}

// BenchmarkDecodeXText is a reference for Parse: only turning the same text
// from UTF-16LE into UTF-8 with x/text, which any parser built on it pays
// before it looks at a single line.
func BenchmarkDecodeXText(b *testing.B) {
	var buf bytes.Buffer
	if err := Write(&buf, benchFile(benchKeys)); err != nil {
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
			case v.Type == REG_SZ && cleanString(v.Data, false):
				u := make([]uint16, len(v.Data)/2-1)
				for i := range u {
					u[i] = uint16(v.Data[2*i]) | uint16(v.Data[2*i+1])<<8
				}
				fmt.Fprintf(bw, `"%s"`, esc.Replace(string(utf16.Decode(u))))
			case v.Type == REG_DWORD && len(v.Data) == 4:
				fmt.Fprintf(bw, "dword:%08x", uint32(v.Data[0])|uint32(v.Data[1])<<8|uint32(v.Data[2])<<16|uint32(v.Data[3])<<24)
			default:
				prefix := "hex:"
				if v.Type != REG_BINARY {
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
	f := benchFile(50)
	var naive bytes.Buffer
	if err := naiveWrite(&naive, f); err != nil {
		t.Fatal(err)
	}
	if got := mustWrite(t, f); !bytes.Equal(got, naive.Bytes()) {
		t.Errorf("Write and naiveWrite differ:\n%s\n---\n%s", readable(got), readable(naive.Bytes()))
	}
}

package regfile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds Parse arbitrary bytes. Whatever it accepts must survive
// Write and read back as the same file (and write the same bytes again).
//
// The seeds are the files under testdata/. The fuzzer minimizes every new
// interesting input, which for a mutation of a 5 KB file takes long enough to
// stall a short run; so a file over 2 KB is seeded as many small files, one
// per value, in its own format.
func FuzzParse(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "*.reg"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seed files in testdata: %v", err)
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) <= 2<<10 {
			f.Add(b)
			continue
		}
		file, err := Parse(b)
		if err != nil {
			f.Fatalf("seed %s: %v", s, err)
		}
		for _, k := range file.Keys {
			if len(k.Values) == 0 {
				f.Add(mustWrite(f, &File{Format: file.Format, Keys: []Key{k}}))
			}
			for _, v := range k.Values {
				f.Add(mustWrite(f, &File{Format: file.Format, Keys: []Key{{Path: k.Path, Values: []Value{v}}}}))
			}
		}
	}
	f.Add([]byte(h5 + "[A]\n\"a\"=hex:01,\\\n  02\n@=\"x\\\\\"\n[-B]\n"))
	f.Add([]byte("REGEDIT4\n[A]\n\"\x81\"=hex(2):e9,00\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("Parse error %T is not a *SyntaxError: %v", err, err)
			}
			return
		}
		var out bytes.Buffer
		if err := Write(&out, file); err != nil {
			t.Fatalf("Write of a parsed file: %v", err)
		}
		back, err := Parse(out.Bytes())
		if err != nil {
			t.Fatalf("Parse(Write(Parse(data))): %v\n%q", err, readable(out.Bytes()))
		}
		if err := equalFiles(back, file); err != nil {
			t.Fatalf("round trip changed the file: %v\n%q", err, readable(out.Bytes()))
		}
		var again bytes.Buffer
		if err := Write(&again, back); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again.Bytes(), out.Bytes()) {
			t.Fatal("second Write differs from the first")
		}
	})
}

package regfile

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"wolfpack/internal/regtype"
)

// randomTree builds a file with keys and values of every type: names with
// quotes, backslashes and (for 5.00) any Unicode, empty values, long binary
// data and REG_SZ data that is not a clean string. REGEDIT4 names and
// narrow-typed strings stay inside code page 1252, as they must to survive.
func randomTree(r *rand.Rand, format Format, keys int) *File {
	alphabet := []rune(`abcXYZ019 _-.\"@;[]=,é€ü`)
	if format == Regedit5 {
		alphabet = append(alphabet, []rune("ключ鍵名前😀\u0000\u2028\ufeff")...)
	}
	str := func(n int) string {
		rs := make([]rune, n)
		for i := range rs {
			rs[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(rs)
	}
	bin := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		if n == 0 {
			return nil
		}
		return b
	}
	f := &File{Format: format}
	for k := 0; k < keys; k++ {
		key := Key{Path: fmt.Sprintf(`HKEY_LOCAL_MACHINE\SOFTWARE\%d\%s`, k, str(r.IntN(12)))}
		if r.IntN(10) == 0 {
			key.Delete = true
			f.Keys = append(f.Keys, key)
			continue
		}
		for j := 0; j < 1+r.IntN(14); j++ {
			v := Value{Name: fmt.Sprintf("%d %s", j, str(r.IntN(20)))}
			if j == 0 {
				v.Name = "" // the default value
			}
			switch r.IntN(12) {
			case 0:
				v.Type, v.Data = regtype.REG_SZ, sz(str(r.IntN(40)))
			case 1:
				v.Type, v.Data = regtype.REG_SZ, bin(r.IntN(9)) // not a clean string
			case 2:
				v.Type, v.Data = regtype.REG_EXPAND_SZ, sz("%"+str(r.IntN(30))+"%")
			case 3:
				v.Type, v.Data = regtype.REG_MULTI_SZ, multi(str(r.IntN(10)), str(r.IntN(10)), "")
			case 4:
				v.Type, v.Data = regtype.REG_BINARY, bin(r.IntN(3000))
			case 5:
				v.Type, v.Data = regtype.REG_DWORD, bin(4)
			case 6:
				v.Type, v.Data = regtype.REG_DWORD, bin(r.IntN(4))
			case 7:
				v.Type, v.Data = regtype.REG_QWORD, bin(8)
			case 8:
				v.Type, v.Data = regtype.REG_NONE, bin(r.IntN(3))
			case 9:
				v.Type, v.Data = r.Uint32(), bin(r.IntN(100))
			case 10:
				v.Type, v.Data = regtype.REG_BINARY, bin(64<<10) // long data
			case 11:
				v.Delete = true
			}
			if format == Regedit5 && v.Type == regtype.REG_EXPAND_SZ && r.IntN(3) == 0 {
				v.Data = bin(r.IntN(20)) // any bytes survive hex(2) in 5.00
			}
			key.Values = append(key.Values, v)
		}
		f.Keys = append(f.Keys, key)
	}
	return f
}

func TestRoundTrip(t *testing.T) {
	for _, format := range []Format{Regedit5, Regedit4} {
		for seed := uint64(1); seed <= 20; seed++ {
			t.Run(fmt.Sprintf("%v/seed%d", format, seed), func(t *testing.T) {
				f := randomTree(rand.New(rand.NewPCG(seed, 7)), format, 30)
				text := mustWrite(t, f)
				back, err := Parse(text)
				if err != nil {
					t.Fatalf("Parse(Write(f)): %v", err)
				}
				if err := equalFiles(back, f); err != nil {
					t.Fatal(err)
				}
				if again := mustWrite(t, back); !bytes.Equal(again, text) {
					t.Fatal("Write(Parse(Write(f))) differs from Write(f)")
				}
			})
		}
	}
}

// The streaming Writer and Write produce the same bytes.
func TestWriterMatchesWrite(t *testing.T) {
	f := randomTree(rand.New(rand.NewPCG(3, 3)), Regedit5, 50)
	var buf bytes.Buffer
	w := NewWriter(&buf, f.Format)
	for _, k := range f.Keys {
		if k.Delete {
			if err := w.DeleteKey(k.Path); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := w.WriteKey(k.Path); err != nil {
			t.Fatal(err)
		}
		for _, v := range k.Values {
			var err error
			if v.Delete {
				err = w.DeleteValue(v.Name)
			} else {
				err = w.WriteValue(v.Name, v.Type, v.Data)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), mustWrite(t, f)) {
		t.Error("streamed output differs from Write")
	}
}

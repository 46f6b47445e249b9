package checkpoint

import (
	"bytes"
	"fmt"
	"strings"

	"wolfpack/internal/hive"
	"wolfpack/internal/regfile"
	"wolfpack/internal/utf16le"
)

// Diff returns the .reg file that turns the subtree in hive a into the one in hive b,
// both saved from HKLM\key: keys and values added or changed as in b, removed keys as
// [-KEY] and removed values as "name"=-. Keys and values are matched by name,
// case-insensitively; timestamps are not compared. No difference gives a file with no
// keys.
func Diff(key string, a, b []byte) (*regfile.File, error) {
	ha, err := readHive(a)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: diff: first version: %w", err)
	}
	hb, err := readHive(b)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: diff: second version: %w", err)
	}
	f := &regfile.File{Format: regfile.Regedit5}
	diffKey(f, `HKEY_LOCAL_MACHINE\`+strings.TrimLeft(key, `\`), ha, hb)
	return f, nil
}

func readHive(b []byte) (*hive.Key, error) {
	hv, err := hive.Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, err
	}
	if hv.Root == nil {
		return nil, fmt.Errorf("hive has no root key")
	}
	return hv.Root, nil
}

func diffKey(f *regfile.File, path string, a, b *hive.Key) {
	var vals []regfile.Value
	old := map[string]hive.Value{}
	for _, v := range a.Values {
		old[strings.ToUpper(v.Name)] = v
	}
	seen := map[string]bool{}
	for _, v := range b.Values {
		u := strings.ToUpper(v.Name)
		seen[u] = true
		if o, ok := old[u]; ok && o.Type == v.Type && bytes.Equal(o.Data, v.Data) {
			continue
		}
		vals = append(vals, regfile.Value{Name: v.Name, Type: v.Type, Data: v.Data})
	}
	for _, v := range a.Values {
		if !seen[strings.ToUpper(v.Name)] {
			vals = append(vals, regfile.Value{Name: v.Name, Delete: true})
		}
	}
	if len(vals) > 0 {
		f.Keys = append(f.Keys, regfile.Key{Path: path, Values: vals})
	}
	oldSubs := map[string]*hive.Key{}
	for _, c := range a.Subkeys {
		oldSubs[strings.ToUpper(c.Name)] = c
	}
	newSubs := map[string]bool{}
	for _, c := range b.Subkeys {
		u := strings.ToUpper(c.Name)
		newSubs[u] = true
		if o := oldSubs[u]; o != nil {
			diffKey(f, path+`\`+c.Name, o, c)
		} else {
			addTree(f, path+`\`+c.Name, c)
		}
	}
	for _, c := range a.Subkeys {
		if !newSubs[strings.ToUpper(c.Name)] {
			f.Keys = append(f.Keys, regfile.Key{Path: path + `\` + c.Name, Delete: true})
		}
	}
}

// addTree writes a key that only the second version has, with everything below it.
func addTree(f *regfile.File, path string, k *hive.Key) {
	rk := regfile.Key{Path: path}
	for _, v := range k.Values {
		rk.Values = append(rk.Values, regfile.Value{Name: v.Name, Type: v.Type, Data: v.Data})
	}
	f.Keys = append(f.Keys, rk)
	for _, c := range k.Subkeys {
		addTree(f, path+`\`+c.Name, c)
	}
}

// RegText writes f as regedit 5 writes it and returns it as UTF-8 text with LF line
// ends, for a terminal.
func RegText(f *regfile.File) (string, error) {
	var buf bytes.Buffer
	if err := regfile.Write(&buf, f); err != nil {
		return "", err
	}
	b := buf.Bytes()
	b = bytes.TrimPrefix(b, []byte{0xff, 0xfe})
	return strings.ReplaceAll(utf16le.Decode(b), "\r\n", "\n"), nil
}

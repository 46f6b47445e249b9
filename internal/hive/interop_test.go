package hive

import (
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"wolfpack/internal/regtype"
	"wolfpack/internal/utf16le"
)

// Interoperability with the peers installed from Debian: hivex (libhivex-bin),
// libregf (libregf-utils) and Samba (registry-tools).

// writeTemp marshals tree into a file in a fresh temporary directory.
func writeTemp(t *testing.T, tree *Key, opts WriteOptions) string {
	t.Helper()
	b, err := Marshal(tree, opts)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	path := filepath.Join(t.TempDir(), "hive")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// run runs a peer tool and fails the test if it is missing or fails.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s not installed (Debian packages libhivex-bin, libregf-utils, registry-tools): %v", name, err)
	}
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%.2000s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// hivexNode mirrors hivexml's output.
type hivexNode struct {
	Name   string       `xml:"name,attr"`
	Nodes  []hivexNode  `xml:"node"`
	Values []hivexValue `xml:"value"`
}

type hivexValue struct {
	Type  string `xml:"type,attr"`
	Key   string `xml:"key,attr"`
	Value string `xml:"value,attr"`
}

func (n *hivexNode) count() (keys, values int) {
	keys, values = 1, len(n.Values)
	for i := range n.Nodes {
		k, v := n.Nodes[i].count()
		keys += k
		values += v
	}
	return
}

func (n *hivexNode) child(name string) *hivexNode {
	for i := range n.Nodes {
		if n.Nodes[i].Name == name {
			return &n.Nodes[i]
		}
	}
	return nil
}

func TestInteropHivex(t *testing.T) {
	for _, minor := range []uint32{5, 3, 6} {
		tree := testTree(5000)
		path := writeTemp(t, tree, WriteOptions{Minor: minor})
		var doc struct {
			Root hivexNode `xml:"node"`
		}
		if err := xml.Unmarshal([]byte(run(t, "hivexml", path)), &doc); err != nil {
			t.Fatalf("1.%d: hivexml output: %v", minor, err)
		}
		keys, values := doc.Root.count()
		if keys != tree.CountKeys() || values != tree.CountValues() {
			t.Errorf("1.%d: hivexml counts %d keys %d values, want %d %d", minor, keys, values, tree.CountKeys(), tree.CountValues())
		}
		if uni := doc.Root.child("Names").child("Ünïcödé Ŝtråñgé"); uni == nil || len(uni.Values) != 1 ||
			uni.Values[0].Key != "Ω значение 値" || uni.Values[0].Value != "ünicode ✓" {
			t.Errorf("1.%d: hivexml: Unicode key/value not found or wrong: %+v", minor, uni)
		}
		if got := doc.Root.child("Many"); got == nil || len(got.Nodes) != 5000 || got.Nodes[0].Name != "Sub00000" || got.Nodes[4999].Name != "Sub04999" {
			t.Errorf("1.%d: hivexml: Many has wrong subkeys", minor)
		}

		// hivexget looks keys up by name (through the lh hashes / lf hints).
		for _, c := range []struct{ key, value, want string }{
			{`\Types`, "sz", "hello, world"},
			{`\Types`, "expand", `%SystemRoot%\system32`},
			{`\Types`, "dword", "305419896"},
			{`\Names\Ünïcödé Ŝtråñgé`, "Ω значение 値", "ünicode ✓"},
			{`\Names\Latin-1 ÀÉÎÕÜ ßÿ`, "café", "1"},
			{`\NAMES\ABC`, "", ""}, // hivex compares ASCII names without case
			{`\Many\sub04321`, "", ""},
		} {
			args := []string{path, c.key}
			if c.value != "" {
				args = append(args, c.value)
			}
			if got := strings.TrimSpace(run(t, "hivexget", args...)); got != c.want {
				t.Errorf("1.%d: hivexget %s %q = %q, want %q", minor, c.key, c.value, got, c.want)
			}
		}
		big := run(t, "hivexget", path, `\Types`, "big")
		if len(big) < 100*1024 {
			t.Errorf("1.%d: hivexget big value: %d bytes", minor, len(big))
		}
	}
}

func TestInteropRegfexport(t *testing.T) {
	for _, minor := range []uint32{5, 3, 6} {
		tree := testTree(5000)
		path := writeTemp(t, tree, WriteOptions{Minor: minor})
		out := run(t, "regfexport", path)
		if n := strings.Count(out, "\nKey path: "); n != tree.CountKeys() {
			t.Errorf("1.%d: regfexport lists %d keys, want %d", minor, n, tree.CountKeys())
		}
		if n := strings.Count(out, "\nValue: "); n != tree.CountValues() {
			t.Errorf("1.%d: regfexport lists %d values, want %d", minor, n, tree.CountValues())
		}
		for _, want := range []string{
			"Key path: ROOT\\Names\\日本語キー\n",
			"Key path: ROOT\\Many\\Sub04999\n",
			"Class name: Klasse ñ\n",
			"Value: 0 Ω значение 値\nType: string (REG_SZ)\nData size: 20\nData: ünicode ✓\n",
			"Value: 5 dword\nType: 32-bit integer little-endian (REG_DWORD_LITTLE_ENDIAN)\nData size: 4\nData: 305419896\n",
			"Value: 15 big\nType: binary data (REG_BINARY)\nData size: 102400\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("1.%d: regfexport output lacks %q", minor, want)
			}
		}
		if strings.Contains(out, "error") || strings.Contains(out, "unable") {
			t.Errorf("1.%d: regfexport reports an error:\n%.2000s", minor, out)
		}
	}
}

// Samba's regtree rewrites the file it opens, so it gets a copy. It has limits
// of its own, shown with Windows' hives too: it panics on any index root (ri;
// ManySubkeysHive does the same), reads data cells with their padding (so
// REG_QWORD trips an assertion), does not know db records and skips Latin-1
// names. The tree it gets stays within those limits.
func TestInteropSambaRegtree(t *testing.T) {
	ts := testTree(0).LastWrite
	tree := &Key{Name: "ROOT", LastWrite: ts, Subkeys: []*Key{
		{Name: "Software", LastWrite: ts, Subkeys: []*Key{
			{Name: "Vendor", LastWrite: ts, Class: "cls", Values: []Value{
				{Name: "sz", Type: regtype.REG_SZ, Data: utf16le.EncodeZ("hello, world")},
				{Name: "dword", Type: regtype.REG_DWORD, Data: []byte{0x78, 0x56, 0x34, 0x12}},
				{Name: "", Type: regtype.REG_SZ, Data: utf16le.EncodeZ("default")},
			}},
			{Name: "Other", LastWrite: ts},
		}},
		{Name: "Many", LastWrite: ts},
	}}
	for i := range 300 {
		many := tree.Subkeys[1]
		many.Subkeys = append(many.Subkeys, &Key{Name: "Sub" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('0'+i/26%10)) + string(rune('0'+i/260)), LastWrite: ts})
	}
	path := writeTemp(t, tree, WriteOptions{})
	out := run(t, "regtree", "-F", path)
	for _, want := range []string{
		"\n Software\n  Other\n  Vendor\n",
		"\n   sz = REG_SZ : hello, world\n",
		"\n   dword = REG_DWORD : 0x12345678\n",
		"\n    = REG_SZ : default\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("regtree output lacks %q:\n%.3000s", want, out)
		}
	}
	if n := strings.Count(out, "\n  Sub"); n != 300 {
		t.Errorf("regtree lists %d keys under Many, want 300", n)
	}
}

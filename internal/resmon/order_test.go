package resmon

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestOrder(t *testing.T) {
	for _, tc := range []struct {
		name      string
		resources []string
		deps      map[string][]string
		want      []string
		err       string
	}{
		{"none", nil, nil, []string{}, ""},
		{"independent keep input order", []string{"c", "a", "b"}, nil, []string{"c", "a", "b"}, ""},
		{"chain", []string{"App", "IP", "Disk"}, map[string][]string{"App": {"IP", "Disk"}, "IP": {"Disk"}},
			[]string{"Disk", "IP", "App"}, ""},
		{"diamond", []string{"top", "l", "r", "base"}, map[string][]string{"top": {"l", "r"}, "l": {"base"}, "r": {"base"}},
			[]string{"base", "l", "r", "top"}, ""},
		{"cycle", []string{"a", "b", "c"}, map[string][]string{"a": {"b"}, "b": {"c"}, "c": {"a"}},
			nil, "dependency cycle: a -> b -> c -> a"},
		{"self", []string{"a"}, map[string][]string{"a": {"a"}}, nil, "dependency cycle: a -> a"},
		{"unknown dependency", []string{"a"}, map[string][]string{"a": {"zz"}}, nil, `"a" depends on "zz"`},
		{"unknown resource", []string{"a"}, map[string][]string{"q": {"a"}}, nil, `unknown resource "q"`},
		{"duplicate", []string{"a", "a"}, nil, nil, "listed twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Order(tc.resources, tc.deps)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Order = %v, %v; want error %q", got, err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("Order = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	_, err := Order([]string{"x", "a", "b"}, map[string][]string{"a": {"b"}, "b": {"a"}})
	var ce *CycleError
	if !errors.As(err, &ce) || !slices.Equal(ce.Cycle, []string{"a", "b", "a"}) {
		t.Fatalf("cycle error %v", err)
	}
}

func TestSplitCommandLine(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{"", nil, false},
		{"   ", nil, false},
		{"sleep 1000", []string{"sleep", "1000"}, false},
		{"  a\tb \n c ", []string{"a", "b", "c"}, false},
		{`/bin/sh -c 'echo "$HOME" | cat'`, []string{"/bin/sh", "-c", `echo "$HOME" | cat`}, false},
		{`"a b" c`, []string{"a b", "c"}, false},
		{`"say \"hi\" \$x \\ \n"`, []string{`say "hi" $x \ \n`}, false},
		{`a\ b`, []string{"a b"}, false},
		{`a''b ""`, []string{"ab", ""}, false},
		{`a | b > c`, []string{"a", "|", "b", ">", "c"}, false},
		{"line\\\ncontinued", []string{"linecontinued"}, false},
		{`'open`, nil, true},
		{`"open`, nil, true},
		{`trailing\`, nil, true},
		{"ünïcödé 'ß'", []string{"ünïcödé", "ß"}, false},
	} {
		got, err := SplitCommandLine(tc.in)
		if (err != nil) != tc.err || !slices.Equal(got, tc.want) {
			t.Errorf("SplitCommandLine(%q) = %q, %v; want %q (error %v)", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func FuzzSplitCommandLine(f *testing.F) {
	for _, s := range []string{"a b", `'x y' "z\"" \q`, `"unterminated`, "\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args, err := SplitCommandLine(s)
		if err != nil {
			return
		}
		// Quoting every word with single quotes must split back to the same words.
		var b strings.Builder
		for _, a := range args {
			b.WriteString("'" + strings.ReplaceAll(a, "'", `'\''`) + "' ")
		}
		again, err := SplitCommandLine(b.String())
		if err != nil || !slices.Equal(args, again) {
			t.Fatalf("%q -> %q -> %q -> %q, %v", s, args, b.String(), again, err)
		}
	})
}

func TestSafeName(t *testing.T) {
	seen := map[string]string{}
	for _, name := range []string{"App", "My App", "My_App", "Disk Q:", "Disk_Q_", "", ".", "..", "../etc/passwd", "ünï"} {
		s := safeName(name)
		if prev, ok := seen[s]; ok {
			t.Errorf("safeName(%q) = safeName(%q) = %q", name, prev, s)
		}
		seen[s] = name
		if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "/ :$`'\"\\") {
			t.Errorf("safeName(%q) = %q is not a safe file name", name, s)
		}
	}
	if safeName("Disk Q:") != "Disk_Q_-2c544a87" { // the example in doc.go
		t.Errorf("safeName(%q) = %q", "Disk Q:", safeName("Disk Q:"))
	}
	if safeName("App") != "App" || safeName("My_App") != "My_App" {
		t.Error("safe names must stay as they are")
	}
}

package clustercmd

import (
	"slices"
	"testing"
)

func TestSplitCheckpointList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		bad  bool
	}{
		{in: `SYSTEM\CurrentControlSet\Services\MSExchangeIMC`, want: []string{`SYSTEM\CurrentControlSet\Services\MSExchangeIMC`}},
		{in: `"SOFTWARE\A","SOFTWARE\B"`, want: []string{`SOFTWARE\A`, `SOFTWARE\B`}},
		{in: `"SOFTWARE\A,B",3`, want: []string{`SOFTWARE\A,B`, "3"}},
		{in: `SOFTWARE\A, 1 ,2`, want: []string{`SOFTWARE\A`, "1", "2"}},
		{in: ``, want: nil},
		{in: `"SOFTWARE\A`, bad: true},
		{in: `SOFTWARE\A,,2`, bad: true},
		{in: `SOFTWARE\A,`, bad: true},
	} {
		got, err := splitCheckpointList(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: no error (got %q)", tc.in, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%q = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

package wevtutilcmd

import (
	"errors"
	"slices"
	"testing"

	"wolfpack/internal/winerr"
)

func TestParseArgs(t *testing.T) {
	cases := []struct {
		args     []string
		cmd      string
		pos      []string
		opts     map[string]string
		errCode  winerr.Errno
		wantHelp bool
	}{
		{args: []string{"qe", "System", "/q:*[System[(EventID=1024)]]", "/c:5", "/rd:true", "/f:text"}, cmd: "qe",
			pos: []string{"System"}, opts: map[string]string{"q": "*[System[(EventID=1024)]]", "c": "5", "rd": "true", "f": "text"}},
		{args: []string{"QUERY-EVENTS", "System", "-Query:*", "-COUNT:2", "/ReverseDirection"}, cmd: "qe",
			pos: []string{"System"}, opts: map[string]string{"q": "*", "c": "2", "rd": ""}},
		// An absolute path is an argument, not an option.
		{args: []string{"epl", "System", "/tmp/out.evtj", "/ow:true"}, cmd: "epl",
			pos: []string{"System", "/tmp/out.evtj"}, opts: map[string]string{"ow": "true"}},
		{args: []string{"qe", "/var/lib/x.evtj", "/lf:true"}, cmd: "qe", pos: []string{"/var/lib/x.evtj"}, opts: map[string]string{"lf": "true"}},
		{args: []string{"cl", "Application", "/bu:/tmp/b.evtj"}, cmd: "cl", pos: []string{"Application"}, opts: map[string]string{"bu": "/tmp/b.evtj"}},
		{args: []string{"el", "/r:N2"}, cmd: "el", opts: map[string]string{"r": "N2"}},
		{args: []string{"sl", "System", "/maxsize:1048576", "/rt:false"}, cmd: "sl", pos: []string{"System"}, opts: map[string]string{"ms": "1048576", "rt": "false"}},
		{args: []string{"qe", "System", "/e:Events", "/f:xml"}, cmd: "qe", pos: []string{"System"}, opts: map[string]string{"e": "Events", "f": "xml"}},
		{args: []string{"qe", "System", "/bogus:1"}, errCode: 87},
		{args: []string{"qe", "System", "/c:1", "/c:2"}, errCode: 87},
		{args: []string{"sl", "System", "/e:false"}, errCode: 87},
		{args: []string{"qe"}, errCode: 87},
		{args: []string{"gl", "System", "extra"}, errCode: 87},
		{args: []string{"nope"}, errCode: 87},
		{args: []string{}, wantHelp: true},
		{args: []string{"/?"}, wantHelp: true},
		{args: []string{"qe", "/?"}, cmd: "qe", wantHelp: true},
	}
	for _, c := range cases {
		inv, err := parseArgs(c.args)
		if c.errCode != 0 {
			var ce *cmdError
			if !errors.As(err, &ce) || ce.code != c.errCode {
				t.Errorf("%q: err = %v, want code %d", c.args, err, c.errCode)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.args, err)
			continue
		}
		if inv.help != c.wantHelp {
			t.Errorf("%q: help = %v", c.args, inv.help)
		}
		if c.cmd != "" && inv.cmd.short != c.cmd {
			t.Errorf("%q: command %s", c.args, inv.cmd.short)
		}
		if c.wantHelp {
			continue
		}
		if !slices.Equal(inv.args, c.pos) {
			t.Errorf("%q: args %q, want %q", c.args, inv.args, c.pos)
		}
		if len(inv.opts) != len(c.opts) {
			t.Errorf("%q: opts %v, want %v", c.args, inv.opts, c.opts)
		}
		for k, v := range c.opts {
			if inv.opts[k] != v {
				t.Errorf("%q: /%s = %q, want %q", c.args, k, inv.opts[k], v)
			}
		}
	}
}

func TestExitStatus(t *testing.T) {
	for code, want := range map[uint32]int{87: 87, 15001: 153, 15007: 159, 2: 2, 15104: 1} {
		if got := exitStatus(code); got != want {
			t.Errorf("exitStatus(%d) = %d, want %d", code, got, want)
		}
	}
}

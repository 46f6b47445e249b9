package clustercmd

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"wolfpack/internal/api/wire"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		args   string
		object string
		name   string
		action string
		value  string
		props  []string
	}{
		{"node", "node", "", "status", "", nil},
		{"res", "resource", "", "status", "", nil},
		{"restype", "resourcetype", "", "list", "", nil},
		{"mycluster group G1 /stat", "group", "G1", "status", "", nil},
		{"/cluster:C group G1 /on:N2 /wait:5", "group", "G1", "online", "N2", nil},
		{"group G1 /move", "group", "G1", "moveto", "", nil},
		{"group G1 /moveto:N3", "group", "G1", "moveto", "N3", nil},
		{"group G1 /ren:G2", "group", "G1", "rename", "G2", nil},
		{"group G1 /prop FailoverThreshold=5 FailoverPeriod=2", "group", "G1", "properties", "", []string{"FailoverThreshold=5", "FailoverPeriod=2"}},
		{"resource R1 /priv CommandLine=x", "resource", "R1", "privproperties", "", []string{"CommandLine=x"}},
		{"resource R1 /adddep:R2", "resource", "R1", "adddependency", "R2", nil},
		{"resource R1 /listdep", "resource", "R1", "listdependencies", "", nil},
		{"resource R1 /addcheck:SOFTWARE\\X", "resource", "R1", "addcheckpoints", "SOFTWARE\\X", nil},
		{"resource R1 /checkpoints", "resource", "R1", "checkpoints", "", nil},
		{"resource R1 /create /group:G /type:Generic Application", "resource", "R1", "create", "", nil},
		{"/grant:ops /level:ReadOnly", "cluster", "", "grant", "ops", nil},
		{"mycluster /revoke:ops", "cluster", "", "revoke", "ops", nil},
		{"/cluster:C /listaccess", "cluster", "", "listaccess", "", nil},
	} {
		c, err := parse(strings.Split(tc.args, " "))
		if tc.args == "resource R1 /create /group:G /type:Generic Application" {
			c, err = parse([]string{"resource", "R1", "/create", "/group:G", "/type:Generic Application"})
		}
		if err != nil {
			t.Errorf("parse(%q): %v", tc.args, err)
			continue
		}
		if c.object != tc.object || c.name != tc.name || c.action.name != tc.action || c.action.value != tc.value ||
			strings.Join(c.props, ",") != strings.Join(tc.props, ",") {
			t.Errorf("parse(%q) = %s %q /%s:%q %v", tc.args, c.object, c.name, c.action.name, c.action.value, c.props)
		}
	}
	c, _ := parse([]string{"resource", "R1", "/create", "/group:G", "/type:Generic Application"})
	if g, _ := c.mod("group"); g.value != "G" {
		t.Errorf("/group: %q", g.value)
	}
	if ty, _ := c.mod("type"); ty.value != "Generic Application" {
		t.Errorf("/type: %q", ty.value)
	}
	if l, _ := mustParse(t, "/grant:ops", "/level:Full").mod("level"); l.value != "Full" {
		t.Errorf("/level: %q", l.value)
	}
	for _, bad := range []string{"", "nodes", "group G1 /bogus", "group G1 /online /offline", "group G1 extra",
		"/grant:ops /revoke:ops", "/listaccess extra"} {
		if _, err := parse(strings.Fields(bad)); err == nil {
			t.Errorf("parse(%q) accepted", bad)
		}
	}
}

func TestSystemError(t *testing.T) {
	var b bytes.Buffer
	systemError(&b, &wire.Error{Code: 5013, Message: "The cluster group could not be found. (G9)"})
	if want := "System error 5013 has occurred (0x00001395).\nThe cluster group could not be found.\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	b.Reset()
	systemError(&b, errors.New("boom"))
	if b.String() != "cluster: boom\n" {
		t.Errorf("got %q", b.String())
	}
}

func mustParse(t *testing.T, args ...string) *command {
	t.Helper()
	c, err := parse(args)
	if err != nil {
		t.Fatalf("parse(%q): %v", args, err)
	}
	return c
}

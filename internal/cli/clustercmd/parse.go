package clustercmd

import (
	"fmt"
	"strings"
)

// option is one of cluster.exe's options: its full name and the shortest abbreviation.
type option struct{ full, min string }

var options = []option{
	{"status", "stat"}, {"create", "create"}, {"delete", "del"}, {"rename", "ren"},
	{"online", "on"}, {"offline", "off"}, {"moveto", "move"}, {"setowners", "setowners"},
	{"listowners", "listowners"}, {"properties", "prop"}, {"privproperties", "priv"},
	{"fail", "fail"}, {"adddependency", "adddep"}, {"removedependency", "removedep"},
	{"listdependencies", "listdep"}, {"addowner", "addowner"}, {"removeowner", "removeowner"},
	{"pause", "pause"}, {"resume", "resume"}, {"evict", "evict"}, {"list", "list"},
	{"group", "group"}, {"type", "type"}, {"wait", "wait"}, {"f", "f"}, {"format", "format"},
	{"node", "node"}, {"cluster", "cluster"}, {"?", "?"}, {"help", "help"}, {"usedefault", "usedef"}, {"force", "force"},
	// Registry checkpoints (internal/cli/clustercmd/checkpoint.go).
	{"addcheckpoints", "addcheck"}, {"removecheckpoints", "removecheck"}, {"checkpoints", "checkpoints"},
	{"checkpointhistory", "checkpointhistory"}, {"checkpointdiff", "checkpointdiff"},
	{"checkpointrollback", "checkpointrollback"}, {"checkpointverify", "checkpointverify"},
	// API access (internal/cli/clustercmd/access.go).
	{"grant", "grant"}, {"revoke", "revoke"}, {"listaccess", "listaccess"}, {"level", "level"},
}

// clusterOptions are the options of the cluster itself, given without an object
// (`cluster /grant:NAME /level:ReadOnly`).
var clusterOptions = map[string]bool{"grant": true, "revoke": true, "listaccess": true}

// isClusterOption reports whether arg is one of clusterOptions ("/grant:ops").
func isClusterOption(arg string) bool {
	name, _, _ := strings.Cut(strings.TrimPrefix(arg, "/"), ":")
	n, ok := canonical(name)
	return strings.HasPrefix(arg, "/") && ok && clusterOptions[n]
}

// canonical returns the full name of an option as typed (without the slash).
func canonical(name string) (string, bool) {
	n := strings.ToLower(name)
	for _, o := range options {
		if n == o.full {
			return o.full, true
		}
	}
	for _, o := range options {
		if len(n) >= len(o.min) && strings.HasPrefix(o.full, n) {
			return o.full, true
		}
	}
	return "", false
}

// opt is a parsed option.
type opt struct {
	name  string // canonical
	value string
	set   bool // ":value" was given
}

// command is a parsed command line.
type command struct {
	object string // node, group, resource, resourcetype
	name   string
	action opt   // the main option ("" = status)
	mods   []opt // /group:, /type:, /wait, /f:, /node:
	props  []string
}

func (c *command) mod(name string) (opt, bool) {
	for _, m := range c.mods {
		if m.name == name {
			return m, true
		}
	}
	return opt{}, false
}

var objects = map[string]string{
	"node": "node", "group": "group", "res": "resource", "resource": "resource",
	"restype": "resourcetype", "resourcetype": "resourcetype", "resourcetypes": "resourcetype",
}

// modifiers are options that qualify the action rather than being one.
var modifiers = map[string]bool{"group": true, "type": true, "wait": true, "f": true, "format": true, "node": true, "cluster": true,
	"level": true, "usedefault": true, "force": true}

// usageError is a command line cluster.exe would not accept.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// parse parses a command line; on a usage error the command returned names the object
// (for its usage) as far as it was parsed.
func parse(args []string) (*command, error) {
	c := &command{}
	i := 0
	// An optional cluster name or /cluster:NAME first; there is one cluster, so it is
	// accepted and ignored.
	for i < len(args) {
		a := args[i]
		if strings.HasPrefix(strings.ToLower(a), "/cluster:") {
			i++
			continue
		}
		if _, ok := objects[strings.ToLower(a)]; !ok && !strings.HasPrefix(a, "/") && i+1 < len(args) {
			if _, next := objects[strings.ToLower(args[i+1])]; next || isClusterOption(args[i+1]) {
				i++
				continue
			}
		}
		break
	}
	if i >= len(args) {
		return nil, &usageError{"missing command: node, group, resource or resourcetype"}
	}
	obj, ok := objects[strings.ToLower(args[i])]
	if !ok && isClusterOption(args[i]) {
		// Options of the cluster itself: no object, no name.
		obj, ok = "cluster", true
		i--
	}
	if !ok {
		if strings.HasPrefix(args[i], "/") {
			if n, ok := canonical(strings.TrimPrefix(args[i], "/")); ok && (n == "?" || n == "help") {
				c.object = "help"
				return c, nil
			}
		}
		return nil, &usageError{fmt.Sprintf("unknown command %q: use node, group, resource or resourcetype", args[i])}
	}
	c.object = obj
	i++
	if obj != "cluster" && i < len(args) && !strings.HasPrefix(args[i], "/") {
		c.name = args[i]
		i++
	}
	inProps := false
	for ; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "/") {
			if inProps {
				c.props = append(c.props, a)
				continue
			}
			return c, &usageError{fmt.Sprintf("unexpected argument %q", a)}
		}
		name, value, set := strings.Cut(a[1:], ":")
		n, ok := canonical(name)
		if !ok {
			return c, &usageError{fmt.Sprintf("unknown option %q", a)}
		}
		o := opt{name: n, value: value, set: set}
		if modifiers[n] {
			c.mods = append(c.mods, o)
			continue
		}
		if c.action.name != "" {
			return c, &usageError{fmt.Sprintf("options /%s and /%s cannot be used together", c.action.name, n)}
		}
		c.action = o
		inProps = n == "properties" || n == "privproperties"
	}
	if c.action.name == "" {
		c.action.name = "status"
		if c.object == "resourcetype" {
			c.action.name = "list"
		}
	}
	return c, nil
}

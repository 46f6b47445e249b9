package clustercmd

import (
	"context"
	"slices"

	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"wolfpack/internal/api/client"
	"wolfpack/internal/api/wire"
	"wolfpack/internal/cli/buildinfo"
)

// Main runs `cluster` with the process's arguments and streams; it returns the exit code.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, args, os.Stdout, os.Stderr, client.FromEnv)
}

// Run runs one command line; connect finds the node's API.
func Run(ctx context.Context, args []string, out, errOut io.Writer, connect func() (*client.Client, error)) int {
	if len(args) == 1 && buildinfo.IsVersionFlag(args[0]) {
		fmt.Fprintln(out, buildinfo.Version("cluster"))
		return 0
	}
	args = slices.Clone(args)
	for i, a := range args {
		if buildinfo.IsHelpFlag(a) {
			args[i] = "/?" // --help and -h work as /? does
		}
		if a == "-o" && i+1 < len(args) && strings.EqualFold(args[i+1], "json") {
			args[i], args[i+1] = "/f:json", "" // -o json, as the other CLIs take it
		}
	}
	args = slices.DeleteFunc(args, func(a string) bool { return a == "" })
	cmd, err := parse(args)
	if err != nil {
		fmt.Fprintf(errOut, "cluster: %v\n", err)
		fmt.Fprintf(errOut, "Type \"cluster %s/?\" for the usage.\n", objectWord(cmd))
		return 2
	}
	if cmd.object == "help" || cmd.action.name == "?" || cmd.action.name == "help" {
		fmt.Fprint(out, usageOf(cmd.object))
		return 0
	}
	asJSON := false
	for _, name := range []string{"f", "format"} {
		if f, ok := cmd.mod(name); ok {
			asJSON = strings.EqualFold(f.value, "json")
		}
	}
	c, err := connect()
	if err != nil {
		if asJSON {
			return report(out, errOut, true, err)
		}
		fmt.Fprintf(errOut, "cluster: %v\n", err)
		return 1
	}
	warned := map[string]bool{}
	c.OnWarning = func(w string) {
		// An answer from the node's own view (quorum lost): said once per command.
		if !warned[w] {
			warned[w] = true
			fmt.Fprintf(errOut, "Warning: %s\n", w)
		}
	}
	if m, ok := cmd.mod("node"); ok && m.value != "" && cmd.object != "node" {
		if c, err = c.Node(ctx, m.value); err != nil {
			return report(out, errOut, asJSON, err)
		}
	}
	r := &runner{ctx: ctx, c: c, cmd: cmd, out: out, errOut: errOut, json: asJSON}
	switch cmd.object {
	case "node":
		return r.node()
	case "group":
		return r.group()
	case "resource":
		return r.resource()
	case "resourcetype":
		return r.resourceTypes()
	case "cluster":
		switch cmd.action.name {
		case "properties":
			return r.clusterProperties()
		case "backup":
			return r.backup()
		}
		return r.access()
	}
	return 2
}

type runner struct {
	ctx    context.Context
	c      *client.Client
	cmd    *command
	out    io.Writer
	errOut io.Writer
	json   bool
}

func (r *runner) fail(err error) int {
	if r.json {
		return r.failWith(err, nil, false)
	}
	systemError(r.errOut, err)
	return 1
}

// failWith prints a failure as the one JSON document of the command (-o json): the
// error's message and Windows code, and the object as it ended when there is one.
func (r *runner) failWith(err error, obj any, withObj bool) int {
	printJSON(r.out, jsonError(err, obj, withObj))
	return 1
}

func (r *runner) usage(format string, args ...any) int {
	if r.json {
		printJSON(r.out, jsonErrorDoc{Error: fmt.Sprintf(format, args...), Code: 87})
		return 2
	}
	fmt.Fprintf(r.errOut, "cluster: "+format+"\n", args...)
	fmt.Fprintf(r.errOut, "Type \"cluster %s/?\" for the usage.\n", objectWord(r.cmd))
	return 2
}

func esc(name string) string { return url.PathEscape(name) }

// props parses the arguments of /prop and /priv: K=V pairs, or names with /usedefault
// (reset to the default). Both nil: a listing.
func (r *runner) props() (map[string]string, []string, error) {
	if len(r.cmd.props) == 0 {
		if _, ok := r.cmd.mod("usedefault"); ok {
			return nil, nil, &wire.Error{Code: 87, Message: "The parameter is incorrect. (/usedefault needs the names of the properties to reset)"}
		}
		return nil, nil, nil
	}
	if _, ok := r.cmd.mod("usedefault"); ok {
		for _, p := range r.cmd.props {
			if strings.Contains(p, "=") {
				return nil, nil, &wire.Error{Code: 87, Message: fmt.Sprintf("The parameter is incorrect. (/usedefault takes property names, not %s)", p)}
			}
		}
		return nil, r.cmd.props, nil
	}
	m := map[string]string{}
	for _, p := range r.cmd.props {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, nil, &wire.Error{Code: 87, Message: fmt.Sprintf("The parameter is incorrect. (%q is not NAME=VALUE; use NAME /usedefault to reset a property)", p)}
		}
		m[k] = v
	}
	return m, nil, nil
}

// waitLimit returns how long /wait waits (0: no /wait).
func (r *runner) waitLimit() time.Duration {
	m, ok := r.cmd.mod("wait")
	if !ok {
		return 0
	}
	if !m.set || m.value == "" {
		return 10 * time.Minute
	}
	s, err := strconv.Atoi(m.value)
	if err != nil || s <= 0 {
		return 10 * time.Minute
	}
	return time.Duration(s) * time.Second
}

func (r *runner) do(method, path string, in, out any) error {
	return r.c.Do(r.ctx, method, path, in, out)
}

// ---- nodes

func (r *runner) node() int {
	cmd := r.cmd
	if cmd.name == "" {
		if cmd.action.name != "status" {
			return r.usage("/%s needs a node name", cmd.action.name)
		}
		var nodes []wire.ClusterNode
		if err := r.do(http.MethodGet, "/v1/nodes", nil, &nodes); err != nil {
			return r.fail(err)
		}
		if r.json {
			printJSON(r.out, nodes)
			return 0
		}
		fmt.Fprint(r.out, "Listing status for all available nodes:\n\n")
		nodeTable(r.out, nodes)
		return 0
	}
	var n wire.ClusterNode
	path := "/v1/nodes/" + esc(cmd.name)
	switch cmd.action.name {
	case "status", "properties":
		props, reset, perr := r.props()
		if perr != nil {
			return r.fail(perr)
		}
		if props != nil || reset != nil {
			// NodeWeight=0|1, PinnedVoter=0|1.
			if err := r.do(http.MethodPost, path+"/prop", wire.ClusterAction{Props: props, UseDefault: reset}, &n); err != nil {
				return r.fail(err)
			}
			if r.json {
				printJSON(r.out, n)
			}
			return 0
		}
		if err := r.do(http.MethodGet, path, nil, &n); err != nil {
			return r.fail(err)
		}
	case "pause", "resume", "evict":
		if !r.json {
			verb := map[string]string{"pause": "Pausing", "resume": "Resuming", "evict": "Evicting"}[cmd.action.name]
			fmt.Fprintf(r.out, "%s node '%s'...\n", verb, cmd.name)
		}
		if err := r.do(http.MethodPost, path+"/"+cmd.action.name, nil, &n); err != nil {
			return r.fail(err)
		}
		if cmd.action.name == "evict" {
			if r.json {
				printJSON(r.out, n)
			}
			return 0
		}
		if !r.json {
			fmt.Fprintln(r.out)
		}
	default:
		return r.usage("/%s is not an option of cluster node", cmd.action.name)
	}
	if r.json {
		printJSON(r.out, n)
		return 0
	}
	if cmd.action.name == "properties" {
		fmt.Fprintf(r.out, "Listing properties for '%s':\n\n", n.Name)
		propTable(r.out, "Node", n.Name, []wire.ClusterProperty{
			{Name: "NodeName", Type: "S", Value: n.Name},
			{Name: "NodeID", Type: "S", Value: strconv.Itoa(n.ID)},
			{Name: "State", Type: "S", Value: n.State},
			{Name: "API", Type: "S", Value: n.API},
			{Name: "Witness", Type: "D", Value: b01(n.Witness)},
			{Name: "Paused", Type: "D", Value: b01(n.Paused)},
			{Name: "NodeWeight", Type: "D", Value: strconv.FormatUint(uint64(n.NodeWeight), 10)},
			{Name: "DynamicWeight", Type: "D", Value: b01(n.Role == "Voter")},
			{Name: "PinnedVoter", Type: "D", Value: b01(n.PinnedVoter)},
			{Name: "Role", Type: "S", Value: n.Role},
			{Name: "SchemaVersionMin", Type: "D", Value: strconv.Itoa(max(n.SchemaMin, 1))},
			{Name: "SchemaVersionMax", Type: "D", Value: strconv.Itoa(max(n.SchemaMax, 1))},
		})
		return 0
	}
	if cmd.action.name == "status" {
		fmt.Fprintf(r.out, "Listing status for node '%s':\n\n", n.Name)
	}
	nodeTable(r.out, []wire.ClusterNode{n})
	return 0
}

func b01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// clusterProperties lists or sets the cluster's common properties (cluster /prop).
func (r *runner) clusterProperties() int {
	props, reset, err := r.props()
	if err != nil {
		return r.fail(err)
	}
	var list []wire.ClusterProperty
	if props == nil && reset == nil {
		err = r.do(http.MethodGet, "/v1/cluster/properties", nil, &list)
	} else {
		err = r.do(http.MethodPost, "/v1/cluster/properties", wire.ClusterAction{Props: props, UseDefault: reset}, &list)
	}
	if err != nil {
		return r.fail(err)
	}
	if r.json {
		printJSON(r.out, list)
		return 0
	}
	if props != nil || reset != nil {
		return 0
	}
	fmt.Fprint(r.out, "Listing properties for the cluster:\n\n")
	propTable(r.out, "Cluster", "", list)
	return 0
}

// ---- groups

func (r *runner) getGroup(name string) (wire.ClusterGroup, error) {
	var g wire.ClusterGroup
	err := r.do(http.MethodGet, "/v1/groups/"+esc(name), nil, &g)
	return g, err
}

func (r *runner) group() int {
	cmd := r.cmd
	if cmd.name == "" {
		if cmd.action.name != "status" {
			return r.usage("/%s needs a group name", cmd.action.name)
		}
		var gs []wire.ClusterGroup
		if err := r.do(http.MethodGet, "/v1/groups", nil, &gs); err != nil {
			return r.fail(err)
		}
		if r.json {
			printJSON(r.out, gs)
			return 0
		}
		fmt.Fprint(r.out, "Listing status for all available resource groups:\n\n")
		groupTable(r.out, gs)
		return 0
	}
	name := cmd.name
	path := "/v1/groups/" + esc(name)
	var g wire.ClusterGroup
	var err error
	say := func(format string, args ...any) {
		if !r.json {
			fmt.Fprintf(r.out, format, args...)
		}
	}
	final := ""
	switch a := cmd.action; a.name {
	case "status":
		if g, err = r.getGroup(name); err == nil {
			say("Listing status for resource group '%s':\n\n", g.Name)
		}
	case "create":
		say("Creating resource group '%s'...\n\n", name)
		err = r.do(http.MethodPost, "/v1/groups", wire.ClusterAction{Name: name}, &g)
	case "delete":
		say("Deleting resource group '%s'...\n", name)
		if err = r.do(http.MethodDelete, path, nil, &g); err == nil {
			if r.json {
				printJSON(r.out, g)
			}
			return 0
		}
	case "rename":
		if a.value == "" {
			return r.usage("/rename needs a new name: /rename:NEW")
		}
		say("Renaming resource group '%s'...\n\n", name)
		err = r.do(http.MethodPost, path+"/rename", wire.ClusterAction{Name: a.value}, &g)
	case "online":
		say("Bringing resource group '%s' online...\n\n", name)
		err = r.do(http.MethodPost, path+"/online", wire.ClusterAction{Node: a.value}, &g)
		final = "Online"
	case "offline":
		say("Bringing resource group '%s' offline...\n\n", name)
		err = r.do(http.MethodPost, path+"/offline", nil, &g)
		final = "Offline"
	case "moveto":
		say("Moving resource group '%s'...\n\n", name)
		var before wire.ClusterGroup
		if before, err = r.getGroup(name); err == nil {
			err = r.do(http.MethodPost, path+"/move", wire.ClusterAction{Node: a.value}, &g)
		}
		if err == nil && r.waitLimit() > 0 {
			g, err = r.waitMove(before, a.value)
		}
	case "setowners":
		owners := splitList(a.value)
		err = r.do(http.MethodPost, path+"/setowners", wire.ClusterAction{List: owners}, &g)
		if err == nil && !r.json {
			return 0
		}
	case "listowners":
		if g, err = r.getGroup(name); err == nil && !r.json {
			fmt.Fprintf(r.out, "Listing preferred owners for resource group '%s':\n\n", g.Name)
			listTable(r.out, "Preferred Owner Nodes", g.PreferredOwners)
			return 0
		}
	case "properties":
		props, reset, perr := r.props()
		if perr != nil {
			return r.fail(perr)
		}
		if props == nil && reset == nil {
			g, err = r.getGroup(name) // a listing is a read: a ReadOnly token may do it
		} else {
			err = r.do(http.MethodPost, path+"/prop", wire.ClusterAction{Props: props, UseDefault: reset}, &g)
		}
		if err == nil && !r.json {
			if props != nil || reset != nil {
				return 0
			}
			fmt.Fprintf(r.out, "Listing properties for '%s':\n\n", g.Name)
			propTable(r.out, "Resource Group", g.Name, g.Properties)
			return 0
		}
	default:
		return r.usage("/%s is not an option of cluster group", a.name)
	}
	if err == nil && final != "" && r.waitLimit() > 0 {
		g, err = waitState(r, "group", g, final, r.getGroup, groupView)
	}
	if r.json {
		if err != nil {
			return r.failWith(err, g, g.Name != "")
		}
		printJSON(r.out, g)
		return 0
	}
	if g.Name != "" {
		groupTable(r.out, []wire.ClusterGroup{g})
	}
	if err != nil {
		if g.Name != "" {
			fmt.Fprintln(r.out)
		}
		return r.fail(err)
	}
	return 0
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ---- resources

func (r *runner) getResource(name string) (wire.ClusterResource, error) {
	var x wire.ClusterResource
	err := r.do(http.MethodGet, "/v1/resources/"+esc(name), nil, &x)
	return x, err
}

func (r *runner) resource() int {
	cmd := r.cmd
	if cmd.name == "" {
		if cmd.action.name == "checkpoints" {
			// Every resource's checkpoints (checkpoint.go).
			return checkpointCommandAs(r.ctx, r.c, r.out, r.errOut, "", cmd.action.name, cmd.action.value, r.json, false)
		}
		if cmd.action.name != "status" {
			return r.usage("/%s needs a resource name", cmd.action.name)
		}
		var rs []wire.ClusterResource
		if err := r.do(http.MethodGet, "/v1/resources", nil, &rs); err != nil {
			return r.fail(err)
		}
		if r.json {
			printJSON(r.out, rs)
			return 0
		}
		fmt.Fprint(r.out, "Listing status for all available resources:\n\n")
		resourceTable(r.out, rs)
		return 0
	}
	name := cmd.name
	path := "/v1/resources/" + esc(name)
	var x wire.ClusterResource
	var err error
	say := func(format string, args ...any) {
		if !r.json {
			fmt.Fprintf(r.out, format, args...)
		}
	}
	final := ""
	post := func(action string, body any) { err = r.do(http.MethodPost, path+"/"+action, body, &x) }
	switch a := cmd.action; a.name {
	case "status":
		if x, err = r.getResource(name); err == nil {
			say("Listing status for resource '%s':\n\n", x.Name)
		}
	case "create":
		g, _ := cmd.mod("group")
		t, _ := cmd.mod("type")
		if g.value == "" || t.value == "" {
			return r.usage("/create needs /group:GROUP and /type:TYPE")
		}
		say("Creating resource '%s'...\n\n", name)
		err = r.do(http.MethodPost, "/v1/resources", wire.ClusterAction{Name: name, Group: g.value, Type: t.value}, &x)
	case "delete":
		say("Deleting resource '%s'...\n", name)
		if err = r.do(http.MethodDelete, path, nil, &x); err == nil {
			if r.json {
				printJSON(r.out, x)
			}
			return 0
		}
	case "online":
		say("Bringing resource '%s' online...\n\n", name)
		post("online", nil)
		final = "Online"
	case "offline":
		say("Bringing resource '%s' offline...\n\n", name)
		post("offline", nil)
		final = "Offline"
	case "fail":
		say("Failing resource '%s'...\n\n", name)
		post("fail", nil)
	case "moveto":
		if a.value == "" {
			return r.usage("/moveto needs a group: /moveto:GROUP")
		}
		say("Moving resource '%s'...\n\n", name)
		post("move", wire.ClusterAction{Group: a.value})
	case "adddependency", "removedependency":
		if a.value == "" {
			return r.usage("/%s needs a resource: /%s:RESOURCE", a.name, a.name)
		}
		if a.name == "adddependency" {
			say("Making resource '%s' depend on resource '%s'...\n", name, a.value)
			post("adddep", wire.ClusterAction{Value: a.value})
		} else {
			say("Removing dependency of resource '%s' on resource '%s'...\n", name, a.value)
			post("removedep", wire.ClusterAction{Value: a.value})
		}
		if err == nil && !r.json {
			return 0
		}
	case "listdependencies":
		if x, err = r.getResource(name); err == nil {
			var deps []wire.ClusterResource
			for _, d := range x.Dependencies {
				dx, derr := r.getResource(d)
				if derr != nil {
					return r.fail(derr)
				}
				deps = append(deps, dx)
			}
			if r.json {
				printJSON(r.out, deps)
				return 0
			}
			fmt.Fprintf(r.out, "Listing resource dependencies for '%s':\n\n", x.Name)
			resourceTable(r.out, deps)
			return 0
		}
	case "addowner", "removeowner":
		if a.value == "" {
			return r.usage("/%s needs a node: /%s:NODE", a.name, a.name)
		}
		if a.name == "addowner" {
			say("Adding '%s' to the possible owners of '%s'...\n", a.value, name)
		} else {
			say("Removing '%s' from the possible owners of '%s'...\n", a.value, name)
		}
		post(a.name, wire.ClusterAction{Value: a.value})
		if err == nil && !r.json {
			return 0
		}
	case "listowners":
		if x, err = r.getResource(name); err == nil && !r.json {
			fmt.Fprintf(r.out, "Listing possible owners for resource '%s':\n\n", x.Name)
			owners := x.PossibleOwners
			if len(owners) == 0 {
				var nodes []wire.ClusterNode
				if err := r.do(http.MethodGet, "/v1/nodes", nil, &nodes); err != nil {
					return r.fail(err)
				}
				for _, n := range nodes {
					if !n.Witness {
						owners = append(owners, n.Name)
					}
				}
			}
			listTable(r.out, "Possible Owner Nodes", owners)
			return 0
		}
	case "properties", "privproperties":
		props, reset, perr := r.props()
		if perr != nil {
			return r.fail(perr)
		}
		action := "prop"
		if a.name == "privproperties" {
			action = "priv"
		}
		if props == nil && reset == nil {
			x, err = r.getResource(name) // a listing is a read: a ReadOnly token may do it
		} else {
			post(action, wire.ClusterAction{Props: props, UseDefault: reset})
		}
		if err == nil && x.Warning != nil {
			systemWarning(r.errOut, x.Warning)
		}
		if err == nil && !r.json {
			if props != nil || reset != nil {
				return 0
			}
			list := x.Properties
			if action == "priv" {
				list = r.withDefaults(x)
				fmt.Fprintf(r.out, "Listing private properties for '%s':\n\n", x.Name)
			} else {
				fmt.Fprintf(r.out, "Listing properties for '%s':\n\n", x.Name)
			}
			propTable(r.out, "Resource", x.Name, list)
			return 0
		}
	case "addcheckpoints", "removecheckpoints", "checkpoints", "checkpointhistory", "checkpointdiff",
		"checkpointrollback", "checkpointverify":
		_, force := cmd.mod("force")
		return checkpointCommandAs(r.ctx, r.c, r.out, r.errOut, name, a.name, a.value, r.json, force)
	default:
		return r.usage("/%s is not an option of cluster resource", a.name)
	}
	if err == nil && final != "" && r.waitLimit() > 0 {
		x, err = waitState(r, "resource", x, final, r.getResource, resourceView)
	}
	if r.json {
		if err != nil {
			return r.failWith(err, x, x.Name != "")
		}
		printJSON(r.out, x)
		return 0
	}
	if x.Name != "" {
		resourceTable(r.out, []wire.ClusterResource{x})
	}
	if err != nil {
		if x.Name != "" && !r.json {
			fmt.Fprintln(r.out)
		}
		return r.fail(err)
	}
	return 0
}

// withDefaults is a resource's private properties as /priv lists them: those set, and
// the ones its type declares with their defaults.
func (r *runner) withDefaults(x wire.ClusterResource) []wire.ClusterProperty {
	list := slices.Clone(x.Private)
	var t wire.ClusterResourceType
	if err := r.do(http.MethodGet, "/v1/resourcetypes/"+esc(x.Type), nil, &t); err != nil {
		return list
	}
	for _, p := range t.Properties {
		set := slices.ContainsFunc(list, func(q wire.ClusterProperty) bool { return strings.EqualFold(q.Name, p.Name) })
		if !set {
			list = append(list, wire.ClusterProperty{Name: p.Name, Type: formatLetter(p.Format), Value: p.Default})
		}
	}
	for i, q := range list {
		// Set properties show their declared type.
		for _, p := range t.Properties {
			if strings.EqualFold(q.Name, p.Name) {
				list[i].Type = formatLetter(p.Format)
			}
		}
	}
	return list
}

// ---- resource types

func (r *runner) resourceTypes() int {
	if r.cmd.name != "" {
		return r.resourceType()
	}
	if r.cmd.action.name != "list" && r.cmd.action.name != "status" {
		return r.usage("/%s is not an option of cluster resourcetype", r.cmd.action.name)
	}
	var ts []wire.ClusterResourceType
	if err := r.do(http.MethodGet, "/v1/resourcetypes", nil, &ts); err != nil {
		return r.fail(err)
	}
	if r.json {
		printJSON(r.out, ts)
		return 0
	}
	fmt.Fprint(r.out, "Listing all available resource types:\n\n")
	fmt.Fprintf(r.out, "%-36s %s\n", "Display Name", "Resource Type Name")
	fmt.Fprintf(r.out, "%s %s\n", strings.Repeat("-", 36), strings.Repeat("-", 36))
	for _, t := range ts {
		fmt.Fprintf(r.out, "%-36s %s\n", t.DisplayName, t.Name)
	}
	return 0
}

// resourceType is `cluster resourcetype NAME [/priv | /status]`.
func (r *runner) resourceType() int {
	switch r.cmd.action.name {
	case "list", "status", "privproperties":
	default:
		return r.usage("/%s is not an option of cluster resourcetype NAME (use /priv or /status)", r.cmd.action.name)
	}
	var t wire.ClusterResourceType
	if err := r.do(http.MethodGet, "/v1/resourcetypes/"+esc(r.cmd.name), nil, &t); err != nil {
		return r.fail(err)
	}
	if r.json {
		printJSON(r.out, t)
		return 0
	}
	if r.cmd.action.name != "privproperties" {
		fmt.Fprintf(r.out, "Listing resource type '%s':\n\n", t.Name)
		fmt.Fprintf(r.out, "%-36s %s\n", "Display Name", "Resource Type Name")
		fmt.Fprintf(r.out, "%s %s\n", strings.Repeat("-", 36), strings.Repeat("-", 36))
		fmt.Fprintf(r.out, "%-36s %s\n", t.DisplayName, t.Name)
		if t.Description != "" {
			fmt.Fprintf(r.out, "\n%s\n", t.Description)
		}
		return 0
	}
	fmt.Fprintf(r.out, "Listing private properties for '%s':\n\n", t.Name)
	props := make([]wire.ClusterProperty, len(t.Properties))
	for i, p := range t.Properties {
		props[i] = wire.ClusterProperty{Name: p.Name, Type: formatLetter(p.Format), Value: p.Default}
	}
	propTable(r.out, "Resource Type", t.Name, props)
	fmt.Fprintln(r.out)
	for _, p := range t.Properties {
		line := p.Description
		if p.Required {
			line = "required; " + line
		}
		if len(p.Values) > 0 {
			line += " (" + strings.Join(p.Values, ", ") + ")"
		}
		fmt.Fprintf(r.out, "%s: %s\n", p.Name, line)
	}
	if t.OpenProperties {
		fmt.Fprintf(r.out, "\nOther properties are passed to the resource's program.\n")
	}
	return 0
}

// objectWord is "group " for a command line about groups, "" when no object was named.
func objectWord(cmd *command) string {
	if cmd == nil || cmd.object == "" || cmd.object == "help" {
		return ""
	}
	return cmd.object + " "
}

// formatLetter is a property format as /prop lists it: D (DWORD), M (MultiString), S.
func formatLetter(format string) string {
	switch format {
	case "DWORD":
		return "D"
	case "MultiString":
		return "M"
	}
	return "S"
}

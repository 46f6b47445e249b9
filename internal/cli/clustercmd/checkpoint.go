package clustercmd

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"wolfpack/internal/api/client"
	"wolfpack/internal/api/wire"
)

// checkpointCommandAs runs the registry checkpoint options of `cluster resource NAME`.
// option is the option's full name without the slash, value what followed its colon:
//
//	/addcheckpoints:"KEY"[,"KEY"…]     add (keys relative to HKLM, no leading backslash)
//	/removecheckpoints:"KEY"[,"KEY"…]  remove, with their stored versions
//	/checkpoints                       list each key with its newest version (without a
//	                                   resource name: every resource's)
//	/checkpointhistory:"KEY"           list the kept versions
//	/checkpointdiff:"KEY",V1[,V2]      .reg text turning V1 into V2 (default: the newest)
//	/checkpointrollback:"KEY",V        make V the newest; restore it now if online
//	/checkpointverify                  compare the owner's live subtrees with the newest
//	                                   versions (exit status 1 when they drifted)
//
// With asJSON (/f:json) it prints the API's answer as indented JSON instead of the text
// (no progress lines), with the same exit status.
func checkpointCommandAs(ctx context.Context, c *client.Client, out, errOut io.Writer, resource, option, value string, asJSON, force bool) int {
	if resource == "" && option == "checkpoints" {
		return allCheckpoints(ctx, c, out, errOut, asJSON)
	}
	say := func(format string, args ...any) {
		if !asJSON {
			fmt.Fprintf(out, format, args...)
		}
	}
	if resource == "" {
		fmt.Fprintf(errOut, "cluster: /%s needs a resource name\n", option)
		return 2
	}
	base := "/v1/resources/" + url.PathEscape(resource) + "/checkpoints"
	fail := func(err error) int { return report(out, errOut, asJSON, err) }
	switch option {
	case "addcheckpoints", "removecheckpoints":
		keys, err := splitCheckpointList(value)
		if err != nil || len(keys) == 0 {
			fmt.Fprintf(errOut, "cluster: /%s:\"KEY\"[,\"KEY\"…] needs registry keys relative to HKEY_LOCAL_MACHINE\n", option)
			return 2
		}
		var list []wire.CheckpointInfo
		if option == "addcheckpoints" {
			for _, k := range keys {
				say("Adding registry checkpoint '%s' for resource '%s'...\n", k, resource)
			}
			err = c.Do(ctx, http.MethodPost, base, wire.CheckpointKeys{Keys: keys, Force: force}, &list)
		} else {
			for _, k := range keys {
				say("Removing registry checkpoint '%s' for resource '%s'...\n", k, resource)
			}
			q := url.Values{"key": keys}
			err = c.Do(ctx, http.MethodDelete, base+"?"+q.Encode(), nil, &list)
		}
		if err != nil {
			return fail(err)
		}
		if asJSON {
			printJSON(out, list)
			return 0
		}
		fmt.Fprintln(out)
		printCheckpoints(out, resource, list)
		return 0
	case "checkpoints":
		if value != "" {
			fmt.Fprintln(errOut, "cluster: /checkpoints takes no value")
			return 2
		}
		var list []wire.CheckpointInfo
		if err := c.Do(ctx, http.MethodGet, base, nil, &list); err != nil {
			return fail(err)
		}
		if asJSON {
			printJSON(out, list)
			return 0
		}
		fmt.Fprintf(out, "Listing registry checkpoints for resource '%s'...\n\n", resource)
		printCheckpoints(out, resource, list)
		return 0
	case "checkpointhistory":
		keys, err := splitCheckpointList(value)
		if err != nil || len(keys) != 1 {
			fmt.Fprintln(errOut, `cluster: /checkpointhistory:"KEY" needs one registry key`)
			return 2
		}
		var vs []wire.CheckpointVersion
		if err := c.Do(ctx, http.MethodGet, base+"/history?"+url.Values{"key": keys}.Encode(), nil, &vs); err != nil {
			return fail(err)
		}
		if asJSON {
			printJSON(out, vs)
			return 0
		}
		fmt.Fprintf(out, "Listing versions of registry checkpoint '%s' for resource '%s'...\n\n", keys[0], resource)
		tw := tabwriter.NewWriter(out, 0, 0, 1, ' ', 0)
		fmt.Fprintln(tw, "Version\tTime\tNode\tSize\tHash")
		fmt.Fprintln(tw, "-------\t-------------------\t----\t----\t----------------------------------------------------------------")
		for _, v := range vs {
			note := ""
			if v.RolledBackFrom != 0 {
				note = fmt.Sprintf(" (rollback to %d)", v.RolledBackFrom)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s%s\n", v.Number, localTime(v.Time), v.Node, v.Size, v.Hash, note)
		}
		tw.Flush()
		return 0
	case "checkpointdiff":
		parts, err := splitCheckpointList(value)
		if err != nil || len(parts) < 2 || len(parts) > 3 {
			fmt.Fprintln(errOut, `cluster: /checkpointdiff:"KEY",V1[,V2] needs a registry key and one or two version numbers`)
			return 2
		}
		q := url.Values{"key": {parts[0]}, "v1": {parts[1]}}
		if len(parts) == 3 {
			q.Set("v2", parts[2])
		}
		for _, p := range parts[1:] {
			if n, err := strconv.Atoi(p); err != nil || n < 1 {
				fmt.Fprintf(errOut, "cluster: /checkpointdiff: %q is not a version number\n", p)
				return 2
			}
		}
		var d wire.CheckpointDiff
		if err := c.Do(ctx, http.MethodGet, base+"/diff?"+q.Encode(), nil, &d); err != nil {
			return fail(err)
		}
		if asJSON {
			printJSON(out, d)
			return 0
		}
		fmt.Fprintf(out, "; Registry checkpoint '%s' of resource '%s': version %d -> version %d\n", d.Key, resource, d.V1, d.V2)
		io.WriteString(out, d.Text)
		return 0
	case "checkpointrollback":
		parts, err := splitCheckpointList(value)
		var v int
		if err == nil && len(parts) == 2 {
			v, err = strconv.Atoi(parts[1])
		}
		if err != nil || len(parts) != 2 || v < 1 {
			fmt.Fprintln(errOut, `cluster: /checkpointrollback:"KEY",V needs a registry key and a version number`)
			return 2
		}
		var ans wire.CheckpointRollbackAnswer
		if err := c.Do(ctx, http.MethodPost, base+"/rollback", wire.CheckpointRollback{Key: parts[0], Version: v}, &ans); err != nil {
			return fail(err)
		}
		if asJSON {
			printJSON(out, ans)
			if ans.RestoreError != "" {
				return 1
			}
			return 0
		}
		fmt.Fprintf(out, "Registry checkpoint '%s' of resource '%s' rolled back to version %d: it is now version %d.\n",
			parts[0], resource, v, ans.Version.Number)
		switch {
		case ans.Restored:
			fmt.Fprintf(out, "Restored on node %s, where the resource is online.\n", ans.Node)
		case ans.RestoreError != "":
			fmt.Fprintf(errOut, "The resource is online on node %s, but the restore there failed: %s\n", ans.Node, ans.RestoreError)
			fmt.Fprintln(errOut, "It will be restored the next time the resource comes online.")
			return 1
		default:
			fmt.Fprintln(out, "The resource is not online; the version will be restored when it comes online.")
		}
		return 0
	case "checkpointverify":
		var ds []wire.CheckpointDrift
		if err := c.Do(ctx, http.MethodGet, base+"/verify", nil, &ds); err != nil {
			return fail(err)
		}
		if asJSON {
			printJSON(out, ds)
			if slices.ContainsFunc(ds, func(d wire.CheckpointDrift) bool { return !d.InSync }) {
				return 1
			}
			return 0
		}
		fmt.Fprintf(out, "Verifying registry checkpoints for resource '%s'...\n\n", resource)
		drift := false
		for _, d := range ds {
			if d.InSync {
				fmt.Fprintf(out, "'%s': node %s matches version %d.\n", d.Key, d.Node, d.Version)
				continue
			}
			drift = true
			if d.Version == 0 {
				fmt.Fprintf(out, "'%s': node %s: %s", d.Key, d.Node, d.Diff)
				continue
			}
			fmt.Fprintf(out, "'%s': node %s has drifted from version %d:\n%s", d.Key, d.Node, d.Version, d.Diff)
		}
		if drift {
			return 1
		}
		return 0
	}
	fmt.Fprintf(errOut, "cluster: /%s is not a checkpoint option\n", option)
	return 2
}

// allCheckpoints lists the checkpoints of every resource (`cluster resource /checkpoints`).
// With asJSON it prints an object from resource name to its checkpoints.
func allCheckpoints(ctx context.Context, c *client.Client, out, errOut io.Writer, asJSON bool) int {
	var rs []wire.ClusterResource
	if err := c.Do(ctx, http.MethodGet, "/v1/resources", nil, &rs); err != nil {
		return report(out, errOut, asJSON, err)
	}
	all := map[string][]wire.CheckpointInfo{}
	var names []string
	for _, r := range rs {
		if len(r.Checkpoints) == 0 {
			continue
		}
		var list []wire.CheckpointInfo
		if err := c.Do(ctx, http.MethodGet, "/v1/resources/"+url.PathEscape(r.Name)+"/checkpoints", nil, &list); err != nil {
			return report(out, errOut, asJSON, err)
		}
		all[r.Name] = list
		names = append(names, r.Name)
	}
	if asJSON {
		printJSON(out, all)
		return 0
	}
	fmt.Fprintf(out, "Listing registry checkpoints for all resources...\n\n")
	tw := checkpointTable(out)
	for _, name := range names {
		checkpointRows(tw, name, all[name])
	}
	tw.Flush()
	return 0
}

func printCheckpoints(out io.Writer, resource string, list []wire.CheckpointInfo) {
	tw := checkpointTable(out)
	checkpointRows(tw, resource, list)
	tw.Flush()
}

func checkpointTable(out io.Writer) *tabwriter.Writer {
	tw := tabwriter.NewWriter(out, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "Resource\tRegistry Checkpoint\tVersion\tTime\tNode\tSize")
	fmt.Fprintln(tw, "--------------------\t------------------------------------------------------------\t-------\t-------------------\t----\t----")
	return tw
}

func checkpointRows(tw *tabwriter.Writer, resource string, list []wire.CheckpointInfo) {
	for _, ck := range list {
		if ck.Version == 0 {
			fmt.Fprintf(tw, "%s\t'%s'\t-\t-\t-\t-\n", resource, ck.Key)
			continue
		}
		fmt.Fprintf(tw, "%s\t'%s'\t%d\t%s\t%s\t%d\n", resource, ck.Key, ck.Version, localTime(ck.Time), ck.Node, ck.Size)
	}
}

func localTime(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") }

// splitCheckpointList splits cluster.exe's comma-separated list, where items may be quoted
// ("A,B","C"): quotes group, and are removed.
func splitCheckpointList(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	quoted, has := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
			has = true
		case r == ',' && !quoted:
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
			has = false
		default:
			cur.WriteRune(r)
			has = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("unbalanced quotes in %q", s)
	}
	if has || len(out) > 0 {
		out = append(out, strings.TrimSpace(cur.String()))
	}
	for _, p := range out {
		if p == "" {
			return nil, fmt.Errorf("empty item in %q", s)
		}
	}
	return out, nil
}

package clustercmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"wolfpack/internal/api/wire"
)

// stateText is a state as cluster.exe prints it.
func stateText(s string) string {
	switch s {
	case "PartialOnline":
		return "Partially Online"
	case "OnlinePending":
		return "Online Pending"
	case "OfflinePending":
		return "Offline Pending"
	}
	return s
}

func printJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// nodeTable lists nodes as cluster.exe does, with Wolfpack's Role column: the node's
// place in the cluster database (Voter, Learner, Non-voter; "(pinned)" when the
// administrator pinned it).
func nodeTable(w io.Writer, nodes []wire.ClusterNode) {
	fmt.Fprintf(w, "%-14s %-7s %-16s %s\n", "Node", "Node ID", "Status", "Role")
	fmt.Fprintf(w, "%s %s %s %s\n", strings.Repeat("-", 14), strings.Repeat("-", 7), strings.Repeat("-", 16), strings.Repeat("-", 14))
	for _, n := range nodes {
		st := n.State
		if n.Witness {
			st += " (witness)" // an etcd member that never runs resources
		}
		fmt.Fprintf(w, "%-14s %7d %-16s %s\n", n.Name, n.ID, st, roleText(n))
	}
}

// roleText is a node's role as the node table shows it.
func roleText(n wire.ClusterNode) string {
	r := n.Role
	switch r {
	case "NonVoter":
		r = "Non-voter"
	case "":
		r = "-"
	}
	if n.PinnedVoter {
		r += " (pinned)"
	}
	return r
}

func groupTable(w io.Writer, groups []wire.ClusterGroup) {
	fmt.Fprintf(w, "%-20s %-15s %s\n", "Group", "Node", "Status")
	fmt.Fprintf(w, "%s %s %s\n", strings.Repeat("-", 20), strings.Repeat("-", 15), strings.Repeat("-", 6))
	for _, g := range groups {
		fmt.Fprintf(w, "%-20s %-15s %s\n", g.Name, g.Node, stateText(g.State))
	}
	views := make([]view, len(groups))
	for i, g := range groups {
		views[i] = groupView(g)
	}
	reasons(w, views)
}

func resourceTable(w io.Writer, rs []wire.ClusterResource) {
	fmt.Fprintf(w, "%-20s %-20s %-15s %s\n", "Resource", "Group", "Node", "Status")
	fmt.Fprintf(w, "%s %s %s %s\n", strings.Repeat("-", 20), strings.Repeat("-", 20), strings.Repeat("-", 15), strings.Repeat("-", 6))
	for _, r := range rs {
		fmt.Fprintf(w, "%-20s %-20s %-15s %s\n", r.Name, r.Group, r.Node, stateText(r.State))
	}
	views := make([]view, len(rs))
	for i, r := range rs {
		views[i] = resourceView(r)
	}
	reasons(w, views)
}

// propTable lists properties as cluster.exe's /prop does; objectColumn is "Resource
// Group", "Resource" or "Node".
func propTable(w io.Writer, objectColumn, object string, props []wire.ClusterProperty) {
	fmt.Fprintf(w, "%-2s %-20s %-30s %s\n", "T", objectColumn, "Name", "Value")
	fmt.Fprintf(w, "%s %s %s %s\n", strings.Repeat("-", 2), strings.Repeat("-", 20), strings.Repeat("-", 30), strings.Repeat("-", 23))
	for _, p := range props {
		fmt.Fprintf(w, "%-2s %-20s %-30s %s\n", p.Type, object, p.Name, p.Value)
	}
}

func listTable(w io.Writer, title string, items []string) {
	fmt.Fprintln(w, title)
	fmt.Fprintln(w, strings.Repeat("-", len(title)))
	for _, it := range items {
		fmt.Fprintln(w, it)
	}
}

// systemError prints an API error as cluster.exe prints a Win32 error. A refusal of the
// API (401, 403) is Windows' "Access is denied." with the server's reason below it.
func systemError(w io.Writer, err error) {
	var se *stateError
	if errors.As(err, &se) {
		fmt.Fprintf(w, "%s\n", upperFirst(se.Error()))
		err = se.code()
	}
	if ae, ok := err.(*wire.Error); ok && ae.Code != 0 {
		fmt.Fprintf(w, "System error %d has occurred (0x%08x).\n", ae.Code, ae.Code)
		if ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden {
			fmt.Fprintf(w, "Access is denied.\n%s\n", ae.Message)
			return
		}
		msg, detail := splitDetail(ae.Message)
		fmt.Fprintf(w, "%s\n", msg)
		if strings.Contains(detail, " ") {
			// What was wrong, beyond Windows' general message (a bare name, which the
			// command line holds already, is not repeated).
			fmt.Fprintf(w, "%s\n", upperFirst(detail))
		}
		return
	}
	fmt.Fprintf(w, "cluster: %v\n", err)
}

// systemWarning prints a change that was stored but takes effect later (5024), as
// cluster.exe prints a warning.
func systemWarning(w io.Writer, ae *wire.Error) {
	fmt.Fprintf(w, "System warning %d (0x%08x).\n%s\n", ae.Code, ae.Code, ae.Message)
}

// splitDetail separates Windows' message from the detail the server appends in
// parentheses ("The cluster resource could not be found. (R1)").
func splitDetail(msg string) (string, string) {
	if i := strings.Index(msg, ". ("); i > 0 && strings.HasSuffix(msg, ")") {
		return msg[:i+1], msg[i+3 : len(msg)-1]
	}
	return msg, ""
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// jsonErrorDoc is a failure as JSON output prints it: one document per command.
type jsonErrorDoc struct {
	Error  string `json:"error"`
	Code   uint32 `json:"code,omitempty"`
	Object any    `json:"object,omitempty"` // the group or resource as the command left it
}

func jsonError(err error, obj any, withObj bool) jsonErrorDoc {
	d := jsonErrorDoc{Error: err.Error()}
	var se *stateError
	var ae *wire.Error
	switch {
	case errors.As(err, &se):
		d.Error = upperFirst(se.Error())
		d.Code = se.code().Code
	case errors.As(err, &ae):
		d.Code = ae.Code
		msg, detail := splitDetail(ae.Message)
		d.Error = msg
		if strings.Contains(detail, " ") {
			d.Error = msg + " " + upperFirst(detail)
		}
	}
	if withObj {
		d.Object = obj
	}
	return d
}

// report prints a failure: as cluster.exe does, or as the command's JSON document.
func report(out, errOut io.Writer, asJSON bool, err error) int {
	if asJSON {
		printJSON(out, jsonError(err, nil, false))
	} else {
		systemError(errOut, err)
	}
	return 1
}

package clustercmd

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"wolfpack/internal/api/client"
	"wolfpack/internal/api/wire"
)

// API access, as WSFC's Grant-ClusterAccess, Remove-ClusterAccess and Get-ClusterAccess,
// in cluster.exe's grammar:
//
//	cluster /grant:NAME /level:ReadOnly|Full   a new token; the token alone on stdout, once
//	cluster /revoke:NAME                       the token stops working on every node
//	cluster /listaccess                        name, level, created, last used
//
// A token is never taken from the command line: the CLIs read $WOLFPACK_API_TOKEN, or
// the file that $WOLFPACK_API_TOKEN_FILE names, else the node's own token.

func (r *runner) access() int {
	a := r.cmd.action
	switch a.name {
	case "grant":
		if a.value == "" {
			return r.usage("/grant needs a name: /grant:NAME /level:ReadOnly|Full")
		}
		m, ok := r.cmd.mod("level")
		if !ok || m.value == "" {
			return r.usage("/grant needs /level:ReadOnly or /level:Full")
		}
		level, err := wire.ParseLevel(m.value)
		if err != nil {
			return r.usage("/level:%s: use ReadOnly or Full", m.value)
		}
		if !r.json {
			fmt.Fprintf(r.errOut, "Granting %s access to '%s'...\n", level, a.value)
		}
		var g wire.AccessGrant
		if err := r.do(http.MethodPost, "/v1/access", wire.AccessGrantRequest{Name: a.value, Level: level}, &g); err != nil {
			return r.fail(err)
		}
		if r.json {
			printJSON(r.out, g)
			return 0
		}
		// The token alone on stdout, for TOKEN=$(cluster /grant:…); the advice on stderr.
		fmt.Fprintln(r.out, g.Token)
		fmt.Fprintf(r.errOut, "This token is shown only once and cannot be recovered: keep it where only '%s' can read it.\n"+
			"Give it to the CLIs in the file named by $%s (or in $%s), never on a command line.\n",
			g.Name, client.TokenFileEnv, client.TokenEnv)
		return 0
	case "revoke":
		if a.value == "" {
			return r.usage("/revoke needs a name: /revoke:NAME")
		}
		if !r.json {
			fmt.Fprintf(r.out, "Revoking the access of '%s'...\n", a.value)
		}
		if err := r.do(http.MethodDelete, "/v1/access/"+esc(a.value), nil, nil); err != nil {
			return r.fail(err)
		}
		if r.json {
			printJSON(r.out, map[string]string{"name": a.value, "revoked": "true"})
		}
		return 0
	case "listaccess":
		var toks []wire.AccessToken
		if err := r.do(http.MethodGet, "/v1/access", nil, &toks); err != nil {
			return r.fail(err)
		}
		if r.json {
			printJSON(r.out, toks)
			return 0
		}
		fmt.Fprint(r.out, "Listing cluster access:\n\n")
		accessTable(r.out, toks)
		return 0
	}
	return r.usage("/%s is not an option of the cluster itself", a.name)
}

func accessTable(w io.Writer, toks []wire.AccessToken) {
	fmt.Fprintf(w, "%-24s %-8s %-19s %s\n", "Name", "Access", "Created", "Last Used")
	fmt.Fprintf(w, "%s %s %s %s\n", strings.Repeat("-", 24), strings.Repeat("-", 8), strings.Repeat("-", 19), strings.Repeat("-", 16))
	for _, t := range toks {
		used := "-" // not used, or not in the last minute's record yet
		if !t.LastUsed.IsZero() {
			used = t.LastUsed.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(w, "%-24s %-8s %-19s %s\n", t.Name, t.Level, t.Created.Local().Format(time.DateTime), used)
	}
}

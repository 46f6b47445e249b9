package wevtutilcmd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"os/user"
	"strconv"
	"strings"
	"syscall"

	"wolfpack/internal/api/wire"
	"wolfpack/internal/cli/buildinfo"
	"wolfpack/internal/eventlog"
)

// EventcreateMain runs eventcreate with args (without the program name).
func EventcreateMain(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Eventcreate(ctx, &Env{Stdout: os.Stdout, Stderr: os.Stderr, Connect: Connect, Catalog: eventlog.DefaultCatalog()}, args)
}

const eventcreateUsage = `
EVENTCREATE [/S system] /ID eventid [/L logname] [/SO srcname] /T type /D description

Description:
    This command line tool enables an administrator to create
    a custom event ID and message in a specified event log.

Parameter List:
    /S    system           Specifies the cluster node to connect to.
    /ID   id               Specifies the event ID for the event. A
                           valid custom message ID is in the range
                           of 1 - 1000.
    /L    logname          Specifies the event log name where the event
                           will be created. The valid names are:
                           APPLICATION, SYSTEM (default APPLICATION).
    /SO   source           Specifies the source to use for the event
                           (if not specified, source will default to
                           'eventcreate'). A valid source can be any
                           string and should represent the application
                           or component that is generating the event.
    /T    type             Specifies the type of event to create. The
                           valid types are: SUCCESS, ERROR, WARNING,
                           INFORMATION.
    /D    description      Specifies the description text for the new event.
    /?                     Displays this help message.

Examples:
    EVENTCREATE /T ERROR /ID 1000 /L APPLICATION /D "My custom error event for the application log"
    EVENTCREATE /T ERROR /ID 999 /L APPLICATION /SO WinWord /D "Winword event 999 happened due to low diskspace"
`

const usageHint = `Type "EVENTCREATE /?" for usage.`

// Eventcreate runs one eventcreate command line with Windows' grammar and messages.
func Eventcreate(ctx context.Context, env *Env, args []string) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(env.Stderr, "ERROR: "+format+"\n", a...)
		return 1
	}
	known := map[string]bool{"/s": true, "/id": true, "/l": true, "/so": true, "/t": true, "/d": true, "/u": true, "/p": true}
	opts := map[string]string{}
	if len(args) == 1 && buildinfo.IsVersionFlag(args[0]) {
		fmt.Fprintln(env.Stdout, buildinfo.Version("eventcreate"))
		return 0
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if buildinfo.IsHelpFlag(a) {
			fmt.Fprint(env.Stdout, eventcreateUsage)
			return 0
		}
		name := strings.ToLower(a)
		if strings.HasPrefix(name, "-") {
			name = "/" + name[1:]
		}
		if !known[name] {
			return fail("Invalid argument/option - '%s'.\n%s", a, usageHint)
		}
		if _, dup := opts[name]; dup {
			return fail("Invalid syntax. '%s' option is not allowed more than '1' time(s).\n%s", strings.ToUpper(name), usageHint)
		}
		if i+1 >= len(args) || args[i+1] == "" && name != "/d" {
			return fail("Invalid syntax. Value expected for '%s'.\n%s", strings.ToUpper(name), usageHint)
		}
		i++
		opts[name] = args[i]
	}
	if _, ok := opts["/u"]; ok {
		return fail("/U and /P are not supported: nodes authenticate with the cluster's API token.\n%s", usageHint)
	}
	if _, ok := opts["/p"]; ok {
		return fail("/U and /P are not supported: nodes authenticate with the cluster's API token.\n%s", usageHint)
	}
	for _, m := range []string{"/t", "/id", "/d"} {
		if _, ok := opts[m]; !ok {
			return fail("Invalid syntax. Mandatory option '%s' is missing.\n%s", strings.ToUpper(m), usageHint)
		}
	}
	typeName := strings.ToUpper(opts["/t"])
	var typ eventlog.EventType
	switch typeName {
	case "ERROR":
		typ = eventlog.TypeError
	case "WARNING":
		typ = eventlog.TypeWarning
	case "INFORMATION", "SUCCESS":
		typ = eventlog.TypeInformation
	default:
		return fail("Invalid type specified for '/T'. The valid types are: SUCCESS, ERROR, WARNING, INFORMATION.\n%s", usageHint)
	}
	id, err := strconv.ParseUint(opts["/id"], 10, 32)
	if err != nil || id < 1 || id > 1000 {
		return fail("Invalid event ID '%s'. The event ID must be in the range of 1 - 1000.\n%s", opts["/id"], usageHint)
	}
	logName := "APPLICATION"
	if l, ok := opts["/l"]; ok {
		logName = strings.ToUpper(l)
	}
	source, hasSource := opts["/so"]
	if !hasSource {
		source = "EventCreate"
	}
	if source == "" || len(source) > eventlog.MaxSourceLen || strings.ContainsAny(source, `\`) {
		return fail("Invalid source name '%s'.\n%s", source, usageHint)
	}
	if env.Catalog.HasSource(source) {
		return fail("Source parameter is used to identify custom applications/scripts only (not installed applications).")
	}
	desc := opts["/d"]
	if len([]rune(desc)) > eventlog.MaxStringLen {
		return fail("The description is longer than %d characters.", eventlog.MaxStringLen)
	}

	c, err := env.Connect(ctx, opts["/s"])
	if err != nil {
		return fail("%v", err)
	}
	var logs []string
	if err := c.Do(ctx, http.MethodGet, "/v1/eventlog/logs", nil, &logs); err != nil {
		return fail("%v", err)
	}
	canonical := ""
	for _, l := range logs {
		if strings.EqualFold(l, logName) {
			canonical = l
		}
	}
	if canonical == "" {
		return fail("Log '%s' does not exist. Cannot create the event.", logName)
	}
	// As on Windows, a custom source belongs to the first log it wrote to.
	if hasSource {
		for _, other := range logs {
			if other == canonical {
				continue
			}
			var recs []eventlog.Record
			q := fmt.Sprintf("*[System[Provider[@Name=%s]]]", quoteXPath(source))
			if err := c.Do(ctx, http.MethodGet, logPath(other)+"/events?c=1&q="+url.QueryEscape(q), nil, &recs); err != nil {
				return fail("%v", err)
			}
			if len(recs) > 0 {
				return fail("Source already exists in '%s' log. Source cannot be duplicated.", other)
			}
		}
	}
	e := eventlog.Event{Source: source, EventID: uint32(id), Type: typ, Strings: []string{desc}, PID: os.Getpid()}
	if u, err := user.Current(); err == nil {
		e.User = u.Username
	}
	var out wire.EventlogReported
	if err := c.Do(ctx, http.MethodPost, logPath(canonical)+"/events", e, &out); err != nil {
		var ae *wire.Error
		if errors.As(err, &ae) {
			return fail("%s", ae.Message)
		}
		return fail("%v", err)
	}
	fmt.Fprintf(env.Stdout, "SUCCESS: An event of type '%s' was created in the '%s' log with '%s' as the source.\n", typeName, logName, source)
	return 0
}

// quoteXPath quotes s as an XPath string literal (XPath 1.0 has no escapes).
func quoteXPath(s string) string {
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	return `"` + s + `"`
}

package wevtutilcmd

import (
	"fmt"
	"strconv"
	"strings"

	"wolfpack/internal/winerr"
)

// command describes one wevtutil command: its names, how many arguments it takes and
// its options (canonical short name → long name).
type command struct {
	short, long string
	args        []string // names of the positional arguments, for messages
	opts        map[string]string
}

var commonOpts = map[string]string{"r": "remote", "u": "username", "p": "password", "a": "authentication", "uni": "unicode"}

var commands = []*command{
	{"el", "enum-logs", nil, nil},
	{"gl", "get-log", []string{"LOG"}, map[string]string{"f": "format"}},
	{"gli", "get-log-info", []string{"LOG"}, map[string]string{"lf": "logfile"}},
	{"sl", "set-log", []string{"LOG"}, map[string]string{"ms": "maxsize", "rt": "retention", "e": "enabled", "ab": "autobackup", "i": "isolation", "ca": "channelaccess", "c": "config"}},
	{"cl", "clear-log", []string{"LOG"}, map[string]string{"bu": "backup"}},
	{"epl", "export-log", []string{"LOG", "FILE"}, map[string]string{"lf": "logfile", "q": "query", "ow": "overwrite", "sq": "structuredquery"}},
	{"qe", "query-events", []string{"LOG"}, map[string]string{"lf": "logfile", "q": "query", "c": "count", "rd": "reversedirection",
		"f": "format", "e": "element", "bm": "bookmark", "sbm": "savebookmark", "sq": "structuredquery", "l": "locale"}},
}

// Options Windows' wevtutil has that Wolfpack's does not, by command ("" for all), with
// the reason.
var unsupported = map[string]map[string]string{
	"":    {"u": "nodes authenticate with the cluster's API token", "p": "nodes authenticate with the cluster's API token", "a": "nodes authenticate with the cluster's API token"},
	"sl":  {"e": "", "ab": "logs are not backed up automatically", "i": "", "ca": "", "c": ""},
	"epl": {"sq": "use an XPath query with /q"},
	"qe":  {"l": "messages are in English"},
}

// unsupportedOption returns why option short of command cmd is not supported.
func unsupportedOption(cmd, short string) (string, bool) {
	if why, ok := unsupported[""][short]; ok {
		return why, true
	}
	why, ok := unsupported[cmd][short]
	return why, ok
}

func lookupCommand(name string) *command {
	for _, c := range commands {
		if strings.EqualFold(name, c.short) || strings.EqualFold(name, c.long) {
			return c
		}
	}
	return nil
}

// invocation is a parsed command line.
type invocation struct {
	cmd  *command
	args []string
	opts map[string]string // canonical short name → value ("" when written without one)
	help bool
}

// optionName returns the canonical short name of an option of c, or "".
func (c *command) optionName(name string) string {
	name = strings.ToLower(name)
	for _, set := range []map[string]string{c.opts, commonOpts} {
		for short, long := range set {
			if name == short || name == long {
				return short
			}
		}
	}
	return ""
}

// parseArgs parses "COMMAND [ARG…] [/OPTION:VALUE…]". Options start with / or -; an
// argument that starts with / but names no option and contains another / or a dot is a
// path (so that /tmp/x.evtj is a file, not an option).
func parseArgs(args []string) (*invocation, error) {
	if len(args) == 0 {
		return &invocation{help: true}, nil
	}
	if isHelp(args[0]) {
		return &invocation{help: true}, nil
	}
	c := lookupCommand(args[0])
	if c == nil {
		return nil, &cmdError{code: winerr.ERROR_INVALID_PARAMETER, detail: fmt.Sprintf("Unknown command %s. Type \"wevtutil /?\" for the commands.", args[0])}
	}
	inv := &invocation{cmd: c, opts: map[string]string{}}
	for _, a := range args[1:] {
		if isHelp(a) {
			inv.help = true
			continue
		}
		if len(a) > 1 && (a[0] == '/' || a[0] == '-') {
			name, value, _ := strings.Cut(a[1:], ":")
			short := c.optionName(name)
			if short == "" {
				if strings.ContainsAny(name, "/.") || a[0] == '-' && strings.Contains(name, "-") {
					inv.args = append(inv.args, a)
					continue
				}
				return nil, &cmdError{code: winerr.ERROR_INVALID_PARAMETER, detail: fmt.Sprintf("Invalid option %s for command %s. Type \"wevtutil %s /?\" for its options.", a, c.short, c.short)}
			}
			if why, ok := unsupportedOption(c.short, short); ok {
				if why == "" {
					why = "Wolfpack's logs do not have this setting"
				}
				return nil, &cmdError{code: winerr.ERROR_INVALID_PARAMETER, detail: fmt.Sprintf("Option /%s is not supported: %s.", name, why)}
			}
			if _, dup := inv.opts[short]; dup {
				return nil, &cmdError{code: winerr.ERROR_INVALID_PARAMETER, detail: fmt.Sprintf("Option /%s is given more than once.", name)}
			}
			inv.opts[short] = value
			continue
		}
		inv.args = append(inv.args, a)
	}
	if inv.help {
		return inv, nil
	}
	if len(inv.args) < len(c.args) {
		return nil, &cmdError{code: winerr.ERROR_INVALID_PARAMETER, detail: fmt.Sprintf("Missing argument %s. Usage: wevtutil %s %s [OPTIONS]", c.args[len(inv.args)], c.short, strings.Join(c.args, " "))}
	}
	if len(inv.args) > len(c.args) {
		return nil, &cmdError{code: winerr.ERROR_INVALID_PARAMETER, detail: fmt.Sprintf("Unexpected argument %q. Usage: wevtutil %s %s [OPTIONS]", inv.args[len(c.args)], c.short, strings.Join(c.args, " "))}
	}
	return inv, nil
}

func isHelp(a string) bool {
	return a == "/?" || a == "-?" || strings.EqualFold(a, "/help") || a == "--help" || a == "-h"
}

// boolOpt returns option name as a boolean: true when written without a value.
func (inv *invocation) boolOpt(name string) (bool, error) {
	v, ok := inv.opts[name]
	if !ok {
		return false, nil
	}
	switch strings.ToLower(v) {
	case "", "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, &cmdError{code: winerr.ERROR_INVALID_PARAMETER, detail: fmt.Sprintf("Invalid value %q for option /%s: use true or false.", v, name)}
}

// intOpt returns option name as a non-negative integer; ok is false when absent.
func (inv *invocation) intOpt(name string) (int64, bool, error) {
	v, ok := inv.opts[name]
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(v, 0, 64)
	if err != nil || n < 0 {
		return 0, false, &cmdError{code: winerr.ERROR_INVALID_PARAMETER, detail: fmt.Sprintf("Invalid value %q for option /%s: expected a number.", v, name)}
	}
	return n, true, nil
}

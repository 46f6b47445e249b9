package regcmd

import (
	"fmt"
	"strings"

	"wolfpack/internal/regtype"
)

// Op is a reg operation.
type Op string

// The operations.
const (
	OpQuery   Op = "QUERY"
	OpAdd     Op = "ADD"
	OpDelete  Op = "DELETE"
	OpCopy    Op = "COPY"
	OpCompare Op = "COMPARE"
	OpSave    Op = "SAVE"
	OpRestore Op = "RESTORE"
	OpLoad    Op = "LOAD"
	OpUnload  Op = "UNLOAD"
	OpExport  Op = "EXPORT"
	OpImport  Op = "IMPORT"
	OpHandles Op = "HANDLES"
	OpWatch   Op = "WATCH"
	OpACL     Op = "ACL"
)

var ops = map[string]Op{
	"QUERY": OpQuery, "ADD": OpAdd, "DELETE": OpDelete, "COPY": OpCopy, "COMPARE": OpCompare,
	"SAVE": OpSave, "RESTORE": OpRestore, "LOAD": OpLoad, "UNLOAD": OpUnload,
	"EXPORT": OpExport, "IMPORT": OpImport, "HANDLES": OpHandles, "WATCH": OpWatch, "ACL": OpACL,
}

// Root is a predefined key.
type Root string

const (
	HKLM Root = "HKEY_LOCAL_MACHINE"
	HKU  Root = "HKEY_USERS"
)

// KeyName is a key as named on the command line.
type KeyName struct {
	Node string // "" for the local node; NODE of \\NODE\ROOT\...
	Root Root
	Path string // below the root, without leading or trailing '\'; "" is the root
}

// String is the key as reg.exe prints it: the root's full name and the path as typed.
func (k KeyName) String() string {
	s := string(k.Root)
	if k.Path != "" {
		s += `\` + k.Path
	}
	if k.Node != "" {
		s = `\\` + k.Node + `\` + s
	}
	return s
}

// Child is the key name of the subkey name of k.
func (k KeyName) Child(name string) KeyName {
	if k.Path == "" {
		k.Path = name
	} else {
		k.Path += `\` + name
	}
	return k
}

// Command is a parsed command line.
type Command struct {
	Op   Op
	Help bool // /? : print the operation's usage

	Key, Key2 KeyName // the key; the second key of COPY and COMPARE
	File      string  // SAVE, RESTORE, LOAD, EXPORT, IMPORT
	Hive      string  // /hive:FILE (EXPORT): export from a hive file instead of the registry

	Value      string // /v NAME
	HasValue   bool   // /v given (or /ve: Value "")
	AllValues  bool   // /va (DELETE); /v without a name (COMPARE: every value)
	Recurse    bool   // /s
	Force      bool   // /f (ADD, DELETE, COPY), /y (SAVE, EXPORT), /force (RESTORE)
	Type       string // /t: REG_SZ … (ADD: the type to write; QUERY: the types to show, comma-separated)
	Separator  string // /s SEP (ADD), /se SEP (QUERY)
	Data       string // /d DATA (ADD)
	HasData    bool
	Find       string // /f PATTERN (QUERY)
	HasFind    bool
	FindKeys   bool   // /k
	FindData   bool   // /d (QUERY)
	FindValues bool   // /v without a name after /f? no: reg.exe searches value names unless /k or /d restrict
	CaseSens   bool   // /c
	Exact      bool   // /e
	View       int    // /reg:32, /reg:64 (accepted, no effect: the registry has one view)
	Output     string // -o json
	CompareOut string // /oa /od /os /on (COMPARE)
	Link       bool   // /link (DELETE): the link key itself, not its target
	SDDL       string // /set SDDL (ACL): the descriptor to set
	HasSDDL    bool
}

// SyntaxError is a command line that does not parse. Its message is reg.exe's; Op says
// which usage to point at ("" for reg /?).
type SyntaxError struct {
	Op   Op
	Msg  string // "Invalid syntax.", "Invalid key name.", …
	Hint string // what was wrong, beyond reg.exe's message ("" when it says all)
}

func (e *SyntaxError) Error() string {
	help := "REG /?"
	if e.Op != "" {
		help = "REG " + string(e.Op) + " /?"
	}
	if e.Hint != "" {
		return fmt.Sprintf("ERROR: %s\n%s\nType \"%s\" for usage.", e.Msg, e.Hint, help)
	}
	return fmt.Sprintf("ERROR: %s\nType \"%s\" for usage.", e.Msg, help)
}

func syntax(op Op) error  { return &SyntaxError{Op: op, Msg: "Invalid syntax."} }
func badKey(op Op) error  { return &SyntaxError{Op: op, Msg: "Invalid key name."} }
func tooMany(op Op) error { return &SyntaxError{Op: op, Msg: "Too many command-line parameters."} }
func badOption(op Op, o string) error {
	return &SyntaxError{Op: op, Msg: fmt.Sprintf("Invalid option: %s.", o)}
}

// ParseKey parses ROOT\Subkey or \\NODE\ROOT\Subkey.
func ParseKey(s string) (KeyName, bool) {
	var k KeyName
	if rest, ok := strings.CutPrefix(s, `\\`); ok {
		node, after, found := strings.Cut(rest, `\`)
		if !found || node == "" {
			return k, false
		}
		k.Node, s = node, after
	}
	root, path, _ := strings.Cut(s, `\`)
	switch strings.ToUpper(root) {
	case "HKLM", "HKEY_LOCAL_MACHINE":
		k.Root = HKLM
	case "HKU", "HKEY_USERS":
		k.Root = HKU
	default:
		return k, false
	}
	path = strings.TrimRight(path, `\`)
	if strings.HasPrefix(path, `\`) || strings.Contains(path, `\\`) {
		return k, false
	}
	k.Path = path
	return k, true
}

// Parse parses reg's arguments (without the program name).
func Parse(args []string) (*Command, error) {
	if len(args) == 0 {
		return nil, syntax("")
	}
	if isHelp(args[0]) {
		if len(args) > 1 {
			return nil, syntax("")
		}
		return &Command{Help: true}, nil
	}
	op, ok := ops[strings.ToUpper(args[0])]
	if !ok {
		return nil, &SyntaxError{Msg: "Invalid syntax."}
	}
	c := &Command{Op: op}
	args = args[1:]
	if len(args) == 1 && isHelp(args[0]) {
		c.Help = true
		return c, nil
	}
	p := parser{op: op, args: args}
	switch op {
	case OpQuery:
		return c, p.query(c)
	case OpAdd:
		return c, p.add(c)
	case OpDelete:
		return c, p.delete(c)
	case OpCopy:
		return c, p.copy(c)
	case OpCompare:
		return c, p.compare(c)
	case OpSave:
		return c, p.keyFile(c, "y")
	case OpExport:
		return c, p.keyFile(c, "y")
	case OpRestore:
		return c, p.keyFile(c, "force")
	case OpLoad:
		return c, p.keyFile(c, "")
	case OpUnload:
		return c, p.keyOnly(c)
	case OpImport:
		return c, p.importFile(c)
	case OpHandles:
		return c, p.handles(c)
	case OpWatch:
		return c, p.watch(c)
	case OpACL:
		return c, p.acl(c)
	}
	return nil, syntax("")
}

func isHelp(s string) bool { return s == "/?" || s == "-?" || s == "-h" || s == "--help" }

// parser walks the arguments after the operation.
type parser struct {
	op   Op
	args []string
	i    int
	seen seen // the switches given, for operations that take each once
}

func (p *parser) more() bool { return p.i < len(p.args) }

func (p *parser) next() string {
	s := p.args[p.i]
	p.i++
	return s
}

// operand reads the argument after an option, which must exist.
func (p *parser) operand() (string, error) {
	if !p.more() {
		return "", syntax(p.op)
	}
	return p.next(), nil
}

// key reads a key operand.
func (p *parser) key() (KeyName, error) {
	if !p.more() {
		return KeyName{}, syntax(p.op)
	}
	s := p.next()
	if isOption(s) {
		return KeyName{}, syntax(p.op)
	}
	k, ok := ParseKey(s)
	if !ok {
		if hint := rootHint(s); hint != "" {
			return KeyName{}, &SyntaxError{Op: p.op, Msg: "Invalid key name.", Hint: hint}
		}
		return KeyName{}, badKey(p.op)
	}
	return k, nil
}

// rootHint says which roots exist when s names one Windows has and a node has not.
func rootHint(s string) string {
	if rest, ok := strings.CutPrefix(s, `\\`); ok {
		_, s, _ = strings.Cut(rest, `\`)
	}
	root, _, _ := strings.Cut(s, `\`)
	names := map[string]string{"HKCU": "HKEY_CURRENT_USER", "HKCR": "HKEY_CLASSES_ROOT", "HKCC": "HKEY_CURRENT_CONFIG",
		"HKEY_CURRENT_USER": "HKEY_CURRENT_USER", "HKEY_CLASSES_ROOT": "HKEY_CLASSES_ROOT", "HKEY_CURRENT_CONFIG": "HKEY_CURRENT_CONFIG",
		"HKEY_PERFORMANCE_DATA": "HKEY_PERFORMANCE_DATA"}
	full, ok := names[strings.ToUpper(root)]
	if !ok {
		return ""
	}
	return full + " does not exist on a Wolfpack node: its roots are HKLM (HKEY_LOCAL_MACHINE) and HKU (HKEY_USERS)."
}

// isOption reports whether s is a switch: /x or -x (reg.exe takes both).
func isOption(s string) bool {
	return len(s) > 1 && (s[0] == '/' || s[0] == '-')
}

// option returns the switch name lower-cased, without its / or -.
func option(s string) (string, bool) {
	if !isOption(s) {
		return "", false
	}
	return strings.ToLower(s[1:]), true
}

// once records a switch and refuses it the second time.
type seen map[string]bool

func (s seen) once(op Op, name string) error {
	if s[name] {
		return syntax(op)
	}
	s[name] = true
	return nil
}

func (p *parser) view(c *Command, o string) bool {
	switch o {
	case "reg:32":
		c.View = 32
	case "reg:64":
		c.View = 64
	default:
		return false
	}
	return true
}

func (p *parser) outputFormat(c *Command, s string) (bool, error) {
	if s != "-o" && s != "/o" {
		return false, nil
	}
	f, err := p.operand()
	if err != nil {
		return true, err
	}
	if strings.ToLower(f) != "json" && strings.ToLower(f) != "text" {
		return true, badOption(p.op, "-o "+f)
	}
	c.Output = strings.ToLower(f)
	return true, nil
}

// A setter applies one switch (arg, as typed) to the command, reading the switch's
// operand from p when it takes one.
type setter func(p *parser, c *Command, arg string) error

// switches is what an operation accepts after its positional operands.
type switches struct {
	set     map[string]setter // by name, lower case, without the / or -; "name:" is name:VALUE
	once    bool              // a switch given twice is invalid syntax
	view    bool              // /reg:32 and /reg:64 are accepted
	output  bool              // -o json|text is accepted
	named   bool              // an unknown switch is "Invalid option: ARG." (else invalid syntax)
	operand setter            // a non-switch argument; nil: too many parameters
	oneOf   []string          // switches of which at most one may be given (with once)
}

// keyAndSwitches parses KEY followed by the switches sw.
func (p *parser) keyAndSwitches(c *Command, sw *switches) error {
	var err error
	if c.Key, err = p.key(); err != nil {
		return err
	}
	return p.parse(c, sw)
}

// parse reads the switches up to the end of the arguments.
func (p *parser) parse(c *Command, sw *switches) error {
	p.seen = seen{}
	for p.more() {
		a := p.next()
		if sw.output {
			if ok, err := p.outputFormat(c, a); ok {
				if err != nil {
					return err
				}
				continue
			}
		}
		o, ok := option(a)
		if !ok {
			if sw.operand == nil {
				return tooMany(p.op)
			}
			if err := sw.operand(p, c, a); err != nil {
				return err
			}
			continue
		}
		if sw.once {
			if err := p.seen.once(p.op, o); err != nil {
				return err
			}
		}
		set, ok := sw.set[o]
		if name, _, colon := strings.Cut(o, ":"); !ok && colon {
			set, ok = sw.set[name+":"]
		}
		switch {
		case ok:
			if err := set(p, c, a); err != nil {
				return err
			}
		case sw.view && p.view(c, o):
		case sw.named:
			return badOption(p.op, a)
		default:
			return syntax(p.op)
		}
	}
	n := 0
	for _, o := range sw.oneOf {
		if p.seen[o] {
			n++
		}
	}
	if n > 1 {
		return syntax(p.op)
	}
	return nil
}

// operandTo is the setter of a switch with an operand: it stores the operand in the
// string field and then turns the bool field on.
func operandTo(fields func(c *Command) (*string, *bool)) setter {
	return func(p *parser, c *Command, _ string) error {
		str, has := fields(c)
		var err error
		if *str, err = p.operand(); err != nil {
			return err
		}
		*has = true
		return nil
	}
}

// turnOn is the setter of a switch that turns the field on.
func turnOn(field func(c *Command) *bool) setter {
	return func(_ *parser, c *Command, _ string) error {
		*field(c) = true
		return nil
	}
}

// Setters shared by several operations.
var (
	setValue        = operandTo(func(c *Command) (*string, *bool) { return &c.Value, &c.HasValue })
	setDefaultValue = func(_ *parser, c *Command, _ string) error {
		c.HasValue, c.Value = true, ""
		return nil
	}
	setRecurse = turnOn(func(c *Command) *bool { return &c.Recurse })
	setForce   = turnOn(func(c *Command) *bool { return &c.Force })
	// setForceOnce is the /y or /force of SAVE, EXPORT and RESTORE, whose other switches
	// may repeat.
	setForceOnce = func(p *parser, c *Command, _ string) error {
		if c.Force {
			return syntax(p.op)
		}
		c.Force = true
		return nil
	}
)

// separator reads the one-character separator of /s (ADD) or /se (QUERY).
func separator(p *parser, c *Command, _ string) error {
	var err error
	if c.Separator, err = p.operand(); err != nil {
		return err
	}
	if len([]rune(c.Separator)) != 1 {
		return syntax(p.op)
	}
	return nil
}

var querySwitches = switches{once: true, view: true, output: true, oneOf: []string{"v", "ve"}, set: map[string]setter{
	"v": func(p *parser, c *Command, _ string) error {
		// After /f, a bare /v means "search value names"; otherwise it names a value.
		if p.seen["f"] && (!p.more() || isOption(p.args[p.i])) {
			c.FindValues = true
			return nil
		}
		return setValue(p, c, "")
	},
	"ve": setDefaultValue,
	"s":  setRecurse,
	"f":  operandTo(func(c *Command) (*string, *bool) { return &c.Find, &c.HasFind }),
	"k":  turnOn(func(c *Command) *bool { return &c.FindKeys }),
	"d":  turnOn(func(c *Command) *bool { return &c.FindData }),
	"c":  turnOn(func(c *Command) *bool { return &c.CaseSens }),
	"e":  turnOn(func(c *Command) *bool { return &c.Exact }),
	"t": func(p *parser, c *Command, _ string) error {
		var err error
		if c.Type, err = p.operand(); err != nil {
			return err
		}
		for _, t := range strings.Split(c.Type, ",") {
			if _, ok := typeByName(t); !ok {
				return badOption(p.op, "/t "+t)
			}
		}
		return nil
	},
	"se": separator,
}}

func (p *parser) query(c *Command) error {
	if err := p.keyAndSwitches(c, &querySwitches); err != nil {
		return err
	}
	// /k /d /c /e /v-search only make sense with /f.
	if !c.HasFind && (c.FindKeys || c.FindData || c.CaseSens || c.Exact) {
		return syntax(p.op)
	}
	if c.HasFind && c.HasValue {
		return syntax(p.op)
	}
	return nil
}

var addSwitches = switches{once: true, view: true, oneOf: []string{"v", "ve"}, set: map[string]setter{
	"v":  setValue,
	"ve": setDefaultValue,
	"t": func(p *parser, c *Command, _ string) error {
		var err error
		if c.Type, err = p.operand(); err != nil {
			return err
		}
		if _, ok := typeByName(c.Type); !ok {
			return syntax(p.op)
		}
		return nil
	},
	"s": separator,
	"d": operandTo(func(c *Command) (*string, *bool) { return &c.Data, &c.HasData }),
	"f": setForce,
}}

func (p *parser) add(c *Command) error {
	if err := p.keyAndSwitches(c, &addSwitches); err != nil {
		return err
	}
	if (c.Type != "" || c.HasData || c.Separator != "") && !c.HasValue {
		// reg.exe treats data without a value name as the default value only with /ve.
		return syntax(p.op)
	}
	if c.Separator != "" {
		if t, _ := typeByName(c.Type); t != regtype.REG_MULTI_SZ {
			return syntax(p.op)
		}
	}
	return nil
}

var deleteSwitches = switches{once: true, view: true, oneOf: []string{"v", "ve", "va"}, set: map[string]setter{
	"v":    setValue,
	"ve":   setDefaultValue,
	"va":   turnOn(func(c *Command) *bool { return &c.AllValues }),
	"f":    setForce,
	"link": turnOn(func(c *Command) *bool { return &c.Link }),
}}

func (p *parser) delete(c *Command) error { return p.keyAndSwitches(c, &deleteSwitches) }

var copySwitches = switches{once: true, view: true, set: map[string]setter{"s": setRecurse, "f": setForce}}

func (p *parser) copy(c *Command) error {
	var err error
	if c.Key, err = p.key(); err != nil {
		return err
	}
	if c.Key2, err = p.key(); err != nil {
		return err
	}
	return p.parse(c, &copySwitches)
}

// compareOut is /oa, /od, /os or /on: which differences COMPARE prints.
func compareOut(p *parser, c *Command, arg string) error {
	if c.CompareOut != "" {
		return syntax(p.op)
	}
	c.CompareOut, _ = option(arg)
	return nil
}

var compareSwitches = switches{once: true, view: true, oneOf: []string{"v", "ve"}, set: map[string]setter{
	"v": func(p *parser, c *Command, _ string) error {
		// /v NAME compares one value; a bare /v (last or followed by a switch)
		// compares every value, the default.
		if p.more() && !isOption(p.args[p.i]) {
			c.Value, c.HasValue, c.AllValues = p.next(), true, false
		}
		return nil
	},
	"ve": func(_ *parser, c *Command, _ string) error {
		c.Value, c.HasValue, c.AllValues = "", true, false
		return nil
	},
	"s":  setRecurse,
	"oa": compareOut, "od": compareOut, "os": compareOut, "on": compareOut,
}}

func (p *parser) compare(c *Command) error {
	var err error
	if c.Key, err = p.key(); err != nil {
		return err
	}
	// KEY2 may be just \\NODE: the same key on that node (\\. is the local node).
	if p.more() && strings.HasPrefix(p.args[p.i], `\\`) && !strings.Contains(p.args[p.i][2:], `\`) && len(p.args[p.i]) > 2 {
		c.Key2 = c.Key
		c.Key2.Node = p.next()[2:]
		if c.Key2.Node == "." {
			c.Key2.Node = ""
		}
	} else if c.Key2, err = p.key(); err != nil {
		return err
	}
	c.AllValues = true
	if err := p.parse(c, &compareSwitches); err != nil {
		return err
	}
	if c.CompareOut == "" {
		c.CompareOut = "od"
	}
	return nil
}

// keyFileSwitches are the switches of SAVE (/y), EXPORT (/y, /hive:FILE), RESTORE
// (/force) and LOAD, by operation.
var keyFileSwitches = map[Op]*switches{
	OpSave: {view: true, set: map[string]setter{"y": setForceOnce}},
	OpExport: {view: true, set: map[string]setter{"y": setForceOnce, "hive:": func(p *parser, c *Command, arg string) error {
		if len(arg) <= len("/hive:") || c.Hive != "" {
			return syntax(p.op)
		}
		c.Hive = arg[len("/hive:"):] // the file name keeps its case
		return nil
	}}},
	OpRestore: {view: true, set: map[string]setter{"force": setForceOnce}},
	OpLoad:    {view: true},
}

// keyFile parses KEY FILE [/flag] for SAVE (/y), EXPORT (/y), RESTORE (/force), LOAD.
func (p *parser) keyFile(c *Command, flag string) error {
	var err error
	if c.Key, err = p.key(); err != nil {
		return err
	}
	if !p.more() || p.isSwitch(p.args[p.i], flag) {
		return syntax(p.op)
	}
	c.File = p.next()
	return p.parse(c, keyFileSwitches[p.op])
}

// isSwitch reports whether a file operand is one of the operation's switches rather than
// a file name: file names are positional, and on this system they may start with '/'.
func (p *parser) isSwitch(s, flag string) bool {
	o, ok := option(s)
	return ok && (o == "?" || o == "reg:32" || o == "reg:64" || (flag != "" && o == flag))
}

// viewOnly is UNLOAD's and IMPORT's: /reg:32 and /reg:64, as often as given.
var viewOnly = switches{view: true}

func (p *parser) keyOnly(c *Command) error { return p.keyAndSwitches(c, &viewOnly) }

func (p *parser) importFile(c *Command) error {
	if !p.more() || p.isSwitch(p.args[p.i], "") {
		return syntax(p.op)
	}
	c.File = p.next()
	return p.parse(c, &viewOnly)
}

var handlesSwitches = switches{once: true, output: true, set: map[string]setter{"s": setRecurse},
	operand: func(p *parser, c *Command, arg string) error {
		if c.Key.Root != "" {
			return tooMany(p.op)
		}
		k, ok := ParseKey(arg)
		if !ok {
			return badKey(p.op)
		}
		c.Key = k
		return nil
	}}

// handles parses [KEY] [/s] [-o json].
func (p *parser) handles(c *Command) error { return p.parse(c, &handlesSwitches) }

var watchSwitches = switches{once: true, set: map[string]setter{"s": setRecurse}}

// watch parses KEY [/s].
func (p *parser) watch(c *Command) error { return p.keyAndSwitches(c, &watchSwitches) }

var aclSwitches = switches{once: true, output: true, named: true, set: map[string]setter{
	"set": operandTo(func(c *Command) (*string, *bool) { return &c.SDDL, &c.HasSDDL }),
}}

// acl parses KEY [/set SDDL] [-o json].
func (p *parser) acl(c *Command) error { return p.keyAndSwitches(c, &aclSwitches) }

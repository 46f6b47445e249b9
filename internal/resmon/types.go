package resmon

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Resource type names, as WSFC spells them ("OCF" and "Test" are Wolfpack's).
const (
	TypeGenericApplication = "Generic Application"
	TypeGenericScript      = "Generic Script"
	TypeOCF                = "OCF"
	TypeTest               = "Test"
)

// TypeInfo describes a resource type for `cluster resourcetype /list` and `/priv`.
type TypeInfo struct {
	Name        string
	Description string
	Properties  []PropertyInfo // the private properties the type knows
	// OpenProperties is true when the type also accepts private properties it does not
	// list (Generic Script passes them to the script, OCF to the agent).
	OpenProperties bool
}

// PropertyInfo describes one private property of a resource type.
type PropertyInfo struct {
	Name        string
	Format      string // WSFC's property format: "String", "MultiString" or "DWORD"
	Default     string // "" when none
	Required    bool
	Description string
	Allowed     []string // the values it takes, when it takes only these (any case)
	// check, when set, checks a value beyond its format (a CommandLine that splits, an
	// absolute path): what can be known without the node that will run it.
	check func(string) error
}

// Check checks a value of the property: its format, its allowed values, and what the
// type itself checks of it (e.g. that a CommandLine splits into words). A value the
// property cannot take is a *PropertyError of type typeName.
func (pi PropertyInfo) Check(typeName, value string) error {
	bad := func(msg string) error {
		return &PropertyError{Type: typeName, Property: pi.Name, Value: value, Msg: msg}
	}
	v := strings.TrimSpace(value)
	if pi.Required && v == "" {
		return &PropertyError{Type: typeName, Property: pi.Name, Msg: "required, cannot be empty"}
	}
	if pi.Format == "DWORD" && v != "" {
		if _, err := strconv.ParseUint(v, 0, 32); err != nil {
			return bad("not a DWORD (a number from 0 to 4294967295)")
		}
	}
	if len(pi.Allowed) > 0 && v != "" && !slices.ContainsFunc(pi.Allowed, func(a string) bool { return strings.EqualFold(a, v) }) {
		return bad("must be one of " + orList(pi.Allowed))
	}
	if pi.check != nil && v != "" {
		if err := pi.check(value); err != nil {
			return bad(err.Error())
		}
	}
	return nil
}

// orList is "A, B or C".
func orList(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// env is what a resource instance needs from the Monitor that runs it.
type env struct {
	launch  Launcher
	extra   []string // Options.Env
	epoch   int64    // Spec.Epoch of the resource (each resource has its own copy of env)
	logDir  string
	ocfRoot string
	grace   time.Duration // Generic Application: SIGTERM to SIGKILL
	maxLog  int64         // rotate a resource's log past this size
	log     *slog.Logger
}

// typeDef is a resource type: its description and the constructor of instances.
// open parses and checks the private properties and must not start anything.
type typeDef struct {
	info TypeInfo
	open func(name string, p props, e *env) (Resource, error)
}

// builtinTypes is the fixed table of resource types; it is never modified.
var builtinTypes = []typeDef{
	{info: TypeInfo{
		Name:        TypeGenericApplication,
		Description: "Runs a program as a supervised process; online while the process runs.",
		Properties: []PropertyInfo{
			{Name: "CommandLine", Format: "String", Required: true, Description: "program and arguments, split into words like a POSIX shell but without expansion, redirection or pipes",
				check: checkCommandLine},
			{Name: "CurrentDirectory", Format: "String", Description: "working directory of the process (default: the daemon's)", check: checkAbsolute},
			{Name: "Environment", Format: "MultiString", Description: "K=V entries (one per line) added to the daemon's environment",
				check: checkEnvironment},
		},
	}, open: openGenericApp},
	{info: TypeInfo{
		Name:        TypeGenericScript,
		Description: "Runs a script as `script online|offline|looksalive|isalive|terminate`; exit status 0 is success (alive).",
		Properties: []PropertyInfo{
			{Name: "ScriptFilePath", Format: "String", Required: true, Description: "absolute path of the executable script", check: checkAbsolute},
		},
		OpenProperties: true,
	}, open: openGenericScript},
	{info: TypeInfo{
		Name:        TypeOCF,
		Description: "Runs an OCF resource agent (start, stop, monitor); other private properties become OCF_RESKEY_<name>.",
		Properties: []PropertyInfo{
			{Name: "Agent", Format: "String", Required: true, Description: "provider:agent as in /usr/lib/ocf/resource.d/<provider>/<agent>, e.g. heartbeat:Dummy (an ocf: prefix is accepted)",
				check: checkAgent},
		},
		OpenProperties: true,
	}, open: openOCF},
	{info: TypeInfo{
		Name:        TypeTest,
		Description: "In-memory resource for tests of the state machine; see TestResource.",
		Properties: []PropertyInfo{
			{Name: "OnlineDelay", Format: "DWORD", Default: "0", Description: "milliseconds Online takes"},
			{Name: "OfflineDelay", Format: "DWORD", Default: "0", Description: "milliseconds Offline takes"},
			{Name: "FailOnline", Format: "DWORD", Default: "0", Description: "1: Online fails", Allowed: []string{"0", "1"}},
		},
	}, open: openTest},
}

func typeNames() []string {
	out := make([]string, len(builtinTypes))
	for i, t := range builtinTypes {
		out[i] = t.info.Name
	}
	return out
}

// Types lists the resource types with their private properties.
func Types() []TypeInfo {
	out := make([]TypeInfo, len(builtinTypes))
	for i, t := range builtinTypes {
		out[i] = t.info
		out[i].Properties = slices.Clone(t.info.Properties)
	}
	return out
}

// Per-property checks (PropertyInfo.check).
func checkCommandLine(v string) error {
	argv, err := SplitCommandLine(v)
	if err == nil && len(argv) == 0 {
		err = errors.New("no program named")
	}
	return err
}

func checkAbsolute(v string) error {
	if !filepath.IsAbs(strings.TrimSpace(v)) {
		return errors.New("must be an absolute path")
	}
	return nil
}

func checkEnvironment(v string) error {
	for _, kv := range (props{m: map[string]string{"e": v}}).multi("e") {
		if k, _, ok := strings.Cut(kv, "="); !ok || !envName.MatchString(k) {
			return fmt.Errorf("entry %q is not NAME=VALUE", kv)
		}
	}
	return nil
}

func checkAgent(v string) error {
	if _, _, ok := parseAgent(strings.TrimPrefix(strings.TrimSpace(v), "ocf:")); !ok {
		return errors.New("want provider:agent, e.g. heartbeat:Dummy")
	}
	return nil
}

// LookupType returns the type a name (any case, or "ocf:provider:agent") names, or
// ErrUnknownType listing the known ones.
func LookupType(name string) (TypeInfo, error) {
	t, _, err := lookupType(name)
	if err != nil {
		return TypeInfo{}, err
	}
	info := t.info
	info.Properties = slices.Clone(t.info.Properties)
	return info, nil
}

// CheckProperty checks one private property as `cluster resource R /priv NAME=VALUE`
// sets it: an unknown name (for a type that takes only its own) or a value the property
// cannot take is a *PropertyError that names what the type knows. It does not look at
// the node (an OCF agent's program, a directory): the node that runs the resource does.
func CheckProperty(typeName, name, value string) error {
	info, err := LookupType(typeName)
	if err != nil {
		return err
	}
	for _, pi := range info.Properties {
		if strings.EqualFold(pi.Name, name) {
			return pi.Check(info.Name, value)
		}
	}
	if info.OpenProperties {
		if !envName.MatchString(name) {
			return &PropertyError{Type: info.Name, Property: name, Msg: "the name can only hold letters, digits and _ (it is passed in the environment)"}
		}
		return nil
	}
	known := make([]string, len(info.Properties))
	for i, pi := range info.Properties {
		known[i] = pi.Name
	}
	return &PropertyError{Type: info.Name, Property: name, Msg: "unknown private property; the type's are " + strings.Join(known, ", "),
		Unknown: true}
}

// lookupType finds a type by name, case-insensitively. "ocf:provider:agent" (or
// "ocf:agent" for the heartbeat provider) names the OCF type with its Agent set.
func lookupType(name string) (typeDef, string, error) {
	for _, t := range builtinTypes {
		if strings.EqualFold(t.info.Name, name) {
			return t, "", nil
		}
	}
	if len(name) > 4 && strings.EqualFold(name[:4], "ocf:") {
		for _, t := range builtinTypes {
			if t.info.Name == TypeOCF {
				return t, name, nil
			}
		}
	}
	return typeDef{}, "", fmt.Errorf("%w %q (known: %s, ocf:<provider>:<agent>)", ErrUnknownType, name, strings.Join(typeNames(), ", "))
}

// ValidateProperties checks a type name and its private properties as the Monitor's Add
// would on this node (for OCF: that the agent is installed under /usr/lib/ocf), without
// starting anything. It returns ErrUnknownType or a *PropertyError.
func ValidateProperties(typeName string, private map[string]string) error {
	_, err := newResource("validate", typeName, private, &env{ocfRoot: defaultOCFRoot, log: slog.Default()})
	return err
}

func newResource(name, typeName string, private map[string]string, e *env) (Resource, error) {
	t, agent, err := lookupType(typeName)
	if err != nil {
		return nil, err
	}
	p := props{typ: t.info.Name, m: private}
	if agent != "" {
		if v, ok := p.get("Agent"); ok && v != "" && !sameAgent(v, agent) {
			return nil, &PropertyError{Type: t.info.Name, Property: "Agent", Value: v, Msg: "conflicts with type name " + typeName}
		}
		p.m = make(map[string]string, len(private)+1)
		for k, v := range private {
			if !strings.EqualFold(k, "Agent") {
				p.m[k] = v
			}
		}
		p.m["Agent"] = agent
	}
	if !t.info.OpenProperties {
		for k := range p.m {
			if !slices.ContainsFunc(t.info.Properties, func(pi PropertyInfo) bool { return strings.EqualFold(pi.Name, k) }) {
				return nil, &PropertyError{Type: t.info.Name, Property: k, Msg: "unknown private property"}
			}
		}
	}
	for _, pi := range t.info.Properties {
		if v, _ := p.get(pi.Name); pi.Required && strings.TrimSpace(v) == "" {
			return nil, &PropertyError{Type: t.info.Name, Property: pi.Name, Msg: "required, not set"}
		}
	}
	return t.open(name, p, e)
}

// props is a resource's private properties with WSFC's case-insensitive names.
type props struct {
	typ string
	m   map[string]string
}

func (p props) get(name string) (string, bool) {
	if v, ok := p.m[name]; ok {
		return v, true
	}
	for k, v := range p.m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// dword reads a DWORD property in decimal (or 0x hex), def when absent.
func (p props) dword(name string, def uint32) (uint32, error) {
	v, ok := p.get(name)
	if !ok || strings.TrimSpace(v) == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(strings.TrimSpace(v), 0, 32)
	if err != nil {
		return 0, &PropertyError{Type: p.typ, Property: name, Value: v, Msg: "not a DWORD"}
	}
	return uint32(n), nil
}

// multi reads a MultiString property: entries separated by newlines or NULs (the
// REG_MULTI_SZ separator), empty entries dropped.
func (p props) multi(name string) []string {
	v, _ := p.get(name)
	var out []string
	for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == 0 || r == '\r' }) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// daemonEnv is the environment children start from: the daemon's own.
// processEnv is the environment every process of a resource starts with: the daemon's,
// and Options.Env.
func (e *env) processEnv() []string {
	return append(os.Environ(), e.extra...)
}

package regcmd

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	"wolfpack/internal/regtype"
	"wolfpack/internal/utf16le"
	"wolfpack/registry"
)

// query runs reg query, laid out as reg.exe lays it out:
//
//	(blank line)
//	HKEY_LOCAL_MACHINE\SOFTWARE\X
//	    Name    REG_SZ    data
//	(blank line)
//	HKEY_LOCAL_MACHINE\SOFTWARE\X\Sub
func (r *runner) query() (int, error) {
	c := r.cmd
	s, err := r.store(c.Key)
	if err != nil {
		return 1, err
	}
	kd, err := s.ReadKey(c.Key)
	if err != nil {
		return 1, err
	}
	q := &querier{r: r, s: s, sep: c.Separator}
	if c.Type != "" {
		q.types = map[uint32]bool{}
		for _, t := range strings.Split(c.Type, ",") {
			typ, _ := typeByName(t)
			q.types[typ] = true
		}
	}
	if c.Output == "json" {
		return q.finish(q.json(c.Key, kd))
	}
	r.printf("\n")
	switch {
	case c.HasFind:
		q.find(c.Key, kd, true)
		r.printf("End of search: %d match(es) found.\n", q.matches)
		if q.matches == 0 {
			return q.finish(1, nil) // as reg.exe: a search that found nothing fails
		}
		return q.finish(0, nil)
	case c.HasValue:
		code, err := q.value(c.Key, kd)
		if c.Recurse {
			r.printf("End of search: %d match(es) found.\n", q.matches)
		}
		return q.finish(code, err)
	default:
		q.all(c.Key, kd, false)
		return q.finish(0, nil)
	}
}

// finish reports the subkeys a recursive query could not read (their descriptors
// refused the caller) after everything it could read was shown.
func (q *querier) finish(code int, err error) (int, error) {
	if err == nil && len(q.denied) > 0 {
		return 1, &deniedError{keys: q.denied}
	}
	return code, err
}

// deniedError is a recursive query that met keys it may not read.
type deniedError struct{ keys []KeyName }

func (e *deniedError) Error() string {
	names := make([]string, len(e.keys))
	for i, k := range e.keys {
		names[i] = k.String()
	}
	return registry.ERROR_ACCESS_DENIED.Error() + " (" + strings.Join(names, "; ") + ")"
}

func (e *deniedError) Unwrap() error { return registry.ERROR_ACCESS_DENIED }

type querier struct {
	r       *runner
	s       Store
	sep     string
	types   map[uint32]bool // /t: the types to show; nil for all
	matches int
	denied  []KeyName // subkeys whose descriptor refused reading them
}

func (q *querier) show(v registry.Value) bool { return q.types == nil || q.types[v.Type] }

func (q *querier) printValue(v registry.Value) {
	q.r.printf("    %s    %s    %s\n", valueLabel(v.Name), TypeName(v.Type), FormatData(v.Type, v.Data, q.sep))
}

// children reads each subkey in turn; a subkey deleted meanwhile is skipped, one the
// caller may not read is noted (finish reports it) and skipped.
func (q *querier) children(k KeyName, kd *KeyData, f func(KeyName, *KeyData)) {
	for _, name := range kd.Subkeys {
		ck := k.Child(name)
		ckd, err := q.s.ReadKey(ck)
		if err != nil {
			if errors.Is(err, registry.ERROR_ACCESS_DENIED) {
				q.denied = append(q.denied, ck)
			}
			continue
		}
		f(ck, ckd)
	}
}

// all lists a key's values and subkeys; with /s, recursively.
func (q *querier) all(k KeyName, kd *KeyData, recursing bool) {
	shown := 0
	for _, v := range kd.Values {
		if !q.show(v) {
			continue
		}
		if shown == 0 {
			q.r.printf("%s\n", k)
		}
		q.printValue(v)
		shown++
	}
	if recursing && shown == 0 {
		q.r.printf("%s\n", k)
	}
	if shown > 0 || recursing {
		q.r.printf("\n")
	}
	if !q.r.cmd.Recurse {
		for _, name := range kd.Subkeys {
			q.r.printf("%s\n", k.Child(name))
		}
		return
	}
	q.children(k, kd, func(ck KeyName, ckd *KeyData) { q.all(ck, ckd, true) })
}

// value shows one value (/v NAME or /ve); with /s, in the key and every key below.
func (q *querier) value(k KeyName, kd *KeyData) (int, error) {
	name := q.r.cmd.Value
	found := false
	for _, v := range kd.Values {
		if strings.EqualFold(v.Name, name) && q.show(v) {
			q.r.printf("%s\n", k)
			q.printValue(v)
			q.r.printf("\n")
			q.matches++
			found = true
			break
		}
	}
	if !q.r.cmd.Recurse {
		if !found {
			if name != "" {
				return 1, registry.ErrNotExist
			}
			// reg.exe shows an unset default value rather than failing.
			q.r.printf("%s\n    (Default)    REG_SZ    (value not set)\n\n", k)
		}
		return 0, nil
	}
	q.children(k, kd, func(ck KeyName, ckd *KeyData) { q.value(ck, ckd) })
	return 0, nil
}

// find is /f: keys, value names and data matching the pattern.
func (q *querier) find(k KeyName, kd *KeyData, top bool) {
	c := q.r.cmd
	inKeys, inValues, inData := c.FindKeys, c.FindValues, c.FindData
	if !inKeys && !inValues && !inData {
		inKeys, inValues, inData = true, true, true
	}
	keyMatch := !top && inKeys && q.match(lastName(k.Path))
	var hits []registry.Value
	for _, v := range kd.Values {
		if !q.show(v) {
			continue
		}
		if (inValues && q.match(v.Name)) || (inData && q.matchData(v)) {
			hits = append(hits, v)
		}
	}
	if keyMatch || len(hits) > 0 {
		q.r.printf("%s\n", k)
		for _, v := range hits {
			q.printValue(v)
		}
		if len(hits) > 0 {
			q.r.printf("\n")
		}
		q.matches += len(hits)
		if keyMatch {
			q.matches++
		}
	}
	if top || c.Recurse {
		q.children(k, kd, func(ck KeyName, ckd *KeyData) { q.find(ck, ckd, false) })
	}
}

func lastName(p string) string {
	if i := strings.LastIndexByte(p, '\\'); i >= 0 {
		return p[i+1:]
	}
	return p
}

func (q *querier) matchData(v registry.Value) bool {
	switch v.Type {
	case regtype.REG_SZ, regtype.REG_EXPAND_SZ, regtype.REG_MULTI_SZ:
		return q.match(FormatData(v.Type, v.Data, q.sep))
	}
	return q.match(FormatData(v.Type, v.Data, ""))
}

// match applies the /f pattern: * and ? wildcards; a substring unless /e; case-blind
// unless /c.
func (q *querier) match(s string) bool {
	c := q.r.cmd
	pat := c.Find
	if !c.CaseSens {
		pat, s = strings.ToLower(pat), strings.ToLower(s)
	}
	if !c.Exact {
		pat = "*" + pat + "*"
	}
	return wildcard(pat, s)
}

// wildcard matches s against pat where * is any run and ? any one character.
func wildcard(pat, s string) bool {
	for len(pat) > 0 {
		switch pat[0] {
		case '*':
			for len(pat) > 0 && pat[0] == '*' {
				pat = pat[1:]
			}
			if pat == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if wildcard(pat, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			_, n := utf8.DecodeRuneInString(s)
			pat, s = pat[1:], s[n:]
		default:
			if s == "" || pat[0] != s[0] {
				return false
			}
			pat, s = pat[1:], s[1:]
		}
	}
	return s == ""
}

// jsonKey is one key of `reg query -o json`.
type jsonKey struct {
	Key     string      `json:"key"`
	Values  []jsonValue `json:"values"`
	Subkeys []string    `json:"subkeys"`
}

type jsonValue struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Data any    `json:"data"` // string, number, []string or hex string, by type
}

func jsonData(v registry.Value) any {
	switch v.Type {
	case regtype.REG_SZ, regtype.REG_EXPAND_SZ, regtype.REG_LINK:
		return utf16le.DecodeZ(v.Data)
	case regtype.REG_MULTI_SZ:
		ss := multiString(v.Data)
		if ss == nil {
			ss = []string{}
		}
		return ss
	case regtype.REG_DWORD:
		if len(v.Data) == 4 {
			return binary.LittleEndian.Uint32(v.Data)
		}
	case regtype.REG_DWORD_BIG_ENDIAN:
		if len(v.Data) == 4 {
			return binary.BigEndian.Uint32(v.Data)
		}
	case regtype.REG_QWORD:
		if len(v.Data) == 8 {
			return binary.LittleEndian.Uint64(v.Data)
		}
	}
	return hex.EncodeToString(v.Data)
}

// json prints the key (and with /s every key below) as a JSON array; /v and /ve limit
// the values to the one named.
func (q *querier) json(k KeyName, kd *KeyData) (int, error) {
	var out []jsonKey
	var walk func(KeyName, *KeyData)
	walk = func(k KeyName, kd *KeyData) {
		jk := jsonKey{Key: k.String(), Values: []jsonValue{}, Subkeys: kd.Subkeys}
		if jk.Subkeys == nil {
			jk.Subkeys = []string{}
		}
		for _, v := range kd.Values {
			if !q.show(v) || (q.r.cmd.HasValue && !strings.EqualFold(v.Name, q.r.cmd.Value)) {
				continue
			}
			jk.Values = append(jk.Values, jsonValue{Name: v.Name, Type: TypeName(v.Type), Data: jsonData(v)})
		}
		out = append(out, jk)
		if q.r.cmd.Recurse {
			q.children(k, kd, walk)
		}
	}
	walk(k, kd)
	if q.r.cmd.HasValue && !q.r.cmd.Recurse && len(out[0].Values) == 0 && q.r.cmd.Value != "" {
		return 1, registry.ErrNotExist
	}
	enc := json.NewEncoder(q.r.env.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return 1, errors.New("write output: " + err.Error())
	}
	return 0, nil
}

package clusterdb

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// Fields of a newer schema survive this build's writes.
//
// In a rolling upgrade, nodes of two builds share the records. A node that reads a
// record into its own struct and writes it back (ModifyGroup, RenameGroup, …) would drop
// every field its build does not know: the hazard of rolling upgrades. So a group keeps
// the fields it does not know in Unknown, as their raw JSON, and writes them back as they
// were. (The schema version keeps an older build from running once the newer fields are
// written; this is the second line of defence, for a record that holds fields of a
// version its build does not run — a restored backup, a newer build's default.)

// plainGroup is Group without its JSON methods.
type plainGroup Group

// groupFields are the JSON names this build knows for a group, in lower case
// (encoding/json matches names without regard to case).
var groupFields = sync.OnceValue(func() map[string]bool { return jsonFields(reflect.TypeFor[plainGroup]()) })

// UnmarshalJSON decodes a group record, keeping the fields this build does not know.
func (g *Group) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, (*plainGroup)(g)); err != nil {
		return err
	}
	g.Unknown = nil
	unknown, err := unknownFields(b, groupFields())
	g.Unknown = unknown
	return err
}

// MarshalJSON encodes a group record with the fields it kept from a newer schema.
func (g Group) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(plainGroup(g))
	if err != nil || len(g.Unknown) == 0 {
		return b, err
	}
	return appendFields(b, g.Unknown, groupFields())
}

// unknownFields returns the members of the JSON object b whose names are not in known
// (nil when there are none).
func unknownFields(b []byte, known map[string]bool) (map[string]json.RawMessage, error) {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	var out map[string]json.RawMessage
	for k, v := range all {
		if known[strings.ToLower(k)] {
			continue
		}
		if out == nil {
			out = map[string]json.RawMessage{}
		}
		out[k] = v
	}
	return out, nil
}

// appendFields adds the members of extra that are not known to the JSON object b, in
// name order.
func appendFields(b []byte, extra map[string]json.RawMessage, known map[string]bool) ([]byte, error) {
	b = bytes.TrimRight(b, " \n")
	if len(b) < 2 || b[len(b)-1] != '}' {
		return b, nil
	}
	out := slices.Clone(b[:len(b)-1])
	empty := len(bytes.TrimSpace(out)) == 1 // "{"
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range extra {
			if !yield(k) {
				return
			}
		}
	}) {
		if known[strings.ToLower(k)] || !json.Valid(extra[k]) {
			continue
		}
		name, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		if !empty {
			out = append(out, ',')
		}
		empty = false
		out = append(out, name...)
		out = append(out, ':')
		out = append(out, extra[k]...)
	}
	return append(out, '}'), nil
}

// jsonFields lists the JSON names of a struct type's fields, those of embedded structs
// included, in lower case.
func jsonFields(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k := range jsonFields(f.Type) {
				out[k] = true
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[strings.ToLower(name)] = true
	}
	return out
}

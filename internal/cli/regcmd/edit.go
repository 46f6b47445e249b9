package regcmd

import (
	"bytes"
	"errors"
	"strings"

	"wolfpack/internal/regtype"
	"wolfpack/registry"
)

// add runs reg add: create the key, then set the value if one is named.
func (r *runner) add() (int, error) {
	c := r.cmd
	s, err := r.store(c.Key)
	if err != nil {
		return 1, err
	}
	var data []byte
	var typ uint32 = regtype.REG_SZ
	if c.HasValue {
		if c.Type != "" {
			typ, _ = typeByName(c.Type)
			if !addableType(typ) {
				return 1, syntax(OpAdd)
			}
		}
		if data, err = EncodeData(typ, c.Data, c.Separator); err != nil {
			return 1, err
		}
	}
	if _, err := s.CreateKey(c.Key); err != nil {
		return 1, err
	}
	if !c.HasValue {
		return r.success()
	}
	if !c.Force {
		_, err := s.QueryValue(c.Key, c.Value)
		if err == nil {
			if !r.confirm("Value " + valueLabel(c.Value) + " exists, overwrite(Yes/No)? ") {
				return r.cancelled()
			}
		} else if !errors.Is(err, registry.ErrNotExist) {
			return 1, err
		}
	}
	if err := s.SetValue(c.Key, c.Value, typ, data); err != nil {
		return 1, err
	}
	return r.success()
}

// delete runs reg delete: the key with everything below it, one value, or every value.
func (r *runner) delete() (int, error) {
	c := r.cmd
	if c.Key.Path == "" && !c.HasValue && !c.AllValues {
		return 1, badKey(OpDelete)
	}
	s, err := r.store(c.Key)
	if err != nil {
		return 1, err
	}
	if c.Link {
		if c.HasValue || c.AllValues {
			return 1, &SyntaxError{Op: OpDelete, Msg: "Invalid syntax."}
		}
		if !c.Force && !r.confirm("Delete the registry link "+c.Key.String()+" (Yes/No)? ") {
			return r.cancelled()
		}
		if err := s.DeleteLink(c.Key); err != nil {
			if errors.Is(err, registry.ERROR_ACCESS_DENIED) && systemKey(c.Key) != "" {
				return 1, &systemKeyError{key: c.Key.String(), what: systemKey(c.Key)}
			}
			return 1, err
		}
		return r.success()
	}
	kd, err := s.ReadKey(c.Key)
	if err != nil {
		return 1, err
	}
	switch {
	case c.HasValue:
		if _, err := s.QueryValue(c.Key, c.Value); err != nil {
			return 1, err
		}
		if !c.Force && !r.confirm("Delete the registry value "+valueLabel(c.Value)+" (Yes/No)? ") {
			return r.cancelled()
		}
		if err := s.DeleteValue(c.Key, c.Value); err != nil {
			return 1, err
		}
	case c.AllValues:
		if !c.Force && !r.confirm("Delete all values under the registry key "+c.Key.String()+" (Yes/No)? ") {
			return r.cancelled()
		}
		for _, v := range kd.Values {
			if err := s.DeleteValue(c.Key, v.Name); err != nil && !errors.Is(err, registry.ErrNotExist) {
				return 1, err
			}
		}
	default:
		if target, isLink, _ := s.LinkTarget(c.Key); isLink {
			// Deleting through the link would delete its target, named otherwise.
			return 1, &linkError{key: c.Key.String(), target: target}
		}
		if !c.Force && !r.confirm("Delete the registry key "+c.Key.String()+" (Yes/No)? ") {
			return r.cancelled()
		}
		if err := s.DeleteKey(c.Key); err != nil {
			if errors.Is(err, registry.ERROR_ACCESS_DENIED) && systemKey(c.Key) != "" {
				return 1, &systemKeyError{key: c.Key.String(), what: systemKey(c.Key)}
			}
			return 1, err
		}
	}
	return r.success()
}

// tree is a key's content read recursively (for copy and compare).
type tree struct {
	name    string
	values  []registry.Value
	subkeys []*tree
}

func (r *runner) readTree(s Store, k KeyName, recurse bool, name string) (*tree, error) {
	kd, err := s.ReadKey(k)
	if err != nil {
		return nil, err
	}
	t := &tree{name: name, values: kd.Values}
	for _, sub := range kd.Subkeys {
		if !recurse {
			t.subkeys = append(t.subkeys, &tree{name: sub})
			continue
		}
		st, err := r.readTree(s, k.Child(sub), true, sub)
		if errors.Is(err, registry.ErrNotExist) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		t.subkeys = append(t.subkeys, st)
	}
	return t, nil
}

func sameKey(a, b KeyName) bool {
	return strings.EqualFold(a.Node, b.Node) && a.Root == b.Root && strings.EqualFold(a.Path, b.Path)
}

// copy runs reg copy: KEY1's values (with /s, its subkeys too) into KEY2, created if
// missing. The source is read completely first, so copying a key into its own subtree
// ends.
func (r *runner) copy() (int, error) {
	c := r.cmd
	if sameKey(c.Key, c.Key2) {
		return 1, errors.New("The source and destination keys cannot be the same.")
	}
	src, err := r.store(c.Key)
	if err != nil {
		return 1, err
	}
	dst, err := r.store(c.Key2)
	if err != nil {
		return 1, err
	}
	t, err := r.readTree(src, c.Key, c.Recurse, "")
	if err != nil {
		return 1, err
	}
	if err := r.copyTree(dst, c.Key2, t); err != nil {
		return 1, err
	}
	return r.success()
}

func (r *runner) copyTree(dst Store, k KeyName, t *tree) error {
	if _, err := dst.CreateKey(k); err != nil {
		return err
	}
	for _, v := range t.values {
		if !r.cmd.Force {
			old, err := dst.QueryValue(k, v.Name)
			if err == nil {
				if old.Type == v.Type && bytes.Equal(old.Data, v.Data) {
					continue
				}
				if !r.confirm("Value " + valueLabel(v.Name) + " exists, overwrite(Yes/No)? ") {
					continue
				}
			} else if !errors.Is(err, registry.ErrNotExist) {
				return err
			}
		}
		if err := dst.SetValue(k, v.Name, v.Type, v.Data); err != nil {
			return err
		}
	}
	if !r.cmd.Recurse {
		return nil
	}
	for _, st := range t.subkeys {
		if err := r.copyTree(dst, k.Child(st.name), st); err != nil {
			return err
		}
	}
	return nil
}

// linkError is reg delete of a key whose last component is a symbolic link.
type linkError struct{ key, target string }

func (e *linkError) Error() string { return e.key + " is a symbolic link to " + e.target }

// notLinkError is reg delete /link of a key that is no link.
type notLinkError struct{ key string }

func (e *notLinkError) Error() string { return e.key + " is not a symbolic link" }

// systemKeyError is a refused delete of a key the system needs.
type systemKeyError struct{ key, what string }

func (e *systemKeyError) Error() string { return e.key + " is " + e.what }

// systemKey says what k is when it is one of the keys the node never deletes
// (internal/registry's KEY_NO_DELETE keys), "" otherwise; for the error message only.
func systemKey(k KeyName) string {
	if k.Root != HKLM {
		return ""
	}
	p := strings.ToUpper(strings.Trim(k.Path, `\`))
	switch {
	case p == "SYSTEM" || p == "SOFTWARE":
		return "a hive root"
	case p == `SYSTEM\SELECT`:
		return "the selection of the control sets"
	case p == `SYSTEM\CURRENTCONTROLSET`:
		return "the link to the current control set"
	case strings.HasPrefix(p, `SYSTEM\CONTROLSET`) && !strings.Contains(p[len(`SYSTEM\`):], `\`):
		return "a control set (the current one)"
	}
	return ""
}

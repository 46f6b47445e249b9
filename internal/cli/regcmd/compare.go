package regcmd

import (
	"bytes"
	"strings"

	"wolfpack/registry"
)

// compare runs reg compare. Lines start with < (only or different in KEY1), > (KEY2) or
// = (identical, with /oa and /os); the exit code is 0 when identical, 2 when different.
func (r *runner) compare() (int, error) {
	c := r.cmd
	s1, err := r.store(c.Key)
	if err != nil {
		return 1, err
	}
	s2, err := r.store(c.Key2)
	if err != nil {
		return 1, err
	}
	t1, err := r.readTree(s1, c.Key, c.Recurse, "")
	if err != nil {
		return 1, err
	}
	t2, err := r.readTree(s2, c.Key2, c.Recurse, "")
	if err != nil {
		return 1, err
	}
	if c.HasValue && c.Value != "" && findValue(t1.values, c.Value) == nil && findValue(t2.values, c.Value) == nil {
		return 1, registry.ErrNotExist
	}
	cmp := &comparer{r: r}
	cmp.tree(c.Key, c.Key2, t1, t2, true)
	if cmp.differ {
		r.printf("\nResult Compared: Different\n")
	} else {
		r.printf("\nResult Compared: Identical\n")
	}
	r.printf("%s\n", msgSuccess)
	if cmp.differ {
		return 2, nil
	}
	return 0, nil
}

type comparer struct {
	r      *runner
	differ bool
}

func findValue(vs []registry.Value, name string) *registry.Value {
	for i := range vs {
		if strings.EqualFold(vs[i].Name, name) {
			return &vs[i]
		}
	}
	return nil
}

func (c *comparer) showDiff() bool {
	o := c.r.cmd.CompareOut
	return o == "od" || o == "oa"
}

func (c *comparer) showSame() bool {
	o := c.r.cmd.CompareOut
	return o == "os" || o == "oa"
}

func (c *comparer) value(mark string, k KeyName, v *registry.Value) {
	c.r.printf("%s Value: %s    %s    %s    %s\n", mark, k, valueLabel(v.Name), TypeName(v.Type), FormatData(v.Type, v.Data, ""))
}

func (c *comparer) tree(k1, k2 KeyName, t1, t2 *tree, top bool) {
	cmd := c.r.cmd
	for i := range t1.values {
		v1 := &t1.values[i]
		if cmd.HasValue && !strings.EqualFold(v1.Name, cmd.Value) {
			continue
		}
		v2 := findValue(t2.values, v1.Name)
		switch {
		case v2 == nil:
			c.differ = true
			if c.showDiff() {
				c.value("<", k1, v1)
			}
		case v1.Type != v2.Type || !bytes.Equal(v1.Data, v2.Data):
			c.differ = true
			if c.showDiff() {
				c.value("<", k1, v1)
				c.value(">", k2, v2)
			}
		default:
			if c.showSame() {
				c.value("=", k1, v1)
			}
		}
	}
	for i := range t2.values {
		v2 := &t2.values[i]
		if cmd.HasValue && !strings.EqualFold(v2.Name, cmd.Value) {
			continue
		}
		if findValue(t1.values, v2.Name) == nil {
			c.differ = true
			if c.showDiff() {
				c.value(">", k2, v2)
			}
		}
	}
	if cmd.HasValue && !cmd.Recurse {
		return
	}
	for _, s1 := range t1.subkeys {
		s2 := findTree(t2.subkeys, s1.name)
		if s2 == nil {
			if !cmd.HasValue {
				c.differ = true
				if c.showDiff() {
					c.r.printf("< Key: %s\n", k1.Child(s1.name))
				}
			}
			continue
		}
		if cmd.Recurse {
			c.tree(k1.Child(s1.name), k2.Child(s2.name), s1, s2, false)
		} else if c.showSame() {
			c.r.printf("= Key: %s\n", k1.Child(s1.name))
		}
	}
	for _, s2 := range t2.subkeys {
		if findTree(t1.subkeys, s2.name) == nil && !cmd.HasValue {
			c.differ = true
			if c.showDiff() {
				c.r.printf("> Key: %s\n", k2.Child(s2.name))
			}
		}
	}
}

func findTree(ts []*tree, name string) *tree {
	for _, t := range ts {
		if strings.EqualFold(t.name, name) {
			return t
		}
	}
	return nil
}

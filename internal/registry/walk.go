package registry

// TreeKey is one key of a subtree as Session.Walk visits it.
type TreeKey struct {
	Depth  int    // 0 for the key Walk starts at
	Name   string // as stored, case preserved
	Link   bool   // a link key: Values hold its SymbolicLinkValue, its target is not entered
	Values []Value
}

// Walk visits h's whole subtree depth first, each key before its subkeys and subkeys
// in enumeration order (upper-cased names), as enumeration sees it: volatile keys and
// hives loaded below it are included. It is what reg export reads in one call instead of
// two requests per key. f runs under the registry's read lock, so it must not call the
// registry; the TreeKey and its Values are reused between calls (value data is shared
// with the store and must not be modified). An error from f stops the walk and is
// returned. Every key below h must grant the session KEY_ENUMERATE_SUB_KEYS and
// KEY_QUERY_VALUE, as reading it key by key would need: the first that does not stops the
// walk with an *AccessDeniedError naming it.
func (s *Session) Walk(h Handle, f func(*TreeKey) error) error {
	hh, err := s.get(h)
	if err != nil {
		return &OpError{Op: "walk", Err: err}
	}
	const need = KEY_ENUMERATE_SUB_KEYS | KEY_QUERY_VALUE
	r := s.r
	r.mu.RLock()
	defer r.mu.RUnlock()
	if err := live(hh); err != nil {
		return &OpError{Op: "walk", Key: hh.openedAs, Err: err}
	}
	if !s.allowed(hh, need) {
		return &OpError{Op: "walk", Key: hh.openedAs, Err: ERROR_ACCESS_DENIED}
	}
	var tk TreeKey
	// Keys below one another mostly share a descriptor: the last answer is kept.
	var lastSec *secObj
	var lastOK bool
	var walk func(k *key, depth int) error
	walk = func(k *key, depth int) error {
		if depth > 0 {
			if k.sec != lastSec {
				lastSec, lastOK = k.sec, s.maxAllowed(k)&need == need
			}
			if !lastOK {
				return &OpError{Op: "walk", Key: hh.openedAs, Err: &AccessDeniedError{Key: k.path(), Need: "KEY_READ"}}
			}
		}
		tk.Depth, tk.Name, tk.Link = depth, k.name, k.link
		tk.Values = tk.Values[:0]
		for _, v := range k.values {
			tk.Values = append(tk.Values, Value{Name: v.name, Type: v.typ, Data: v.data})
		}
		if err := f(&tk); err != nil {
			return err
		}
		if k.link {
			return nil
		}
		for _, c := range k.sortedSubkeys() {
			if err := walk(c, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(hh.k, 0)
}

package resmon

import "fmt"

// Order returns resources in an order to bring them online: every resource after the
// resources it depends on (deps[r] lists what r depends on, as WSFC's dependency
// expression with AND). Take them offline in the reverse order. Among resources free to
// go in any order, the order of the input list is kept. A dependency cycle gives a
// *CycleError; a dependency on a name missing from resources is an error too.
func Order(resources []string, deps map[string][]string) ([]string, error) {
	const (
		unseen = iota
		visiting
		done
	)
	known := make(map[string]bool, len(resources))
	for _, r := range resources {
		if known[r] {
			return nil, fmt.Errorf("resmon: order: resource %q listed twice", r)
		}
		known[r] = true
	}
	for r, ds := range deps {
		if !known[r] {
			return nil, fmt.Errorf("resmon: order: dependencies given for unknown resource %q", r)
		}
		for _, d := range ds {
			if !known[d] {
				return nil, fmt.Errorf("resmon: order: %q depends on %q, which is not in the list", r, d)
			}
		}
	}
	mark := make(map[string]int, len(resources))
	out := make([]string, 0, len(resources))
	var path []string
	var visit func(r string) error
	visit = func(r string) error {
		switch mark[r] {
		case done:
			return nil
		case visiting:
			i := len(path) - 1
			for path[i] != r {
				i--
			}
			cycle := append(append([]string{}, path[i:]...), r)
			return &CycleError{Cycle: cycle}
		}
		mark[r] = visiting
		path = append(path, r)
		for _, d := range deps[r] {
			if err := visit(d); err != nil {
				return err
			}
		}
		path = path[:len(path)-1]
		mark[r] = done
		out = append(out, r)
		return nil
	}
	for _, r := range resources {
		if err := visit(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

package agent

import (
	"cmp"
	"slices"
	"strings"

	"wolfpack/internal/clusterdb"
)

// placer chooses nodes for groups, as WSFC does, over one snapshot: among the nodes that
// may own the group (up, not paused, not a witness, a possible owner of each of its
// resources), those that host no group sharing an AntiAffinityClassNames entry with it
// (when none is free of them, the group goes to a conflicting node anyway, unless the
// cluster's ClusterEnforcedAntiAffinity keeps it offline); among those, the first of its
// preferred owners in their order; else the least loaded node — load being the
// resources a node runs — then the lowest node ID. A placer counts each placement it
// makes, so that the groups of a lost node spread over the survivors instead of piling
// on the least loaded one.
type placer struct {
	a        *Agent
	s        *clusterdb.Snapshot
	load     map[string]int            // node key → resources of the groups it owns
	classes  map[string]map[string]int // anti-affinity class (lower case) → node key → groups
	enforced bool
}

func (a *Agent) newPlacer(s *clusterdb.Snapshot) *placer {
	p := &placer{a: a, s: s, load: map[string]int{}, classes: map[string]map[string]int{}}
	if props := a.props.Load(); props != nil {
		p.enforced = props.EnforcedAntiAffinity
	}
	for k, o := range s.Owners {
		if g, ok := s.Groups[k]; ok && o.Node != "" {
			p.placed(g, o.Node)
		}
	}
	return p
}

// weight is a group's share of a node's load: its resources (a group without any
// counts one).
func (p *placer) weight(g clusterdb.Group) int { return max(1, len(p.s.GroupResources(g.Name))) }

// placed counts g on node.
func (p *placer) placed(g clusterdb.Group, node string) {
	n := clusterdb.Key(node)
	p.load[n] += p.weight(g)
	for _, c := range g.AntiAffinityClassNames {
		c = strings.ToLower(c)
		if p.classes[c] == nil {
			p.classes[c] = map[string]int{}
		}
		p.classes[c][n]++
	}
}

// conflicts reports whether node hosts a group other than g with one of g's
// anti-affinity classes.
func (p *placer) conflicts(g clusterdb.Group, node string) bool {
	n := clusterdb.Key(node)
	own := p.s.Owners[clusterdb.Key(g.Name)]
	for _, c := range g.AntiAffinityClassNames {
		hosted := p.classes[strings.ToLower(c)][n]
		if strings.EqualFold(own.Node, node) {
			hosted-- // g itself
		}
		if hosted > 0 {
			return true
		}
	}
	return false
}

// pick chooses a node for g ("" when none may take it); avoid is passed over when
// another node can take the group (the node it failed on).
func (p *placer) pick(g clusterdb.Group, avoid string) string {
	var cands []clusterdb.Node
	for _, n := range p.s.Nodes {
		if p.a.eligible(p.s, g, n.Name) {
			cands = append(cands, n)
		}
	}
	if len(cands) > 1 && avoid != "" {
		cands = slices.DeleteFunc(cands, func(n clusterdb.Node) bool { return strings.EqualFold(n.Name, avoid) })
	}
	if len(g.AntiAffinityClassNames) > 0 {
		free := slices.DeleteFunc(slices.Clone(cands), func(n clusterdb.Node) bool { return p.conflicts(g, n.Name) })
		switch {
		case len(free) > 0:
			cands = free
		case p.enforced:
			return ""
		}
	}
	if len(cands) == 0 {
		return ""
	}
	for _, pref := range g.PreferredOwners {
		for _, n := range cands {
			if strings.EqualFold(n.Name, pref) {
				return n.Name
			}
		}
	}
	best := slices.MinFunc(cands, func(x, y clusterdb.Node) int {
		return cmp.Or(cmp.Compare(p.load[clusterdb.Key(x.Name)], p.load[clusterdb.Key(y.Name)]), cmp.Compare(x.ID, y.ID))
	})
	return best.Name
}

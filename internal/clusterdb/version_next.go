//go:build wolfpack_schema_next

package clusterdb

import (
	"context"
	"fmt"
)

// The next schema, version 2, built with -tags wolfpack_schema_next: the build of the
// release after this one, which the rolling upgrade test (internal/scaletest) runs beside
// the current build. It adds one field to group records, written only once the cluster
// runs version 2.

// buildSchemaMax is the highest schema version this build runs.
const buildSchemaMax = 2

// SchemaGroupPriority is the version that adds Group.Priority.
const SchemaGroupPriority = 2

// DefaultGroupPriority is WSFC's default group Priority (Medium).
const DefaultGroupPriority = 2000

// groupNext holds the group fields of schema version 2.
type groupNext struct {
	// Priority is WSFC's group Priority (Windows Server 2012): 3000 High, 2000 Medium,
	// 1000 Low, 0 No Auto Start. Recorded from schema version 2 on; placement does not
	// use it yet.
	Priority *uint32 `json:"priority,omitempty"`
}

// Migrate writes what the cluster's schema version adds to the records that lack it (the
// coordinator calls it on every pass): from version 2, each group's Priority, WSFC's
// default. It returns how many records it wrote.
func (db *DB) Migrate(ctx context.Context, version int, s *Snapshot) (int, error) {
	if version < SchemaGroupPriority {
		return 0, nil
	}
	n := 0
	for _, g := range s.Groups {
		if g.Priority != nil {
			continue
		}
		_, err := db.ModifyGroup(ctx, g.Name, func(g *Group) error {
			if g.Priority == nil {
				p := uint32(DefaultGroupPriority)
				g.Priority = &p
			}
			return nil
		})
		if isNotFound(err) {
			continue // deleted meanwhile
		}
		if err != nil {
			return n, fmt.Errorf("clusterdb: schema version %d: group %s: %w", version, g.Name, err)
		}
		n++
	}
	return n, nil
}

//go:build !wolfpack_schema_next

package clusterdb

import "context"

// buildSchemaMax is the highest schema version this build runs.
const buildSchemaMax = 1

// groupNext holds the group fields of the next schema: none in this build (see
// version_next.go). A record written by a build that has them keeps them through this
// build's writes (Group.Unknown).
type groupNext struct{}

// Migrate writes what the cluster's schema version adds to the records that lack it (the
// coordinator calls it on every pass); nothing in this build.
func (db *DB) Migrate(ctx context.Context, version int, s *Snapshot) (int, error) { return 0, nil }

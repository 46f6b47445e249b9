package agent

import (
	"context"

	"wolfpack/internal/eventlog"
)

// ClusSvc event IDs the agent reports: internal/eventlog's catalog, which gives each its
// message, type and level.
const (
	EventResourceOnlineFailed = eventlog.EventResourceOnlineFailed // %1 resource, %2 error
	EventResourceFailed       = eventlog.EventResourceFailed       // %1 resource, %2 group, %3 resource type, %4 why
	EventGroupFailover        = eventlog.EventGroupFailover        // %1 group, %2 from node, %3 to node
	EventGroupFailed          = eventlog.EventGroupFailed          // %1 group
	EventGroupFailoverLimit   = eventlog.EventGroupFailoverLimit   // %1 group
	EventNodeEvicted          = eventlog.EventNodeEvicted          // %1 node
	EventNodeJoined           = eventlog.EventNodeJoined           // %1 node, %2 cluster
	EventNodeRemoved          = eventlog.EventNodeRemoved          // %1 node
	EventNodeStopped          = eventlog.EventNodeStopped          // %1 node (left because its cluster service was stopped)
	EventGroupMoving          = eventlog.EventGroupMoving          // %1 group, %2 from node, %3 to node
	EventGroupOffline         = eventlog.EventGroupOffline         // %1 group
	EventQuorumLost           = eventlog.EventQuorumLost
)

// Reporter writes a ClusSvc event to the node's System log (internal/eventlog, wired by
// the daemon), with the type and level the catalog gives id. Strings are the insertion
// strings %1, %2, ….
type Reporter func(ctx context.Context, id uint32, strings ...string)

func nopReporter(context.Context, uint32, ...string) {}

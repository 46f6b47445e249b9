package agent

import "context"

// ClusSvc event IDs the agent reports (the numbers of internal/eventlog's catalog).
const (
	EventResourceOnlineFailed uint32 = 1065 // %1 resource, %2 error
	EventResourceFailed       uint32 = 1069 // %1 resource, %2 group, %3 resource type, %4 why
	EventGroupFailover        uint32 = 1153 // %1 group, %2 from node, %3 to node
	EventGroupFailed          uint32 = 1205 // %1 group
	EventGroupFailoverLimit   uint32 = 1254 // %1 group
	EventNodeEvicted          uint32 = 1011 // %1 node
	EventNodeJoined           uint32 = 1062 // %1 node, %2 cluster
	EventNodeRemoved          uint32 = 1135 // %1 node
	EventNodeStopped          uint32 = 1903 // %1 node (left because its cluster service was stopped)
	EventGroupMoving          uint32 = 1641 // %1 group, %2 from node, %3 to node
	EventGroupOffline         uint32 = 1204 // %1 group
	EventQuorumLost           uint32 = 1177
)

// Event levels (Windows' numbers).
const (
	LevelError       = 2
	LevelWarning     = 3
	LevelInformation = 4
)

// Reporter writes a ClusSvc event to the node's System log (internal/eventlog, wired by
// the daemon). Strings are the insertion strings %1, %2, ….
type Reporter func(ctx context.Context, id uint32, level int, strings ...string)

func nopReporter(context.Context, uint32, int, ...string) {}

package eventlog

import (
	"fmt"
	"strconv"
	"strings"
)

// Event sources of Wolfpack's own components.
const (
	SourceCluster  = "ClusSvc"                    // the cluster service, as on Windows NT 4.0
	SourceEventlog = "Microsoft-Windows-Eventlog" // the event log service itself
	// SourceServiceControlManager reports services entering the running and stopped
	// states (event 7036), as Windows' does for the Cluster Service.
	SourceServiceControlManager = "Service Control Manager"
)

// Categories (tasks) of the catalog's messages. The checkpoint manager's is 64, as the
// Q316772 article shows; ClusSvc registers no category names, so Event Viewer shows "(64)".
const (
	CategoryNone       uint16 = 0
	CategoryCheckpoint uint16 = 64
	CategoryLogClear   uint16 = 104
)

// ClusSvc event IDs. The numbers and the wording follow Windows' failover clustering
// events; the ones Windows lacks (19xx) are Wolfpack's own.
const (
	// Registry checkpoints (category 64).
	EventCheckpointRestoreFailed    uint32 = 1024 // %1 resource, %2 key under HKLM; data: Holders
	EventCheckpointSaveFailed       uint32 = 1081 // %1 resource, %2 key under HKLM, %3 error
	EventCheckpointRestoreError     uint32 = 1082 // %1 resource, %2 key under HKLM, %3 error (not a handle conflict)
	EventCheckpointRestoreForced    uint32 = 1901 // %1 resource, %2 key, %3 holders; data: Holders
	EventCheckpointRestoreAfterWait uint32 = 1902 // %1 resource, %2 key, %3 seconds waited
	EventNodeStopped                uint32 = 1903 // %1 node whose Cluster service was stopped cleanly
	// %1 resource, %2 key, %3 seconds of retrying after a failure other than handles (1082)
	EventCheckpointRestoreAfterRetry uint32 = 1904
	// %1 old schema version, %2 new one: the cluster's schema version was raised (a
	// rolling upgrade finished). Wolfpack's own: WSFC documents no event for an update of
	// its cluster functional level.
	EventSchemaRaised uint32 = 1905

	// Resources and groups (clustered roles).
	EventResourceOnlineFailed uint32 = 1065 // %1 resource, %2 error
	EventResourceFailed       uint32 = 1069 // %1 resource, %2 group, %3 resource type, %4 why
	EventGenericAppFailed     uint32 = 1039 // %1 resource, %2 error
	EventResourceDeadlock     uint32 = 1230 // %1 resource, %2 type, %3 DLL / program
	EventGenericScriptTimeout uint32 = 1232 // %1 resource, %2 entry point
	EventGroupFailover        uint32 = 1153 // %1 group, %2 from node, %3 to node
	EventGroupMoveIncomplete  uint32 = 1155 // %1 group
	EventGroupOnline          uint32 = 1201 // %1 group
	EventGroupOfflinePending  uint32 = 1203 // %1 group
	EventGroupOffline         uint32 = 1204 // %1 group
	EventGroupFailed          uint32 = 1205 // %1 group
	EventGroupFailoverLimit   uint32 = 1254 // %1 group
	EventGroupMoving          uint32 = 1641 // %1 group, %2 from node, %3 to node

	// Membership and quorum.
	EventNodeEvicted    uint32 = 1011 // %1 node
	EventClusterFormed  uint32 = 1061 // %1 node, %2 cluster
	EventNodeJoined     uint32 = 1062 // %1 node, %2 cluster
	EventNodeJoinFailed uint32 = 1070 // %1 cluster, %2 error
	EventNodeRemoved    uint32 = 1135 // %1 node (left the active membership)
	EventQuorumLost     uint32 = 1177
)

// Event log service event IDs (source Microsoft-Windows-Eventlog).
const (
	EventLogCleared uint32 = 104 // %1 log name; written to the System log
)

// Service Control Manager event IDs.
const (
	EventServiceState uint32 = 7036 // %1 service name, %2 state ("running", "stopped")
)

// Message is one entry of the catalog: the text Windows' message file holds for
// (Source, EventID), with %1, %2, … where the insertion strings go.
type Message struct {
	Source   string
	EventID  uint32
	Symbol   string    // the message's symbolic name, where Windows documents one
	Type     EventType // the type the source reports it with
	Level    Level     // 0: the type's level; set for Critical
	Category uint16
	Text     string
}

// Qualifiers returns the high 16 bits of the message's 32-bit ID as a message compiler
// writes them: the severity (3 error, 2 warning, 1 informational) in the top two bits.
func (m Message) Qualifiers() uint16 {
	switch m.Type {
	case TypeError:
		return 0xC000
	case TypeWarning:
		return 0x8000
	}
	return 0x4000
}

type catalogKey struct {
	source string // lower case
	id     uint32
}

// Catalog maps (source, event ID) to messages. Source names are case-insensitive, as
// Windows' registry of event sources is. A Catalog is not safe for concurrent Add.
type Catalog struct {
	m map[catalogKey]Message
}

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog { return &Catalog{m: map[catalogKey]Message{}} }

// Add adds or replaces a message.
func (c *Catalog) Add(m Message) {
	c.m[catalogKey{strings.ToLower(m.Source), m.EventID}] = m
}

// Lookup returns the message for (source, id).
func (c *Catalog) Lookup(source string, id uint32) (Message, bool) {
	m, ok := c.m[catalogKey{strings.ToLower(source), id}]
	return m, ok
}

// HasSource reports whether any message belongs to source: such a source is an
// installed application's, which eventcreate may not write as.
func (c *Catalog) HasSource(source string) bool {
	for k := range c.m {
		if strings.EqualFold(k.source, source) {
			return true
		}
	}
	return false
}

// Render returns e's description: its message with the insertion strings in place.
// Without a message, an event with exactly one insertion string shows that string (as
// EventCreate's message file "%1" does for every ID); any other shows Windows' "cannot
// be found" text followed by its strings.
func (c *Catalog) Render(e *Event) string {
	if m, ok := c.Lookup(e.Source, e.EventID); ok {
		return Expand(m.Text, e.Strings)
	}
	if len(e.Strings) == 1 {
		return e.Strings[0]
	}
	s := fmt.Sprintf("The description for Event ID %d from source %s cannot be found. "+
		"Either the component that raises this event is not installed on your local computer "+
		"or the installation is corrupted. You can install or repair the component on the local computer.",
		e.EventID, e.Source)
	if len(e.Strings) > 0 {
		s += "\n\nThe following information was included with the event:\n\n" + strings.Join(e.Strings, "\n")
	}
	return s
}

// Expand replaces FormatMessage's inserts in text: %1…%99 by the insertion strings
// (an optional printf spec %n!…! is accepted and ignored: every insert is a string),
// %% by %, %n by a newline, %t by a tab, %r by a carriage return, %b by a space, %0 ends
// the message. An insert without a string stays as written, as Windows leaves it.
func Expand(text string, args []string) string {
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		ch := text[i]
		if ch != '%' || i+1 >= len(text) {
			b.WriteByte(ch)
			continue
		}
		nx := text[i+1]
		switch {
		case nx >= '1' && nx <= '9':
			j := i + 2
			if j < len(text) && text[j] >= '0' && text[j] <= '9' {
				j++
			}
			n, _ := strconv.Atoi(text[i+1 : j])
			end := j
			if end < len(text) && text[end] == '!' {
				if k := strings.IndexByte(text[end+1:], '!'); k >= 0 {
					end += k + 2
				}
			}
			if n <= len(args) {
				b.WriteString(args[n-1])
			} else {
				b.WriteString(text[i:end])
			}
			i = end - 1
		case nx == '0':
			return b.String()
		case nx == '%':
			b.WriteByte('%')
			i++
		case nx == 'n':
			b.WriteByte('\n')
			i++
		case nx == 't':
			b.WriteByte('\t')
			i++
		case nx == 'r':
			b.WriteByte('\r')
			i++
		case nx == 'b':
			b.WriteByte(' ')
			i++
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

// DefaultCatalog returns the messages of Wolfpack's sources.
func DefaultCatalog() *Catalog {
	c := NewCatalog()
	for _, m := range defaultMessages {
		c.Add(m)
	}
	return c
}

// Text after the first sentence of several Windows messages, kept once.
const (
	validateNetwork = "Check the nodes with the cluster node command and the network between them (the nodes' --peer and --api addresses). " +
		"If the condition persists, check for hardware or software errors related to the network adapters on this node. " +
		"Also check for failures in any other network components to which the node is connected such as hubs, switches, or bridges."
	failurePolicy = "Based on the failure policies for the resource and role, the cluster service may try to bring the resource " +
		"online on this node or move the group to another node of the cluster and then restart it. " +
		"Check the resource and group state, and why the resource failed, with the cluster resource and cluster group commands (or in the web console)."
)

var defaultMessages = []Message{
	// Checkpoints. 1024 is word for word the Windows NT 4.0 message of KB Q316772.
	{SourceCluster, EventCheckpointRestoreFailed, "CP_REG_CKPT_RESTORE_FAILED", TypeError, 0, CategoryCheckpoint,
		`The registry checkpoint for cluster resource %1 could not be restored to registry key HKEY_LOCAL_MACHINE\%2. ` +
			`The resource may not function correctly. ` +
			`Make sure that no other processes have open handles to registry keys in this registry subtree.`},
	{SourceCluster, EventCheckpointSaveFailed, "", TypeError, 0, CategoryCheckpoint,
		`The Cluster service could not save the registry key HKEY_LOCAL_MACHINE\%2 of cluster resource %1. ` +
			`The error code was %3. Some changes may be lost.`},
	{SourceCluster, EventCheckpointRestoreError, "", TypeError, 0, CategoryCheckpoint,
		`The Cluster service could not restore the registry key HKEY_LOCAL_MACHINE\%2 for cluster resource %1 when it was brought online. ` +
			`The error code was %3. Some changes may be lost.`},
	{SourceCluster, EventCheckpointRestoreForced, "", TypeWarning, 0, CategoryCheckpoint,
		`The registry checkpoint for cluster resource %1 was restored to registry key HKEY_LOCAL_MACHINE\%2 ` +
			`although other processes had open handles to registry keys in this registry subtree. ` +
			`Those handles no longer refer to the restored keys, and the processes that hold them may not function correctly: %3.`},
	{SourceCluster, EventCheckpointRestoreAfterWait, "", TypeInformation, 0, CategoryCheckpoint,
		`The registry checkpoint for cluster resource %1 was restored to registry key HKEY_LOCAL_MACHINE\%2 ` +
			`after the processes that had open handles to registry keys in this registry subtree closed them (waited %3 seconds).`},
	{SourceCluster, EventCheckpointRestoreAfterRetry, "", TypeInformation, 0, CategoryCheckpoint,
		`The registry checkpoint for cluster resource %1 was restored to registry key HKEY_LOCAL_MACHINE\%2 ` +
			`when it was tried again after an error (retried for %3 seconds).`},

	// Resources and groups.
	{SourceCluster, EventGenericAppFailed, "RES_GENAPP_CREATE_FAILED", TypeError, 0, CategoryNone,
		`Generic application '%1' could not be brought online (with error '%2') during an attempt to create the process. ` +
			`Possible causes include: the application may not be present on this node, the path name may have been specified incorrectly, ` +
			`the binary name may have been specified incorrectly.`},
	{SourceCluster, EventResourceOnlineFailed, "", TypeError, 0, CategoryNone,
		`Cluster resource '%1' failed to come online. The error code was '%2'.`},
	{SourceCluster, EventResourceFailed, "RCM_RESOURCE_FAILURE_WITH_TYPENAME", TypeError, 0, CategoryNone,
		`Cluster resource '%1' of type '%3' in clustered role '%2' failed. The error was '%4'. ` + failurePolicy},
	{SourceCluster, EventResourceDeadlock, "RCM_DEADLOCK_OR_CRASH_DETECTED", TypeError, 0, CategoryNone,
		`A component on the server did not respond in a timely fashion. This caused the cluster resource '%1' ` +
			`(resource type '%2', DLL '%3') to exceed its time-out threshold. As part of cluster health detection, ` +
			`recovery actions will be taken.`},
	{SourceCluster, EventGenericScriptTimeout, "RES_GENSCRIPT_TIMEOUT", TypeError, 0, CategoryNone,
		`Entry point '%2' in cluster generic script resource '%1' did not complete execution in a timely manner. ` +
			`This could be due to an infinite loop or other issues possibly resulting in an infinite wait. ` +
			`Alternatively, the specified pending timeout value may be too short for this resource.`},
	{SourceCluster, EventGroupFailover, "", TypeInformation, 0, CategoryNone,
		`Cluster service is attempting to failover the clustered role '%1' from node '%2' to node '%3'.`},
	{SourceCluster, EventGroupMoveIncomplete, "RCM_EVENT_EXITED_QUEUING", TypeWarning, 0, CategoryNone,
		`The pending move for the role '%1' did not complete.`},
	{SourceCluster, EventGroupOnline, "", TypeInformation, 0, CategoryNone,
		`The Cluster service successfully brought the clustered role '%1' online.`},
	{SourceCluster, EventGroupOfflinePending, "", TypeInformation, 0, CategoryNone,
		`The Cluster service is attempting to bring the clustered role '%1' offline.`},
	{SourceCluster, EventGroupOffline, "", TypeInformation, 0, CategoryNone,
		`The Cluster service successfully brought the clustered role '%1' offline.`},
	{SourceCluster, EventGroupFailed, "RCM_EVENT_GROUP_FAILED_ONLINE_OFFLINE", TypeError, 0, CategoryNone,
		`The Cluster service failed to bring clustered role '%1' completely online or offline. ` +
			`One or more resources may be in a failed state. This may impact the availability of the clustered role.`},
	{SourceCluster, EventGroupFailoverLimit, "RCM_GROUP_TERMINAL_FAILURE", TypeError, 0, CategoryNone,
		`Clustered role '%1' has exceeded its failover threshold. It has exhausted the configured number of failover attempts ` +
			`within the failover period of time allotted to it and will be left in a failed state. ` +
			`No additional attempts will be made to bring the role online or fail it over to another node in the cluster. ` +
			`Please check the events associated with the failure. After the issues causing the failure are resolved ` +
			`the role can be brought online manually or the cluster may attempt to bring it online again after the restart delay period.`},
	{SourceCluster, EventGroupMoving, "", TypeInformation, 0, CategoryNone,
		`Clustered role '%1' is moving from cluster node '%2' to cluster node '%3'.`},

	// Membership and quorum.
	{SourceCluster, EventNodeEvicted, "NM_NODE_EVICTED", TypeWarning, 0, CategoryNone,
		`Cluster node %1 has been evicted from the failover cluster.`},
	{SourceCluster, EventClusterFormed, "", TypeInformation, 0, CategoryNone,
		`The Cluster service on node '%1' successfully formed the failover cluster '%2'.`},
	{SourceCluster, EventNodeJoined, "", TypeInformation, 0, CategoryNone,
		`The Cluster service on node '%1' successfully joined the failover cluster '%2'.`},
	{SourceCluster, EventNodeJoinFailed, "NM_EVENT_BEGIN_JOIN_FAILED", TypeError, LevelCritical, CategoryNone,
		`The node failed to join failover cluster '%1' due to error code '%2'.`},
	{SourceCluster, EventNodeRemoved, "EVENT_NODE_DOWN", TypeError, LevelCritical, CategoryNone,
		`Cluster node '%1' was removed from the active failover cluster membership. ` +
			`The Cluster service on this node may have stopped. ` +
			`This could also be due to the node having lost communication with other active nodes in the failover cluster. ` + validateNetwork},
	{SourceCluster, EventQuorumLost, "MM_EVENT_ARBITRATION_FAILED", TypeError, LevelCritical, CategoryNone,
		`The Cluster service is shutting down because quorum was lost. ` +
			`This could be due to the loss of network connectivity between some or all nodes in the cluster, or a failover of the witness disk. ` + validateNetwork},

	{SourceCluster, EventNodeStopped, "", TypeInformation, 0, CategoryNone,
		`Cluster node '%1' left the active failover cluster membership because its Cluster service was stopped. ` +
			`Its clustered roles were taken offline there and handed to the other nodes.`},
	{SourceCluster, EventSchemaRaised, "", TypeInformation, 0, CategoryNone,
		`The cluster database schema version was raised from %1 to %2: every node of the failover cluster runs a build that supports version %2. ` +
			`The change is permanent: a node whose build cannot run version %2 can no longer join the cluster or start in it.`},

	// The Service Control Manager: the Cluster service's own start and stop.
	{SourceServiceControlManager, EventServiceState, "", TypeInformation, 0, CategoryNone,
		`The %1 service entered the %2 state.`},

	// The event log service.
	{SourceEventlog, EventLogCleared, "", TypeInformation, 0, CategoryLogClear,
		`The %1 log file was cleared.`},
}

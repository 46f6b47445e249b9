// Package agent is a node's cluster agent: membership, placement and failover of
// resource groups, in the manner of Windows Server Failover Clustering's cluster service.
//
// Every node keeps a session of the cluster database (clusterdb.Session: a lease kept
// alive, etcd's concurrency.Session) and puts members/<name> under it: the node is up
// while the key exists. One node, elected under its session (Session.Campaign), is the
// coordinator: it places groups that have no live owner (preferred owners first, then the least loaded possible owner), which covers new
// groups, groups released after a failure and the groups of a node that left.
//
// The node named in owners/<group> runs the group's resources through a Runner (the
// resource monitor, internal/resmon): dependencies come online first and go offline
// last, and a resource whose dependency is not online stays offline. It carries out move
// requests (take the group offline, then hand owners/<group> to the target) and, when a
// resource fails beyond its restart threshold with RestartAction 2, fails the group over
// by releasing it, unless the group's FailoverThreshold within FailoverPeriod is spent.
// All of its writes are fenced by the ownership revision (clusterdb.Fence).
//
// A node whose session fails stops its resources at once, before its lease can expire
// on the other nodes and its groups be placed elsewhere.
//
// Around each resource's Online and Offline the agent calls a Checkpointer, the
// interface by which it states what it needs of the registry checkpoint manager (which
// the daemon plugs in with SetCheckpointer; the agent does not import it):
// RestoreCheckpoints restores the checkpoints (an error fails the resource), StartCapture
// and StopCapture start and end capturing, CheckpointKeysChanged follows
// /addcheckpoints on an online resource. Events go to a Reporter
// (the System log, source ClusSvc): 1069 resource failed, 1065 online failed, 1153
// failover, 1205/1254 group failed, 1062/1135 node joined/left, 1177 quorum lost.
//
// The exported methods of Agent (status.go, admin.go) implement internal/api's
// ClusterService, the HTTP API of `cluster`, in the types of internal/api/wire; errors
// carry Windows' cluster error numbers. Collector gives
// the Prometheus gauges.
package agent

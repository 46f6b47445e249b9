// Package checkpoint keeps registry subtrees with the cluster resources that use them:
// Windows failover clustering's registry checkpointing (CLUSCTL_RESOURCE_ADD_REGISTRY_CHECKPOINT
// and the cluster service's checkpoint manager), as Microsoft Knowledge Base article
// Q316772 shows it at work and fail.
//
// A resource names subtrees relative to HKEY_LOCAL_MACHINE. On the node that owns the
// resource's group, while the resource is online, the Manager saves each subtree as a
// regf hive whenever something in it changes (debounced: at most one capture per key per
// 100 ms), when a checkpoint is added, and when the resource goes offline, and commits
// the copy to the cluster database with a write fenced by the group's ownership
// revision (internal/clusterdb/checkpoints.go keeps the versions, chunked past etcd's
// request limit). Before the resource comes online on a node, every checkpoint is
// restored there with RegRestoreKey's semantics: the restore is refused while another
// process holds a handle to a key in the subtree, by whichever name it opened it.
//
// A refused restore logs ClusSvc event 1024 in the System log, word for word the event
// of the article, with named data items for every holder (process id, name, user id and
// the key as the holder opened it), and then follows the resource's private property
// RestoreFailureAction:
//
//	Continue  bring the resource online anyway (Windows' behaviour). The key's checkpoint
//	          is left alone while the resource runs here: the live subtree is not the
//	          resource's configuration, so it is neither captured on change nor at offline.
//	Retry     (default) try again as the handles close, for up to RestoreRetryTimeout ms
//	          (default 30000); then act as Fail.
//	Fail      the resource fails (event 1069, by the agent) and the group's failover
//	          policy applies.
//	Force     restore with REG_FORCE_RESTORE: the holders' handles go stale; a warning
//	          event names them.
//
// A restore that fails for another reason — the checkpoint cannot be read from the
// cluster database, the stored version is damaged, the registry refuses its hive or
// cannot write — logs event 1082 and follows the same property: Continue brings the
// resource online with the live subtree (not captured, as above); Fail fails it; Retry,
// and Force (which forcing cannot help), read and restore the newest version again every
// RetryInterval until RestoreRetryTimeout (an etcd election or partition heals, a rollback
// replaces a damaged version), then fail it; success after such a retry logs 1904. So
// only Continue ever runs a resource without its checkpoint.
//
// A save that fails logs event 1081.
//
// The package talks to the registry, the store and the event log through small
// interfaces (Registry, Store, Reporter), so that its tests run on in-memory fakes;
// registry.go adapts a registry.Session, *clusterdb.CheckpointStore is the store and
// *eventlog.Service the reporter. Service (service.go) answers the API's checkpoint
// routes: adding and removing keys, history, the difference of two versions as .reg text
// (diff.go), rollback, drift verification, and the janitor that deletes the checkpoints
// of deleted resources.
package checkpoint

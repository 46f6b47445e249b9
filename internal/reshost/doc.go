// Package reshost is Wolfpack's resource host: a small process per node, apart from the
// daemon (as Windows' rhs.exe is apart from clussvc.exe), that runs the node's resource
// processes on the daemon's orders and keeps the cluster's first promise — a group runs
// on at most one node — when the daemon cannot.
//
// The daemon starts the host (a re-exec of wolfpackd as `wolfpackd resource-host`) and
// talks to it over a unix SOCK_SEQPACKET socket pair: one JSON message per packet, a
// resource's log file passed along with SCM_RIGHTS. Client is the daemon's end and
// implements resmon.Launcher; Serve is the host's.
//
// The host obeys a permit: the daemon grants one after each successful keep-alive of
// the node's etcd lease, valid until an Instant computed by the timing rule of package
// fencing. The host
//
//   - starts a process only while the permit is valid and only for the permit's lease
//     (ProcSpec.Epoch), so a daemon that acts on a stale view after a freeze cannot
//     start anything;
//   - when the permit runs out (the daemon frozen, hung, starved or cut off from etcd),
//     kills every process group it started, and every process it adopted as the
//     children's subreaper (daemons that detached): SIGTERM, half the kill budget of
//     grace, SIGKILL, and waits for them to be gone — all without the daemon;
//   - when the daemon dies (its end of the socket closes without a goodbye), kills the
//     same way and then revokes the node's lease in etcd itself, so the other nodes
//     take the groups over at once instead of after the TTL; it revokes only after
//     every process is gone, and never when one survived the kill;
//   - optionally pets a Linux watchdog device (--watchdog, as sbd does) while it is
//     healthy — its permit valid or its processes confirmed gone — so that a frozen
//     host or kernel resets the machine.
//
// Resource processes are the host's children with the parent-death signal SIGKILL, set
// from one locked OS thread, so the host's own death (kill -9) kills them too; the
// daemon, which notices the host's death on the socket, kills what is left of their
// process groups and starts a new host.
package reshost

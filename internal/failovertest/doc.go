// Package failovertest proves, with real wolfpackd processes, the cluster's first
// promise: a group runs on at most one node, whatever fails — a frozen daemon, a crashed
// daemon, a crashed coordinator that was also the etcd leader, a node cut off from the
// network, the first node's daemon killed seconds after the cluster formed — and measures
// how fast the group comes back elsewhere; and that a cluster restarted whole (all nodes
// at once) answers without waiting on itself.
//
// The group's resource is a Generic Application that appends "<unix ns> <node> <pid>"
// to one file every 50 ms; two nodes' lines interleaving in that file is an overlap.
// The tests run a few cycles (WOLFPACK_LONG=1: 20 of each); the benchmarks report the
// failover times that BENCHMARKS.md quotes. The package has only tests.
package failovertest

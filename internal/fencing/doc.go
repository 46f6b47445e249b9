// Package fencing holds Wolfpack's timing rule for keeping a resource group on at most
// one node, and the clock it is measured on.
//
// A node is a member of the cluster while its etcd lease lives (agent). The lease is
// kept alive by keep-alives; etcd's leader counts the TTL from the moment it receives a
// keep-alive, so a keep-alive *sent* at local time s proves that the lease cannot expire
// before s + TTL (assuming the leader's clock does not run faster than this node's by
// more than the margin allows). Everything below is counted from s, on CLOCK_BOOTTIME,
// which every process of the machine shares and which keeps counting while the machine
// is suspended.
//
// The rule (Timing, all derived from the session TTL; defaults for TTL = 2 s):
//
//	Renew  = TTL/10   (200 ms) the daemon sends a keep-alive this often
//	Window = TTL − Margin − Kill  (750 ms) a successful keep-alive sent at s grants the
//	         resource host a permit until s + Window
//	Kill   = TTL/8    (250 ms) the host's budget to stop every resource process when the
//	         permit runs out: SIGTERM, Kill/2 of grace, SIGKILL, wait for the exits
//	Margin = TTL/2    (1 s) kill finished ≤ s + Window + Kill = s + TTL − Margin:
//	         the resources are gone at least Margin before the lease can expire
//	Settle = TTL/8    (250 ms) the coordinator places a dead node's groups only this long
//	         after it saw the node's lease expire or be revoked
//
// So a node that cannot renew (daemon frozen, hung, starved, or cut off from the etcd
// majority) has stopped its resources Margin + Settle before any other node may start
// them. A clock-rate error up to Margin/TTL (50 %) between this node and the etcd leader
// is tolerated. When the daemon dies but the machine lives, its resource host kills the
// resources and then revokes the lease itself, so the survivors need not wait for the
// TTL; a revocation is only ever made after the kill finished.
//
// client-go's leader election (LeaseDuration > RenewDeadline > RetryPeriod) and
// Patroni's (ttl ≥ loop_wait + 2 × retry_timeout) document rules of the same kind.
package fencing

// Package fencing holds Wolfpack's timing rule for keeping a resource group on at most
// one node, and the clock it is measured on.
//
// A node is a member of the cluster while its etcd lease lives (agent). The lease is
// kept alive by keep-alives; etcd's leader counts the TTL from the moment it receives a
// keep-alive, so a keep-alive *sent* at local time s proves that the lease cannot expire
// before s + TTL (assuming the leader's clock does not run faster than this node's by
// more than the margin allows). A change of etcd leader only pushes expiries later: the
// new leader restarts every lease's TTL (plus an election timeout) when it takes over.
// Everything below is counted from s, on CLOCK_BOOTTIME, which every process of the
// machine shares and which keeps counting while the machine is suspended.
//
// The rule (Timing, all derived from the session TTL; defaults for TTL = 2 s):
//
//	Renew  = TTL/10   (200 ms) the daemon sends a keep-alive this often
//	Stop   = TTL/40   (50 ms)  the resource host's budget to stop (SIGSTOP) every process
//	Margin = TTL/2    (1 s)    stopped ≥ Margin before the lease can expire
//	Window = TTL − Margin − Stop  (950 ms) a keep-alive sent at s grants the resource host
//	         a permit until s + Window: then it stops (freezes) every resource process,
//	         which from that moment executes nothing
//	Kill   = TTL/8    (250 ms) at s + TTL − Kill the host kills (SIGKILL) what is still
//	         frozen, so it is gone before the lease can expire
//	Settle = TTL/8    (250 ms) the coordinator places a dead node's groups only this long
//	         after it saw the node's lease expire or be revoked
//
// A renewal that succeeds while the processes are frozen (an etcd leader election took
// longer than the window, say) lets them continue (SIGCONT) where they stopped: the node
// never lost its lease, nobody else may run its groups, and they need not restart. So a
// node that cannot renew (daemon frozen, hung, starved, or cut off from the etcd
// majority) has stopped its resources Margin before, and killed them before, any other
// node may start them (which is after expiry + Settle). A clock-rate error up to
// Margin/TTL (50 %) between this node and the etcd leader is tolerated. When the daemon
// dies but the machine lives, its resource host kills the resources and then revokes
// the lease itself, so the survivors need not wait for the TTL; a revocation is only
// ever made after the kill finished.
//
// client-go's leader election (LeaseDuration > RenewDeadline > RetryPeriod) and
// Patroni's (ttl ≥ loop_wait + 2 × retry_timeout) document rules of the same kind.
package fencing

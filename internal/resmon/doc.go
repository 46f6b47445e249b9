// Package resmon is Wolfpack's resource monitor: it runs the resources of one node,
// as WSFC's resource monitor (rhs.exe) does with resource DLLs.
//
// # Resource types
//
// A resource type is the small interface Resource, whose methods are the entry points
// of a WSFC resource DLL: Online, Offline, LooksAlive, IsAlive and Terminate. The
// built-in types, listed with their private properties by Types(), are:
//
//   - "Generic Application": CommandLine (split into argv like a POSIX shell splits
//     words, without expansion, redirection or pipes: see SplitCommandLine; the program
//     is looked up in PATH), CurrentDirectory, Environment (a multi-string of K=V
//     entries, one per line, added to the daemon's environment). One supervised process:
//     Online once it runs, LooksAlive while it has not exited, IsAlive also checks /proc,
//     Offline sends SIGTERM to its process group and SIGKILL after
//     Options.StopGracePeriod, Terminate sends SIGKILL; both also kill what the program
//     left in its process group when it ended by itself.
//   - "Generic Script": ScriptFilePath, run as `script online|offline|looksalive|isalive`
//     (and `terminate`, where a script may exit non-zero), exit status 0 meaning success
//     or alive. The environment holds WOLFPACK_RESOURCE (the resource name),
//     WOLFPACK_ACTION and WOLFPACK_PROP_<Name> for each private property.
//   - "OCF": an unmodified OCF resource agent (OCF Resource Agent API 1.1) named by the
//     private property Agent ("heartbeat:Dummy" is $OCF_ROOT/resource.d/heartbeat/Dummy);
//     the type name "ocf:heartbeat:Dummy" does the same. Online is start, Offline stop,
//     LooksAlive and IsAlive are monitor at OCF_CHECK_LEVEL 0 and 10. The agent gets
//     OCF_ROOT, OCF_RESOURCE_INSTANCE (the resource name with characters other than
//     letters, digits, '.', '-', '_' replaced by '_' and, if any were, a hash of the
//     name appended: "Disk Q:" is "Disk_Q_-2c544a87"), OCF_RESOURCE_TYPE,
//     OCF_RESOURCE_PROVIDER, OCF_RESKEY_CRM_meta_timeout, OCF_RESKEY_CRM_meta_interval
//     and OCF_RESKEY_<name> for every other private property. Exit codes are OCFCode;
//     monitor's OCF_NOT_RUNNING means not alive. A failed action is an *ActionError
//     carrying the agent's ocf-exit-reason.
//   - "Test": in memory, steered by a test through *TestResource.
//
// Private property names are case-insensitive, as in WSFC. A missing or bad property is
// a *PropertyError; ValidateProperties checks a set without starting anything.
//
// Every process a resource starts goes through a Launcher, in its own process group (so
// that Offline and Terminate reach everything it forked) with the parent-death signal
// SIGKILL. The default Launcher forks them from one OS thread that the Monitor locks for
// its lifetime (Linux sends that signal when the forking *thread* ends); wolfpackd's is
// its resource host (internal/reshost), a separate process that kills them by itself when
// the node may no longer run resources. Options.Env is added to every process's
// environment (wolfpackd adds WOLFPACK_NODE). Output goes to
// <Options.LogDir>/<resource>.log, rotated to .log.1 past Options.MaxLogBytes.
//
// # The monitor
//
// A Monitor holds resources (Add for built-in types, AddResource for any Resource) and
// moves each through WSFC's states, numbered as CLUSTER_RESOURCE_STATE: Offline,
// Online Pending, Online, Offline Pending, Failed. Monitor.Online and Monitor.Offline
// return when the resource got there (or failed). While a resource is Online the monitor
// calls LooksAlive every LooksAlivePollInterval and IsAlive every IsAlivePollInterval; a
// false LooksAlive is confirmed with IsAlive. A false IsAlive, a failed Online, or an
// entry point that overruns PendingTimeout is a failure: the resource is terminated and
// becomes Failed, and then, by its Policy (WSFC's common properties RestartAction,
// RestartThreshold, RestartPeriod, RestartDelay, RetryPeriodOnFailure), restarted on
// this node, or left Failed. When it has failed more than RestartThreshold times within
// RestartPeriod and its RestartAction is ClusterResourceRestartNotify (2), the Failed
// event carries Failover: the signal for the agent to move the group elsewhere.
//
// Every state change is an Event (resource, old and new state, error) given to
// Options.OnEvent in order. An entry point that panics fails its resource, not the
// daemon; one that ignores its context is abandoned at PendingTimeout (Terminate runs). Dependencies are the agent's: Order sorts resources so that
// each comes after those it depends on, and finds cycles.
//
// A typical use by the agent:
//
//	mon, err := resmon.NewMonitor(resmon.Options{LogDir: dir, OnEvent: publish})
//	pol, err := resmon.ParsePolicy(commonProps)
//	err = mon.Add(resmon.Spec{Name: "App", Type: "Generic Application",
//		Private: map[string]string{"CommandLine": "/usr/bin/app --serve"}, Policy: pol})
//	err = mon.Online(ctx, "App")  // Online, or the failure
//	...
//	err = mon.Offline(ctx, "App") // nothing of App runs afterwards
//	err = mon.Close(ctx)          // terminates whatever still runs
package resmon

package clustercmd

// The usage texts: `cluster /?` gives the overview, `cluster node /?`, `cluster group
// /?`, `cluster resource /?`, `cluster resourcetype /?` each their own synopsis with
// every option (--help and -h work as /?).

const usage = `Usage:
  cluster node [NAME] [OPTION]          the cluster's nodes         (cluster node /?)
  cluster group [NAME] [OPTION]         resource groups             (cluster group /?)
  cluster resource [NAME] [OPTION]      resources and checkpoints   (cluster resource /?)
  cluster resourcetype [NAME] [OPTION]  resource types              (cluster resourcetype /?)
  cluster /grant:NAME /level:ReadOnly|Full | /revoke:NAME | /listaccess
                                        API tokens of people and programs
  cluster --version                     the build of this program

Common options: /f:json (or -o json) prints the answer as one JSON document, and an error
as {"error": MESSAGE, "code": N}; /node:NAME asks another node. The API token is the
node's own (root), else $WOLFPACK_API_TOKEN or the file $WOLFPACK_API_TOKEN_FILE names.
Names are case-insensitive. Exit status 0 when the requested result was reached.
`

const usageNode = `Usage: cluster node [NAME] [OPTION]

  (none) or /status   the state of every node, or of NAME (Up, Down, Paused), with
                      its node ID; a witness is marked "(witness)"
  /prop[erties]       NAME's properties (NodeName, NodeID, State, API, Witness, Paused)
  /pause              NAME takes no new groups (its groups stay)
  /resume             NAME takes groups again
  /evict              remove NAME from the cluster (its etcd member too); a running
                      evicted node stops its cluster service and can join again with
                      wolfpackd --join
Options: /f:json
`

const usageGroup = `Usage: cluster group [NAME] [OPTION]

  (none) or /status        the state of every group, or of NAME (Online, Offline,
                           Pending, Partially Online, Failed), with why it failed
  /create                  a new group NAME (on this node)
  /delete                  delete NAME (it must have no resources)
  /ren[ame]:NEW            rename NAME; its resources keep running
  /on[line][:NODE]         bring NAME online (on NODE: move it there)
  /off[line]               take NAME offline (also from Failed)
  /move[to][:NODE]         move NAME to NODE (without one: the best other node)
  /setowners:N1,N2,...     NAME's preferred owners, in order
  /listowners              NAME's preferred owners
  /prop[erties] [K=V ...]  list or set NAME's properties (FailoverThreshold,
                           FailoverPeriod, AutoFailbackType, FailbackWindowStart,
                           FailbackWindowEnd, Description)
  /prop K [K ...] /usedefault
                           reset properties to their defaults
Options:
  /wait[:SECONDS]          with /online, /offline and /moveto: wait until the group
                           reaches the requested state (default 600 s); exit status 1
                           and why when it does not. Without /wait the command succeeds
                           once the request is accepted.
  /f:json, /node:NAME
`

const usageResource = `Usage: cluster resource [NAME] [OPTION]

  (none) or /status        the state of every resource, or of NAME, with why it failed
  /create /group:G /type:T a new resource NAME of type T in group G
                           (cluster resourcetype lists the types)
  /delete                  delete NAME (it must be offline or failed)
  /on[line]                bring NAME (and what it depends on) online
  /off[line]               take NAME (and what depends on it) offline, also from Failed
  /fail                    fail NAME, as if it had failed (its restart policy applies)
  /move[to]:GROUP          move NAME to another group (no dependencies)
  /prop[erties] [K=V ...]  list or set common properties (RestartAction,
                           RestartThreshold, RestartPeriod, RetryPeriodOnFailure,
                           PendingTimeout, LooksAlivePollInterval,
                           IsAlivePollInterval, Description)
  /priv[properties] [K=V ...]
                           list or set private properties: those of the type
                           (cluster resourcetype T /priv) and RestoreFailureAction,
                           RestoreRetryTimeout, CheckpointHistory; checked when set
  /prop K ... /usedefault, /priv K ... /usedefault
                           reset properties to their defaults (a private one is deleted)
  /adddep[endency]:R       NAME depends on R (same group)
  /removedep[endency]:R    NAME no longer depends on R
  /listdep[endencies]      what NAME depends on
  /addowner:NODE           NODE may run NAME
  /removeowner:NODE        NODE may not run NAME
  /listowners              the nodes that may run NAME (all when none is listed)

Registry checkpoints (subtrees of HKEY_LOCAL_MACHINE that follow the resource):
  /addcheck[points]:"KEY"[,"KEY"...] [/force]
                           checkpoint KEY (relative to HKLM, e.g.
                           SYSTEM\CurrentControlSet\Services\X); refused when it
                           overlaps another checkpoint, and without /force when it
                           is a whole hive root or past 10,000 keys or 16 MiB
  /removecheck[points]:"KEY"[,"KEY"...]
                           stop checkpointing KEY and delete its stored versions
  /checkpoints             each key with its newest version (without NAME: every
                           resource's)
  /checkpointhistory:"KEY" the kept versions of KEY
  /checkpointdiff:"KEY",V1[,V2]
                           the .reg text that turns version V1 into V2 (default: the
                           newest)
  /checkpointrollback:"KEY",V
                           make version V the newest; restored at once when NAME is
                           online
  /checkpointverify        compare the owner's live subtrees with the newest versions
                           (exit status 1 when they drifted)
Options:
  /wait[:SECONDS]          with /online and /offline: wait until the requested state
                           (default 600 s); exit status 1 and why when it is not reached
  /f:json, /node:NAME
`

const usageResourceType = `Usage: cluster resourcetype [NAME] [OPTION]

  (none) or /list          the resource types (Generic Application, Generic Script,
                           OCF and ocf:PROVIDER:AGENT, Test)
  NAME [/status]           one type and what it does
  NAME /priv[properties]   its private properties: type, default, allowed values and
                           what each does
Options: /f:json
`

const usageCluster = `Usage: cluster /grant:NAME /level:ReadOnly|Full   make an API token (printed once)
       cluster /revoke:NAME                       revoke it, on every node
       cluster /listaccess                        the tokens: name, level, created, last used
Options: /f:json
`

// usageOf returns the usage of an object ("" or "help": the overview).
func usageOf(object string) string {
	switch object {
	case "node":
		return usageNode
	case "group":
		return usageGroup
	case "resource":
		return usageResource
	case "resourcetype":
		return usageResourceType
	case "cluster":
		return usageCluster
	}
	return usage
}

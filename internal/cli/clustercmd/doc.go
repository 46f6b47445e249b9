// Package clustercmd is the `cluster` command: Windows' cluster.exe grammar on Wolfpack's
// HTTP API.
//
//	cluster node [NAME] [/status | /pause | /resume | /evict | /prop]
//	cluster group [NAME] [/status | /create | /delete | /rename:NEW | /online[:NODE] |
//	        /offline | /moveto[:NODE] | /setowners:N1,N2 | /listowners | /prop [K=V …]]
//	cluster resource [NAME] [/status | /create /group:G /type:"T" | /delete | /online |
//	        /offline | /fail | /moveto:GROUP | /prop [K=V …] | /priv [K=V …] |
//	        /adddep:R | /removedep:R | /listdep | /addowner:N | /removeowner:N |
//	        /listowners | /addcheckpoints:K | /removecheckpoints:K | /checkpoints | …]
//	cluster resourcetype [/list]
//	cluster /grant:NAME /level:ReadOnly|Full | /revoke:NAME | /listaccess
//
// Options may be abbreviated as cluster.exe allows (/stat, /on, /off, /move, /ren, /prop,
// /priv, /adddep, /listdep, res, restype). /online, /offline and /moveto take
// /wait[:SECONDS] to wait for the final state. /f:json prints JSON for scripts. Status
// tables are laid out as cluster.exe lays them out; failures print cluster.exe's
// "System error N has occurred (0xN)." with Windows' message, on stderr, and exit 1.
//
// The node is found through WOLFPACK_DATA (client.FromEnv); /node:NAME sends the request
// to another node of the cluster. The token is the node's own (root), or the one in
// $WOLFPACK_API_TOKEN_FILE or $WOLFPACK_API_TOKEN: a ReadOnly token queries everything,
// and a change it asks for fails with "Access is denied." and exit status 1.
package clustercmd

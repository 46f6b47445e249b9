#!/usr/bin/env bash
# Microsoft Knowledge Base article Q316772, end to end, on one machine.
#
#   examples/q316772/run.sh [Continue|Retry|Fail|Force]
#
# Starts three Wolfpack nodes (N1, N2, N3) on 127.0.0.1, puts the "Microsoft Exchange
# Internet Mail Service" in "Exchange Group" with a registry checkpoint on
# SYSTEM\CurrentControlSet\Services\MSExchangeIMC, changes its parameters on N1, lets a
# process on N2 hold a handle to ...\ControlSet001\...\Parameters (the other name of the
# same key), and moves the group to N2: the restore is refused, event 1024 names the
# process, and the resource's RestoreFailureAction (default here: Continue, the
# article's behaviour) decides what happens. See README.md.
#
# Environment: WOLFPACK_BIN (a directory with wolfpackd, cluster, reg and wevtutil;
# default: build them from this repository), WOLFPACK_EXAMPLE_PORT (first of nine TCP
# ports on 127.0.0.1, default 27100), KEEP=1 (keep the nodes' directory afterwards).
set -euo pipefail

policy=${1:-Continue}
case $policy in Continue | Retry | Fail | Force) ;; *)
	echo "usage: $0 [Continue|Retry|Fail|Force]" >&2
	exit 2
	;;
esac
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/q316772.XXXXXX")
port=${WOLFPACK_EXAMPLE_PORT:-27100}
res='Microsoft Exchange Internet Mail Service'
group='Exchange Group'
key='SYSTEM\CurrentControlSet\Services\MSExchangeIMC'
params='HKLM\SYSTEM\CurrentControlSet\Services\MSExchangeIMC\Parameters'

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# on NODE CMD…: run a command against a node (the CLIs find it through WOLFPACK_DATA).
on() {
	local node=$1
	shift
	printf '\033[2m[%s]$ %s\033[0m\n' "$node" "$*" >&2
	WOLFPACK_DATA=$work/$node "$@"
}

pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ "${KEEP:-}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

if [ -n "${WOLFPACK_BIN:-}" ]; then
	bin=$WOLFPACK_BIN
else
	step "Building wolfpackd, cluster, reg and wevtutil"
	bin=$work/bin
	(cd "$repo" && go build -o "$bin/" ./cmd/wolfpackd ./cmd/cluster ./cmd/reg ./cmd/wevtutil)
fi
export PATH=$bin:$PATH

# start NAME INDEX [JOIN-PORT]: start a node with its own data directory and ports.
start() {
	local name=$1 i=$2 api=$((port + 3 * $2)) join=()
	[ $# -gt 2 ] && join=(--join "127.0.0.1:$3" --token-file "$work/N1/join-token")
	WOLFPACK_DATA=$work/$name wolfpackd --name "$name" --data-dir "$work/$name" \
		--api "127.0.0.1:$api" --peer "127.0.0.1:$((api + 1))" --client "127.0.0.1:$((api + 2))" \
		"${join[@]}" >"$work/$name.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 600); do
		[ -f "$work/$name/api.addr" ] && return 0
		sleep 0.1
	done
	echo "node $name did not start; see $work/$name.log" >&2
	exit 1
}

# online_on NODE: wait (up to 60 s) until the group is online on NODE. A move returns
# when the group has reached its new owner, which may not have started it yet.
online_on() {
	for _ in $(seq 600); do
		WOLFPACK_DATA=$work/N1 cluster group "$group" | grep -Eq "^$group +$1 +Online\$" && return 0
		sleep 0.1
	done
	echo "the group did not come online on $1:" >&2
	WOLFPACK_DATA=$work/N1 cluster group "$group" >&2
	exit 1
}

# The program: a stand-in for the Internet Mail Service that reads its parameters from
# the registry of the node it runs on, reports them, and keeps running.
cat >"$work/imc.sh" <<'IMC'
#!/bin/sh
node=$(basename "$WOLFPACK_DATA")
{ date '+%T'; reg query 'HKLM\SYSTEM\CurrentControlSet\Services\MSExchangeIMC\Parameters'; } >> "imc.$node.out" 2>&1
exec sleep 3600
IMC
chmod 755 "$work/imc.sh"

step "Three nodes: N1, then N2 and N3 join with N1's token"
start N1 0
start N2 1 "$port"
start N3 2 "$port"
on N1 cluster node

step "Exchange setup left the service's parameters on N1 and on N2"
on N1 reg add "$params" /v SmartHost /d old.example.com /f
on N2 reg add "$params" /v SmartHost /d old.example.com /f

step "The group, the Generic Application, its checkpoint and RestoreFailureAction=$policy"
on N1 cluster group "$group" /create >/dev/null
on N1 cluster group "$group" /setowners:N1,N2 >/dev/null
on N1 cluster resource "$res" /create "/group:$group" '/type:Generic Application' >/dev/null
on N1 cluster resource "$res" /priv "CommandLine=$work/imc.sh" "CurrentDirectory=$work" \
	"RestoreFailureAction=$policy" RestoreRetryTimeout=10000 >/dev/null
on N1 cluster resource "$res" "/addcheckpoints:$key"

step "Online on N1; the administrator changes the parameters while it runs"
on N1 cluster group "$group" /online:N1 /wait:30
on N1 reg add "$params" /v SmartHost /d mail.contoso.com /f
on N1 reg add "$params" /v MaxMessageSize /t REG_DWORD /d 10240 /f
sleep 1
on N1 cluster resource "$res" /checkpoints

step "On N2, a process opens Parameters through ControlSet001 and keeps its handle"
WOLFPACK_DATA=$work/N2 reg watch 'HKLM\SYSTEM\ControlSet001\Services\MSExchangeIMC\Parameters' >"$work/watch.out" 2>&1 &
watcher=$!
pids+=("$watcher")
sleep 1
on N2 reg handles 'HKLM\SYSTEM\CurrentControlSet\Services\MSExchangeIMC' /s

if [ "$policy" = Retry ]; then
	step "(Retry: the holder will exit 2 seconds after N2 refuses the restore, while the restore waits)"
	(
		for _ in $(seq 600); do
			WOLFPACK_DATA=$work/N2 wevtutil qe System '/q:*[System[(EventID=1024)]]' /f:text 2>/dev/null |
				grep -q '^Event ID: 1024$' && break
			sleep 0.1
		done
		sleep 2
		kill -INT "$watcher"
	) &
fi

step "The group moves to N2"
on N1 cluster group "$group" "/moveto:N2" /wait:60 || true
sleep 1
on N1 cluster group "$group"

step "N2's System log"
on N2 wevtutil qe System "/q:*[System[Provider[@Name='ClusSvc']]]" /f:text

step "What the service read on each node"
cat "$work/imc.N1.out"
[ -f "$work/imc.N2.out" ] && cat "$work/imc.N2.out"

step "Drift between the node that runs the service and its checkpoint"
on N1 cluster resource "$res" /checkpointverify || true

if kill -0 "$watcher" 2>/dev/null; then
	step "The process on N2 exits (the article's fix: stop the handle leak)"
	kill -INT "$watcher" || true
	wait "$watcher" 2>/dev/null || true
fi

step "The group moves away and back to N2: no new 1024, and N2's values are N1's"
on N1 cluster group "$group" /moveto:N1 /wait:60
online_on N1
on N1 cluster group "$group" /moveto:N2 /wait:60
online_on N2
on N2 wevtutil qe System '/q:*[System[(EventID=1024)]]' /f:text | grep -c '^Event ID: 1024$' |
	sed 's/^/events 1024 on N2: /'
on N2 reg query 'HKLM\SYSTEM\CurrentControlSet\Services\MSExchangeIMC' /s >"$work/n2.txt"
on N1 reg query 'HKLM\SYSTEM\CurrentControlSet\Services\MSExchangeIMC' /s >"$work/n1.txt"
if cmp -s "$work/n1.txt" "$work/n2.txt"; then
	echo "N2's MSExchangeIMC subtree equals N1's:"
	cat "$work/n2.txt"
else
	echo "N2's subtree differs from N1's:" >&2
	diff "$work/n1.txt" "$work/n2.txt" >&2 || true
	exit 1
fi
on N1 cluster resource "$res" "/checkpointhistory:$key"

step "Done"
on N1 cluster group "$group" /offline /wait:30 >/dev/null

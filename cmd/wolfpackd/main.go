// Command wolfpackd is the Wolfpack node daemon. With no flags it runs a one-node cluster
// on an embedded etcd in its data directory; see internal/daemon.
package main

import (
	"os"

	"wolfpack/internal/daemon"
)

func main() { os.Exit(daemon.Main(os.Args[1:])) }

// Command cluster is the cluster administration CLI with cluster.exe's grammar; see
// internal/cli/clustercmd.
package main

import (
	"os"

	"wolfpack/internal/cli/clustercmd"
)

func main() { os.Exit(clustercmd.Main(os.Args[1:])) }

// Command wevtutil is the event log CLI with wevtutil's grammar; see
// internal/cli/wevtutilcmd.
package main

import (
	"os"

	"wolfpack/internal/cli/wevtutilcmd"
)

func main() { os.Exit(wevtutilcmd.Main(os.Args[1:])) }

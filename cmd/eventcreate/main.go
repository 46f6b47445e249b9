// Command eventcreate writes an event to a node's event log, with Windows' eventcreate
// grammar; see internal/cli/wevtutilcmd.
package main

import (
	"os"

	"wolfpack/internal/cli/wevtutilcmd"
)

func main() { os.Exit(wevtutilcmd.EventcreateMain(os.Args[1:])) }

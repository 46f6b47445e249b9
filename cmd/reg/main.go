// Command reg is the registry CLI with reg.exe's grammar; see internal/cli/regcmd.
package main

import (
	"os"

	"wolfpack/internal/cli/regcmd"
)

func main() { os.Exit(regcmd.Main(os.Args[1:])) }

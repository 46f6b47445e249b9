package clustercmd

import (
	"context"
	"fmt"
	"io"

	"wolfpack/internal/api"
)

// checkpointCommand runs the registry checkpoint options of `cluster resource NAME`
// (/addcheckpoints:, /removecheckpoints:, /checkpoints, /checkpointhistory:,
// /checkpointdiff:, /checkpointrollback:, /checkpointverify). option is the option's
// full name without the slash, value what followed its colon.
//
// Placeholder: the checkpoint engineer replaces this file.
func checkpointCommand(ctx context.Context, c *api.Client, out, errOut io.Writer, resource, option, value string) int {
	fmt.Fprintln(errOut, "cluster: checkpoint options are not available yet")
	return 1
}

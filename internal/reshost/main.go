package reshost

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
)

// Main runs the host as `wolfpackd resource-host --node NAME` (args without HostArg),
// with its end of the socket pair as fd 3, and returns its exit code. newRevoker
// connects to etcd (nil: the host cannot revoke).
func Main(args []string, newRevoker func(ctx context.Context, e EtcdAccess) (Revoker, error)) int {
	fs := flag.NewFlagSet("wolfpackd "+HostArg, flag.ContinueOnError)
	node := fs.String("node", "", "node name (for ps and the logs)")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(os.Stderr, "wolfpackd %s: --log-level: %v\n", HostArg, err)
		return 2
	}
	sock := os.NewFile(3, "reshost-socket")
	if sock == nil {
		fmt.Fprintf(os.Stderr, "wolfpackd %s: no control socket on fd 3 (the daemon starts the resource host itself)\n", HostArg)
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lv})).With("part", "reshost", "node", *node)
	if err := Serve(context.Background(), sock, Options{Log: log, NewRevoker: newRevoker}); err != nil {
		log.Error("resource host ended", "err", err)
		return 1
	}
	return 0
}

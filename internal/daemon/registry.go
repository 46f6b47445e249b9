package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"wolfpack/internal/api"
	"wolfpack/internal/regipc"
	"wolfpack/internal/registry"
	pubreg "wolfpack/registry"
)

// startRegistry opens the registry store in <data-dir>/registry, serves it on
// <data-dir>/reg.sock for local programs and on /v1/registry for other nodes, and closes
// it at shutdown (after the socket's clients are gone). Every local user may connect to
// the socket (the keys' security descriptors decide what each may do), so the data
// directory is made searchable by all (o+x, not readable: its other files keep their own
// modes, the tokens 0600).
func (n *Node) startRegistry(ctx context.Context) error {
	dir := filepath.Join(n.Cfg.DataDir, "registry")
	log := n.Log.With("part", "registry")
	reg, err := registry.Open(ctx, dir, registry.Options{Logger: log})
	if err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	n.Registry = reg
	loadDir := filepath.Join(dir, "loaded")
	if err := searchable(n.Cfg.DataDir); err != nil {
		reg.Close()
		return fmt.Errorf("registry: %w", err)
	}
	sock := filepath.Join(n.Cfg.DataDir, pubreg.SocketFile)
	ln, err := regipc.Listen(sock)
	if err != nil {
		reg.Close()
		return err
	}
	srv := &regipc.Server{Reg: reg, Log: log, LoadDir: loadDir, Metrics: n.API.Metrics}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(sctx, ln); err != nil {
			log.Error("registry socket stopped", "err", err)
		}
	}()
	api.RegisterRegistry(n.API, reg, loadDir)
	n.onStop(func() {
		cancel()
		<-done
		os.Remove(sock)
		if err := reg.Close(); err != nil {
			log.Error("close registry", "err", err)
		}
	})
	log.Info("registry socket listening", "path", sock)
	return nil
}

// searchable adds search permission for group and others to dir, so that they reach
// the socket in it.
func searchable(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if m := fi.Mode().Perm(); m&0o011 != 0o011 {
		return os.Chmod(dir, m|0o011)
	}
	return nil
}

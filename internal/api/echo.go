package api

import (
	"errors"
	"io/fs"

	"wolfpack/internal/api/wire"
	"wolfpack/internal/eventlog"
	"wolfpack/internal/registry"
)

// errorMessage is err's message with the request input that the parts quote in it cut
// to MaxEcho bytes (Clip): registry paths and value names, handle holders' paths, files
// named after a key, event log names and queries. The parts quote their input whole, which suits a local log; a
// reply to a remote caller must not grow with what the caller sent. The code, status and
// detail of the error are taken from err itself.
func errorMessage(err error) string {
	var iu *registry.KeysInUseError
	var op *registry.OpError
	var nf *eventlog.LogNotFoundError
	var qe *eventlog.QueryError
	var pe *fs.PathError
	switch {
	case errors.As(err, &op):
		c := *op
		c.Key, c.Name = wire.Clip(c.Key), wire.Clip(c.Name)
		if c.Err != nil {
			c.Err = messageError(errorMessage(c.Err))
		}
		return c.Error()
	case errors.As(err, &iu):
		c := *iu
		c.Key = wire.Clip(c.Key)
		c.Holders = make([]registry.HandleInfo, len(iu.Holders))
		for i, h := range iu.Holders {
			h.OpenedAs, h.Resolved, h.Owner.Exe = wire.Clip(h.OpenedAs), wire.Clip(h.Resolved), wire.Clip(h.Owner.Exe)
			c.Holders[i] = h
		}
		return c.Error()
	case errors.As(err, &pe):
		// A file named after the input (a hive loaded as a key of that name).
		return (&fs.PathError{Op: pe.Op, Path: wire.Clip(pe.Path), Err: messageError(errorMessage(pe.Err))}).Error()
	case errors.As(err, &nf):
		return (&eventlog.LogNotFoundError{Log: wire.Clip(nf.Log)}).Error()
	case errors.As(err, &qe):
		c := *qe
		c.Query, c.Msg = wire.Clip(c.Query), wire.Clip(c.Msg)
		return c.Error()
	}
	return err.Error()
}

// messageError is an error that is only its message.
type messageError string

func (e messageError) Error() string { return string(e) }

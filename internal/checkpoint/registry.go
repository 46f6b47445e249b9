package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"wolfpack/internal/registry"
)

// SessionRegistry is the Registry of a node: a registry session of the checkpoint
// manager's own. Its handles are the caller's for restores, so the manager's own
// watches never block its restores.
type SessionRegistry struct {
	s *registry.Session
}

// NewSessionRegistry returns the Registry on s; the caller closes s.
func NewSessionRegistry(s *registry.Session) *SessionRegistry { return &SessionRegistry{s: s} }

func (r *SessionRegistry) open(key string, access uint32) (registry.Handle, error) {
	h, _, err := r.s.CreateKey(registry.HKEY_LOCAL_MACHINE, key, registry.CreateOptions{Access: access})
	return h, err
}

// Save returns the subtree of HKLM\key as a hive (format 1.5).
func (r *SessionRegistry) Save(ctx context.Context, key string) ([]byte, error) {
	h, err := r.s.OpenKey(registry.HKEY_LOCAL_MACHINE, key, 0, registry.KEY_READ)
	if err != nil {
		return nil, err
	}
	defer r.s.CloseKey(h)
	return r.s.Save(h, 5)
}

// Restore replaces the subtree of HKLM\key (created when missing) with the hive. A
// refusal because of other processes' handles is a *KeysInUseError naming them.
func (r *SessionRegistry) Restore(ctx context.Context, key string, data []byte, force bool) error {
	h, err := r.open(key, registry.KEY_ALL_ACCESS)
	if err != nil {
		return err
	}
	defer r.s.CloseKey(h)
	var flags uint32
	if force {
		flags = registry.REG_FORCE_RESTORE
	}
	err = r.s.Restore(ctx, h, data, flags)
	var iu *registry.KeysInUseError
	if errors.As(err, &iu) {
		out := &KeysInUseError{Key: key, Holders: make([]Holder, len(iu.Holders))}
		for i, hi := range iu.Holders {
			out.Holders[i] = Holder{PID: hi.Owner.PID, UID: hi.Owner.UID, Process: hi.Owner.Exe, Key: hi.OpenedAs}
		}
		return out
	}
	return err
}

// Watch reports changes below HKLM\key (created when missing) through a handle of the
// session, so it never blocks the manager's own restores.
func (r *SessionRegistry) Watch(ctx context.Context, key string) (<-chan struct{}, error) {
	h, err := r.open(key, registry.KEY_READ)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(ctx)
	ch, err := r.s.Notify(wctx, h, true, registry.REG_NOTIFY_CHANGE_NAME|registry.REG_NOTIFY_CHANGE_LAST_SET|
		registry.REG_NOTIFY_CHANGE_ATTRIBUTES|registry.REG_NOTIFY_CHANGE_SECURITY)
	if err != nil {
		cancel()
		r.s.CloseKey(h)
		return nil, fmt.Errorf("watch %s: %w", key, err)
	}
	out := make(chan struct{}, 1)
	go func() {
		defer close(out)
		defer r.s.CloseKey(h)
		defer cancel()
		for range ch {
			select {
			case out <- struct{}{}:
			default: // a signal is pending already
			}
		}
	}()
	return out, nil
}

// Resolve returns the canonical path of HKLM\key relative to HKLM, links followed
// (SYSTEM\CurrentControlSet\Services\X is SYSTEM\ControlSet001\Services\X): for a key
// that does not exist yet, its deepest existing ancestor's canonical path with the rest
// of key appended.
func (r *SessionRegistry) Resolve(key string) string {
	parts := strings.Split(key, `\`)
	for i := len(parts); i > 0; i-- {
		h, err := r.s.OpenKey(registry.HKEY_LOCAL_MACHINE, strings.Join(parts[:i], `\`), 0, registry.KEY_QUERY_VALUE)
		if err != nil {
			continue
		}
		info, err := r.s.HandleInfo(h)
		r.s.CloseKey(h)
		if err != nil {
			break
		}
		base, ok := strings.CutPrefix(info.Resolved, `HKEY_LOCAL_MACHINE\`)
		if !ok {
			break
		}
		return strings.Join(append([]string{base}, parts[i:]...), `\`)
	}
	return key
}

// errBigEnough stops Size's walk once a limit is passed.
var errBigEnough = errors.New("checkpoint: subtree past the limits")

// Size counts the keys and the value bytes of HKLM\key's subtree, stopping once either
// passes its limit (then the counts are past it); a key that does not exist is empty.
func (r *SessionRegistry) Size(key string, maxKeys int, maxBytes int64) (keys int, bytes int64, err error) {
	h, err := r.s.OpenKey(registry.HKEY_LOCAL_MACHINE, key, 0, registry.KEY_READ)
	if errors.Is(err, registry.ERROR_FILE_NOT_FOUND) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	defer r.s.CloseKey(h)
	err = r.s.Walk(h, func(tk *registry.TreeKey) error {
		keys++
		for _, v := range tk.Values {
			bytes += int64(len(v.Name)*2 + len(v.Data))
		}
		if keys > maxKeys || bytes > maxBytes {
			return errBigEnough
		}
		return nil
	})
	if errors.Is(err, errBigEnough) {
		err = nil
	}
	return keys, bytes, err
}

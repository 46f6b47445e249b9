package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"wolfpack/internal/api/wire"
	"wolfpack/internal/clusterdb"
)

// Service answers the checkpoint routes of the API (internal/api's CheckpointService) on one node:
// the administrator's edits of a resource's checkpoint list, the history, diff and
// rollback of versions, and, on the node that runs the resource, restore and verify.
type Service struct {
	Node    string
	DB      *clusterdb.DB
	Store   *clusterdb.CheckpointStore
	Manager *Manager
	Log     *slog.Logger
}

// Windows' error numbers the routes answer with.
const (
	errFileNotFound     = 2
	errAccessDenied     = 5
	errAlreadyExists    = 183
	errInvalidParameter = 87
	errResourceNotFound = 5007
)

func (s *Service) resource(ctx context.Context, name string) (clusterdb.Resource, error) {
	r, _, err := s.DB.Resource(ctx, name)
	if errors.Is(err, clusterdb.ErrNotFound) {
		return r, wire.NotFound(errResourceNotFound, "The cluster resource could not be found: %s.", wire.Clip(name))
	}
	return r, err
}

// findKey returns the resource's spelling of key, or a 404.
func findKey(r clusterdb.Resource, key string) (string, error) {
	for _, k := range r.Checkpoints {
		if strings.EqualFold(k, key) {
			return k, nil
		}
	}
	return "", wire.NotFound(errFileNotFound, "%s is not a registry checkpoint of resource %s.", wire.Clip(key), r.Name)
}

// List returns each checkpointed key with its newest version.
func (s *Service) List(ctx context.Context, resource string) ([]wire.CheckpointInfo, error) {
	r, err := s.resource(ctx, resource)
	if err != nil {
		return nil, err
	}
	out := make([]wire.CheckpointInfo, 0, len(r.Checkpoints))
	for _, k := range r.Checkpoints {
		info := wire.CheckpointInfo{Key: k}
		m, _, err := s.Store.Meta(ctx, r.Name, k)
		switch {
		case err == nil:
			if v, ok := m.Latest(); ok {
				info.Version, info.Time, info.Node, info.Size = v.Number, v.Time, v.Node, v.Size
			}
		case !errors.Is(err, clusterdb.ErrNoCheckpoint):
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// ValidKey checks a checkpoint key: a path relative to HKEY_LOCAL_MACHINE, without a
// leading backslash or a root name.
func ValidKey(key string) error {
	up := strings.ToUpper(key)
	switch {
	case key == "":
		return wire.BadRequest("the registry key is empty")
	case strings.HasPrefix(key, `\`) || strings.HasSuffix(key, `\`) || strings.Contains(key, `\\`):
		return wire.BadRequest("registry key %q: give the path relative to HKEY_LOCAL_MACHINE, without leading or trailing backslashes", wire.Clip(key))
	case strings.HasPrefix(up, `HKEY_`) || strings.HasPrefix(up, `HKLM\`) || up == "HKLM":
		return wire.BadRequest("registry key %q: give the path relative to HKEY_LOCAL_MACHINE (e.g. SYSTEM\\CurrentControlSet\\Services\\X)", wire.Clip(key))
	case len(key) > 4096:
		return wire.BadRequest("registry key longer than 4096 characters")
	}
	return nil
}

// Limits past which a checkpoint needs force: restoring it overwrites that much on the
// next node.
const (
	BigKeys  = 10000
	BigBytes = 16 << 20
)

// Add adds checkpoints; a key already there (any case) is ERROR_ALREADY_EXISTS. A key
// that overlaps another checkpoint of any resource (one inside the other, through links
// too) is refused: the restore of one would overwrite the other. Without force, a key of
// more than BigKeys keys or BigBytes, or a whole hive root (SOFTWARE), is refused with
// what it would overwrite. The agent of the node that runs the resource sees the change
// and captures the new keys.
func (s *Service) Add(ctx context.Context, resource string, keys []string, force bool) error {
	if len(keys) == 0 {
		return wire.BadRequest("no registry key given")
	}
	for _, k := range keys {
		if err := ValidKey(k); err != nil {
			return err
		}
	}
	if _, err := s.resource(ctx, resource); err != nil {
		return err
	}
	if !force {
		for _, k := range keys {
			if err := s.checkSize(k); err != nil {
				return err
			}
		}
	}
	all, err := s.DB.Resources(ctx)
	if err != nil {
		return err
	}
	_, err = s.DB.ModifyResource(ctx, resource, func(r *clusterdb.Resource) error {
		for i, k := range keys {
			if slices.ContainsFunc(r.Checkpoints, func(o string) bool { return strings.EqualFold(o, k) }) ||
				slices.ContainsFunc(keys[:i], func(o string) bool { return strings.EqualFold(o, k) }) {
				return &wire.Error{Status: wire.StatusConflict, Code: errAlreadyExists,
					Message: fmt.Sprintf("Cannot create a file when that file already exists: %s is already a registry checkpoint of %s.", wire.Clip(k), r.Name)}
			}
			for _, o := range all {
				others := o.Checkpoints
				if strings.EqualFold(o.Name, r.Name) {
					others = r.Checkpoints
				}
				for _, ok := range append(slices.Clone(others), keysOf(o, *r, keys[:i])...) {
					if rel := s.overlap(k, ok); rel != "" {
						return &wire.Error{Status: wire.StatusConflict, Code: errInvalidParameter,
							Message: fmt.Sprintf("The parameter is incorrect. (%s %s %s, a registry checkpoint of resource '%s': the restore of one would overwrite the other)",
								wire.Clip(k), rel, wire.Clip(ok), o.Name)}
					}
				}
			}
		}
		r.Checkpoints = append(r.Checkpoints, keys...)
		return nil
	})
	return err
}

// keysOf is the keys of this request that come before the one checked, for resource r.
func keysOf(o, r clusterdb.Resource, earlier []string) []string {
	if strings.EqualFold(o.Name, r.Name) {
		return earlier
	}
	return nil
}

// resolver and sizer are what the node's registry tells of a key (SessionRegistry).
type resolver interface{ Resolve(key string) string }
type sizer interface {
	Size(key string, maxKeys int, maxBytes int64) (int, int64, error)
}

// overlap says how key a lies relative to key b ("is inside", "holds", "is the same
// key as"), both canonical through the node's links; "" when they are apart.
func (s *Service) overlap(a, b string) string {
	ca, cb := a, b
	if s.Manager != nil {
		if r, ok := s.Manager.cfg.Registry.(resolver); ok {
			ca, cb = r.Resolve(a), r.Resolve(b)
		}
	}
	ua, ub := strings.ToUpper(ca), strings.ToUpper(cb)
	switch {
	case ua == ub:
		return "is the same key as"
	case strings.HasPrefix(ua, ub+`\`):
		return "is inside"
	case strings.HasPrefix(ub, ua+`\`):
		return "holds"
	}
	return ""
}

// checkSize refuses, without force, a key that restoring would make a big overwrite.
func (s *Service) checkSize(key string) error {
	tooBig := func(what string) error {
		return &wire.Error{Status: wire.StatusConflict, Code: errInvalidParameter,
			Message: fmt.Sprintf("The parameter is incorrect. (%s %s: restoring it on the next node overwrites everything under it there; add it with /force if that is meant)",
				wire.Clip(key), what)}
	}
	if !strings.Contains(key, `\`) {
		return tooBig("is a whole hive root")
	}
	if s.Manager == nil {
		return nil
	}
	z, ok := s.Manager.cfg.Registry.(sizer)
	if !ok {
		return nil
	}
	n, b, err := z.Size(key, BigKeys, BigBytes)
	if err != nil {
		return nil // the node's registry cannot tell: the key may be on another node
	}
	switch {
	case n > BigKeys:
		return tooBig(fmt.Sprintf("holds more than %d keys", BigKeys))
	case b > BigBytes:
		return tooBig(fmt.Sprintf("holds more than %d MiB of values", BigBytes>>20))
	}
	return nil
}

// Remove removes checkpoints and their stored versions.
func (s *Service) Remove(ctx context.Context, resource string, keys []string) error {
	r, err := s.resource(ctx, resource)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if _, err := findKey(r, k); err != nil {
			return err
		}
	}
	if _, err := s.DB.ModifyResource(ctx, resource, func(r *clusterdb.Resource) error {
		r.Checkpoints = slices.DeleteFunc(r.Checkpoints, func(o string) bool {
			return slices.ContainsFunc(keys, func(k string) bool { return strings.EqualFold(o, k) })
		})
		return nil
	}); err != nil {
		return err
	}
	for _, k := range keys {
		if err := s.Store.DeleteKey(ctx, r.Name, k); err != nil {
			return err
		}
	}
	return nil
}

func apiVersion(v clusterdb.CheckpointVersion) wire.CheckpointVersion {
	return wire.CheckpointVersion{Number: v.Number, Time: v.Time, Node: v.Node, Size: v.Size, Hash: v.Hash, RolledBackFrom: v.RolledBackFrom}
}

func noVersion(err error) error {
	if errors.Is(err, clusterdb.ErrNoCheckpoint) {
		msg := err.Error()
		// The key comes from the request: the reply quotes a short prefix of it.
		var ce *clusterdb.CheckpointError
		if errors.As(err, &ce) {
			c := *ce
			c.Key, c.Resource = wire.Clip(c.Key), wire.Clip(c.Resource)
			msg = c.Error()
		}
		return &wire.Error{Status: wire.StatusNotFound, Code: errFileNotFound, Message: msg}
	}
	return err
}

// History lists the kept versions of key, oldest first.
func (s *Service) History(ctx context.Context, resource, key string) ([]wire.CheckpointVersion, error) {
	r, err := s.resource(ctx, resource)
	if err != nil {
		return nil, err
	}
	if key, err = findKey(r, key); err != nil {
		return nil, err
	}
	vs, err := s.Store.History(ctx, r.Name, key)
	if errors.Is(err, clusterdb.ErrNoCheckpoint) {
		return []wire.CheckpointVersion{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]wire.CheckpointVersion, len(vs))
	for i, v := range vs {
		out[i] = apiVersion(v)
	}
	return out, nil
}

// Diff returns the .reg text that turns version v1 into version v2 (0: the newest).
func (s *Service) Diff(ctx context.Context, resource, key string, v1, v2 int) (wire.CheckpointDiff, error) {
	r, err := s.resource(ctx, resource)
	if err != nil {
		return wire.CheckpointDiff{}, err
	}
	if key, err = findKey(r, key); err != nil {
		return wire.CheckpointDiff{}, err
	}
	a, da, err := s.Store.Version(ctx, r.Name, key, v1)
	if err != nil {
		return wire.CheckpointDiff{}, noVersion(fmt.Errorf("version %d: %w", v1, err))
	}
	b, db, err := s.Store.Version(ctx, r.Name, key, v2)
	if err != nil {
		return wire.CheckpointDiff{}, noVersion(fmt.Errorf("version %d: %w", v2, err))
	}
	f, err := Diff(key, da, db)
	if err != nil {
		return wire.CheckpointDiff{}, err
	}
	text, err := RegText(f)
	if err != nil {
		return wire.CheckpointDiff{}, err
	}
	return wire.CheckpointDiff{Key: key, V1: a.Number, V2: b.Number, Text: text}, nil
}

// Rollback makes a copy of version v the newest version of key.
func (s *Service) Rollback(ctx context.Context, resource, key string, v int) (wire.CheckpointVersion, error) {
	r, err := s.resource(ctx, resource)
	if err != nil {
		return wire.CheckpointVersion{}, err
	}
	if key, err = findKey(r, key); err != nil {
		return wire.CheckpointVersion{}, err
	}
	pol, _ := PolicyOf(Resource{Name: r.Name, Private: r.Private})
	nv, err := s.Store.Rollback(ctx, r.Name, key, v, s.Node, pol.History)
	if err != nil {
		return wire.CheckpointVersion{}, noVersion(err)
	}
	s.Log.Info("checkpoint rolled back", "resource", r.Name, "key", key, "to", v, "version", nv.Number)
	return apiVersion(nv), nil
}

// Locate says which node owns the resource's group and whether the resource is online.
func (s *Service) Locate(ctx context.Context, resource string) (wire.CheckpointOwner, error) {
	r, err := s.resource(ctx, resource)
	if err != nil {
		return wire.CheckpointOwner{}, err
	}
	o, err := s.DB.Owner(ctx, r.Group)
	if err != nil {
		return wire.CheckpointOwner{}, err
	}
	own := wire.CheckpointOwner{Node: o.Node, Local: o.Node != "" && strings.EqualFold(o.Node, s.Node)}
	if own.Local {
		own.Online = s.Manager.Running(r.Name)
		return own, nil
	}
	if o.Node == "" {
		return own, nil
	}
	if n, _, err := s.DB.Node(ctx, o.Node); err == nil {
		own.API = n.API
	}
	if st, ok, err := s.DB.ResourceState(ctx, r.Name); err == nil && ok {
		own.Online = st.State == clusterdb.StateOnline
	}
	return own, nil
}

// RestoreLocal restores the newest version of key into the resource running here.
func (s *Service) RestoreLocal(ctx context.Context, resource, key string) (wire.CheckpointVersion, error) {
	v, err := s.Manager.RestoreNow(ctx, resource, key)
	var iu *KeysInUseError
	switch {
	case errors.As(err, &iu):
		return wire.CheckpointVersion{}, &wire.Error{Status: wire.StatusConflict, Code: errAccessDenied,
			Message: "Access is denied: " + iu.Error()}
	case errors.Is(err, ErrNotOnline):
		return wire.CheckpointVersion{}, &wire.Error{Status: wire.StatusConflict, Code: 5023, Message: err.Error()} // ERROR_INVALID_STATE, as api expects
	case err != nil:
		return wire.CheckpointVersion{}, noVersion(err)
	}
	return apiVersion(v), nil
}

// VerifyLocal compares this node's live subtrees with the newest checkpoints.
func (s *Service) VerifyLocal(ctx context.Context, resource string) ([]wire.CheckpointDrift, error) {
	r, err := s.resource(ctx, resource)
	if err != nil {
		return nil, err
	}
	out := make([]wire.CheckpointDrift, 0, len(r.Checkpoints))
	for _, key := range r.Checkpoints {
		d := wire.CheckpointDrift{Key: key, Node: s.Node}
		live, err := s.Manager.cfg.Registry.Save(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("save HKEY_LOCAL_MACHINE\\%s: %w", key, err)
		}
		v, data, err := s.Store.Latest(ctx, r.Name, key)
		switch {
		case errors.Is(err, clusterdb.ErrNoCheckpoint):
			d.Diff = "(no checkpoint has been captured yet)\n"
		case err != nil:
			return nil, err
		default:
			d.Version = v.Number
			if ContentDigest(live) == ContentDigest(data) {
				d.InSync = true
				break
			}
			f, err := Diff(key, data, live)
			if err != nil {
				return nil, err
			}
			if d.Diff, err = RegText(f); err != nil {
				return nil, err
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// RunJanitor deletes the checkpoints of deleted resources and of keys no longer
// checkpointed (a capture that raced with /removecheckpoints): at start, on every
// deletion of a resource record, and every SweepInterval, until ctx ends. Every node may
// run it; the deletes are idempotent.
func (s *Service) RunJanitor(ctx context.Context) {
	s.sweep(ctx)
	tick := time.NewTicker(SweepInterval)
	defer tick.Stop()
	for ctx.Err() == nil {
		wctx, cancel := context.WithCancel(ctx)
		deleted := s.DB.ResourceDeletions(wctx)
	watch:
		for {
			select {
			case <-ctx.Done():
				break watch
			case <-tick.C:
				s.sweep(ctx)
			case name, ok := <-deleted:
				if !ok {
					break watch
				}
				if err := s.Store.DeleteResource(ctx, name); err != nil && ctx.Err() == nil {
					s.Log.Warn("cannot delete the checkpoints of a deleted resource", "resource", name, "err", err)
				}
			}
		}
		cancel()
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
			s.sweep(ctx)
		}
	}
}

// SweepInterval is how often RunJanitor looks for checkpoints nobody owns.
const SweepInterval = time.Minute

func (s *Service) sweep(ctx context.Context) {
	metas, err := s.Store.Checkpoints(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.Log.Warn("checkpoint sweep", "err", err)
		}
		return
	}
	for _, m := range metas {
		r, _, err := s.DB.Resource(ctx, m.Resource)
		switch {
		case errors.Is(err, clusterdb.ErrNotFound):
			err = s.Store.DeleteResource(ctx, m.Resource)
		case err == nil && !slices.ContainsFunc(r.Checkpoints, func(k string) bool { return strings.EqualFold(k, m.Key) }):
			err = s.Store.DeleteKey(ctx, m.Resource, m.Key)
		}
		if err != nil && ctx.Err() == nil {
			s.Log.Warn("checkpoint sweep", "resource", m.Resource, "key", m.Key, "err", err)
		}
	}
}

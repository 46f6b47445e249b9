package resmon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// genericScript is the "Generic Script" type: a script called as
// `script online|offline|looksalive|isalive|terminate`, exit status 0 meaning success
// (alive). WSFC's Generic Script calls the same entry points of a VBScript.
type genericScript struct {
	name string
	path string
	env  []string // WOLFPACK_RESOURCE and WOLFPACK_PROP_<name> for each private property
	r    *actionRunner

	mu   sync.Mutex
	last error // why the last check failed
}

func openGenericScript(name string, p props, e *env) (Resource, error) {
	path, _ := p.get("ScriptFilePath")
	path = strings.TrimSpace(path)
	if !filepath.IsAbs(path) {
		return nil, &PropertyError{Type: p.typ, Property: "ScriptFilePath", Value: path, Msg: "must be an absolute path"}
	}
	s := &genericScript{name: name, path: path, r: newActionRunner(name, e)}
	s.env = append(e.processEnv(), "WOLFPACK_RESOURCE="+name)
	keys := make([]string, 0, len(p.m))
	for k := range p.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !envName.MatchString(k) {
			return nil, &PropertyError{Type: p.typ, Property: k, Msg: "name cannot be passed in the environment (letters, digits and _ only)"}
		}
		s.env = append(s.env, "WOLFPACK_PROP_"+k+"="+p.m[k])
	}
	return s, nil
}

func (s *genericScript) call(ctx context.Context, action string, keep bool) error {
	fi, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("resmon: %s: ScriptFilePath: %w", s.name, err)
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("resmon: %s: ScriptFilePath %s is not an executable file", s.name, s.path)
	}
	env := append(s.env[:len(s.env):len(s.env)], "WOLFPACK_ACTION="+action)
	code, reason, err := s.r.run(ctx, []string{s.path, action}, env, keep, action == "looksalive" || action == "isalive")
	if err != nil {
		return err
	}
	if code != 0 {
		return &ActionError{Program: s.path, Action: action, Code: code, Reason: reason}
	}
	return nil
}

func (s *genericScript) Online(ctx context.Context) error { return s.call(ctx, "online", true) }

func (s *genericScript) Offline(ctx context.Context) error {
	if err := s.call(ctx, "offline", false); err != nil {
		return err
	}
	s.r.forget()
	return nil
}

func (s *genericScript) check(ctx context.Context, action string) bool {
	err := s.call(ctx, action, false)
	s.mu.Lock()
	s.last = err
	s.mu.Unlock()
	return err == nil
}

func (s *genericScript) LooksAlive(ctx context.Context) bool { return s.check(ctx, "looksalive") }
func (s *genericScript) IsAlive(ctx context.Context) bool    { return s.check(ctx, "isalive") }

// Terminate kills running actions, gives the script's terminate entry point a chance
// (bounded by ctx; scripts without one should exit non-zero), then kills whatever the
// online action left in its process group.
func (s *genericScript) Terminate(ctx context.Context) {
	s.r.killAll(false)
	if err := s.call(ctx, "terminate", false); err != nil {
		s.r.e.log.Debug("resmon: script terminate", "resource", s.name, "err", err)
	}
	s.r.killAll(true)
}

func (s *genericScript) lastFailure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

package registry

import (
	"errors"
	"strings"
	"wolfpack/internal/utf16le"
)

// A link key (created with REG_OPTION_CREATE_LINK) holds its target in the REG_LINK value
// SymbolicLinkValue as a kernel path, \REGISTRY\MACHINE\... or \REGISTRY\USER\..., in
// UTF-16LE without a terminating NUL. Opening a path follows every link on it, the last
// component too unless REG_OPTION_OPEN_LINK asks for the link key itself; at most
// MaxLinkHops links are followed for one open (ERROR_CANT_RESOLVE_FILENAME beyond).

// kernelRoots maps the kernel names of the roots to their index in Registry.roots.
var kernelRoots = []struct {
	prefix string
	root   int
}{
	{`\REGISTRY\MACHINE`, 0},
	{`\REGISTRY\USER`, 1},
}

// EncodeLinkTarget gives the SymbolicLinkValue bytes for a target path, either canonical
// (HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001, HKLM\...) or already a kernel path
// (\REGISTRY\MACHINE\SYSTEM\ControlSet001): UTF-16LE, no NUL, as Windows stores it.
func EncodeLinkTarget(target string) ([]byte, error) {
	kp, err := KernelPath(target)
	if err != nil {
		return nil, err
	}
	return utf16le.Encode(kp), nil
}

// KernelPath converts HKEY_LOCAL_MACHINE\X (or HKLM\X, HKU\X, or a kernel path) to
// \REGISTRY\MACHINE\X.
func KernelPath(p string) (string, error) {
	up := fold(p)
	for _, kr := range kernelRoots {
		if up == kr.prefix || strings.HasPrefix(up, kr.prefix+`\`) {
			return p, nil
		}
	}
	root, rest, err := ParsePath(p)
	if err != nil {
		return "", err
	}
	kp := kernelRoots[root-HKEY_LOCAL_MACHINE].prefix
	if rest != "" {
		kp += `\` + rest
	}
	return kp, nil
}

// fromUTF16le decodes a link's target, tolerating a NUL written by careless tools.
func fromUTF16le(b []byte) string { return strings.TrimRight(utf16le.Decode(b), "\x00") }

// linkTarget follows one link key to the key it names. The caller holds Registry.mu.
func (r *Registry) linkTarget(l *key, hops *int) (*key, error) {
	*hops++
	if *hops > MaxLinkHops {
		return nil, &LimitError{Limit: "symbolic link hops", Max: MaxLinkHops, Got: *hops, Err: ERROR_CANT_RESOLVE_FILENAME}
	}
	if l.target == nil {
		return nil, ERROR_FILE_NOT_FOUND
	}
	k, err := r.walkPath(r.roots[l.target.root], l.target.rest, false, hops)
	if err != nil && !errors.Is(err, ERROR_CANT_RESOLVE_FILENAME) {
		return nil, ERROR_FILE_NOT_FOUND
	}
	return k, err
}

// walkPath finds the key at path below start, following links (the last one only when
// openLink is false). path has been checked by splitPath. The caller holds Registry.mu.
func (r *Registry) walkPath(start *key, path string, openLink bool, hops *int) (*key, error) {
	cur := start
	path = strings.TrimSuffix(path, `\`)
	for path != "" {
		p, rest, more := strings.Cut(path, `\`)
		path = rest
		c := cur.child(p)
		if c == nil {
			return nil, ERROR_FILE_NOT_FOUND
		}
		if c.link && (more || !openLink) {
			t, err := r.linkTarget(c, hops)
			if err != nil {
				return nil, err
			}
			c = t
		}
		cur = c
	}
	return cur, nil
}

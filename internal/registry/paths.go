package registry

import (
	"strings"
)

// rootNames maps every accepted spelling of a root (upper-cased) to its handle.
var rootNames = map[string]Handle{
	"HKEY_LOCAL_MACHINE": HKEY_LOCAL_MACHINE,
	"HKLM":               HKEY_LOCAL_MACHINE,
	`\REGISTRY\MACHINE`:  HKEY_LOCAL_MACHINE,
	"HKEY_USERS":         HKEY_USERS,
	"HKU":                HKEY_USERS,
	`\REGISTRY\USER`:     HKEY_USERS,
}

// RootName is the canonical name of a predefined handle (HKEY_LOCAL_MACHINE,
// HKEY_USERS), "" for any other handle.
func RootName(h Handle) string {
	switch h {
	case HKEY_LOCAL_MACHINE:
		return RootLocalMachine
	case HKEY_USERS:
		return RootUsers
	}
	return ""
}

// ParsePath splits a full key path into its root and the rest: "HKLM\SOFTWARE\X" gives
// (HKEY_LOCAL_MACHINE, "SOFTWARE\X"). Roots are accepted as HKLM, HKEY_LOCAL_MACHINE,
// HKU, HKEY_USERS (any case) and as kernel paths \REGISTRY\MACHINE, \REGISTRY\USER.
// An unknown root is ERROR_BADKEY; an empty component is caught when the rest is used.
func ParsePath(p string) (root Handle, rest string, err error) {
	up := fold(p)
	if strings.HasPrefix(up, `\REGISTRY\`) {
		for _, kr := range kernelRoots {
			if up == kr.prefix || strings.HasPrefix(up, kr.prefix+`\`) {
				return HKEY_LOCAL_MACHINE + Handle(kr.root), strings.TrimPrefix(p[len(kr.prefix):], `\`), nil
			}
		}
		return 0, "", &OpError{Op: "parse path", Key: p, Err: ERROR_BADKEY}
	}
	first, rest, _ := strings.Cut(p, `\`)
	h, ok := rootNames[fold(first)]
	if !ok {
		return 0, "", &OpError{Op: "parse path", Key: p, Err: ERROR_BADKEY}
	}
	return h, rest, nil
}

// CanonicalPath rewrites a full path with its root's canonical name:
// "hklm\Software\X" gives "HKEY_LOCAL_MACHINE\Software\X".
func CanonicalPath(p string) (string, error) {
	root, rest, err := ParsePath(p)
	if err != nil {
		return "", err
	}
	return joinName(RootName(root), rest), nil
}

// OpenPath opens a full path ("HKLM\SYSTEM\CurrentControlSet") with KEY_ALL_ACCESS,
// following links.
func (s *Session) OpenPath(path string) (Handle, error) {
	return s.OpenPathAccess(path, 0, KEY_ALL_ACCESS)
}

// OpenPathAccess opens a full path with the given options and access.
func (s *Session) OpenPathAccess(path string, options, access uint32) (Handle, error) {
	root, rest, err := ParsePath(path)
	if err != nil {
		return 0, err
	}
	return s.OpenKey(root, rest, options, access)
}

// CreatePath creates or opens a full path ("HKLM\SOFTWARE\X\Y").
func (s *Session) CreatePath(path string, o CreateOptions) (Handle, bool, error) {
	root, rest, err := ParsePath(path)
	if err != nil {
		return 0, false, err
	}
	return s.CreateKey(root, rest, o)
}

package clusterdb

import (
	"errors"
	"fmt"
)

// Errors, compared with errors.Is.
var (
	ErrNotFound = errors.New("clusterdb: not found")
	ErrExists   = errors.New("clusterdb: already exists")
	// ErrConflict: the record changed since it was read (revision compare failed).
	ErrConflict = errors.New("clusterdb: record changed concurrently")
	// ErrFenced: the writer no longer owns the group (owners/<group> moved on).
	ErrFenced = errors.New("clusterdb: fenced: this node no longer owns the group")
	// ErrJoinToken: the join token is missing or wrong.
	ErrJoinToken = errors.New("clusterdb: wrong or missing join token")
	// ErrSchema: the node's build cannot run the cluster's schema version (*SchemaError).
	ErrSchema = errors.New("clusterdb: the cluster's schema version is not one this build runs")
)

// ObjectError says which object an error is about ("resource", "R1").
type ObjectError struct {
	Kind, Name string
	Err        error
}

func (e *ObjectError) Error() string { return fmt.Sprintf("%s %q: %v", e.Kind, e.Name, e.Err) }
func (e *ObjectError) Unwrap() error { return e.Err }

func objErr(kind, name string, err error) error {
	return &ObjectError{Kind: kind, Name: name, Err: err}
}

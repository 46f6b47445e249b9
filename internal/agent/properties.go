package agent

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"wolfpack/internal/api/wire"
	"wolfpack/internal/clusterdb"
	"wolfpack/internal/resmon"
	"wolfpack/internal/winerr"
)

// Private properties are declared by the resource's type (resmon) and by the cluster
// service itself (the checkpoint manager's RestoreFailureAction, RestoreRetryTimeout and
// CheckpointHistory, which every type takes). /priv NAME=VALUE is checked against them
// when it is set, so that a move never finds a bad value first.

// typeInfo returns what a type name declares, the cluster service's properties added.
func typeInfo(name string) (resmon.TypeInfo, error) {
	info, err := resmon.LookupType(name)
	if err != nil {
		return info, err
	}
	info.Properties = append(info.Properties, resmon.CheckpointProperties...)
	return info, nil
}

// ResourceType returns one resource type with its private properties (GET
// /v1/resourcetypes/{name}).
func (a *Agent) ResourceType(ctx context.Context, name string) (wire.ClusterResourceType, error) {
	info, err := typeInfo(name)
	if err != nil {
		return wire.ClusterResourceType{}, unknownType(name)
	}
	rec := clusterdb.ResourceType{Name: info.Name, DisplayName: info.Name, DLL: "resmon"}
	if ts, err := a.db.ResourceTypes(ctx); err == nil {
		for _, t := range ts {
			if strings.EqualFold(t.Name, info.Name) {
				rec = t
			}
		}
	}
	return apiType(info, rec), nil
}

// apiType is a type's declaration as the API gives it.
func apiType(info resmon.TypeInfo, rec clusterdb.ResourceType) wire.ClusterResourceType {
	out := wire.ClusterResourceType{Name: rec.Name, DisplayName: rec.DisplayName, DLL: rec.DLL, Description: info.Description,
		OpenProperties: info.OpenProperties}
	for _, p := range info.Properties {
		out.Properties = append(out.Properties, wire.ClusterTypeProperty{Name: p.Name, Format: p.Format,
			Default: p.Default, Required: p.Required, Values: p.Allowed, Description: p.Description})
	}
	return out
}

// unknownType is 5078 naming the types there are.
func unknownType(name string) *Error {
	e := errCode(ErrorResourceTypeNotFound, name)
	names := []string{}
	for _, t := range resmon.Types() {
		names = append(names, t.Name)
	}
	e.Detail = fmt.Sprintf("no resource type '%s'; the types are %s, and ocf:<provider>:<agent> for an OCF agent",
		wire.Clip(name), strings.Join(names, ", "))
	return e
}

// propertyError is ERROR_INVALID_PARAMETER with what was wrong.
func propertyError(detail string) *Error {
	return &Error{Code: ErrorInvalidParameter, Status: wire.StatusBadRequest, Msg: winerr.Message(ErrorInvalidParameter), Detail: detail}
}

// checkPrivate checks /priv NAME=VALUE pairs for a resource of type typ, and /priv NAME
// /usedefault names.
func checkPrivate(typ string, props map[string]string, reset []string) error {
	info, err := typeInfo(typ)
	if err != nil {
		return unknownType(typ)
	}
	known := make([]string, len(info.Properties))
	for i, p := range info.Properties {
		known[i] = p.Name
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range props {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range names {
		v := props[k]
		if resmon.IsCheckpointProperty(k) {
			if err := resmon.CheckCheckpointProperty(k, v); err != nil {
				for _, p := range resmon.CheckpointProperties {
					if strings.EqualFold(p.Name, k) && len(p.Allowed) > 0 {
						return propertyError(fmt.Sprintf("%s '%s' is not one of %s", p.Name, wire.Clip(v), strings.Join(p.Allowed, ", ")))
					}
				}
				return propertyError(wire.Clip(err.Error()))
			}
			continue
		}
		if err := resmon.CheckProperty(info.Name, k, v); err != nil {
			var pe *resmon.PropertyError
			if errors.As(err, &pe) && pe.Unknown {
				return propertyError(fmt.Sprintf("resource type '%s' has no private property '%s'; its properties are %s",
					info.Name, wire.Clip(k), strings.Join(known, ", ")))
			}
			if errors.As(err, &pe) {
				return propertyError(fmt.Sprintf("%s '%s': %s", pe.Property, wire.Clip(v), pe.Msg))
			}
			return propertyError(wire.Clip(err.Error()))
		}
	}
	for _, k := range reset {
		if !info.OpenProperties && !slices.ContainsFunc(known, func(n string) bool { return strings.EqualFold(n, k) }) {
			return propertyError(fmt.Sprintf("resource type '%s' has no private property '%s'; its properties are %s",
				info.Name, wire.Clip(k), strings.Join(known, ", ")))
		}
	}
	return nil
}

// setPrivate applies /priv to a resource record: values set, names reset deleted.
func setPrivate(r *clusterdb.Resource, props map[string]string, reset []string) error {
	if err := checkPrivate(r.Type, props, reset); err != nil {
		return err
	}
	if r.Private == nil {
		r.Private = map[string]string{}
	}
	drop := func(name string) {
		// Names are case-insensitive: an entry of another case is the same property.
		for old := range r.Private {
			if strings.EqualFold(old, name) {
				delete(r.Private, old)
			}
		}
	}
	info, _ := typeInfo(r.Type)
	for k, v := range props {
		drop(k)
		for _, p := range info.Properties {
			// A value from a list is kept as the list spells it (fail → Fail), and
			// the name as the type spells it.
			if strings.EqualFold(p.Name, k) {
				k = p.Name
				for _, a := range p.Allowed {
					if strings.EqualFold(a, strings.TrimSpace(v)) {
						v = a
					}
				}
			}
		}
		r.Private[k] = v
	}
	for _, k := range reset {
		drop(k)
	}
	return nil
}

// propertyNames lists the common properties of a record (its /prop names).
func propertyNames(rec any) []string {
	var out []string
	for _, p := range properties(rec) {
		out = append(out, p.Name)
	}
	return out
}

// resetProperties sets the common properties names of the record rec points to back to
// their values in def (a new record's defaults).
func resetProperties(rec, def any, names []string) error {
	v := reflect.ValueOf(rec).Elem()
	d := reflect.ValueOf(def)
	for _, name := range names {
		found := false
		for i := range v.Type().NumField() {
			f := v.Type().Field(i)
			if strings.EqualFold(f.Name, name) && !notProperties[f.Name] && slices.Contains(propertyNames(d.Interface()), f.Name) {
				v.Field(i).Set(d.Field(i))
				found = true
				break
			}
		}
		if !found {
			return propertyError(fmt.Sprintf("no property '%s'; the properties are %s", wire.Clip(name),
				strings.Join(propertyNames(d.Interface()), ", ")))
		}
	}
	return nil
}

// storedNotice is 5024 for a change to an online resource that applies at its next
// online; nil when the resource is offline or failed, or only its Description changed.
func storedNotice(s *clusterdb.Snapshot, r clusterdb.Resource, changed []string) *wire.Error {
	st, _, _ := resourceState(s, r)
	if st == clusterdb.StateOffline || st == clusterdb.StateFailed {
		return nil
	}
	if !slices.ContainsFunc(changed, func(n string) bool { return !strings.EqualFold(n, "Description") }) {
		return nil
	}
	return &wire.Error{Code: ErrorResourcePropertiesStored, Message: winerr.Message(ErrorResourcePropertiesStored)}
}

package clusterdb

import (
	"context"
	"errors"
	"fmt"
)

// PropertiesKey holds the cluster's common properties (cluster /prop).
const PropertiesKey = Prefix + "cluster/properties"

// Properties are the cluster's common properties, as WSFC's cluster object has its own.
type Properties struct {
	// Voters: how many etcd voting members the cluster keeps (see Voting).
	Voters int `json:"voters"`
	// VoterReplaceAfter: seconds a voter's node may be gone before another votes.
	VoterReplaceAfter int `json:"voterReplaceAfter"`
	// EnforcedAntiAffinity is WSFC's ClusterEnforcedAntiAffinity: a group stays offline
	// rather than share a node with a group of a common AntiAffinityClassNames entry
	// (without it, anti-affinity is a preference).
	EnforcedAntiAffinity bool `json:"enforcedAntiAffinity,omitempty"`
}

// DefaultProperties are the properties of a cluster that never set any.
func DefaultProperties() Properties {
	return Properties{Voters: DefaultVoters, VoterReplaceAfter: DefaultReplaceAfter}
}

// Voting is the voting configuration the properties set.
func (p Properties) Voting() Voting {
	return Voting{Voters: p.Voters, ReplaceAfter: p.VoterReplaceAfter}
}

// Validate checks the values: an odd number of voters from 1 to MaxVoters, a positive
// delay.
func (p Properties) Validate() error {
	if p.Voters < 1 || p.Voters > MaxVoters || p.Voters%2 == 0 {
		return fmt.Errorf("%w: Voters=%d: an odd number from 1 to %d", ErrProperty, p.Voters, MaxVoters)
	}
	if p.VoterReplaceAfter < 1 || p.VoterReplaceAfter > 86400 {
		return fmt.Errorf("%w: VoterReplaceAfter=%d: seconds from 1 to 86400", ErrProperty, p.VoterReplaceAfter)
	}
	return nil
}

// Properties reads the cluster's properties (DefaultProperties and revision 0 when none
// was ever set).
func (db *DB) Properties(ctx context.Context) (Properties, int64, error) {
	p := DefaultProperties()
	rev, err := db.get(ctx, PropertiesKey, &p)
	if errors.Is(err, ErrNotFound) {
		return DefaultProperties(), 0, nil
	}
	if err != nil {
		return DefaultProperties(), 0, err
	}
	if p.Voters == 0 {
		p.Voters = DefaultVoters
	}
	if p.VoterReplaceAfter == 0 {
		p.VoterReplaceAfter = DefaultReplaceAfter
	}
	return p, rev, nil
}

// SetProperties writes the properties read at rev (0: never set): ErrConflict (or
// ErrExists) when they changed meanwhile.
func (db *DB) SetProperties(ctx context.Context, p Properties, rev int64) error {
	if err := p.Validate(); err != nil {
		return err
	}
	_, err := db.put(ctx, PropertiesKey, p, rev)
	return err
}

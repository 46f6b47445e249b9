package regcmd

import (
	"encoding/json"
	"errors"
	"fmt"

	"wolfpack/internal/secdesc"
	"wolfpack/registry"
)

// acl runs reg acl KEY [/set SDDL]: print the key's security descriptor (owner, group,
// DACL) in SDDL, on one line, so that it can be given back to /set; or set the parts the
// SDDL has (O:, G:, D:, S:). A DACL given without P is the key's own ACEs, the parent's
// inheritable ones following (the node recomputes them, and its subkeys'); with P it is
// the whole DACL.
func (r *runner) acl() (int, error) {
	c := r.cmd
	s, err := r.store(c.Key)
	if err != nil {
		return 1, err
	}
	if c.HasSDDL {
		sd, err := secdesc.ParseSDDL(c.SDDL)
		if err != nil {
			var se *secdesc.SDDLError
			if errors.As(err, &se) {
				return 1, &SyntaxError{Op: OpACL, Msg: fmt.Sprintf("Invalid security descriptor: %s at position %d (%q).", se.Msg, se.Pos, se.Text)}
			}
			return 1, err
		}
		var info uint32
		if sd.Owner != "" {
			info |= registry.OWNER_SECURITY_INFORMATION
		}
		if sd.Group != "" {
			info |= registry.GROUP_SECURITY_INFORMATION
		}
		if sd.Control&secdesc.SE_DACL_PRESENT != 0 {
			info |= registry.DACL_SECURITY_INFORMATION
		}
		if sd.Control&secdesc.SE_SACL_PRESENT != 0 {
			info |= registry.SACL_SECURITY_INFORMATION
		}
		if info == 0 {
			return 1, &SyntaxError{Op: OpACL, Msg: "Invalid security descriptor: it has no O:, G:, D: or S: part."}
		}
		if err := s.SetSecurity(c.Key, info, sd.Bytes()); err != nil {
			return 1, err
		}
		return r.success()
	}
	b, err := s.GetSecurity(c.Key)
	if err != nil {
		return 1, err
	}
	sd, err := secdesc.Parse(b)
	if err != nil {
		return 1, fmt.Errorf("the node sent a descriptor that does not parse: %w", err)
	}
	text, err := sd.SDDL()
	if err != nil {
		return 1, err
	}
	if c.Output == "json" {
		enc := json.NewEncoder(r.env.Stdout)
		enc.SetIndent("", "  ")
		return 0, enc.Encode(struct {
			Key   string `json:"key"`
			SDDL  string `json:"sddl"`
			Owner string `json:"owner,omitempty"`
			Group string `json:"group,omitempty"`
		}{c.Key.String(), text, sidString(sd.Owner), sidString(sd.Group)})
	}
	r.printf("%s\n", text)
	return 0, nil
}

func sidString(s secdesc.SID) string {
	if s == "" {
		return ""
	}
	return s.String()
}

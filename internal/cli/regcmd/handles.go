package regcmd

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"wolfpack/registry"
)

// handles runs reg handles [KEY] [/s]: the open handles to KEY (with /s, to it and every
// key below; without KEY, every handle), whoever holds them — except this process's own.
func (r *runner) handles() (int, error) {
	c := r.cmd
	keys := []KeyName{c.Key}
	subtree := c.Recurse
	if c.Key.Root == "" {
		keys = []KeyName{{Root: HKLM}, {Root: HKU}}
		subtree = true
	}
	var all []registry.HandleInfo
	for _, k := range keys {
		s, err := r.store(k)
		if err != nil {
			return 1, err
		}
		hs, err := s.Handles(k, subtree)
		if err != nil {
			return 1, err
		}
		for _, h := range hs {
			if c.Key.Node == "" && h.PID == os.Getpid() {
				continue // the handle this command opened to ask
			}
			all = append(all, h)
		}
	}
	if c.Output == "json" {
		type jsonHandle struct {
			Handle   string    `json:"handle"`
			PID      int       `json:"pid"`
			Process  string    `json:"process"`
			UID      int       `json:"uid"`
			Access   string    `json:"access"`
			Opened   time.Time `json:"opened"`
			OpenedAs string    `json:"openedAs"`
			Resolved string    `json:"resolved"`
		}
		out := make([]jsonHandle, 0, len(all))
		for _, h := range all {
			out = append(out, jsonHandle{fmt.Sprintf("0x%x", h.ID), h.PID, h.Exe, h.UID,
				fmt.Sprintf("0x%x", h.Access), h.Opened, h.OpenedAs, h.Resolved})
		}
		enc := json.NewEncoder(r.env.Stdout)
		enc.SetIndent("", "  ")
		return 0, enc.Encode(out)
	}
	if len(all) == 0 {
		r.printf("No open handles.\n")
		return 0, nil
	}
	// Path is the name the handle was opened by, and -> the key it refers to (the
	// target, through links): both are named, also when they are the same.
	tw := tabwriter.NewWriter(r.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "Handle\tPID\tProcess\tUID\tAccess\tOpened\tPath")
	for _, h := range all {
		fmt.Fprintf(tw, "0x%x\t%d\t%s\t%d\t0x%x\t%s\t%s -> %s\n", h.ID, h.PID, h.Exe, h.UID, h.Access,
			h.Opened.Local().Format("2006-01-02 15:04:05"), h.OpenedAs, h.Resolved)
	}
	return 0, tw.Flush()
}

// watch runs reg watch KEY [/s]: hold a handle to KEY and print each change until
// interrupted (SIGINT, SIGTERM) or the key goes away.
func (r *runner) watch() (int, error) {
	c := r.cmd
	s, err := r.store(c.Key)
	if err != nil {
		return 1, err
	}
	ch, err := s.Watch(r.ctx, c.Key, c.Recurse)
	if err != nil {
		return 1, err
	}
	what := "key"
	if c.Recurse {
		what = "key and its subkeys"
	}
	r.printf("Watching %s (%s). Press Ctrl+C to stop.\n", c.Key, what)
	for ch := range ch {
		if ch.HasValue {
			r.printf("%s  %s  %s  %s\n", time.Now().Format("15:04:05.000"), filterName(ch.Filter), ch.Key, valueLabel(ch.Value))
			continue
		}
		r.printf("%s  %s  %s\n", time.Now().Format("15:04:05.000"), filterName(ch.Filter), ch.Key)
	}
	if r.ctx.Err() != nil {
		return 0, nil
	}
	r.printf("The watch ended: the key was deleted or closed.\n")
	return 1, nil
}

func filterName(f uint32) string {
	switch f {
	case registry.REG_NOTIFY_CHANGE_NAME:
		return "NAME"
	case registry.REG_NOTIFY_CHANGE_ATTRIBUTES:
		return "ATTRIBUTES"
	case registry.REG_NOTIFY_CHANGE_LAST_SET:
		return "LAST_SET"
	case registry.REG_NOTIFY_CHANGE_SECURITY:
		return "SECURITY"
	}
	return fmt.Sprintf("0x%x", f)
}

package clustercmd

import (
	"fmt"
	"io"
	"strings"
	"time"
	"wolfpack/internal/api/wire"
)

// A command that changes a state (/online, /offline, /moveto) succeeds without /wait when
// the node accepted the request, as cluster.exe does; with /wait it succeeds when the
// object reached the requested state, and otherwise says which state it reached, on
// which node, and why.

// view is what a wait needs to know of a group or a resource.
type view struct {
	group             bool
	name, node, state string
	reason            string     // why it is Failed
	recovering        bool       // Failed, and the cluster restarts it or fails its group over
	waiting           string     // what a pending online waits for
	until             *time.Time // the deadline of that wait
}

func groupView(g wire.ClusterGroup) view {
	return view{group: true, name: g.Name, node: g.Node, state: g.State, reason: g.Error, waiting: g.Waiting, until: g.WaitUntil}
}

func resourceView(x wire.ClusterResource) view {
	return view{name: x.Name, node: x.Node, state: x.State, reason: x.Error, recovering: x.Recovering,
		waiting: x.Waiting, until: x.WaitUntil}
}

// stateError is a requested state that was not reached.
type stateError struct {
	kind    string // "group" or "resource"
	v       view
	want    string        // the state asked for
	timeout time.Duration // non-zero: /wait ran out
}

func (e *stateError) Error() string {
	where := ""
	if e.v.node != "" {
		where = " on node " + e.v.node
	}
	var b strings.Builder
	if e.timeout > 0 {
		fmt.Fprintf(&b, "%s '%s' is %s%s after %v, not %s", e.kind, e.v.name, stateText(e.v.state), where, e.timeout, stateText(e.want))
	} else {
		fmt.Fprintf(&b, "%s '%s' is %s%s, not %s", e.kind, e.v.name, stateText(e.v.state), where, stateText(e.want))
	}
	if e.v.reason != "" {
		fmt.Fprintf(&b, ": %s", e.v.reason)
	} else if e.v.waiting != "" {
		fmt.Fprintf(&b, ": %s", e.v.waiting)
	}
	return b.String()
}

// code is the Windows error the command ends with: 258 when /wait ran out, else 5023.
func (e *stateError) code() *wire.Error {
	if e.timeout > 0 {
		return &wire.Error{Code: 258, Message: "The wait operation timed out."}
	}
	return &wire.Error{Code: 5023, Message: "The group or resource is not in the correct state to perform the requested operation."}
}

// waitState waits (/wait) until the object is in state want, or Failed for good (not
// while the cluster restarts it or fails its group over). Until the owner has acted on
// the request the API shows it pending, so an earlier failure is not taken for its
// result. Anything but want at the end is a *stateError.
func waitState[T any](r *runner, kind string, cur T, want string, get func(string) (T, error), see func(T) view) (T, error) {
	return waitFor(r, kind, cur, want, get, see, func(v view) bool {
		return v.state == want || (v.state == "Failed" && !v.recovering)
	}, func(v view) bool { return v.state == want })
}

// waitMove waits until the group left its owner for target (any other node when target is
// "") and settled there: back in the state it had (Online for a group that was online),
// or Failed.
func (r *runner) waitMove(before wire.ClusterGroup, target string) (wire.ClusterGroup, error) {
	wasOnline := before.State == "Online" || before.State == "PartialOnline"
	want := "Offline"
	if wasOnline {
		want = "Online"
	}
	moved := func(v view) bool {
		if target != "" {
			return strings.EqualFold(v.node, target)
		}
		return v.node != "" && !strings.EqualFold(v.node, before.Node)
	}
	// A group that was Partially Online (a resource taken offline on purpose) settles
	// Partially Online on the target.
	partial := before.State == "PartialOnline"
	// Right after the owner changes the group shows Offline on the target until the new
	// owner starts bringing it up, and Partially Online between one resource coming online
	// and the next one starting: neither is the end of the move of an online group.
	return waitFor(r, "group", before, want, r.getGroup, groupView, func(v view) bool {
		if v.state == "Failed" && !strings.EqualFold(v.node, before.Node) {
			return true
		}
		if !moved(v) || v.state == "Pending" {
			return false
		}
		if wasOnline && !partial {
			return v.state == "Online"
		}
		return !(wasOnline && v.state == "Offline")
	}, func(v view) bool { return moved(v) && (v.state == want || (partial && v.state == "PartialOnline")) })
}

// onlineSettle is how long an Online state must hold before a wait for Online ends: far
// longer than a resource's exit takes to reach the cluster database (milliseconds).
const onlineSettle = 500 * time.Millisecond

// waitFor polls get until done, /wait's limit or the command's end; it prints what a
// pending online waits for whenever that changes, and every 5 s the time left. ok says
// whether the state at the end is the one asked for.
func waitFor[T any](r *runner, kind string, cur T, want string, get func(string) (T, error), see func(T) view,
	done, ok func(view) bool) (T, error) {
	limit := r.waitLimit()
	start := time.Now()
	name := see(cur).name
	var said, failure string
	var saidAt, heldSince time.Time
	for {
		x, err := get(name)
		if err != nil {
			return cur, err
		}
		cur = x
		v := see(cur)
		if v.waiting != "" && (v.waiting != said || time.Since(saidAt) >= 5*time.Second) {
			r.progress(v)
			said, saidAt = v.waiting, time.Now()
		}
		if v.reason != "" && v.reason != failure && !done(v) {
			// A failure the cluster recovers from: say it, it may well be the end.
			r.note("Failure: %s", v.reason)
			failure = v.reason
		}
		if done(v) {
			if !ok(v) {
				return cur, &stateError{kind: kind, v: v, want: want}
			}
			// Online is the end only when it holds: a program that exits right after it
			// started is Online for a few milliseconds, then restarting or Failed.
			if want != "Online" || !heldSince.IsZero() && time.Since(heldSince) >= onlineSettle {
				return cur, nil
			}
			if heldSince.IsZero() {
				heldSince = time.Now()
			}
		} else {
			heldSince = time.Time{}
		}
		if time.Since(start) >= limit {
			if !heldSince.IsZero() {
				return cur, nil // reached, and held until the end of /wait
			}
			return cur, &stateError{kind: kind, v: v, want: want, timeout: limit}
		}
		select {
		case <-r.ctx.Done():
			return cur, r.ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// progress says what a pending online waits for.
func (r *runner) progress(v view) {
	left := ""
	if v.until != nil {
		left = fmt.Sprintf(" (%d s left)", max(0, int(time.Until(*v.until).Round(time.Second).Seconds())))
	}
	r.note("Waiting: %s%s", v.waiting, left)
}

// note prints a line of progress: on stdout with the text output, on stderr with JSON
// (whose stdout holds one document).
func (r *runner) note(format string, args ...any) {
	w := r.out
	if r.json {
		w = r.errOut
	}
	fmt.Fprintf(w, format+"\n", args...)
}

// reasons prints, under a table, why each Failed object failed and what each pending one
// waits for.
func reasons(w io.Writer, views []view) {
	first := true
	for _, v := range views {
		line := ""
		switch {
		case v.reason != "" && v.group:
			line = fmt.Sprintf("%s: %s", v.name, v.reason)
		case v.reason != "" && v.recovering:
			line = fmt.Sprintf("%s failed (recovering): %s", v.name, v.reason)
		case v.reason != "" && v.state == "Failed":
			line = fmt.Sprintf("%s failed: %s", v.name, v.reason)
		case v.waiting != "":
			line = fmt.Sprintf("%s is waiting: %s", v.name, v.waiting)
		default:
			continue
		}
		if first {
			fmt.Fprintln(w)
			first = false
		}
		fmt.Fprintln(w, line)
	}
}

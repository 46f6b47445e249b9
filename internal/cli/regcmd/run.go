package regcmd

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/term"

	"wolfpack/internal/api/client"
	"wolfpack/internal/api/wire"
	"wolfpack/internal/cli/buildinfo"
	"wolfpack/registry"
)

// Messages of reg.exe.
const (
	msgSuccess   = "The operation completed successfully."
	msgNotFound  = "ERROR: The system was unable to find the specified registry key or value."
	msgCancelled = "The operation was canceled by the user."
)

// Env is where a command reads, writes and finds its node.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Interactive reports whether stdin is a terminal (which echoes the answer); a pipe
	// answers prompts too.
	Interactive bool
	// Progress reports whether big transfers are announced (stderr is a terminal).
	Progress bool
	// Open returns the store of the local node (node "") or of the named node.
	Open func(ctx context.Context, node string) (Store, error)
}

// Main runs reg with the process's arguments, streams and environment; it returns the
// exit code.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Interactive: term.IsTerminal(int(os.Stdin.Fd())),
		Progress:    term.IsTerminal(int(os.Stderr.Fd())),
		Open:        OpenStore,
	}
	return Run(ctx, env, args)
}

// OpenStore connects to the local node's socket ($WOLFPACK_DATA/reg.sock) or, for a
// node name, to that node's HTTP API, found through the local node's API.
func OpenStore(ctx context.Context, node string) (Store, error) {
	if node == "" {
		c, err := registry.Dial(ctx, "")
		if err != nil {
			return nil, err
		}
		return localStore{c}, nil
	}
	local, err := client.FromEnv()
	if err != nil {
		return nil, err
	}
	nc, err := local.Node(ctx, node)
	if err != nil {
		return nil, err
	}
	return &remoteStore{c: nc, ctx: ctx}, nil
}

// Run runs one reg command line and returns its exit code.
func Run(ctx context.Context, env *Env, args []string) int {
	if len(args) == 1 && buildinfo.IsVersionFlag(args[0]) {
		fmt.Fprintln(env.Stdout, buildinfo.Version("reg"))
		return 0
	}
	cmd, err := Parse(args)
	if err != nil {
		if jsonAsked(args) {
			return writeJSONError(env.Stdout, err.Error(), 87)
		}
		fmt.Fprintln(env.Stderr, err)
		return 1
	}
	if cmd.Help {
		fmt.Fprint(env.Stdout, Usage(cmd.Op))
		return 0
	}
	r := &runner{env: env, cmd: cmd, ctx: ctx, stores: map[string]Store{}}
	defer r.close()
	code, err := r.run()
	if err != nil {
		if cmd.Output == "json" {
			return writeJSONError(env.Stdout, r.message(err), errorCode(err))
		}
		fmt.Fprintln(env.Stderr, r.message(err))
		return 1
	}
	return code
}

// jsonAsked reports whether a command line that did not parse asked for -o json.
func jsonAsked(args []string) bool {
	for i := 0; i+1 < len(args); i++ {
		if (args[i] == "-o" || args[i] == "/o") && strings.EqualFold(args[i+1], "json") {
			return true
		}
	}
	return false
}

// writeJSONError prints a failure as the command's one JSON document (-o json):
// {"error": MESSAGE, "code": N}, N the Windows error number.
func writeJSONError(w io.Writer, msg string, code uint32) int {
	msg = strings.TrimPrefix(strings.ReplaceAll(msg, "\nERROR: ", "\n"), "ERROR: ")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(struct {
		Error string `json:"error"`
		Code  uint32 `json:"code"`
	}{msg, code})
	return 1
}

// errorCode is the Windows error number of a failure (87 when it has none).
func errorCode(err error) uint32 {
	var errno registry.Errno
	var ae *wire.Error
	var se *SyntaxError
	switch {
	case errors.As(err, &se):
		return 87
	case errors.Is(err, registry.ErrNotExist):
		return 2
	case errors.As(err, &errno):
		return uint32(errno)
	case errors.As(err, &ae) && ae.Code != 0:
		return ae.Code
	case errors.Is(err, registry.ERROR_ACCESS_DENIED):
		return 5
	}
	return 87
}

type runner struct {
	env    *Env
	cmd    *Command
	ctx    context.Context
	stores map[string]Store
	in     *bufio.Reader
}

func (r *runner) store(k KeyName) (Store, error) {
	node := strings.ToUpper(k.Node)
	if s, ok := r.stores[node]; ok {
		return s, nil
	}
	s, err := r.env.Open(r.ctx, k.Node)
	if err != nil {
		return nil, &connectError{node: k.Node, err: err}
	}
	r.stores[node] = s
	return s, nil
}

func (r *runner) close() {
	for _, s := range r.stores {
		s.Close()
	}
}

type connectError struct {
	node string
	err  error
}

func (e *connectError) Error() string { return e.err.Error() }
func (e *connectError) Unwrap() error { return e.err }

// message renders a failure as reg.exe does.
func (r *runner) message(err error) string {
	var se *SyntaxError
	var ce *connectError
	var inUse *registry.KeysInUseError
	var denied *deniedError
	var le *linkError
	var ske *systemKeyError
	var nle *notLinkError
	switch {
	case errors.As(err, &le):
		return fmt.Sprintf("ERROR: Access is denied.\n%s is a symbolic link to %s: deleting it would delete the link's target.\n"+
			"Delete the target by its own name, or the link itself with REG DELETE %s /link.", le.key, le.target, le.key)
	case errors.As(err, &ske):
		return fmt.Sprintf("ERROR: Access is denied.\n%s is %s: the system needs it, and it cannot be deleted.", ske.key, ske.what)
	case errors.As(err, &nle):
		return fmt.Sprintf("ERROR: %s is not a symbolic link: /link deletes a link key only.", nle.key)
	case errors.As(err, &se):
		return se.Error()
	case errors.As(err, &denied):
		var b strings.Builder
		b.WriteString("ERROR: Access is denied.")
		for _, k := range denied.keys {
			fmt.Fprintf(&b, "\n    %s", k)
		}
		return b.String()
	case errors.As(err, &inUse):
		var b strings.Builder
		b.WriteString("ERROR: Access is denied.\n")
		fmt.Fprintf(&b, "%d handle(s) of other processes are open in %s:", len(inUse.Holders), inUse.Key)
		for _, h := range inUse.Holders {
			fmt.Fprintf(&b, "\n    pid %d (%s) %s", h.PID, h.Exe, h.OpenedAs)
		}
		return b.String()
	case errors.As(err, &ce):
		if ce.node != "" {
			return fmt.Sprintf("ERROR: The network path was not found.\n(%v)", ce.err)
		}
		return fmt.Sprintf("ERROR: %v", ce.err)
	case errors.Is(err, registry.ErrNotExist):
		return msgNotFound
	}
	var errno registry.Errno
	if errors.As(err, &errno) {
		return "ERROR: " + errno.Error()
	}
	var ae *wire.Error
	if errors.As(err, &ae) && ae.Code != 0 {
		return "ERROR: " + registry.Errno(ae.Code).Error()
	}
	return "ERROR: " + err.Error()
}

func (r *runner) run() (int, error) {
	c := r.cmd
	switch c.Op {
	case OpQuery:
		return r.query()
	case OpAdd:
		return r.add()
	case OpDelete:
		return r.delete()
	case OpCopy:
		return r.copy()
	case OpCompare:
		return r.compare()
	case OpHandles:
		return r.handles()
	case OpWatch:
		return r.watch()
	case OpSave:
		return r.save()
	case OpRestore:
		return r.restore()
	case OpLoad:
		return r.load()
	case OpUnload:
		return r.unload()
	case OpExport:
		return r.export()
	case OpImport:
		return r.importFile()
	case OpACL:
		return r.acl()
	}
	return 1, syntax(c.Op)
}

func (r *runner) printf(format string, args ...any) { fmt.Fprintf(r.env.Stdout, format, args...) }

// success reports a completed command. A command that wrote first makes its writes
// durable, so that "completed successfully" survives a crash of the node right after.
func (r *runner) success() (int, error) {
	switch r.cmd.Op {
	case OpAdd, OpDelete, OpCopy, OpRestore, OpLoad, OpUnload, OpImport, OpACL:
		for _, s := range r.stores {
			if err := s.Flush(); err != nil {
				return 1, err
			}
		}
	}
	r.printf("%s\n", msgSuccess)
	return 0, nil
}

// confirm asks a (Yes/No) question; without a terminal the answer is No.
// confirm asks question and reads the answer from the standard input, a terminal or a
// pipe (echo y | reg delete K /va), as reg.exe does; no answer (end of input) is No.
func (r *runner) confirm(question string) bool {
	r.printf("%s", question)
	if r.env.Stdin == nil {
		r.printf("\n")
		return false
	}
	if !r.env.Interactive {
		// A piped answer is not echoed by a terminal: end the prompt's line.
		defer r.printf("\n")
	}
	if r.in == nil {
		r.in = bufio.NewReader(r.env.Stdin)
	}
	for {
		line, err := r.in.ReadString('\n')
		switch strings.ToLower(strings.TrimSpace(line)) {
		case "y", "yes":
			return true
		case "n", "no":
			return false
		}
		if err != nil {
			return false
		}
		r.printf("%s", question)
	}
}

func (r *runner) cancelled() (int, error) {
	r.printf("%s\n", msgCancelled)
	return 1, nil
}

func valueLabel(name string) string {
	if name == "" {
		return "(Default)"
	}
	return name
}

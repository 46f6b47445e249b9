// Package q316772 holds the runnable Q316772 example (run.sh); its test plays the
// example with the article's policy, Continue, and — in the long run, which starts three
// nodes four times — under each RestoreFailureAction:
//
//	WOLFPACK_LONG=1 go test -v ./examples/q316772
package q316772

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func TestRunScript(t *testing.T) {
	policies := []string{"Continue"}
	if os.Getenv("WOLFPACK_LONG") == "1" {
		policies = append(policies, "Retry", "Fail", "Force")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatalf("run.sh needs bash: %v", err)
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "wolfpack/cmd/wolfpackd", "wolfpack/cmd/cluster", "wolfpack/cmd/reg", "wolfpack/cmd/wevtutil")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the commands: %v\n%s", err, out)
	}
	for i, policy := range policies {
		t.Run(policy, func(t *testing.T) {
			cmd := exec.Command("bash", "run.sh", policy)
			cmd.Env = append(os.Environ(), "WOLFPACK_BIN="+bin, "TMPDIR="+t.TempDir(),
				"WOLFPACK_EXAMPLE_PORT="+strconv.Itoa(freePorts(t, 27100+i*100, 9)))
			out, err := cmd.CombinedOutput()
			text := string(out)
			if err != nil {
				t.Fatalf("run.sh %s: %v\n%s", policy, err, text)
			}
			for _, want := range []string{
				"Event ID: 1024",
				`Description: The registry checkpoint for cluster resource Microsoft Exchange Internet Mail Service could not be restored to registry key HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\MSExchangeIMC.`,
				"Holder1ProcessName: reg",
				"N2's MSExchangeIMC subtree equals N1's:",
				"events 1024 on N2: ",
			} {
				if !strings.Contains(text, want) {
					t.Errorf("run.sh %s: the output has no %q", policy, want)
				}
			}
			if t.Failed() {
				t.Logf("output:\n%s", text)
			}
		})
	}
}

// freePorts returns the first of n consecutive free loopback ports from from on.
func freePorts(t *testing.T, from, n int) int {
	t.Helper()
next:
	for base := from; base < from+2000; base += n {
		for p := base; p < base+n; p++ {
			ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				continue next
			}
			ln.Close()
		}
		return base
	}
	t.Fatalf("no %d consecutive free ports from %d", n, from)
	return 0
}

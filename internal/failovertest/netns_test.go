package failovertest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// netnet is a small network of namespaces: one per node, each with a veth into a bridge
// that lives in a namespace of its own, on a private /24 that exists only inside them.
// Cutting a node off takes its veth down.
type netnet struct {
	t      testing.TB
	prefix string   // namespace names start with it
	addrs  []string // node i's address
	netns  []string // node i's namespace
	brns   string
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

func newNetnet(t testing.TB, nodes int) *netnet {
	t.Helper()
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatalf("the partition test needs iproute2's ip (scripts/test installs it): %v", err)
	}
	n := &netnet{t: t, prefix: fmt.Sprintf("wpfo%d-", os.Getpid()%100000)}
	subnet := fmt.Sprintf("10.%d.%d", 100+rand.IntN(100), rand.IntN(250))
	n.brns = n.prefix + "br"
	t.Cleanup(n.remove)
	must := func(args ...string) {
		t.Helper()
		if err := ipCmd(args...); err != nil {
			t.Fatal(err)
		}
	}
	must("netns", "add", n.brns)
	must("-n", n.brns, "link", "add", "br0", "type", "bridge")
	must("-n", n.brns, "link", "set", "br0", "up")
	for i := range nodes {
		ns := fmt.Sprintf("%sn%d", n.prefix, i+1)
		addr := fmt.Sprintf("%s.%d", subnet, i+1)
		must("netns", "add", ns)
		must("-n", ns, "link", "set", "lo", "up")
		must("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", fmt.Sprintf("v%d", i+1), "netns", n.brns)
		must("-n", ns, "addr", "add", addr+"/24", "dev", "eth0")
		must("-n", ns, "link", "set", "eth0", "up")
		must("-n", n.brns, "link", "set", fmt.Sprintf("v%d", i+1), "master", "br0")
		must("-n", n.brns, "link", "set", fmt.Sprintf("v%d", i+1), "up")
		n.netns = append(n.netns, ns)
		n.addrs = append(n.addrs, addr)
	}
	return n
}

// cut takes node i's link down (up again with heal).
func (n *netnet) cut(i int) error {
	return ipCmd("-n", n.brns, "link", "set", fmt.Sprintf("v%d", i+1), "down")
}
func (n *netnet) heal(i int) error {
	return ipCmd("-n", n.brns, "link", "set", fmt.Sprintf("v%d", i+1), "up")
}

func (n *netnet) remove() {
	for _, ns := range append(n.netns, n.brns) {
		ipCmd("netns", "del", ns)
	}
}

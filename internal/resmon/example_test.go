package resmon_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"wolfpack/internal/resmon"
)

// The agent's use of a Monitor: add a resource, bring it online, notice a failure and
// the restart, take it offline.
func ExampleMonitor() {
	events := make(chan resmon.Event, 16)
	mon, err := resmon.NewMonitor(resmon.Options{
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnEvent: func(e resmon.Event) { events <- e },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	defer mon.Close(ctx)

	policy := resmon.DefaultPolicy()
	policy.LooksAlivePollInterval = 10 * time.Millisecond
	policy.RestartDelay = time.Millisecond
	if err := mon.Add(resmon.Spec{Name: "Web", Type: resmon.TypeTest, Policy: policy}); err != nil {
		fmt.Println(err)
		return
	}
	if err := mon.Online(ctx, "Web"); err != nil {
		fmt.Println(err)
		return
	}
	r, _ := mon.Resource("Web")
	r.(*resmon.TestResource).Fail() // the resource dies; LooksAlive and IsAlive notice
	for range 5 {
		fmt.Println(<-events)
	}
	if err := mon.Offline(ctx, "Web"); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(<-events)
	fmt.Println(<-events)
	// Output:
	// Web: Offline -> Online Pending
	// Web: Online Pending -> Online
	// Web: Online -> Failed: resmon: resource is not alive (LooksAlive and IsAlive failed) (restarting)
	// Web: Failed -> Online Pending
	// Web: Online Pending -> Online
	// Web: Online -> Offline Pending
	// Web: Offline Pending -> Offline
}

// Order brings a group's resources online dependencies first.
func ExampleOrder() {
	order, err := resmon.Order(
		[]string{"Exchange IMC", "Network Name", "IP Address", "Disk Q:"},
		map[string][]string{
			"Exchange IMC": {"Network Name", "Disk Q:"},
			"Network Name": {"IP Address"},
		})
	fmt.Println(order, err)
	// Output: [IP Address Network Name Disk Q: Exchange IMC] <nil>
}

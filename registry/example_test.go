package registry_test

import (
	"context"
	"fmt"
	"log"

	"wolfpack/registry"
)

// Code written for Windows against golang.org/x/sys/windows/registry runs against a
// Wolfpack node after changing only its import path: the predefined keys use the node of
// $WOLFPACK_DATA.
func Example_portedFromXSys() {
	// import "golang.org/x/sys/windows/registry"  →  import "wolfpack/registry"
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Services\MSExchangeIMC\Parameters`, registry.QUERY_VALUE)
	if err != nil {
		log.Fatal(err)
	}
	defer k.Close()

	host, _, err := k.GetStringValue("Host")
	if err == registry.ErrNotExist {
		host = "localhost"
	} else if err != nil {
		log.Fatal(err)
	}
	port, _, err := k.GetIntegerValue("Port")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s:%d\n", host, port)
}

// With an explicit connection, the one other change is to bind the predefined key to it.
func ExampleDial() {
	ctx := context.Background()
	conn, err := registry.Dial(ctx, "") // "" = $WOLFPACK_DATA/reg.sock
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close() // closes every handle opened through conn

	k, _, err := registry.CreateKey(conn.LocalMachine(), `SOFTWARE\MyCo\MyApp`, registry.ALL_ACCESS)
	if err != nil {
		log.Fatal(err)
	}
	defer k.Close()
	if err := k.SetStringsValue("Servers", []string{"a.example", "b.example"}); err != nil {
		log.Fatal(err)
	}
	// Wolfpack's additions: make it durable now, and see who else holds the key.
	if err := k.Flush(); err != nil {
		log.Fatal(err)
	}
	holders, err := k.Handles(true)
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range holders {
		fmt.Println(h.PID, h.Exe, h.OpenedAs)
	}
}

// Notify delivers RegNotifyChangeKeyValue's changes on a channel until ctx ends.
func ExampleKey_Notify() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	conn, err := registry.Dial(ctx, "")
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	k, err := conn.OpenKey(registry.LOCAL_MACHINE, `SOFTWARE\MyCo`, registry.NOTIFY)
	if err != nil {
		log.Fatal(err)
	}
	changes, err := k.Notify(ctx, true, registry.REG_NOTIFY_CHANGE_NAME|registry.REG_NOTIFY_CHANGE_LAST_SET)
	if err != nil {
		log.Fatal(err)
	}
	for c := range changes {
		fmt.Println(c.Key, c.Filter)
	}
}

package registry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// TestConcurrentSessions runs many sessions at once doing every kind of call on an
// overlapping set of keys (run it with -race). Every error must be one Windows would
// give for a race between clients: not found, key deleted, access denied (delete of a
// key that got subkeys), or keys in use (restore).
func TestConcurrentSessions(t *testing.T) {
	r, err := Open(context.Background(), t.TempDir(), Options{CompactBytes: 64 << 10, LazyFlush: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	setup := r.NewSession(DaemonOwner())
	src := mustCreate(t, setup, `HKLM\SOFTWARE\Src\A\B`)
	setup.SetValue(src, "v", REG_DWORD, dword(1))
	srcRoot, _ := setup.OpenPath(`HKLM\SOFTWARE\Src`)
	saved, err := setup.Save(srcRoot, 5)
	if err != nil {
		t.Fatal(err)
	}
	watchCtx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	root := mustCreate(t, setup, `HKLM\SOFTWARE\Shared`)
	changes, _ := setup.Notify(watchCtx, root, true, REG_NOTIFY_CHANGE_NAME|REG_NOTIFY_CHANGE_LAST_SET)
	go func() {
		for range changes {
		}
	}()

	allowed := func(err error) bool {
		return err == nil || errors.Is(err, ERROR_FILE_NOT_FOUND) || errors.Is(err, ERROR_KEY_DELETED) ||
			errors.Is(err, ERROR_ACCESS_DENIED)
	}
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			s := r.NewSession(Owner{PID: 1000 + w, Exe: fmt.Sprintf("client%d", w)})
			defer s.Close()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for range 400 {
				p := fmt.Sprintf(`HKLM\SYSTEM\CurrentControlSet\Services\S%d\K%d`, rng.IntN(4), rng.IntN(4))
				var err error
				switch rng.IntN(9) {
				case 0, 1:
					var h Handle
					h, _, err = s.CreatePath(p, CreateOptions{})
					if err == nil {
						err = s.SetValue(h, "v", REG_DWORD, dword(rng.Uint32()))
						if rng.IntN(4) == 0 {
							err = errors.Join(err, s.Flush(context.Background(), h))
						}
						if rng.IntN(2) == 0 {
							s.CloseKey(h) // else leak it, like winlogon
						}
					}
				case 2:
					var h Handle
					if h, err = s.OpenPath(p); err == nil {
						_, _, err = s.QueryValue(h, "v")
						s.CloseKey(h)
					}
				case 3:
					root, rest, _ := ParsePath(p)
					err = s.DeleteKey(root, rest)
				case 4:
					err = s.DeleteTree(HKEY_LOCAL_MACHINE, fmt.Sprintf(`SYSTEM\ControlSet001\Services\S%d`, rng.IntN(4)))
				case 5:
					var h Handle
					if h, err = s.OpenPath(fmt.Sprintf(`HKLM\SYSTEM\CurrentControlSet\Services\S%d`, rng.IntN(4))); err == nil {
						_, err = s.EnumKeys(h)
						_, err2 := s.Handles(h, true)
						err = errors.Join(err, err2)
						s.CloseKey(h)
					}
				case 6:
					var h Handle
					if h, _, err = s.CreatePath(fmt.Sprintf(`HKLM\SYSTEM\ControlSet001\Services\S%d`, rng.IntN(4)), CreateOptions{}); err == nil {
						err = s.Restore(context.Background(), h, saved, uint32(rng.IntN(2))*REG_FORCE_RESTORE)
						s.CloseKey(h)
					}
				case 7:
					var h Handle
					if h, _, err = s.CreatePath(`HKLM\SOFTWARE\Shared\`+fmt.Sprint(rng.IntN(8)), CreateOptions{}); err == nil {
						ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
						ch, nerr := s.Notify(ctx, h, false, REG_NOTIFY_CHANGE_LAST_SET)
						err = errors.Join(nerr, s.SetValue(h, "x", REG_SZ, sz("y")))
						if nerr == nil {
							for range ch {
							}
						}
						cancel()
						s.CloseKey(h)
					}
				case 8:
					var h Handle
					if h, err = s.OpenPath(`HKLM\SYSTEM\CurrentControlSet\Services`); err == nil {
						_, err = s.Save(h, 5)
						s.CloseKey(h)
					}
				}
				if !allowed(err) {
					t.Errorf("client %d: %v", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	stopWatch()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

package registry

import (
	"context"
	"testing"
	"time"
)

func recv(t *testing.T, ch <-chan Change) Change {
	t.Helper()
	select {
	case c, ok := <-ch:
		if !ok {
			t.Fatal("channel closed, want a change")
		}
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no change delivered")
	}
	return Change{}
}

func noChange(t *testing.T, ch <-chan Change) {
	t.Helper()
	select {
	case c, ok := <-ch:
		if ok {
			t.Fatalf("unexpected change %+v", c)
		}
		t.Fatal("channel closed")
	case <-time.After(50 * time.Millisecond):
	}
}

func closed(t *testing.T, ch <-chan Change) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("channel not closed")
		}
	}
}

func TestNotify(t *testing.T) {
	ctx := context.Background()
	t.Run("last-set on the key: value set and deleted", func(t *testing.T) {
		_, s := newTestSession(t)
		h := mustCreate(t, s, `HKLM\SOFTWARE\N`)
		ch, err := s.Notify(ctx, h, false, REG_NOTIFY_CHANGE_LAST_SET)
		if err != nil {
			t.Fatal(err)
		}
		s.SetValue(h, "v", REG_DWORD, dword(1))
		if c := recv(t, ch); c.Key != `HKEY_LOCAL_MACHINE\SOFTWARE\N` || c.Filter != REG_NOTIFY_CHANGE_LAST_SET {
			t.Errorf("change = %+v", c)
		}
		s.DeleteValue(h, "v")
		recv(t, ch)
		mustCreate(t, s, `HKLM\SOFTWARE\N\Sub`) // a name change: filtered out
		noChange(t, ch)
	})
	t.Run("name: subkey added and deleted, not a subkey's values without subtree", func(t *testing.T) {
		_, s := newTestSession(t)
		h := mustCreate(t, s, `HKLM\SOFTWARE\N`)
		ch, _ := s.Notify(ctx, h, false, REG_NOTIFY_CHANGE_NAME|REG_NOTIFY_CHANGE_LAST_SET)
		sub := mustCreate(t, s, `HKLM\SOFTWARE\N\Sub`)
		if c := recv(t, ch); c.Key != `HKEY_LOCAL_MACHINE\SOFTWARE\N\Sub` || c.Filter != REG_NOTIFY_CHANGE_NAME {
			t.Errorf("change = %+v", c)
		}
		s.SetValue(sub, "v", REG_DWORD, dword(1))
		noChange(t, ch)
		s.DeleteKey(h, "Sub")
		if c := recv(t, ch); c.Filter != REG_NOTIFY_CHANGE_NAME {
			t.Errorf("change = %+v", c)
		}
	})
	t.Run("subtree sees deep changes", func(t *testing.T) {
		_, s := newTestSession(t)
		h := mustCreate(t, s, `HKLM\SOFTWARE\N`)
		deep := mustCreate(t, s, `HKLM\SOFTWARE\N\A\B`)
		ch, _ := s.Notify(ctx, h, true, REG_NOTIFY_CHANGE_LAST_SET)
		s.SetValue(deep, "v", REG_DWORD, dword(1))
		if c := recv(t, ch); c.Key != `HKEY_LOCAL_MACHINE\SOFTWARE\N\A\B` {
			t.Errorf("change = %+v", c)
		}
	})
	t.Run("a change through the link name reaches a watcher of the target and back", func(t *testing.T) {
		r, s := newTestSession(t)
		other := r.NewSession(Owner{PID: 2, Exe: "other"})
		defer other.Close()
		tgt, _ := s.OpenPath(`HKLM\SYSTEM\ControlSet001\Services`)
		viaLink, _ := other.OpenPath(`HKLM\SYSTEM\CurrentControlSet\Services`)
		chT, _ := s.Notify(ctx, tgt, true, REG_NOTIFY_CHANGE_NAME)
		chL, _ := other.Notify(ctx, viaLink, true, REG_NOTIFY_CHANGE_NAME)
		mustCreate(t, other, `HKLM\SYSTEM\CurrentControlSet\Services\One`)
		if c := recv(t, chT); c.Key != `HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\One` {
			t.Errorf("target watcher got %+v", c)
		}
		recv(t, chL)
		mustCreate(t, s, `HKLM\SYSTEM\ControlSet001\Services\Two`)
		recv(t, chL)
		recv(t, chT)
	})
	t.Run("closed when the context ends, the handle closes, or the key is deleted", func(t *testing.T) {
		r, s := newTestSession(t)
		h := mustCreate(t, s, `HKLM\SOFTWARE\N`)
		cctx, cancel := context.WithCancel(ctx)
		ch1, _ := s.Notify(cctx, h, false, REG_NOTIFY_CHANGE_NAME)
		cancel()
		closed(t, ch1)

		ch2, _ := s.Notify(ctx, h, false, REG_NOTIFY_CHANGE_NAME)
		s.CloseKey(h)
		closed(t, ch2)

		h = mustCreate(t, s, `HKLM\SOFTWARE\N`)
		ch3, _ := s.Notify(ctx, h, false, REG_NOTIFY_CHANGE_NAME)
		s.DeleteKey(HKEY_LOCAL_MACHINE, `SOFTWARE\N`)
		if c := recv(t, ch3); c.Key != `HKEY_LOCAL_MACHINE\SOFTWARE\N` {
			t.Errorf("deleted key's change = %+v", c)
		}
		closed(t, ch3)
		if n := r.watchers.Load(); n != 0 {
			t.Errorf("%d watchers left", n)
		}
	})
	t.Run("a reader that does not read never blocks a writer; changes coalesce", func(t *testing.T) {
		_, s := newTestSession(t)
		h := mustCreate(t, s, `HKLM\SOFTWARE\N`)
		ch, _ := s.Notify(ctx, h, true, REG_NOTIFY_CHANGE_LAST_SET)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := range 5000 {
				s.SetValue(h, "v", REG_DWORD, dword(uint32(i)))
			}
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("writer blocked by a watcher that does not read")
		}
		// One key, one kind of change: at most a buffer's worth, far fewer than 5000.
		n := 0
		for {
			select {
			case <-ch:
				n++
				continue
			case <-time.After(100 * time.Millisecond):
			}
			break
		}
		if n == 0 || n > notifyBuffer+2 {
			t.Errorf("%d changes delivered for 5000 writes", n)
		}
	})
	t.Run("a watch on a predefined handle ends with its session", func(t *testing.T) {
		r, _ := newTestSession(t)
		s := r.NewSession(Owner{PID: 3, Exe: "watcher"})
		ch, err := s.Notify(ctx, HKEY_LOCAL_MACHINE, true, REG_NOTIFY_CHANGE_NAME)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		closed(t, ch)
	})
	t.Run("a bad filter: ERROR_INVALID_PARAMETER", func(t *testing.T) {
		_, s := newTestSession(t)
		if _, err := s.Notify(ctx, HKEY_LOCAL_MACHINE, false, 0); err == nil {
			t.Fatal("filter 0 accepted")
		}
	})
}

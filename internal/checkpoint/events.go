package checkpoint

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"wolfpack/internal/eventlog"
)

// restoreRefusedEvent is event 1024: the article's description with %1 the resource and
// %2 the key as given, and named data items for every holder.
func restoreRefusedEvent(res, key string, holders []Holder) eventlog.Event {
	return eventlog.Event{
		Log:      eventlog.LogSystem,
		Source:   eventlog.SourceCluster,
		EventID:  eventlog.EventCheckpointRestoreFailed,
		Type:     eventlog.TypeError,
		Category: eventlog.CategoryCheckpoint,
		PID:      os.Getpid(),
		Strings:  []string{res, key},
		Data:     holderData(holders),
	}
}

// restoreForcedEvent is the warning that a forced restore left the holders' handles stale.
func restoreForcedEvent(res, key string, holders []Holder) eventlog.Event {
	return eventlog.Event{
		Log:      eventlog.LogSystem,
		Source:   eventlog.SourceCluster,
		EventID:  eventlog.EventCheckpointRestoreForced,
		Type:     eventlog.TypeWarning,
		Category: eventlog.CategoryCheckpoint,
		PID:      os.Getpid(),
		Strings:  []string{res, key, holderList(holders)},
		Data:     holderData(holders),
	}
}

// restoreAfterWaitEvent says that Retry succeeded once the handles closed.
func restoreAfterWaitEvent(res, key string, waitedSeconds float64) eventlog.Event {
	return eventlog.Event{
		Log:      eventlog.LogSystem,
		Source:   eventlog.SourceCluster,
		EventID:  eventlog.EventCheckpointRestoreAfterWait,
		Type:     eventlog.TypeInformation,
		Category: eventlog.CategoryCheckpoint,
		PID:      os.Getpid(),
		Strings:  []string{res, key, strconv.FormatFloat(waitedSeconds, 'f', 1, 64)},
	}
}

// restoreAfterRetryEvent says that a restore that had failed for another reason than
// handles (event 1082) succeeded when it was tried again.
func restoreAfterRetryEvent(res, key string, waitedSeconds float64) eventlog.Event {
	return eventlog.Event{
		Log:      eventlog.LogSystem,
		Source:   eventlog.SourceCluster,
		EventID:  eventlog.EventCheckpointRestoreAfterRetry,
		Type:     eventlog.TypeInformation,
		Category: eventlog.CategoryCheckpoint,
		PID:      os.Getpid(),
		Strings:  []string{res, key, strconv.FormatFloat(waitedSeconds, 'f', 1, 64)},
	}
}

// saveFailedEvent is event 1081.
func saveFailedEvent(res, key string, err error) eventlog.Event {
	return errorEvent(eventlog.EventCheckpointSaveFailed, res, key, err)
}

// restoreErrorEvent is event 1082.
func restoreErrorEvent(res, key string, err error) eventlog.Event {
	return errorEvent(eventlog.EventCheckpointRestoreError, res, key, err)
}

func errorEvent(id uint32, res, key string, err error) eventlog.Event {
	return eventlog.Event{
		Log:      eventlog.LogSystem,
		Source:   eventlog.SourceCluster,
		EventID:  id,
		Type:     eventlog.TypeError,
		Category: eventlog.CategoryCheckpoint,
		PID:      os.Getpid(),
		Strings:  []string{res, key, err.Error()},
	}
}

// holderData lists the holders as named data items: Holders (one line each, for
// queries such as Data[@Name='Holders']) and, per holder n, HolderNProcessId,
// HolderNProcessName, HolderNUserId and HolderNKey.
func holderData(holders []Holder) []eventlog.DataItem {
	items := []eventlog.DataItem{{Name: "Holders", Value: holderList(holders)}}
	for i, h := range holders[:min(len(holders), maxListedHolders)] {
		p := fmt.Sprintf("Holder%d", i+1)
		items = append(items,
			eventlog.DataItem{Name: p + "ProcessId", Value: strconv.Itoa(h.PID)},
			eventlog.DataItem{Name: p + "ProcessName", Value: h.Process},
			eventlog.DataItem{Name: p + "UserId", Value: strconv.Itoa(h.UID)},
			eventlog.DataItem{Name: p + "Key", Value: h.Key},
		)
	}
	return items
}

// report writes e, logging (not returning) a failure: an event that cannot be written
// must not change what the cluster does.
func (m *Manager) report(ctx context.Context, e eventlog.Event) {
	if m.events == nil {
		return
	}
	if _, err := m.events.Report(context.WithoutCancel(ctx), e); err != nil {
		m.log.Error("cannot write event", "id", e.EventID, "err", err)
	}
}

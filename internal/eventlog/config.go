package eventlog

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// LogConfig is a log's persistent configuration (wevtutil sl).
type LogConfig struct {
	MaxSize int64 `json:"maxSize"`
	// Retention true is Windows' "do not overwrite events": a full log refuses new
	// records instead of deleting old ones.
	Retention bool `json:"retention"`
	// ClearedBefore makes a clear atomic: segments with a lower sequence number are
	// leftovers of an interrupted clear and are deleted at open.
	ClearedBefore uint64 `json:"clearedBefore,omitempty"`
}

// LogInfo describes a log (wevtutil gl and gli).
type LogInfo struct {
	Name               string    `json:"name"`
	Enabled            bool      `json:"enabled"`
	Type               string    `json:"type"`
	LogFileName        string    `json:"logFileName"`
	Retention          bool      `json:"retention"`
	AutoBackup         bool      `json:"autoBackup"`
	MaxSize            int64     `json:"maxSize"`
	FileSize           int64     `json:"fileSize"`
	NumberOfLogRecords int       `json:"numberOfLogRecords"`
	OldestRecordNumber uint64    `json:"oldestRecordNumber"`
	LastWriteTime      time.Time `json:"lastWriteTime"`
}

func (l *logFile) info() LogInfo {
	l.mu.RLock()
	defer l.mu.RUnlock()
	in := LogInfo{Name: l.name, Enabled: true, Type: "Admin", LogFileName: l.dir,
		Retention: l.cfg.Retention, MaxSize: l.cfg.MaxSize, FileSize: l.size + l.padding(),
		NumberOfLogRecords: len(l.x.recs), LastWriteTime: l.lastWrite}
	if len(l.x.recs) > 0 {
		in.OldestRecordNumber = l.x.recs[0].id
	}
	return in
}

// setConfig stores a new configuration; a smaller maximum takes effect at once.
func (l *logFile) setConfig(cfg LogConfig) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	cfg.ClearedBefore = l.cfg.ClearedBefore
	if err := l.writeConfig(cfg); err != nil {
		return err
	}
	l.cfg = cfg
	// The zero-filled space of the active segment shrinks with the segment limit.
	if a := l.segs[len(l.segs)-1]; a.alloc > max(a.size, l.segmentLimit()) {
		keep := max(a.size, l.segmentLimit())
		if err := a.f.Truncate(keep); err != nil {
			return fmt.Errorf("eventlog: %w", err)
		}
		a.alloc = keep
	}
	for !cfg.Retention && l.size > cfg.MaxSize && len(l.segs) > 1 {
		l.dropOldest()
	}
	return nil
}

// readConfig reads the configuration of the log in dir; without one, or with a maximum
// size below MinMaxSize, the maximum size is defaultMax.
func readConfig(dir string, defaultMax int64) (LogConfig, error) {
	cfg := LogConfig{MaxSize: defaultMax}
	b, err := os.ReadFile(filepath.Join(dir, configFile))
	if errors.Is(err, os.ErrNotExist) {
		return cfg, nil
	} else if err != nil {
		return cfg, fmt.Errorf("eventlog: %w", err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cfg, &FormatError{File: filepath.Join(dir, configFile), Msg: err.Error()}
	}
	if cfg.MaxSize < MinMaxSize {
		cfg.MaxSize = defaultMax
	}
	return cfg, nil
}

// writeConfig stores cfg durably.
func (l *logFile) writeConfig(cfg LogConfig) error {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(l.dir, configFile), append(b, '\n'), 0o600)
}

package wevtutilcmd

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"wolfpack/internal/eventlog"
)

// channelXML is wevtutil gl /f:xml's document: the channel's configuration.
type channelXML struct {
	XMLName   xml.Name `xml:"channel"`
	Name      string   `xml:"name,attr"`
	Enabled   bool     `xml:"enabled,attr"`
	Type      string   `xml:"type,attr"`
	Isolation string   `xml:"isolation,attr"`
	Logging   struct {
		LogFileName string `xml:"logFileName"`
		Retention   bool   `xml:"retention"`
		AutoBackup  bool   `xml:"autoBackup"`
		MaxSize     int64  `xml:"maxSize"`
	} `xml:"logging"`
	FileMax int `xml:"publishing>fileMax"`
}

// writeLogConfig prints a log's configuration as wevtutil gl does (text or XML).
func writeLogConfig(w io.Writer, in eventlog.LogInfo, asXML bool) error {
	if asXML {
		c := channelXML{Name: in.Name, Enabled: in.Enabled, Type: in.Type, Isolation: "Application", FileMax: 1}
		c.Logging.LogFileName, c.Logging.Retention, c.Logging.AutoBackup, c.Logging.MaxSize = in.LogFileName, in.Retention, in.AutoBackup, in.MaxSize
		b, err := xml.Marshal(c)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s%s\n", xml.Header, b)
		return err
	}
	fmt.Fprintf(w, "name: %s\n", in.Name)
	fmt.Fprintf(w, "enabled: %t\n", in.Enabled)
	fmt.Fprintf(w, "type: %s\n", in.Type)
	fmt.Fprintf(w, "owningPublisher: \n")
	fmt.Fprintf(w, "isolation: Application\n")
	fmt.Fprintf(w, "logging:\n")
	fmt.Fprintf(w, "  logFileName: %s\n", in.LogFileName)
	fmt.Fprintf(w, "  retention: %t\n", in.Retention)
	fmt.Fprintf(w, "  autoBackup: %t\n", in.AutoBackup)
	fmt.Fprintf(w, "  maxSize: %d\n", in.MaxSize)
	fmt.Fprintf(w, "publishing:\n")
	_, err := fmt.Fprintf(w, "  fileMax: 1\n")
	return err
}

// writeLogInfo prints a log's status as wevtutil gli does.
func writeLogInfo(w io.Writer, in eventlog.LogInfo) {
	last := ""
	if !in.LastWriteTime.IsZero() {
		last = in.LastWriteTime.UTC().Format(time.RFC3339Nano)
	}
	fmt.Fprintf(w, "lastWriteTime: %s\n", last)
	fmt.Fprintf(w, "fileSize: %d\n", in.FileSize)
	fmt.Fprintf(w, "attributes: 32\n")
	fmt.Fprintf(w, "numberOfLogRecords: %d\n", in.NumberOfLogRecords)
	fmt.Fprintf(w, "oldestRecordNumber: %d\n", in.OldestRecordNumber)
}

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// usage prints wevtutil's help, or one command's.
func usage(w io.Writer, c *command) {
	if c != nil {
		fmt.Fprintf(w, "wevtutil %s (%s) %s", c.short, c.long, strings.Join(c.args, " "))
		for _, short := range slices.Sorted(maps.Keys(c.opts)) {
			long := c.opts[short]
			if _, no := unsupportedOption(c.short, short); !no {
				fmt.Fprintf(w, " [/%s:%s]", short, strings.ToUpper(long))
			}
		}
		fmt.Fprintf(w, " [/r:NODE]\n")
		return
	}
	fmt.Fprint(w, `Wolfpack Events Command Line Utility.

Retrieves information about the node's event logs, runs queries, and exports and
clears logs. Commands and options may be short or long; options are written
/name:value or -name:value and are not case-sensitive.

Usage: wevtutil COMMAND [ARGUMENT [ARGUMENT] ...] [/OPTION:VALUE [/OPTION:VALUE] ...]

Commands:
el | enum-logs          List log names.
gl | get-log            Get log configuration information.   /f:text|xml
gli | get-log-info      Get log status information.          /lf:true (LOG is an exported file)
sl | set-log            Modify configuration of a log.       /ms:BYTES /rt:true|false
cl | clear-log          Clear a log.                         /bu:FILE (back it up first)
epl | export-log        Export a log to a file.              /q:QUERY /lf:true /ow:true
qe | query-events       Query events from a log or file.     /q:QUERY /c:N /rd:true|false
                                                             /f:text|xml|RenderedXml|json /e:ROOT /lf:true
                                                             /bm:FILE (read after a bookmark) /sbm:FILE (save one)

Common options:
/r:NODE | /remote:NODE  Run the command on the cluster node NODE.

Queries are XPath, as Event Viewer writes them, for example
  wevtutil qe System /q:"*[System[Provider[@Name='ClusSvc'] and (EventID=1024)]]" /c:5 /rd:true /f:text
`)
}

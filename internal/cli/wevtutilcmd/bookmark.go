package wevtutilcmd

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strings"

	"wolfpack/internal/winerr"
)

// A bookmark file (qe /bm and /sbm) is Windows' bookmark XML:
//
//	<BookmarkList>
//	  <Bookmark Channel="System" RecordId="1234" IsCurrent="true"/>
//	</BookmarkList>
type bookmarkList struct {
	XMLName   xml.Name   `xml:"BookmarkList"`
	Bookmarks []bookmark `xml:"Bookmark"`
}

type bookmark struct {
	Channel   string `xml:"Channel,attr"`
	RecordID  uint64 `xml:"RecordId,attr"`
	IsCurrent bool   `xml:"IsCurrent,attr"`
}

// readBookmark returns the record number a bookmark file holds for log (any channel
// when the log is an exported file).
func readBookmark(path, log string, file bool) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fileError(err)
	}
	var bl bookmarkList
	if err := xml.Unmarshal(b, &bl); err != nil {
		return 0, &cmdError{code: winerr.ERROR_INVALID_DATA, detail: fmt.Sprintf("%s is not a bookmark file: %v", path, err)}
	}
	for _, bm := range bl.Bookmarks {
		if file || strings.EqualFold(bm.Channel, log) {
			return bm.RecordID, nil
		}
	}
	return 0, &cmdError{code: winerr.ERROR_INVALID_PARAMETER, detail: fmt.Sprintf("The bookmark in %s is not for log %s.", path, log)}
}

// writeBookmark saves a bookmark of record id of channel.
func writeBookmark(path, channel string, id uint64) error {
	return writeFileVia(path, func(w io.Writer) error {
		b, err := xml.MarshalIndent(bookmarkList{Bookmarks: []bookmark{{channel, id, true}}}, "", "  ")
		if err != nil {
			return err
		}
		// Windows writes the empty Bookmark element self-closed; encoding/xml cannot.
		_, err = fmt.Fprintf(w, "%s\n", strings.Replace(string(b), "></Bookmark>", "/>", 1))
		return err
	})
}

// Package wevtutilcmd implements the wevtutil and eventcreate commands with Windows'
// grammar: wevtutil's commands (el, gl, gli, sl, cl, epl, qe and their long names
// enum-logs, get-log, get-log-info, set-log, clear-log, export-log, query-events) with
// options written /name:value or -name:value, and eventcreate's /T /ID /L /SO /D /S.
//
// They reach the node of $WOLFPACK_DATA through its HTTP API (internal/api), or the
// cluster node named by /r:NODE (eventcreate /S NODE). The server evaluates queries and
// returns records; this package formats them (/f:text, xml, RenderedXml, json), so that
// qe /lf:true formats an exported file with the same code. Errors print Windows'
// messages; the exit status is the low byte of the Windows error number (1 when that
// byte is 0), as a Windows error number passed to exit(3) would be.
package wevtutilcmd

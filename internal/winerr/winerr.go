// Package winerr holds Windows' system error messages for the Win32 error codes Wolfpack's
// registry returns, so that the engine (internal/registry) and the public client (registry)
// print the same text as FormatMessage does on Windows. It imports nothing.
package winerr

import "fmt"

var messages = map[uint32]string{
	0:    "The operation completed successfully.",
	2:    "The system cannot find the file specified.",
	5:    "Access is denied.",
	6:    "The handle is invalid.",
	8:    "Not enough memory resources are available to process this command.",
	31:   "A device attached to the system is not functioning.",
	53:   "The network path was not found.",
	87:   "The parameter is incorrect.",
	161:  "The specified path is invalid.",
	183:  "Cannot create a file when that file already exists.",
	234:  "More data is available.",
	259:  "No more data is available.",
	1009: "The configuration registry database is corrupt.",
	1010: "The configuration registry key is invalid.",
	1011: "The configuration registry key could not be opened.",
	1012: "The configuration registry key could not be read.",
	1013: "The configuration registry key could not be written.",
	1014: "One of the files in the registry database had to be recovered by use of a log or alternate copy. The recovery was successful.",
	1015: "The registry is corrupted. The structure of one of the files containing registry data is corrupted, or the system's memory image of the file is corrupted, or the file could not be recovered because the alternate copy or log was absent or corrupted.",
	1016: "An I/O operation initiated by the registry failed unrecoverably. The registry could not read in, or write out, or flush, one of the files that contain the system's image of the registry.",
	1017: "The system has attempted to load or restore a file into the registry, but the specified file is not in a registry file format.",
	1018: "Illegal operation attempted on a registry key that has been marked for deletion.",
	1020: "An attempt was made to create a symbolic link in a registry key that already has subkeys or values.",
	1021: "Cannot create a stable subkey under a volatile parent key.",
	1307: "This security ID may not be assigned as the owner of this object.",
	1314: "A required privilege is not held by the client.",
	1338: "The security descriptor structure is invalid.",
	1450: "Insufficient system resources exist to complete the requested service.",
	1921: "The name of the file cannot be resolved by the system.",
}

// Message returns Windows' message for code, or "Win32 error N." for a code it lacks.
func Message(code uint32) string {
	if s, ok := messages[code]; ok {
		return s
	}
	return fmt.Sprintf("Win32 error %d.", code)
}

// Package winerr holds the Windows error codes Wolfpack answers with (winerror.h), each
// once with its symbolic name and the message FormatMessage gives for it, so that the
// registry engine (internal/registry), the public client (registry), the event log and
// the command-line tools print the same text as Windows does. It imports nothing from
// the project.
package winerr

import "fmt"

// Errno is a Windows error code. Its Error is Windows' message text.
type Errno uint32

// Win32 error codes (winerror.h).
const (
	ERROR_SUCCESS                Errno = 0
	ERROR_FILE_NOT_FOUND         Errno = 2
	ERROR_ACCESS_DENIED          Errno = 5
	ERROR_INVALID_HANDLE         Errno = 6
	ERROR_NOT_ENOUGH_MEMORY      Errno = 8
	ERROR_INVALID_DATA           Errno = 13
	ERROR_GEN_FAILURE            Errno = 31
	ERROR_BAD_NETPATH            Errno = 53
	ERROR_FILE_EXISTS            Errno = 80
	ERROR_INVALID_PARAMETER      Errno = 87
	ERROR_DIR_NOT_EMPTY          Errno = 145
	ERROR_BAD_PATHNAME           Errno = 161
	ERROR_ALREADY_EXISTS         Errno = 183
	ERROR_MORE_DATA              Errno = 234
	ERROR_NO_MORE_ITEMS          Errno = 259
	ERROR_BADDB                  Errno = 1009
	ERROR_BADKEY                 Errno = 1010
	ERROR_CANTOPEN               Errno = 1011
	ERROR_CANTREAD               Errno = 1012
	ERROR_CANTWRITE              Errno = 1013
	ERROR_REGISTRY_RECOVERED     Errno = 1014
	ERROR_REGISTRY_CORRUPT       Errno = 1015
	ERROR_REGISTRY_IO_FAILED     Errno = 1016
	ERROR_NOT_REGISTRY_FILE      Errno = 1017
	ERROR_KEY_DELETED            Errno = 1018
	ERROR_KEY_HAS_CHILDREN       Errno = 1020
	ERROR_CHILD_MUST_BE_VOLATILE Errno = 1021
	ERROR_RETRY                  Errno = 1237
	ERROR_INVALID_OWNER          Errno = 1307
	ERROR_PRIVILEGE_NOT_HELD     Errno = 1314
	ERROR_INVALID_SECURITY_DESCR Errno = 1338
	ERROR_NO_SYSTEM_RESOURCES    Errno = 1450
	ERROR_LOG_FILE_FULL          Errno = 1502
	RPC_S_SERVER_UNAVAILABLE     Errno = 1722
	ERROR_CANT_RESOLVE_FILENAME  Errno = 1921
)

// Cluster API error codes (winerror.h).
const (
	ERROR_DEPENDENT_RESOURCE_EXISTS       Errno = 5001
	ERROR_DEPENDENCY_NOT_FOUND            Errno = 5002
	ERROR_DEPENDENCY_ALREADY_EXISTS       Errno = 5003
	ERROR_HOST_NODE_NOT_AVAILABLE         Errno = 5005
	ERROR_RESOURCE_NOT_FOUND              Errno = 5007
	ERROR_OBJECT_ALREADY_EXISTS           Errno = 5010
	ERROR_GROUP_NOT_FOUND                 Errno = 5013
	ERROR_RESOURCE_ONLINE                 Errno = 5019
	ERROR_INVALID_STATE                   Errno = 5023
	ERROR_RESOURCE_PROPERTIES_STORED      Errno = 5024
	ERROR_CLUSTER_NODE_NOT_FOUND          Errno = 5042
	ERROR_CIRCULAR_DEPENDENCY             Errno = 5044
	ERROR_CLUSTER_NODE_DOWN               Errno = 5050
	ERROR_DEPENDENCY_NOT_ALLOWED          Errno = 5069
	ERROR_CLUSTER_NODE_CANT_HOST_RESOURCE Errno = 5071
	ERROR_CLUSTER_INCOMPATIBLE_VERSIONS   Errno = 5075
	ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND Errno = 5078
)

// Windows Event Log error codes (winerror.h).
const (
	ERROR_EVT_INVALID_QUERY      Errno = 15001
	ERROR_EVT_INVALID_EVENT_DATA Errno = 15005
	ERROR_EVT_CHANNEL_NOT_FOUND  Errno = 15007
)

// fact is what Windows says of a code: its symbolic name and FormatMessage's text.
type fact struct{ name, message string }

var facts = map[Errno]fact{
	ERROR_SUCCESS:                {"ERROR_SUCCESS", "The operation completed successfully."},
	ERROR_FILE_NOT_FOUND:         {"ERROR_FILE_NOT_FOUND", "The system cannot find the file specified."},
	ERROR_ACCESS_DENIED:          {"ERROR_ACCESS_DENIED", "Access is denied."},
	ERROR_INVALID_HANDLE:         {"ERROR_INVALID_HANDLE", "The handle is invalid."},
	ERROR_NOT_ENOUGH_MEMORY:      {"ERROR_NOT_ENOUGH_MEMORY", "Not enough memory resources are available to process this command."},
	ERROR_INVALID_DATA:           {"ERROR_INVALID_DATA", "The data is invalid."},
	ERROR_GEN_FAILURE:            {"ERROR_GEN_FAILURE", "A device attached to the system is not functioning."},
	ERROR_BAD_NETPATH:            {"ERROR_BAD_NETPATH", "The network path was not found."},
	ERROR_FILE_EXISTS:            {"ERROR_FILE_EXISTS", "The file exists."},
	ERROR_INVALID_PARAMETER:      {"ERROR_INVALID_PARAMETER", "The parameter is incorrect."},
	ERROR_DIR_NOT_EMPTY:          {"ERROR_DIR_NOT_EMPTY", "The directory is not empty."},
	ERROR_BAD_PATHNAME:           {"ERROR_BAD_PATHNAME", "The specified path is invalid."},
	ERROR_ALREADY_EXISTS:         {"ERROR_ALREADY_EXISTS", "Cannot create a file when that file already exists."},
	ERROR_MORE_DATA:              {"ERROR_MORE_DATA", "More data is available."},
	ERROR_NO_MORE_ITEMS:          {"ERROR_NO_MORE_ITEMS", "No more data is available."},
	ERROR_BADDB:                  {"ERROR_BADDB", "The configuration registry database is corrupt."},
	ERROR_BADKEY:                 {"ERROR_BADKEY", "The configuration registry key is invalid."},
	ERROR_CANTOPEN:               {"ERROR_CANTOPEN", "The configuration registry key could not be opened."},
	ERROR_CANTREAD:               {"ERROR_CANTREAD", "The configuration registry key could not be read."},
	ERROR_CANTWRITE:              {"ERROR_CANTWRITE", "The configuration registry key could not be written."},
	ERROR_REGISTRY_RECOVERED:     {"ERROR_REGISTRY_RECOVERED", "One of the files in the registry database had to be recovered by use of a log or alternate copy. The recovery was successful."},
	ERROR_REGISTRY_CORRUPT:       {"ERROR_REGISTRY_CORRUPT", "The registry is corrupted. The structure of one of the files containing registry data is corrupted, or the system's memory image of the file is corrupted, or the file could not be recovered because the alternate copy or log was absent or corrupted."},
	ERROR_REGISTRY_IO_FAILED:     {"ERROR_REGISTRY_IO_FAILED", "An I/O operation initiated by the registry failed unrecoverably. The registry could not read in, or write out, or flush, one of the files that contain the system's image of the registry."},
	ERROR_NOT_REGISTRY_FILE:      {"ERROR_NOT_REGISTRY_FILE", "The system has attempted to load or restore a file into the registry, but the specified file is not in a registry file format."},
	ERROR_KEY_DELETED:            {"ERROR_KEY_DELETED", "Illegal operation attempted on a registry key that has been marked for deletion."},
	ERROR_KEY_HAS_CHILDREN:       {"ERROR_KEY_HAS_CHILDREN", "An attempt was made to create a symbolic link in a registry key that already has subkeys or values."},
	ERROR_CHILD_MUST_BE_VOLATILE: {"ERROR_CHILD_MUST_BE_VOLATILE", "Cannot create a stable subkey under a volatile parent key."},
	ERROR_RETRY:                  {"ERROR_RETRY", "The operation could not be completed. A retry should be performed."},
	ERROR_INVALID_OWNER:          {"ERROR_INVALID_OWNER", "This security ID may not be assigned as the owner of this object."},
	ERROR_PRIVILEGE_NOT_HELD:     {"ERROR_PRIVILEGE_NOT_HELD", "A required privilege is not held by the client."},
	ERROR_INVALID_SECURITY_DESCR: {"ERROR_INVALID_SECURITY_DESCR", "The security descriptor structure is invalid."},
	ERROR_NO_SYSTEM_RESOURCES:    {"ERROR_NO_SYSTEM_RESOURCES", "Insufficient system resources exist to complete the requested service."},
	ERROR_LOG_FILE_FULL:          {"ERROR_LOG_FILE_FULL", "The event log file is full."},
	RPC_S_SERVER_UNAVAILABLE:     {"RPC_S_SERVER_UNAVAILABLE", "The RPC server is unavailable."},
	ERROR_CANT_RESOLVE_FILENAME:  {"ERROR_CANT_RESOLVE_FILENAME", "The name of the file cannot be resolved by the system."},

	ERROR_DEPENDENT_RESOURCE_EXISTS:       {"ERROR_DEPENDENT_RESOURCE_EXISTS", "The cluster resource cannot be moved to another group because other resources are dependent on it."},
	ERROR_DEPENDENCY_NOT_FOUND:            {"ERROR_DEPENDENCY_NOT_FOUND", "The cluster resource dependency cannot be found."},
	ERROR_DEPENDENCY_ALREADY_EXISTS:       {"ERROR_DEPENDENCY_ALREADY_EXISTS", "The cluster resource cannot be made dependent on the specified resource because it is already dependent."},
	ERROR_HOST_NODE_NOT_AVAILABLE:         {"ERROR_HOST_NODE_NOT_AVAILABLE", "A cluster node is not available for this operation."},
	ERROR_RESOURCE_NOT_FOUND:              {"ERROR_RESOURCE_NOT_FOUND", "The cluster resource could not be found."},
	ERROR_OBJECT_ALREADY_EXISTS:           {"ERROR_OBJECT_ALREADY_EXISTS", "The object already exists."},
	ERROR_GROUP_NOT_FOUND:                 {"ERROR_GROUP_NOT_FOUND", "The cluster group could not be found."},
	ERROR_RESOURCE_ONLINE:                 {"ERROR_RESOURCE_ONLINE", "The operation could not be completed because the cluster resource is online."},
	ERROR_INVALID_STATE:                   {"ERROR_INVALID_STATE", "The group or resource is not in the correct state to perform the requested operation."},
	ERROR_RESOURCE_PROPERTIES_STORED:      {"ERROR_RESOURCE_PROPERTIES_STORED", "The properties were stored but not all changes will take effect until the next time the resource is brought online."},
	ERROR_CLUSTER_NODE_NOT_FOUND:          {"ERROR_CLUSTER_NODE_NOT_FOUND", "The cluster node was not found."},
	ERROR_CIRCULAR_DEPENDENCY:             {"ERROR_CIRCULAR_DEPENDENCY", "A circular dependency cannot be made."},
	ERROR_CLUSTER_NODE_DOWN:               {"ERROR_CLUSTER_NODE_DOWN", "The cluster node is down."},
	ERROR_DEPENDENCY_NOT_ALLOWED:          {"ERROR_DEPENDENCY_NOT_ALLOWED", "The cluster resources must be in the same group."},
	ERROR_CLUSTER_INCOMPATIBLE_VERSIONS:   {"ERROR_CLUSTER_INCOMPATIBLE_VERSIONS", "The cluster node's version is incompatible with the cluster's version."},
	ERROR_CLUSTER_NODE_CANT_HOST_RESOURCE: {"ERROR_CLUSTER_NODE_CANT_HOST_RESOURCE", "The cluster node cannot host the resource."},
	ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND: {"ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND", "The specified resource type was not found."},

	ERROR_EVT_INVALID_QUERY:      {"ERROR_EVT_INVALID_QUERY", "The specified query is invalid."},
	ERROR_EVT_INVALID_EVENT_DATA: {"ERROR_EVT_INVALID_EVENT_DATA", "The event data raised by the publisher is not compatible with the event template definition in the publisher's manifest."},
	ERROR_EVT_CHANNEL_NOT_FOUND:  {"ERROR_EVT_CHANNEL_NOT_FOUND", "The specified channel could not be found."},
}

// Error returns Windows' message text for the code, or "Win32 error N." for a code this
// package lacks.
func (e Errno) Error() string { return Message(uint32(e)) }

// Name returns the code's symbolic name (ERROR_KEY_DELETED), or "" for a code this
// package lacks.
func (e Errno) Name() string { return facts[e].name }

// Lookup returns Windows' message for code, and whether this package has it.
func Lookup(code uint32) (string, bool) {
	f, ok := facts[Errno(code)]
	return f.message, ok
}

// Message returns Windows' message for code, or "Win32 error N." for a code it lacks.
func Message(code uint32) string {
	if s, ok := Lookup(code); ok {
		return s
	}
	return fmt.Sprintf("Win32 error %d.", code)
}

// Package secdesc is Windows' object security as the registry uses it: security
// identifiers (SIDs), access control lists of allow and deny entries with their
// inheritance flags, self-relative security descriptors (the bytes a hive's sk cell
// holds), the Security Descriptor Definition Language (SDDL), the access check and the
// inheritance of ACEs by new keys.
//
// It follows Microsoft's documentation of the structures in winnt.h (SID, ACL,
// ACE_HEADER, ACCESS_ALLOWED_ACE, SECURITY_DESCRIPTOR_RELATIVE), [MS-DTYP] §2.4 (the
// binary formats and SDDL) and §2.5.3 (the access check algorithm), and "How
// inheritance works" / CreatePrivateObjectSecurityEx for the ACEs a new child object
// gets. Unix identities map to SIDs as Samba maps them: uid u is S-1-22-1-u and gid g
// is S-1-22-2-g (UnixUser, UnixGroup).
//
// Files: sid.go (SIDs, well-known SIDs and their SDDL aliases), sd.go (the binary
// structures: Parse and Bytes), sddl.go (ParseSDDL and SDDL), access.go (Token,
// GenericMapping, MaximumAllowed, AccessCheck), inherit.go (Inherit, Reinherit),
// errors.go (FormatError for bad bytes, SDDLError for bad text).
//
// Nothing in the package trusts its input: Parse checks every offset and size and
// reports damage as a *FormatError naming the byte; ParseSDDL reports a *SDDLError
// naming the position. Neither panics on any input (FuzzParse, FuzzParseSDDL).
package secdesc

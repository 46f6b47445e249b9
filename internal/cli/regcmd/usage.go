package regcmd

// Usage is the help text of reg /? (op "") or of reg OP /?, laid out as reg.exe's.
func Usage(op Op) string {
	if s, ok := usages[op]; ok {
		return s
	}
	return usages[""]
}

const keyHelp = `  KeyName  [\\Node\]FullKey
           Node     Name of another node of the cluster - omitting it means the
                    local node (found through WOLFPACK_DATA).
           FullKey  ROOTKEY\SubKey
           ROOTKEY  [ HKLM | HKU ]  (or HKEY_LOCAL_MACHINE, HKEY_USERS)
           SubKey   The full name of a registry key under the selected ROOTKEY.
`

var usages = map[Op]string{
	"": `
REG Operation [Parameter List]

  Operation  [ QUERY   | ADD    | DELETE  | COPY    |
               SAVE    | LOAD   | UNLOAD  | RESTORE |
               COMPARE | EXPORT | IMPORT  | HANDLES |
               WATCH   | ACL ]

Return Code: (Except for REG COMPARE)

  0 - Successful
  1 - Failed

For help on a specific operation type:

  REG Operation /?

Examples:

  REG QUERY /?
  REG ADD /?
  REG DELETE /?
  REG COPY /?
  REG SAVE /?
  REG RESTORE /?
  REG LOAD /?
  REG UNLOAD /?
  REG COMPARE /?
  REG EXPORT /?
  REG IMPORT /?
  REG HANDLES /?
  REG WATCH /?
  REG ACL /?
`,
	OpQuery: `
REG QUERY KeyName [/v [ValueName] | /ve] [/s]
          [/f Data [/k] [/d] [/c] [/e]] [/t Type] [/se Separator]
          [/reg:32 | /reg:64] [-o json]

` + keyHelp + `
  /v       Queries for a specific registry key value.
           If omitted, all values for the key are queried.

           Argument to this switch can be optional only when specified
           along with /f switch. This specifies to search in valuenames only.

  /ve      Queries for the default value or empty value name (Default).

  /s       Queries all subkeys and values recursively (like dir /s).

  /se      Specifies the separator (length of 1 character only) in
           data string for REG_MULTI_SZ. Defaults to "\0" as the separator.

  /f       Specifies the data or pattern to search for.
           Use double quotes if a string contains spaces. Default is "*".

  /k       Specifies to search in key names only.

  /d       Specifies the search in data only.

  /c       Specifies that the search is case sensitive.
           The default search is case insensitive.

  /e       Specifies to return only exact matches.
           By default all the matches are returned.

  /t       Specifies registry value data type.
           Valid types are:
             REG_SZ, REG_MULTI_SZ, REG_EXPAND_SZ,
             REG_DWORD, REG_QWORD, REG_BINARY, REG_NONE
           Defaults to all types.

  /reg:32  Accepted for compatibility; the registry has one view.

  /reg:64  Accepted for compatibility; the registry has one view.

  -o json  Prints the keys and values as JSON, for scripts.

Examples:

  REG QUERY HKLM\Software\Microsoft\ResKit /v Version
    Displays the value of the registry value Version

  REG QUERY \\ABC\HKLM\Software\Microsoft\ResKit\Nt\Setup /s
    Displays all subkeys and values under the registry key Setup
    on node ABC

  REG QUERY HKLM\SYSTEM\CurrentControlSet\Services /f MSExchange /k
    Displays the keys whose names contain MSExchange
`,
	OpAdd: `
REG ADD KeyName [/v ValueName | /ve] [/t Type] [/s Separator] [/d Data] [/f]
        [/reg:32 | /reg:64]

` + keyHelp + `
  /v       The value name, under the selected Key, to add.

  /ve      adds an empty value name (Default) for the key.

  /t       RegKey data types
           [ REG_SZ    | REG_MULTI_SZ | REG_EXPAND_SZ |
             REG_DWORD | REG_QWORD    | REG_BINARY    | REG_NONE ]
           If omitted, REG_SZ is assumed.

  /s       Specify one character that you use as the separator in your data
           string for REG_MULTI_SZ. If omitted, use "\0" as the separator.

  /d       The data to assign to the registry ValueName being added.

  /f       Force overwriting the existing registry entry without prompt.

Examples:

  REG ADD \\ABC\HKLM\Software\MyCo
    Adds a key HKLM\Software\MyCo on node ABC

  REG ADD HKLM\Software\MyCo /v Data /t REG_BINARY /d fe340ead
    Adds a value (name: Data, type: REG_BINARY, data: fe340ead)

  REG ADD HKLM\Software\MyCo /v MRU /t REG_MULTI_SZ /d fax\0mail
    Adds a value (name: MRU, type: REG_MULTI_SZ, data: fax\0mail\0\0)
`,
	OpDelete: `
REG DELETE KeyName [/v ValueName | /ve | /va | /link] [/f] [/reg:32 | /reg:64]

` + keyHelp + `
  ValueName  The value name, under the selected Key, to delete.
             When omitted, all subkeys and values under the Key are deleted.

  /ve        delete the value of empty value name (Default).

  /va        delete all values under this key.

  /link      Deletes the key, a symbolic link, itself (REG_OPTION_OPEN_LINK):
             without it a key whose name ends at a link is not deleted, as
             that would delete the link's target (Wolfpack's addition).

             Keys the system needs (HKLM\SYSTEM, HKLM\SOFTWARE, SYSTEM\Select,
             the current control set and CurrentControlSet) are never deleted.

  /f         Forcefully deletes registry value without prompt.

Examples:

  REG DELETE HKLM\Software\MyCo\MyApp\Timeout
    Deletes the registry key Timeout and its all subkeys and values

  REG DELETE \\ZODIAC\HKLM\Software\MyCo /v MTU
    Deletes the registry value MTU under MyCo on node ZODIAC
`,
	OpCopy: `
REG COPY KeyName1 KeyName2 [/s] [/f] [/reg:32 | /reg:64]

` + keyHelp + `
  /s       Copies all subkeys and values.

  /f       Forces the copy without prompt.

Examples:

  REG COPY HKLM\Software\MyCo\MyApp HKLM\Software\MyCo\SaveMyApp /s
    Copies all subkeys and values under the key MyApp to the key SaveMyApp

  REG COPY \\ZODIAC\HKLM\Software\MyCo HKLM\Software\MyCo1
    Copies all values under the key MyCo on node ZODIAC to the key MyCo1
    on the local node
`,
	OpCompare: `
REG COMPARE KeyName1 KeyName2 [/v ValueName | /ve] [Output] [/s]
            [/reg:32 | /reg:64]

` + keyHelp + `
  ValueName  The value name, under the selected Key, to compare.
             When omitted, all values under the Key are compared.

  /ve      compare the value of empty value name (Default).

  /s       Compare all subkeys and values.

  Output   [/oa | /od | /os | /on]
           When omitted, output only differences.
    /oa    Output all of differences and matches.
    /od    Output only differences.
    /os    Output only matches.
    /on    No output.

Return Code:

  0 - Successful, the result compared is identical
  1 - Failed
  2 - Successful, the result compared is different

Examples:

  REG COMPARE HKLM\Software\MyCo\MyApp HKLM\Software\MyCo\SaveMyApp
    Compares all values under the key MyApp with SaveMyApp

  REG COMPARE \\ZODIAC\HKLM\Software\MyCo \\. /s
    Compares all subkeys and values under Software\MyCo on ZODIAC with
    the same key on the local node
`,
	OpSave: `
REG SAVE KeyName FileName [/y] [/reg:32 | /reg:64]

` + keyHelp + `
  FileName  The name of the disk file to save. The file is written by reg,
            in the regf hive format, not by the node.

  /y        Force overwriting the existing file without prompt.

Examples:

  REG SAVE HKLM\Software\MyCo\MyApp AppBkUp.hiv
    Saves the hive MyApp to the file AppBkUp.hiv in the current folder
`,
	OpRestore: `
REG RESTORE KeyName FileName [/force] [/reg:32 | /reg:64]

` + keyHelp + `
  FileName  The name of the hive file to restore, read by reg.
            You must create this file using REG SAVE.

  /force    Restore even when other processes hold handles to keys in the
            subtree (their handles then see the restored keys as deleted).
            Without it the restore fails and names the holders.

Examples:

  REG RESTORE HKLM\Software\Microsoft\ResKit NTRKBkUp.hiv
    Restores the file NTRKBkUp.hiv overwriting the key ResKit
`,
	OpLoad: `
REG LOAD KeyName FileName [/reg:32 | /reg:64]

  KeyName    ROOTKEY\SubKey (local node only)
    ROOTKEY  [ HKLM | HKU ]
    SubKey   The key name to load the hive file into. Creates a new key.

  FileName   The name of the hive file to load, read by reg.
             You must create this file using REG SAVE.

Examples:

  REG LOAD HKLM\TempHive TempHive.hiv
    Loads the file TempHive.hiv to the key HKLM\TempHive
`,
	OpUnload: `
REG UNLOAD KeyName

  KeyName    ROOTKEY\SubKey (local node only)
    ROOTKEY  [ HKLM | HKU ]
    SubKey   The key name of the hive to unload.

Examples:

  REG UNLOAD HKLM\TempHive
    Unloads the hive TempHive in HKLM
`,
	OpExport: `
REG EXPORT KeyName FileName [/y] [/hive:HiveFile] [/reg:32 | /reg:64]

` + keyHelp + `
  FileName  The name of the disk file to export (Windows Registry Editor
            Version 5.00, UTF-16LE), written by reg.

  /y       Force overwriting the existing file without prompt.

  /hive    Export a regf hive file (with its .LOG1/.LOG2 logs, when dirty)
           instead of the registry: its root key is written as KeyName. No
           node is needed (Wolfpack's addition; like hivexml or regfexport).

Examples:

  REG EXPORT HKLM\Software\MyCo\MyApp AppBkUp.reg
    Exports all subkeys and values of the key MyApp to the file AppBkUp.reg

  REG EXPORT HKLM\Offline Offline.reg /hive:system.hiv
    Writes the hive file system.hiv as .reg text, its root named HKLM\Offline
`,
	OpImport: `
REG IMPORT FileName [/reg:32 | /reg:64]

  FileName  The name of the disk file to import (local node only); either
            Windows Registry Editor Version 5.00 or REGEDIT4.

Examples:

  REG IMPORT AppBkUp.reg
    Imports registry entries from the file AppBkUp.reg
`,
	OpHandles: `
REG HANDLES [KeyName] [/s] [-o json]

` + keyHelp + `
  Lists the open handles to KeyName, whoever holds them: handle, process id,
  process name, user id, access mask, when it was opened, and the path as it
  was opened (-> the key's own path when it was opened through a link).
  Without KeyName, every open handle is listed.

  /s       Also list the handles to every key below KeyName.

  -o json  Prints the handles as JSON, for scripts.

Examples:

  REG HANDLES HKLM\SYSTEM\CurrentControlSet\Services\MSExchangeIMC /s
    Lists the processes that would block a restore of MSExchangeIMC
`,
	OpWatch: `
REG WATCH KeyName [/s]

` + keyHelp + `
  Keeps a handle to KeyName open and prints each change to it (value set or
  deleted, subkey created or deleted) until interrupted with Ctrl+C.

  /s       Also watch every key below KeyName.

Examples:

  REG WATCH HKLM\Software\MyCo /s
`,
	OpACL: `
REG ACL KeyName [/set SDDL] [-o json]

` + keyHelp + `
  Prints the security descriptor of KeyName (owner, group and DACL) in SDDL,
  on one line. Reading it needs READ_CONTROL on the key.

  /set     Sets the parts of the descriptor that SDDL has: O: the owner and
           G: the group (need WRITE_OWNER; only root may give a key to
           someone else), D: the DACL (needs WRITE_DAC; the owner always may).
           A DACL without the P flag is the key's own ACEs: the ACEs its
           parent passes on follow them. P protects it from inheritance.
           The subkeys' inherited ACEs are recomputed.

           ACE: (A|D;flags;rights;;;SID)  flags: OI CI NP IO  rights: KA KR
           KW KX GA GR GW GX SD RC WD WO or 0xMASK  SID: BA SY WD BU AU CO or
           S-1-...; Unix users are S-1-22-1-UID, groups S-1-22-2-GID.

  -o json  Prints the key, the SDDL, the owner and the group as JSON.

Examples:

  REG ACL HKLM\Software\MyCo
    Prints e.g. O:BAG:SYD:AI(A;ID;KA;;;BA)(A;CIID;KR;;;BU)...

  REG ACL HKLM\Software\MyCo /set "D:(A;CI;KA;;;S-1-22-1-1000)"
    Gives the user of uid 1000 full control of MyCo and its subkeys

  REG ACL HKLM\Software\MyCo\Secret /set "D:P(A;CI;KA;;;BA)(A;CI;KA;;;SY)"
    Only Administrators (root) and SYSTEM may open Secret
`,
}

package imapserver

// commands is the dispatch table: command name (UID commands as "UID
// FETCH") to handler and the states it is valid in. It is fixed at
// initialisation and never changed.
var commands = map[string]command{
	// Any state (RFC 3501 6.1).
	"CAPABILITY": {cmdCapability, stateNotAuth | stateAuth | stateSelected},
	"NOOP":       {cmdNoop, stateNotAuth | stateAuth | stateSelected},
	"LOGOUT":     {cmdLogout, stateNotAuth | stateAuth | stateSelected},
	"ID":         {cmdID, stateNotAuth | stateAuth | stateSelected},

	// Not authenticated (6.2).
	"STARTTLS":     {cmdStartTLS, stateNotAuth},
	"LOGIN":        {cmdLogin, stateNotAuth},
	"AUTHENTICATE": {cmdAuthenticate, stateNotAuth},

	// Authenticated (6.3).
	"ENABLE":       {cmdEnable, stateAuth | stateSelected},
	"SELECT":       {cmdSelect, stateAuth | stateSelected},
	"EXAMINE":      {cmdExamine, stateAuth | stateSelected},
	"CREATE":       {cmdCreate, stateAuth | stateSelected},
	"DELETE":       {cmdDelete, stateAuth | stateSelected},
	"RENAME":       {cmdRename, stateAuth | stateSelected},
	"SUBSCRIBE":    {cmdSubscribe, stateAuth | stateSelected},
	"UNSUBSCRIBE":  {cmdUnsubscribe, stateAuth | stateSelected},
	"LIST":         {cmdList, stateAuth | stateSelected},
	"XLIST":        {cmdXList, stateAuth | stateSelected},
	"LSUB":         {cmdLsub, stateAuth | stateSelected},
	"STATUS":       {cmdStatus, stateAuth | stateSelected},
	"APPEND":       {cmdAppend, stateAuth | stateSelected},
	"NAMESPACE":    {cmdNamespace, stateAuth | stateSelected},
	"IDLE":         {cmdIdle, stateAuth | stateSelected},
	"SETACL":       {cmdSetACL, stateAuth | stateSelected},
	"DELETEACL":    {cmdDeleteACL, stateAuth | stateSelected},
	"GETACL":       {cmdGetACL, stateAuth | stateSelected},
	"LISTRIGHTS":   {cmdListRights, stateAuth | stateSelected},
	"MYRIGHTS":     {cmdMyRights, stateAuth | stateSelected},
	"GETQUOTA":     {cmdGetQuota, stateAuth | stateSelected},
	"GETQUOTAROOT": {cmdGetQuotaRoot, stateAuth | stateSelected},
	"SETQUOTA":     {cmdSetQuota, stateAuth | stateSelected},
	"GETMETADATA":  {cmdGetMetadata, stateAuth | stateSelected},
	"SETMETADATA":  {cmdSetMetadata, stateAuth | stateSelected},
	"COMPRESS":     {cmdCompress, stateAuth | stateSelected},

	// Selected (6.4).
	"CHECK":       {cmdCheck, stateSelected},
	"CLOSE":       {cmdClose, stateSelected},
	"UNSELECT":    {cmdUnselect, stateSelected},
	"EXPUNGE":     {cmdExpunge, stateSelected},
	"UID EXPUNGE": {cmdUIDExpunge, stateSelected},
	"SEARCH":      {cmdSearch, stateSelected},
	"UID SEARCH":  {cmdUIDSearch, stateSelected},
	"SORT":        {cmdSort, stateSelected},
	"UID SORT":    {cmdUIDSort, stateSelected},
	"THREAD":      {cmdThread, stateSelected},
	"UID THREAD":  {cmdUIDThread, stateSelected},
	"FETCH":       {cmdFetch, stateSelected},
	"UID FETCH":   {cmdUIDFetch, stateSelected},
	"STORE":       {cmdStore, stateSelected},
	"UID STORE":   {cmdUIDStore, stateSelected},
	"COPY":        {cmdCopy, stateSelected},
	"UID COPY":    {cmdUIDCopy, stateSelected},
	"MOVE":        {cmdMove, stateSelected},
	"UID MOVE":    {cmdUIDMove, stateSelected},
}

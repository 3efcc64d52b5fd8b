package sieve

// The argument grammar of every command and test, as the RFCs give it in
// their "Usage:" lines. The validator checks scripts against these tables;
// nothing here changes after package initialisation.

// argType is the type of an argument (RFC 5228 1.1: "string",
// "string-list", "number").
type argType uint8

const (
	aString argType = iota + 1
	aStringList
	aNumber
)

func (t argType) String() string {
	switch t {
	case aString:
		return "string"
	case aStringList:
		return "string list"
	case aNumber:
		return "number"
	}
	return "nothing"
}

// tagSpec describes a tagged argument.
type tagSpec struct {
	arg argType // its parameter, 0 for none
	// ext: one of these capabilities must be required to use the tag.
	ext []string
	// group: at most one tag of a group may be given.
	group string
}

// cmdSpec describes a command or a test.
type cmdSpec struct {
	// ext: one of these capabilities must be required.
	ext  []string
	tags map[string]tagSpec
	// pos are the positional arguments. The first optLead of them may
	// be left out (setflag [<variablename>] <flags>), as may the last
	// optTrail (deleteheader <name> [<value-patterns>]).
	pos      []argType
	optLead  int
	optTrail int
	// test: 0 none, 1 exactly one, 2 a list of one or more.
	test int
	// block: whether a block must follow (true) or must not.
	block bool
	// cmpMatch: takes COMPARATOR and MATCH-TYPE; addrPart: ADDRESS-PART.
	cmpMatch bool
	addrPart bool
}

func exts(names ...string) []string { return names }

// merge builds a tag table from several.
func merge(ms ...map[string]tagSpec) map[string]tagSpec {
	out := map[string]tagSpec{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// Common tag families.
var (
	// RFC 5228 2.7.1, 2.7.3; RFC 5231 (relational); regex draft.
	matchTags = map[string]tagSpec{
		"is":         {group: "match"},
		"contains":   {group: "match"},
		"matches":    {group: "match"},
		"regex":      {group: "match", ext: exts("regex")},
		"count":      {arg: aString, group: "match", ext: exts("relational")},
		"value":      {arg: aString, group: "match", ext: exts("relational")},
		"comparator": {arg: aString, group: "comparator"},
	}
	// RFC 5228 2.7.4; RFC 5233.
	addrTags = map[string]tagSpec{
		"all":       {group: "addrpart"},
		"localpart": {group: "addrpart"},
		"domain":    {group: "addrpart"},
		"user":      {group: "addrpart", ext: exts("subaddress")},
		"detail":    {group: "addrpart", ext: exts("subaddress")},
	}
	// RFC 5260 6.
	indexTags = map[string]tagSpec{
		"index": {arg: aNumber, ext: exts("index")},
		"last":  {ext: exts("index")},
	}
	// RFC 5703 4.1-4.3 (:mime and its options on header, address, exists).
	mimeTags = map[string]tagSpec{
		"mime":        {ext: exts("mime")},
		"anychild":    {ext: exts("mime")},
		"type":        {ext: exts("mime"), group: "mimeopt"},
		"subtype":     {ext: exts("mime"), group: "mimeopt"},
		"contenttype": {ext: exts("mime"), group: "mimeopt"},
		"param":       {arg: aStringList, ext: exts("mime"), group: "mimeopt"},
	}
	// RFC 5229 4.1 modifiers, with :quoteregex (regex draft) and
	// :encodeurl (RFC 5435 4.1). The group is the precedence.
	modifierTags = map[string]tagSpec{
		"lower":         {group: "40"},
		"upper":         {group: "40"},
		"lowerfirst":    {group: "30"},
		"upperfirst":    {group: "30"},
		"quotewildcard": {group: "20"},
		"quoteregex":    {group: "20", ext: exts("regex")},
		"encodeurl":     {group: "15", ext: exts("enotify")},
		"length":        {group: "10"},
	}
	// RFC 8580 (fcc) on vacation and notify.
	fccTags = map[string]tagSpec{
		"fcc":        {arg: aString, ext: exts("fcc")},
		"create":     {ext: exts("fcc")},
		"flags":      {arg: aStringList, ext: exts("fcc")},
		"specialuse": {arg: aString, ext: exts("fcc")},
		"mailboxid":  {arg: aString, ext: exts("fcc")},
	}
)

// commandSpecs are the commands (actions and control structures).
var commandSpecs = map[string]*cmdSpec{
	// RFC 5228 3.
	"require": {pos: []argType{aStringList}},
	"if":      {test: 1, block: true},
	"elsif":   {test: 1, block: true},
	"else":    {block: true},
	"stop":    {},
	// RFC 5228 4; RFC 5232 (:flags); RFC 3894 (:copy); RFC 5490 (:create);
	// RFC 8579 (:specialuse); RFC 9042 (:mailboxid); RFC 6009 (DSN and
	// deliver-by parameters of redirect).
	"keep": {tags: map[string]tagSpec{
		"flags": {arg: aStringList, ext: exts("imap4flags")},
	}},
	"discard": {},
	"redirect": {pos: []argType{aString}, tags: map[string]tagSpec{
		"copy":           {ext: exts("copy")},
		"notify":         {arg: aString, ext: exts("redirect-dsn")},
		"ret":            {arg: aString, ext: exts("redirect-dsn")},
		"bytimerelative": {arg: aNumber, ext: exts("redirect-deliverby"), group: "bytime"},
		"bytimeabsolute": {arg: aString, ext: exts("redirect-deliverby"), group: "bytime"},
		"bymode":         {arg: aString, ext: exts("redirect-deliverby")},
		"bytrace":        {ext: exts("redirect-deliverby")},
	}},
	"fileinto": {ext: exts("fileinto"), pos: []argType{aString}, tags: map[string]tagSpec{
		"copy":       {ext: exts("copy")},
		"flags":      {arg: aStringList, ext: exts("imap4flags")},
		"create":     {ext: exts("mailbox")},
		"specialuse": {arg: aString, ext: exts("special-use")},
		"mailboxid":  {arg: aString, ext: exts("mailboxid")},
	}},
	// RFC 5429.
	"reject":  {ext: exts("reject"), pos: []argType{aString}},
	"ereject": {ext: exts("ereject"), pos: []argType{aString}},
	// RFC 5230; RFC 6131 (:seconds).
	"vacation": {ext: exts("vacation", "vacation-seconds"), pos: []argType{aString}, tags: merge(fccTags, map[string]tagSpec{
		"days":      {arg: aNumber, group: "period"},
		"seconds":   {arg: aNumber, group: "period", ext: exts("vacation-seconds")},
		"subject":   {arg: aString},
		"from":      {arg: aString},
		"addresses": {arg: aStringList},
		"mime":      {},
		"handle":    {arg: aString},
	})},
	// RFC 5232 3; the imapflags draft (mark, unmark).
	"setflag":    {ext: exts("imap4flags", "imapflags"), pos: []argType{aString, aStringList}, optLead: 1},
	"addflag":    {ext: exts("imap4flags", "imapflags"), pos: []argType{aString, aStringList}, optLead: 1},
	"removeflag": {ext: exts("imap4flags", "imapflags"), pos: []argType{aString, aStringList}, optLead: 1},
	"mark":       {ext: exts("imapflags")},
	"unmark":     {ext: exts("imapflags")},
	// RFC 5435 3.
	"notify": {ext: exts("enotify"), pos: []argType{aString}, tags: merge(fccTags, map[string]tagSpec{
		"from":       {arg: aString},
		"importance": {arg: aString},
		"options":    {arg: aStringList},
		"message":    {arg: aString},
	})},
	// RFC 5293.
	"addheader": {ext: exts("editheader"), pos: []argType{aString, aString}, tags: map[string]tagSpec{
		"last": {},
	}},
	"deleteheader": {ext: exts("editheader"), pos: []argType{aString, aStringList}, optTrail: 1, cmpMatch: true, tags: map[string]tagSpec{
		"index": {arg: aNumber},
		"last":  {},
	}},
	// RFC 5229 4.
	"set": {ext: exts("variables"), pos: []argType{aString, aString}, tags: modifierTags},
	// RFC 6609.
	"include": {ext: exts("include"), pos: []argType{aString}, tags: map[string]tagSpec{
		"personal": {group: "location"},
		"global":   {group: "location"},
		"once":     {},
		"optional": {},
	}},
	"return": {ext: exts("include")},
	"global": {ext: exts("include"), pos: []argType{aStringList}},
	// RFC 5463 5.
	"error": {ext: exts("ihave"), pos: []argType{aString}},
	// RFC 5703 3, 7.
	"foreverypart": {ext: exts("foreverypart"), block: true, tags: map[string]tagSpec{
		"name": {arg: aString},
	}},
	"break": {ext: exts("foreverypart"), tags: map[string]tagSpec{
		"name": {arg: aString},
	}},
	"extracttext": {ext: exts("extracttext"), pos: []argType{aString}, tags: merge(modifierTags, map[string]tagSpec{
		"first": {arg: aNumber},
	})},
}

// testSpecs are the tests.
var testSpecs = map[string]*cmdSpec{
	// RFC 5228 5.
	"address":  {pos: []argType{aStringList, aStringList}, cmpMatch: true, addrPart: true, tags: merge(indexTags, mimeTags)},
	"allof":    {test: 2},
	"anyof":    {test: 2},
	"envelope": {ext: exts("envelope"), pos: []argType{aStringList, aStringList}, cmpMatch: true, addrPart: true},
	"exists": {pos: []argType{aStringList}, tags: map[string]tagSpec{
		"mime":     {ext: exts("mime")},
		"anychild": {ext: exts("mime")},
	}},
	"false":  {},
	"header": {pos: []argType{aStringList, aStringList}, cmpMatch: true, tags: merge(indexTags, mimeTags)},
	"not":    {test: 1},
	"size": {tags: map[string]tagSpec{
		"over":  {arg: aNumber, group: "size"},
		"under": {arg: aNumber, group: "size"},
	}},
	"true": {},
	// RFC 5173.
	"body": {ext: exts("body"), pos: []argType{aStringList}, cmpMatch: true, tags: map[string]tagSpec{
		"raw":     {group: "transform"},
		"text":    {group: "transform"},
		"content": {arg: aStringList, group: "transform"},
	}},
	// RFC 5260.
	"date": {ext: exts("date"), pos: []argType{aString, aString, aStringList}, cmpMatch: true, tags: merge(indexTags, map[string]tagSpec{
		"zone":         {arg: aString, group: "zone"},
		"originalzone": {group: "zone"},
	})},
	"currentdate": {ext: exts("date"), pos: []argType{aString, aStringList}, cmpMatch: true, tags: map[string]tagSpec{
		"zone": {arg: aString},
	}},
	// RFC 5229 5.
	"string": {ext: exts("variables"), pos: []argType{aStringList, aStringList}, cmpMatch: true},
	// RFC 5232 4.
	"hasflag": {ext: exts("imap4flags"), pos: []argType{aStringList, aStringList}, optLead: 1, cmpMatch: true},
	// RFC 5490.
	"mailboxexists":        {ext: exts("mailbox"), pos: []argType{aStringList}},
	"metadata":             {ext: exts("mboxmetadata"), pos: []argType{aString, aString, aStringList}, cmpMatch: true},
	"metadataexists":       {ext: exts("mboxmetadata"), pos: []argType{aString, aStringList}},
	"servermetadata":       {ext: exts("servermetadata"), pos: []argType{aString, aStringList}, cmpMatch: true},
	"servermetadataexists": {ext: exts("servermetadata"), pos: []argType{aStringList}},
	// RFC 8579 (special-use), RFC 9042 (mailboxid).
	"specialuse_exists": {ext: exts("special-use"), pos: []argType{aString, aStringList}, optLead: 1},
	"mailboxidexists":   {ext: exts("mailboxid"), pos: []argType{aStringList}},
	// RFC 5435 5, 6.
	"valid_notify_method":      {ext: exts("enotify"), pos: []argType{aStringList}},
	"notify_method_capability": {ext: exts("enotify"), pos: []argType{aString, aString, aStringList}, cmpMatch: true},
	// RFC 7352.
	"duplicate": {ext: exts("duplicate"), tags: map[string]tagSpec{
		"handle":   {arg: aString},
		"header":   {arg: aString, group: "uniqueid"},
		"uniqueid": {arg: aString, group: "uniqueid"},
		"seconds":  {arg: aNumber},
		"last":     {},
	}},
	// RFC 5183.
	"environment": {ext: exts("environment"), pos: []argType{aString, aStringList}, cmpMatch: true},
	// RFC 5463.
	"ihave": {ext: exts("ihave"), pos: []argType{aStringList}},
	// RFC 3685.
	"spamtest":  {ext: exts("spamtest"), pos: []argType{aString}, cmpMatch: true},
	"virustest": {ext: exts("virustest"), pos: []argType{aString}, cmpMatch: true},
}

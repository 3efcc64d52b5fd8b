package sieve

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// Messages of the table.
const (
	msgCoyote = `From: coyote@desert.example.org
To: roadrunner@acme.example.com
Subject: I have a present for you
Message-ID: <1@desert.example.org>
Date: Sun, 01 Jul 2007 09:15:00 -0700

Look, I'm sorry about the whole anvil thing.
`
	msgMoney = `From: spammer@bulk.example.net
To: victim@example.org
Subject: Make MONEY fast
Date: Sat, 30 Jun 2007 23:00:00 +0000

MAKE MONEY FAST
`
	msgLists = `From: someone@example.net
Sender: owner-ietf-mta-filters@imc.org
To: ietf-mta-filters@imc.org
Subject: [acme-users] [fwd] version 1.0 is out
List-ID: Acme users <acme-users@example.com>
X-Priority: 1

hi
`
	msgCompany = `From: boss@example.com
To: me@example.com, "Tim" <tjs@example.edu>, rjs@example.edu
Cc: a@example.org, b@example.org
X-Priority: 3
X-Caffeine:
Subject: meeting

agenda
`
	msgMime = `From: a@example.org
To: me@example.com
Subject: pics
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

prologue text
--outer
Content-Type: text/plain; charset=us-ascii

Hello there
--outer
Content-Type: image/png; name="x.png"
Content-Transfer-Encoding: base64

aGVsbG8=
--outer
Content-Type: text/html; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

<p>caf=E9</p>
--outer--
epilogue
`
)

type rfcCase struct {
	name   string
	script string
	msg    string
	env    *Env
	want   []string
	err    string // a runtime error expected (substring)
}

func envTo(from, to string) *Env {
	return &Env{Envelope: Envelope{From: from, To: to}}
}

// rfcCases are the examples of the RFCs, and the rules they state, as
// (script, message, envelope) -> actions.
var rfcCases = []rfcCase{
	// RFC 5228 2.10.2: nothing done, implicit keep.
	{name: "5228 empty", script: ``, msg: msgCoyote, want: []string{"keep implicit"}},
	// RFC 5228 3.1 example.
	{name: "5228 3.1 discard coyote", script: `require "fileinto";
if header :contains "from" "coyote" {
   discard;
} elsif header :contains ["subject"] ["$$$"] {
   discard;
} else {
   fileinto "INBOX";
}`, msg: msgCoyote, want: []string{"discard"}},
	{name: "5228 3.1 else fileinto INBOX is keep", script: `require "fileinto";
if header :contains "from" "coyote" { discard; }
elsif header :contains ["subject"] ["$$$"] { discard; }
else { fileinto "INBOX"; }`, msg: msgMoney, want: []string{"keep"}},
	// 3.3 stop.
	{name: "5228 stop keeps implicitly", script: `stop; discard;`, msg: msgCoyote, want: []string{"keep implicit"}},
	// 4.1.
	{name: "5228 4.1 fileinto", script: `require "fileinto";
if header :contains ["from"] "coyote" { fileinto "INBOX.harassment"; }`, msg: msgCoyote, want: []string{"fileinto INBOX.harassment"}},
	// 4.2.
	{name: "5228 4.2 redirect", script: `redirect "bart@example.com";`, msg: msgCoyote, want: []string{"redirect bart@example.com"}},
	// 4.3 keep with discard: keep wins what discard cancels.
	{name: "5228 4.3 keep and discard", script: `keep; discard;`, msg: msgCoyote, want: []string{"keep", "discard"}},
	// 2.10.3: two deliveries to one mailbox file once.
	{name: "5228 2.10.3 duplicate fileinto", script: `require "fileinto"; fileinto "a"; fileinto "a"; keep; keep;`, msg: msgCoyote, want: []string{"fileinto a", "keep"}},
	// 5.1 address.
	{name: "5228 5.1 address all", script: `if address :is :all "from" "coyote@desert.example.org" { discard; }`, msg: msgCoyote, want: []string{"discard"}},
	{name: "5228 5.1 address domain case", script: `if address :DOMAIN :is "from" "DESERT.example.org" { discard; }`, msg: msgCoyote, want: []string{"discard"}},
	{name: "5228 5.1 address localpart octet", script: `if address :localpart :comparator "i;octet" :is "from" "Coyote" { discard; }`, msg: msgCoyote, want: []string{"keep implicit"}},
	// 5.3 anyof/allof/not, with short-circuit.
	{name: "5228 5.2 allof", script: `if allof (header :contains "subject" "present", not exists "X-Nope") { discard; }`, msg: msgCoyote, want: []string{"discard"}},
	{name: "5228 5.3 anyof", script: `if anyof (false, size :under 1) { discard; }`, msg: msgCoyote, want: []string{"keep implicit"}},
	// 5.4 envelope.
	{name: "5228 5.4 envelope", script: `require "envelope";
if envelope :all :is "from" "tim@example.com" { discard; }`, msg: msgCoyote, env: envTo("tim@example.com", "me@example.com"), want: []string{"discard"}},
	{name: "5228 5.4 null reverse path", script: `require "envelope";
if envelope :domain :is "from" "" { discard; }`, msg: msgCoyote, env: envTo("", "me@example.com"), want: []string{"discard"}},
	// 5.5 exists.
	{name: "5228 5.5 exists", script: `if not exists ["From","Date"] { discard; }`, msg: msgLists, want: []string{"discard"}},
	// 5.7 header, empty value.
	{name: "5228 5.7 empty header is", script: `if header :is ["X-Caffeine"] [""] { discard; }`, msg: msgCompany, want: []string{"discard"}},
	{name: "5228 5.7 contains empty", script: `if header :contains ["X-Caffeine"] [""] { discard; }`, msg: msgCompany, want: []string{"discard"}},
	{name: "5228 5.7 absent header", script: `if header :contains ["X-Caffeine"] [""] { discard; }`, msg: msgCoyote, want: []string{"keep implicit"}},
	// 5.9 size.
	{name: "5228 5.9 size", script: `if size :over 500K { discard; } elsif size :under 1K { keep; }`, msg: msgCoyote, want: []string{"keep"}},
	// 2.7.1 :matches wildcards and escapes.
	{name: "5228 2.7.1 matches", script: `if header :matches "subject" "*make*money*fast*" { discard; }`, msg: msgMoney, want: []string{"discard"}},
	{name: "5228 2.7.1 escaped star", script: `if header :matches "subject" "\\*" { discard; }`, msg: msgMoney, want: []string{"keep implicit"}},
	{name: "5228 2.7.1 question mark", script: `if header :matches "subject" "I have ? present for you" { discard; }`, msg: msgCoyote, want: []string{"discard"}},
	// RFC 4790 9.3 i;ascii-numeric.
	{name: "4790 numeric", script: `require ["relational", "comparator-i;ascii-numeric"];
if header :value "lt" :comparator "i;ascii-numeric" "x-priority" "3" { discard; }`, msg: msgLists, want: []string{"discard"}},
	{name: "4790 numeric infinity", script: `require ["relational", "comparator-i;ascii-numeric"];
if header :value "gt" :comparator "i;ascii-numeric" "subject" "99999" { discard; }`, msg: msgLists, want: []string{"discard"}},
	// RFC 5228 section 9 example, four messages.
	{name: "5228 9 lists", script: example9, msg: msgLists, want: []string{"fileinto filter"}},
	{name: "5228 9 company", script: example9, msg: msgCompany, want: []string{"keep"}},
	{name: "5228 9 spam", script: example9, msg: msgMoney, want: []string{"fileinto spam"}},
	{name: "5228 9 personal", script: example9, msg: strings.Replace(msgCoyote, "roadrunner@acme.example.com", "me@example.com.au", 1), want: []string{"fileinto personal"}},
	// 2.4.2.4 encoded-character.
	{name: "5228 encoded-character", script: `require ["encoded-character", "fileinto"];
fileinto "${hex:49 4E 42 4F 58}.${unicode:0066 006F 006F}";`, msg: msgCoyote, want: []string{"fileinto INBOX.foo"}},
	{name: "5228 encoded-character needs require", script: `require "fileinto";
fileinto "${hex:41}";`, msg: msgCoyote, want: []string{"fileinto ${hex:41}"}},

	// RFC 3894 :copy.
	{name: "3894 fileinto copy", script: `require ["fileinto", "copy"];
fileinto :copy "incoming";`, msg: msgCoyote, want: []string{"fileinto incoming copy", "keep implicit"}},
	{name: "3894 redirect copy", script: `require "copy";
redirect :copy "c@example.com";`, msg: msgCoyote, want: []string{"redirect c@example.com copy", "keep implicit"}},

	// RFC 5229 variables.
	{name: "5229 3 match variables", script: `require ["fileinto", "variables"];
if header :matches "List-ID" "*<*@*" {
    fileinto "INBOX.lists.${2}"; stop;
}`, msg: msgLists, want: []string{"fileinto INBOX.lists.acme-users"}},
	{name: "5229 3.2 non-greedy", script: `require ["fileinto", "variables"];
if header :matches "Subject" "[*] *" { fileinto "INBOX.lists.${1}"; fileinto "x${2}"; }`, msg: msgLists,
		want: []string{"fileinto INBOX.lists.acme-users", "fileinto x[fwd] version 1.0 is out"}},
	{name: "5229 3.2 address matches", script: `require ["fileinto", "variables"];
if address :matches ["To", "Cc"] ["coyote@**.com", "roadrunner@**.com"] {
    fileinto "INBOX.business.${2}.${1}.${0}";
}`, msg: msgCoyote, want: []string{"fileinto INBOX.business.acme.example..roadrunner@acme.example.com"}},
	{name: "5229 4.1 modifiers", script: `require ["variables", "fileinto"];
set "a" "juMBlEd lETteRS";
set :length "b" "${a}"; fileinto "${b}";
set :lower "b" "${a}"; fileinto "${b}";
set :upperfirst "b" "${a}"; fileinto "${b}";
set :upperfirst :lower "b" "${a}"; fileinto "${b}";
set :quotewildcard "b" "Rock*"; fileinto "${b}";`, msg: msgCoyote,
		want: []string{"fileinto 15", "fileinto jumbled letters", "fileinto JuMBlEd lETteRS", "fileinto Jumbled letters", `fileinto Rock\*`}},
	{name: "5229 3 names case-insensitive, unknown empty", script: `require ["variables", "fileinto"];
set "honorific" "Mr"; set "last_name" "Coyote";
fileinto "${HONORIFIC} ${last_name}${unknown}${}.${1}";`, msg: msgCoyote, want: []string{"fileinto Mr Coyote${}."}},
	{name: "5229 5 string test", script: `require ["variables", "relational"];
set "state" "a pending b";
if string :matches " ${state} " "* pending *" { discard; }
if string :count "eq" ["", "x", "y"] "2" { keep; }`, msg: msgCoyote, want: []string{"discard", "keep"}},
	{name: "5229 multiline text with variables", script: `require ["variables", "vacation"];
set "who" "Wile";
vacation :subject "away" text:
Dear ${who},
..dotted
.
;`, msg: msgCoyote, env: envTo("coyote@desert.example.org", "roadrunner@acme.example.com"),
		want: []string{`vacation to=coyote@desert.example.org from=roadrunner@acme.example.com subject="away" period=168h0m0s`, "keep implicit"}},

	// RFC 5230 vacation.
	{name: "5230 default subject and period", script: `require "vacation";
vacation :days 23 :addresses ["tjs@example.edu", "ts4z@landru.example.edu"] "I'm away";`,
		msg: msgCompany, env: envTo("boss@example.com", "tjs@example.edu"),
		want: []string{`vacation to=boss@example.com from=tjs@example.edu subject="Auto: meeting" period=552h0m0s`, "keep implicit"}},
	{name: "5230 4.1 minimum period", script: `require "vacation"; vacation :days 1 "x";`,
		msg: msgCoyote, env: envTo("coyote@desert.example.org", "roadrunner@acme.example.com"),
		want: []string{`vacation to=coyote@desert.example.org from=roadrunner@acme.example.com subject="Auto: I have a present for you" period=72h0m0s`, "keep implicit"}},
	{name: "6131 seconds", script: `require "vacation-seconds"; vacation :seconds 1000000 :from "me@example.com" "x";`,
		msg: msgCoyote, env: envTo("coyote@desert.example.org", "roadrunner@acme.example.com"),
		want: []string{`vacation to=coyote@desert.example.org from=me@example.com subject="Auto: I have a present for you" period=277h46m40s`, "keep implicit"}},
	{name: "5230 4.5 not addressed to me", script: `require "vacation"; vacation "x";`,
		msg: msgCoyote, env: envTo("coyote@desert.example.org", "other@acme.example.com"), want: []string{"keep implicit"}},
	{name: "5230 4.6 list mail", script: `require "vacation"; vacation "x";`,
		msg: msgLists, env: envTo("owner@imc.org", "ietf-mta-filters@imc.org"), want: []string{"keep implicit"}},
	{name: "5230 4.6 owner- sender", script: `require "vacation"; vacation "x";`,
		msg: msgCoyote, env: envTo("owner-list@desert.example.org", "roadrunner@acme.example.com"), want: []string{"keep implicit"}},
	{name: "5230 4.6 auto-submitted", script: `require "vacation"; vacation "x";`,
		msg: "Auto-Submitted: auto-replied\n" + msgCoyote, env: envTo("coyote@desert.example.org", "roadrunner@acme.example.com"), want: []string{"keep implicit"}},
	{name: "5230 4.6 auto-submitted no", script: `require "vacation"; vacation :subject "s" "x";`,
		msg: "Auto-Submitted: no\n" + msgCoyote, env: envTo("coyote@desert.example.org", "roadrunner@acme.example.com"),
		want: []string{`vacation to=coyote@desert.example.org from=roadrunner@acme.example.com subject="s" period=168h0m0s`, "keep implicit"}},
	{name: "5230 4.6 -request sender", script: `require "vacation"; vacation "x";`,
		msg: msgCoyote, env: envTo("list-request@desert.example.org", "roadrunner@acme.example.com"), want: []string{"keep implicit"}},
	{name: "5230 4.6 mailer-daemon", script: `require "vacation"; vacation "x";`,
		msg: msgCoyote, env: envTo("MAILER-DAEMON@desert.example.org", "roadrunner@acme.example.com"), want: []string{"keep implicit"}},
	{name: "5230 4.6 precedence bulk", script: `require "vacation"; vacation "x";`,
		msg: "Precedence: bulk\n" + msgCoyote, env: envTo("coyote@desert.example.org", "roadrunner@acme.example.com"), want: []string{"keep implicit"}},
	{name: "5230 4.5 own address", script: `require "vacation"; vacation :addresses "coyote@desert.example.org" "x";`,
		msg: msgCoyote, env: envTo("coyote@desert.example.org", "roadrunner@acme.example.com"), want: []string{"keep implicit"}},
	{name: "5230 4.5 own envelope address", script: `require "vacation"; vacation "x";`,
		msg: msgCoyote, env: envTo("Roadrunner@acme.example.com", "roadrunner@acme.example.com"), want: []string{"keep implicit"}},
	{name: "5230 4.5 named by :addresses in Cc", script: `require "vacation"; vacation :addresses "b@example.org" :subject "s" "x";`,
		msg: msgCompany, env: envTo("boss@example.com", "me@elsewhere.example"),
		want: []string{`vacation to=boss@example.com from=me@elsewhere.example subject="s" period=168h0m0s`, "keep implicit"}},
	{name: "cyrus x-ignorevacation", script: `require "vacation"; vacation "x";`,
		msg: "X-Ignorevacation: yes\n" + msgCoyote, env: envTo("coyote@desert.example.org", "roadrunner@acme.example.com"), want: []string{"keep implicit"}},
	{name: "5230 4.1 maximum period", script: `require "vacation"; vacation :days 1000 "x";`,
		msg: msgCoyote, env: &Env{Envelope: Envelope{From: "coyote@desert.example.org", To: "roadrunner@acme.example.com"}, VacationMax: 10 * 24 * time.Hour},
		want: []string{`vacation to=coyote@desert.example.org from=roadrunner@acme.example.com subject="Auto: I have a present for you" period=240h0m0s`, "keep implicit"}},
	{name: "6131 seconds below the site minimum", script: `require "vacation-seconds"; vacation :seconds 0 :mime :handle "h" "Content-Type: text/plain\r\n\r\nx";`,
		msg: msgCoyote, env: &Env{Envelope: Envelope{From: "coyote@desert.example.org", To: "roadrunner@acme.example.com"}, VacationMin: time.Hour},
		want: []string{`vacation to=coyote@desert.example.org from=roadrunner@acme.example.com subject="Auto: I have a present for you" period=1h0m0s mime`, "keep implicit"}},
	{name: "5230 null sender", script: `require "vacation"; vacation "x";`,
		msg: msgCoyote, env: envTo("", "roadrunner@acme.example.com"), want: []string{"keep implicit"}},
	{name: "5230 4.2 already answered", script: `require "vacation"; vacation "x";`,
		msg: msgCoyote, env: &Env{Envelope: Envelope{From: "coyote@desert.example.org", To: "roadrunner@acme.example.com"},
			VacationSent: func(string) (bool, error) { return true, nil }}, want: []string{"keep implicit"}},
	{name: "5230 4.7 twice", script: `require "vacation"; vacation "x"; vacation "y";`,
		msg: msgCoyote, env: envTo("coyote@desert.example.org", "roadrunner@acme.example.com"), err: "vacation used more than once"},
	{name: "8580 fcc", script: `require ["vacation", "fcc"]; vacation :fcc "Sent" :subject "s" "x";`,
		msg: msgCoyote, env: envTo("coyote@desert.example.org", "roadrunner@acme.example.com"),
		want: []string{`vacation to=coyote@desert.example.org from=roadrunner@acme.example.com subject="s" period=168h0m0s fcc=Sent`, "keep implicit"}},

	// RFC 5231 relational.
	{name: "5231 count addresses", script: `require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if address :count "ge" :comparator "i;ascii-numeric" ["to", "cc"] ["5"] { fileinto "many"; }
if address :count "eq" :comparator "i;ascii-numeric" ["to"] ["3"] { fileinto "three"; }
if header :count "ge" :comparator "i;ascii-numeric" ["to", "cc"] ["3"] { fileinto "never"; }`,
		msg: msgCompany, want: []string{"fileinto many", "fileinto three"}},
	{name: "5231 value lexical", script: `require "relational";
if header :value "gt" "subject" "mee" { discard; }`, msg: msgCompany, want: []string{"discard"}},

	// RFC 5232 imap4flags.
	{name: "5232 flags", script: `require ["imap4flags", "fileinto"];
setflag "\\seen \\Flagged";
addflag ["$Work", "\\Seen"];
removeflag "\\flagged";
fileinto "a";
keep :flags "\\Answered";
if hasflag :contains "work" { addflag "junk"; }`, msg: msgCoyote,
		want: []string{`fileinto a flags=\Seen,$Work`, `keep flags=\Answered`}},
	{name: "5232 implicit keep uses flags", script: `require "imap4flags";
addflag "\\Flagged"; addflag "bad(flag"; addflag "\\Recent";`, msg: msgCoyote, want: []string{`keep implicit flags=\Flagged`}},
	{name: "5232 variable flags", script: `require ["imap4flags", "variables", "fileinto"];
setflag "fv" "a b"; addflag "fv" "c"; removeflag "fv" "a";
if hasflag :is "fv" "c" { fileinto :flags "${fv}" "x"; }`, msg: msgCoyote, want: []string{"fileinto x flags=b,c"}},
	{name: "imapflags mark", script: `require "imapflags"; mark; addflag "x"; unmark;`, msg: msgCoyote, want: []string{"keep implicit flags=x"}},

	// RFC 5233 subaddress.
	{name: "5233 user", script: `require ["envelope", "subaddress", "fileinto"];
if envelope :user "to" "postmaster" { fileinto "inbox.postmaster"; stop; }
if envelope :detail "to" "mta-filters" { fileinto "inbox.ietf-mta-filters"; }`,
		msg: msgCoyote, env: envTo("a@b.c", "ken+mta-filters@example.org"), want: []string{"fileinto inbox.ietf-mta-filters"}},
	{name: "5233 no detail matches nothing", script: `require ["envelope", "subaddress"];
if envelope :detail "to" "" { discard; }`, msg: msgCoyote, env: envTo("a@b.c", "ken@example.org"), want: []string{"keep implicit"}},
	{name: "5233 empty detail", script: `require ["envelope", "subaddress"];
if envelope :detail "to" "" { discard; }`, msg: msgCoyote, env: envTo("a@b.c", "ken+@example.org"), want: []string{"discard"}},

	// RFC 5173 body.
	{name: "5173 raw", script: `require "body"; if body :raw :contains "MAKE MONEY FAST" { discard; }`, msg: msgMoney, want: []string{"discard"}},
	{name: "5173 text default", script: `require "body"; if body :contains "hello there" { discard; }`, msg: msgMime, want: []string{"discard"}},
	{name: "5173 content decoded", script: `require "body"; if body :content "text/html" :contains "café" { discard; }`, msg: msgMime, want: []string{"discard"}},
	{name: "5173 content image raw-decoded", script: `require "body"; if body :content "image" :is "hello" { discard; }`, msg: msgMime, want: []string{"discard"}},
	{name: "5173 multipart prologue", script: `require "body"; if body :content "multipart" :contains "prologue" { discard; }`, msg: msgMime, want: []string{"discard"}},
	{name: "5173 raw sees base64", script: `require "body"; if body :raw :contains "aGVsbG8=" { discard; }`, msg: msgMime, want: []string{"discard"}},

	// RFC 5260 date and index.
	{name: "5260 currentdate", script: `require ["date", "relational", "vacation"];
if allof(currentdate :value "ge" "date" "2007-06-30", currentdate :value "le" "date" "2007-07-07") { discard; }`, msg: msgCoyote, want: []string{"discard"}},
	{name: "5260 currentdate weekday", script: `require "date"; if currentdate :is "weekday" "0" { discard; }`, msg: msgCoyote, want: []string{"discard"}},
	{name: "5260 date originalzone", script: `require ["date", "relational", "fileinto"];
if allof(header :contains "from" "coyote", date :value "ge" :originalzone "date" "hour" "09", date :value "lt" :originalzone "date" "hour" "17") { fileinto "urgent"; }`,
		msg: msgCoyote, want: []string{"fileinto urgent"}},
	{name: "5260 date zone and parts", script: `require ["date", "variables", "fileinto", "relational", "comparator-i;ascii-numeric"];
if date :zone "+0200" :matches "date" "iso8601" "*" { fileinto "${0}"; }
if date :matches "date" "std11" "*" { fileinto "${0}"; }
if date :is "date" "julian" "54282" { fileinto "mjd"; }
if date :count "eq" :comparator "i;ascii-numeric" "date" "year" "1" { fileinto "one"; }`,
		msg: msgCoyote, want: []string{"fileinto 2007-07-01T18:15:00+02:00", "fileinto Sun, 01 Jul 2007 16:15:00 +0000", "fileinto mjd", "fileinto one"}},
	{name: "5260 index", script: `require ["index", "fileinto", "variables"];
if header :index 2 :matches "Received" "*" { fileinto "${0}"; }
if header :index 1 :last :matches "Received" "*" { fileinto "${0}"; }
if address :index 1 :is :domain "To" "example.com" { fileinto "first"; }`,
		msg: "Received: from a\nReceived: from b\nReceived: from c\n" + msgCompany, want: []string{"fileinto from b", "fileinto from c", "fileinto first"}},
	{name: "5260 received date", script: `require ["date", "fileinto"];
if anyof(date :is "received" "weekday" "0", date :is "received" "weekday" "6") { fileinto "weekend"; }`,
		msg: "Received: from x by y; Sat, 30 Jun 2007 10:00:00 +0000\n" + msgCoyote, want: []string{"fileinto weekend"}},

	// RFC 5293 editheader.
	{name: "5293 added field is seen", script: `require ["editheader", "fileinto"];
addheader "X-Hello" "World";
if header :contains "X-Hello" "World" { fileinto "international"; }`, msg: msgCoyote, want: []string{"fileinto international edited"}},
	{name: "5293 add then delete", script: `require ["editheader"];
addheader "X-Hello" "World";
deleteheader :index 1 "X-Hello";
if exists "X-Hello" { discard; }`, msg: msgCoyote, want: []string{"keep implicit"}},
	{name: "5293 received protected", script: `require ["editheader"];
deleteheader "Received"; if exists "received" { keep; }`, msg: "Received: from a\n" + msgCoyote, want: []string{"keep"}},
	{name: "5293 delete by value", script: `require ["editheader", "fileinto"];
deleteheader :contains "to" "rjs";
if header :contains "to" "tjs" { fileinto "still"; }
deleteheader :matches "cc" "*";
if not exists "cc" { fileinto "gone"; }`, msg: msgCompany, want: []string{"fileinto gone edited"}},

	// RFC 5429 reject.
	{name: "5429 reject", script: `require "reject"; reject "no thanks";`, msg: msgCoyote, want: []string{"reject no thanks"}},
	{name: "5429 ereject", script: `require "ereject"; ereject "no";`, msg: msgCoyote, want: []string{"ereject no"}},
	{name: "5429 reject with fileinto", script: `require ["reject", "fileinto"]; fileinto "x"; reject "no";`, msg: msgCoyote, err: "reject cannot be used"},
	{name: "5429 two rejects", script: `require "reject"; reject "a"; reject "b";`, msg: msgCoyote, err: "more than one reject"},
	{name: "5429 reject with vacation", script: `require ["reject", "vacation"]; vacation "x"; reject "b";`, msg: msgCoyote,
		env: envTo("coyote@desert.example.org", "roadrunner@acme.example.com"), err: "reject cannot be used with vacation"},

	// RFC 5435, 5436 enotify.
	{name: "5435 notify", script: `require ["enotify"];
notify :importance "1" :message "This is probably very important" "mailto:alm@example.com";`,
		msg: msgCoyote, want: []string{`notify mailto:alm@example.com importance=1 message="This is probably very important"`, "keep implicit"}},
	{name: "5435 default message", script: `require ["enotify"];
if valid_notify_method "mailto:a@example.com" { notify :from "me@example.com" "mailto:b@example.com?subject=hi"; }
if not valid_notify_method ["mailto:a@example.com", "xmpp:x@y"] { discard; }
if notify_method_capability "mailto:a@example.com" "online" "maybe" { keep; }`,
		msg: msgCoyote, want: []string{`notify mailto:b@example.com?subject=hi importance=2 message="coyote@desert.example.org: I have a present for you" from=me@example.com`, "discard", "keep"}},
	{name: "5435 encodeurl", script: `require ["enotify", "variables"];
set :encodeurl "b" "a b&c"; notify "mailto:x@example.com?body=${b}";`, msg: msgCoyote,
		want: []string{`notify mailto:x@example.com?body=a%20b%26c importance=2 message="coyote@desert.example.org: I have a present for you"`, "keep implicit"}},

	// RFC 5490 mailbox and metadata.
	{name: "5490 create", script: `require ["fileinto", "mailbox"];
if mailboxexists "INBOX.exists" { fileinto "INBOX.exists"; }
if not mailboxexists ["INBOX.exists", "INBOX.nope"] { fileinto :create "INBOX.nope"; }`,
		msg: msgCoyote, env: &Env{MailboxExists: func(m string) bool { return m == "INBOX.exists" }},
		want: []string{"fileinto INBOX.exists", "fileinto INBOX.nope create"}},
	{name: "5490 metadata", script: `require ["mboxmetadata", "servermetadata"];
if metadata :is "INBOX" "/private/comment" "hello" { discard; }
if metadataexists "INBOX" ["/private/comment", "/private/x"] { discard; }
if servermetadata :contains "/shared/admin" "example" { keep; }
if servermetadataexists "/shared/admin" { keep; }`,
		msg: msgCoyote, env: &Env{
			Metadata: func(mb, e string) (string, bool) {
				if mb == "INBOX" && e == "/private/comment" {
					return "hello", true
				}
				return "", false
			},
			ServerMetadata: func(e string) (string, bool) { return "admin@example.com", e == "/shared/admin" },
		},
		want: []string{"discard", "keep"}},
	// RFC 8579, RFC 9042.
	{name: "8579 specialuse", script: `require ["fileinto", "special-use", "mailboxid"];
if specialuse_exists "\\Junk" { fileinto :specialuse "\\Junk" "Spam"; }
fileinto :mailboxid "F123" "INBOX.x";`,
		msg: msgCoyote, env: &Env{SpecialUseExists: func(mb string, u []string) bool { return mb == "" && slices.Equal(u, []string{`\Junk`}) }},
		want: []string{`fileinto Spam specialuse=\Junk`, "fileinto INBOX.x mailboxid=F123"}},

	// RFC 6009 redirect parameters.
	{name: "6009 redirect dsn deliverby", script: `require ["redirect-dsn", "redirect-deliverby"];
redirect :notify "success,failure" :ret "hdrs" :bytimerelative 600 :bymode "notify" "x@example.com";`,
		msg: msgCoyote, want: []string{"redirect x@example.com notify=SUCCESS,FAILURE ret=HDRS bytime=600 bymode=notify"}},

	// RFC 7352 duplicate.
	{name: "7352 duplicate seen", script: `require "duplicate"; if duplicate { discard; }`, msg: msgCoyote,
		env: &Env{Duplicate: func(h, id string) (bool, error) { return id == "<1@desert.example.org>", nil }}, want: []string{"discard"}},
	{name: "7352 no message-id", script: `require "duplicate"; if duplicate { discard; }`, msg: msgMoney,
		env: &Env{Duplicate: func(h, id string) (bool, error) { return true, nil }}, want: []string{"keep implicit"}},
	{name: "7352 uniqueid handle", script: `require ["duplicate", "variables"];
if header :matches "subject" "*" { set "s" "${1}"; }
if duplicate :handle "h" :uniqueid "${s}" { discard; }`, msg: msgMoney,
		env: &Env{Duplicate: func(h, id string) (bool, error) { return h == "h" && id == "Make MONEY fast", nil }}, want: []string{"discard"}},

	// RFC 5183 environment.
	{name: "5183 environment", script: `require "environment";
if environment :is "location" "MDA" { discard; }
if environment :contains "remote-ip" "10." { keep; }
if environment :is "nope" "" { keep; }`, msg: msgCoyote, env: &Env{Environment: map[string]string{"remote-ip": "10.1.2.3"}},
		want: []string{"discard", "keep"}},

	// RFC 5463 ihave.
	{name: "5463 ihave unknown", script: `require "ihave";
if ihave "nonexistent-ext" { nonexistentcommand "x"; } else { keep; }`, msg: msgCoyote, want: []string{"keep"}},
	{name: "5463 ihave known enables", script: `require "ihave";
if ihave "fileinto" { fileinto "x"; }`, msg: msgCoyote, want: []string{"fileinto x"}},
	{name: "5463 error", script: `require "ihave"; error "bad news";`, msg: msgCoyote, err: "bad news"},

	// RFC 6609 include.
	{name: "6609 include and global", script: `require ["include", "variables", "fileinto"];
global "test_mailbox";
set "test_mailbox" "none";
include :personal "sub";
fileinto "${test_mailbox}";`, msg: msgCoyote,
		env: &Env{Include: includer(map[string]string{
			"personal:sub": `require ["include", "variables"];
global "test_mailbox";
set "local" "x";
set "test_mailbox" "INBOX.from-sub";
return;
set "test_mailbox" "never";`,
		})}, want: []string{"fileinto INBOX.from-sub"}},
	{name: "6609 stop in included", script: `require "include"; include "a"; discard;`, msg: msgCoyote,
		env: &Env{Include: includer(map[string]string{"personal:a": `stop;`})}, want: []string{"keep implicit"}},
	{name: "6609 recursion", script: `require "include"; include "a";`, msg: msgCoyote,
		env: &Env{Include: includer(map[string]string{"personal:a": `require "include"; include "b";`, "personal:b": `require "include"; include "a";`})},
		err: "recursive"},
	{name: "6609 once", script: `require "include"; include :once "a"; include :once "a"; include :global "g";`, msg: msgCoyote,
		env:  &Env{Include: includer(map[string]string{"personal:a": `redirect "a@example.com";`, "global:g": `redirect "g@example.com";`})},
		want: []string{"redirect a@example.com", "redirect g@example.com"}},
	{name: "6609 optional missing", script: `require "include"; include :optional "nope";`, msg: msgCoyote,
		env: &Env{Include: includer(nil)}, want: []string{"keep implicit"}},
	{name: "6609 missing", script: `require "include"; include "nope";`, msg: msgCoyote,
		env: &Env{Include: includer(nil)}, err: "not found"},

	// RFC 3685 spamtest, virustest.
	{name: "3685 spamtest", script: `require ["spamtest", "virustest", "fileinto", "relational", "comparator-i;ascii-numeric"];
if spamtest :value "eq" :comparator "i;ascii-numeric" "0" { fileinto "INBOX.unclassified"; }
elsif spamtest :value "ge" :comparator "i;ascii-numeric" "3" { fileinto "INBOX.spam-trap"; }
if virustest :value "eq" :comparator "i;ascii-numeric" "0" { fileinto "INBOX.unclassified"; }`,
		msg: msgCoyote, env: &Env{SpamTest: func() string { return "7 likely spam" }},
		want: []string{"fileinto INBOX.spam-trap", "fileinto INBOX.unclassified"}},

	// RFC 5703 mime, foreverypart, extracttext.
	{name: "5703 foreverypart", script: `require ["foreverypart", "mime", "fileinto", "variables", "extracttext"];
foreverypart {
  if header :mime :type "Content-Type" "image" { fileinto "images"; }
  if header :mime :param "charset" "Content-Type" "iso-8859-1" { fileinto "latin1"; }
  if header :mime :subtype "Content-Type" "plain" { extracttext :first 5 "t"; fileinto "${t}"; break; }
}`, msg: msgMime, want: []string{"fileinto Hello"}},
	{name: "5703 anychild", script: `require ["mime", "fileinto"];
if header :mime :anychild :contenttype "Content-Type" "image/png" { fileinto "has-png"; }
if exists :mime :anychild "Content-Transfer-Encoding" { fileinto "encoded"; }`, msg: msgMime, want: []string{"fileinto has-png", "fileinto encoded"}},
	{name: "5703 break named", script: `require ["foreverypart", "fileinto", "mime"];
foreverypart :name "outer" {
  if header :mime :type "Content-Type" "image" { foreverypart { fileinto "never"; } break :name "outer"; }
  fileinto "seen";
}
fileinto "after";`, msg: msgMime, want: []string{"fileinto seen", "fileinto after"}},

	// regex draft.
	{name: "regex", script: `require ["regex", "variables", "fileinto"];
if header :regex "subject" "^\\[([a-z-]+)\\] (.*)$" { fileinto "${1}"; }
if header :regex :comparator "i;octet" "subject" "ACME" { discard; }`, msg: msgLists, want: []string{"fileinto acme-users"}},
}

// example9 is RFC 5228 section 9's example.
const example9 = `#
# Example Sieve Filter
# Declare any optional features or extension used by the script
#
require ["fileinto"];

#
# Handle messages from known mailing lists
# Move messages from IETF filter discussion list to filter mailbox
#
if header :is "Sender" "owner-ietf-mta-filters@imc.org"
        {
        fileinto "filter";  # move to "filter" mailbox
        }
#
# Keep all messages to or from people in my company
#
elsif address :DOMAIN :is ["From", "To"] "example.com"
        {
        keep;               # keep in "In" mailbox
        }

#
# Try and catch unsolicited email.  If a message is not to me,
# or it contains a subject known to be spam, file it away.
#
elsif anyof (NOT address :all :contains
               ["To", "Cc", "Bcc"] "me@example.com",
             header :matches "subject"
               ["*make*money*fast*", "*university*dipl*mas*"])
        {
        fileinto "spam";   # move to "spam" mailbox
        }
else
        {
        # Move all other (non-company) mail to "personal"
        # mailbox.
        fileinto "personal";
        }
`

// includer serves scripts from a map keyed "personal:name" or
// "global:name".
func includer(scripts map[string]string) func(string, bool) (*Script, error) {
	return func(name string, global bool) (*Script, error) {
		key := "personal:" + name
		if global {
			key = "global:" + name
		}
		src, ok := scripts[key]
		if !ok {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
		}
		return Compile([]byte(src), CompileOptions{})
	}
}

func TestRFCExamples(t *testing.T) {
	for _, c := range rfcCases {
		t.Run(c.name, func(t *testing.T) {
			res, err := runSrc(t, c.script, c.msg, c.env)
			if c.err != "" {
				var re *RuntimeError
				if !errors.As(err, &re) || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error = %v, want one containing %q", err, c.err)
				}
				if got := describeAll(res.Actions); !slices.Equal(got, []string{"keep implicit"}) {
					t.Fatalf("after a runtime error, actions = %q, want the implicit keep", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if got := describeAll(res.Actions); !slices.Equal(got, c.want) {
				t.Fatalf("actions:\n got  %q\n want %q\nnotes: %q", got, c.want, res.Notes)
			}
		})
	}
}

// TestDuplicateRecords checks what duplicate asks the caller to store.
func TestDuplicateRecords(t *testing.T) {
	res, err := runSrc(t, `require "duplicate";
if duplicate :seconds 60 :last { keep; }
if duplicate :seconds 60 :last { keep; }
if duplicate :header "subject" :handle "s" { keep; }`, msgCoyote, &Env{DuplicateMax: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	want := []DuplicateRecord{
		{ID: "<1@desert.example.org>", Expiry: time.Minute, Last: true},
		{Handle: "s", ID: "I have a present for you", Expiry: time.Hour},
	}
	if !slices.Equal(res.Duplicates, want) {
		t.Fatalf("records = %+v, want %+v", res.Duplicates, want)
	}
}

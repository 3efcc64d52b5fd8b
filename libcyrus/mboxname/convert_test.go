package mboxname

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
)

// bad marks an expected translation failure.
const bad = "\x00error"

// allNamespaces returns every combination of altnamespace,
// unixhierarchysep and virtdomains, with defaultdomain "internal".
func allNamespaces() []Namespace {
	var out []Namespace
	for _, alt := range []bool{false, true} {
		for _, uhs := range []bool{false, true} {
			for _, vd := range []VirtDomains{VirtDomainsOff, VirtDomainsUserID, VirtDomainsOn} {
				out = append(out, Namespace{AltNamespace: alt, UnixHierSep: uhs, VirtDomains: vd, DefaultDomain: "internal"})
			}
		}
	}
	return out
}

func nsName(ns Namespace) string {
	vd := [...]string{"off", "userid", "on"}[ns.VirtDomains]
	return fmt.Sprintf("alt=%v/uhs=%v/virt=%s/admin=%v", ns.AltNamespace, ns.UnixHierSep, vd, ns.Admin)
}

// sepForm rewrites a name written with "/" into the namespace's separator.
// Only for cases whose components hold neither "." nor "/".
func sepForm(ns Namespace, s string) string {
	if s == bad || ns.UnixHierSep {
		return s
	}
	return strings.ReplaceAll(s, "/", ".")
}

// translation is a name pair that must map both ways. std and alt are the
// external names in the standard and the alternate namespace, written with
// "/" (rewritten for the "." separator); bad means no external name.
type translation struct {
	internal, userid, std, alt string
}

// domainless holds cases that behave alike with and without virtual
// domains, for user alice unless said otherwise.
var domainless = []translation{
	{"user.alice", "alice", "INBOX", "INBOX"},
	{"user.alice.Sent", "alice", "INBOX/Sent", "Sent"},
	{"user.alice.Work.Projects", "alice", "INBOX/Work/Projects", "Work/Projects"},
	{"user.alice.Entwürfe", "alice", "INBOX/Entwürfe", "Entwürfe"},
	{"user.alice.a&b", "alice", "INBOX/a&b", "a&b"},
	{"user.bob", "alice", "user/bob", "Other Users/bob"},
	{"user.bob.Sent", "alice", "user/bob/Sent", "Other Users/bob/Sent"},
	{"user.INBOX", "alice", "user/INBOX", "Other Users/INBOX"},
	{"shared", "alice", "shared", "Shared Folders/shared"},
	{"shared.folder", "alice", "shared/folder", "Shared Folders/shared/folder"},
	{"Other Users", "alice", "Other Users", "Shared Folders/Other Users"},
	{"user", "alice", "user", "Other Users"},
	// Folders of alice that clash with INBOX or a prefix (altprefix).
	{"user.alice.INBOX", "alice", "INBOX/INBOX", "Alt Folders/INBOX"},
	{"user.alice.inbox", "alice", "INBOX/inbox", "Alt Folders/inbox"},
	{"user.alice.INBOX.x", "alice", "INBOX/INBOX/x", "INBOX/x"},
	{"user.alice.Inbox.x", "alice", "INBOX/Inbox/x", "Alt Folders/Inbox/x"},
	{"user.alice.Other Users", "alice", "INBOX/Other Users", "Alt Folders/Other Users"},
	{"user.alice.Shared Folders.x", "alice", "INBOX/Shared Folders/x", "Alt Folders/Shared Folders/x"},
	{"user.alice.Alt Folders", "alice", "INBOX/Alt Folders", "Alt Folders/Alt Folders"},
	{"user.alice.user", "alice", "INBOX/user", "user"},
	// Shared mailboxes named INBOX exist only in the alternate namespace.
	{"INBOX", "alice", bad, "Shared Folders/INBOX"},
	{"inbox.x", "alice", bad, "Shared Folders/inbox/x"},
	// Anonymous sessions have no INBOX.
	{"user.alice", "", "user/alice", "Other Users/alice"},
	{"shared.folder", "", "shared/folder", "Shared Folders/shared/folder"},
}

func TestTranslateDomainless(t *testing.T) {
	for _, ns := range allNamespaces() {
		for _, tc := range domainless {
			checkTranslation(t, ns, tc, sepForm(ns, pick(ns, tc)))
		}
	}
}

func pick(ns Namespace, tc translation) string {
	if ns.AltNamespace && !ns.Admin {
		return tc.alt
	}
	return tc.std
}

func checkTranslation(t *testing.T, ns Namespace, tc translation, want string) {
	t.Helper()
	got, err := ns.ToExternal(tc.internal, tc.userid)
	if want == bad {
		if err == nil {
			t.Errorf("%s: ToExternal(%q, %q) = %q, want an error", nsName(ns), tc.internal, tc.userid, got)
		} else if !isNameError(err) {
			t.Errorf("%s: ToExternal(%q, %q): %v is not a *NameError", nsName(ns), tc.internal, tc.userid, err)
		}
		return
	}
	if err != nil || got != want {
		t.Errorf("%s: ToExternal(%q, %q) = %q, %v; want %q", nsName(ns), tc.internal, tc.userid, got, err, want)
		return
	}
	back, err := ns.ToInternal(got, tc.userid)
	if err != nil || back != tc.internal {
		t.Errorf("%s: ToInternal(%q, %q) = %q, %v; want %q", nsName(ns), got, tc.userid, back, err, tc.internal)
	}
}

func isNameError(err error) bool {
	var ne *NameError
	return errors.As(err, &ne)
}

// TestTranslateDots covers a "." inside a component: kept under
// unixhierarchysep and stored as "^"; written "^" with the "." separator.
func TestTranslateDots(t *testing.T) {
	uhs := []translation{
		{"user.alice.a^b", "alice", "INBOX/a.b", "a.b"},
		{"user.alice.v1^0.x", "alice", "INBOX/v1.0/x", "v1.0/x"},
		{"user.john^doe", "alice", "user/john.doe", "Other Users/john.doe"},
		{"user.john^doe", "john.doe", "INBOX", "INBOX"},
		{"user.john^doe.Sent", "john.doe", "INBOX/Sent", "Sent"},
		{"shared^x.y", "alice", "shared.x/y", "Shared Folders/shared.x/y"},
		{"user.alice.^^^", "alice", "INBOX/...", "..."},
	}
	dot := []translation{
		{"user.alice.a^b", "alice", "INBOX.a^b", "a^b"},
		{"user.john^doe", "alice", "user.john^doe", "Other Users.john^doe"},
		{"user.john^doe.Sent", "john.doe", "INBOX.Sent", "Sent"},
		{"shared^x.y", "alice", "shared^x.y", "Shared Folders.shared^x.y"},
		{"user.alice.a/b", "alice", bad, bad},
	}
	for _, ns := range allNamespaces() {
		cases := dot
		if ns.UnixHierSep {
			cases = uhs
		}
		for _, tc := range cases {
			checkTranslation(t, ns, tc, pick(ns, tc))
		}
	}
}

// TestTranslateVirtDomains covers users of virtual domains: they see their
// own domain without its name and nothing of other domains.
func TestTranslateVirtDomains(t *testing.T) {
	withDomains := []translation{
		{"example.com!user.bob", "bob@example.com", "INBOX", "INBOX"},
		{"example.com!user.bob.Sent", "bob@example.com", "INBOX/Sent", "Sent"},
		{"example.com!user.bob.Sent", "bob@EXAMPLE.com", "INBOX/Sent", "Sent"},
		{"example.com!user.carol", "bob@example.com", "user/carol", "Other Users/carol"},
		{"example.com!shared.x", "bob@example.com", "shared/x", "Shared Folders/shared/x"},
		{"example.com!user", "bob@example.com", "user", "Other Users"},
		{"user.alice", "bob@example.com", bad, bad},
		{"shared.x", "bob@example.com", bad, bad},
		{"other.org!user.bob", "bob@example.com", bad, bad},
		{"other.org!shared", "bob@example.com", bad, bad},
		// defaultdomain users have no domain part.
		{"user.alice", "alice@internal", "INBOX", "INBOX"},
		{"user.alice.Sent", "alice@INTERNAL", "INBOX/Sent", "Sent"},
		{"user.carol", "alice@internal", "user/carol", "Other Users/carol"},
		{"example.com!user.bob", "alice", bad, bad},
		{"example.com!user.bob", "", bad, bad},
	}
	withoutDomains := []translation{
		// virtdomains: off only looks at the local part.
		{"user.bob", "bob@example.com", "INBOX", "INBOX"},
		{"user.bob.Sent", "bob@example.com", "INBOX/Sent", "Sent"},
		{"example.com!user.bob", "bob@example.com", bad, bad},
		{"example.com!shared", "alice", bad, bad},
	}
	for _, ns := range allNamespaces() {
		cases := withDomains
		if ns.VirtDomains == VirtDomainsOff {
			cases = withoutDomains
		}
		for _, tc := range cases {
			checkTranslation(t, ns, tc, sepForm(ns, pick(ns, tc)))
		}
	}
}

// TestTranslateAdmin covers the admin namespace: always standard, and with
// virtual domains every domain is reachable through an @domain suffix.
func TestTranslateAdmin(t *testing.T) {
	global := []translation{
		{"user.alice", "cyrus", "user/alice", ""},
		{"user.alice.Sent", "cyrus", "user/alice/Sent", ""},
		{"shared.folder", "cyrus", "shared/folder", ""},
		{"user.cyrus", "cyrus", "INBOX", ""},
		{"user", "cyrus", "user", ""},
	}
	domains := []translation{
		{"example.com!user.bob.Sent", "cyrus", "user/bob/Sent@example.com", ""},
		{"example.com!shared", "cyrus", "shared@example.com", ""},
		{"example.com!user.bob", "admin@example.com", "user/bob@example.com", ""},
		{"example.com!user.admin", "admin@example.com", "INBOX@example.com", ""},
		{"user.alice", "admin@example.com", "user/alice@internal", ""},
		// An "@" in a default-domain name gets the default domain spelled
		// out, so the suffix is not misread.
		{"user.alice.a@b", "cyrus", "user/alice/a@b@internal", ""},
	}
	for _, ns := range allNamespaces() {
		ns.Admin = true
		cases := global
		if ns.VirtDomains != VirtDomainsOff {
			cases = append(append([]translation(nil), global...), domains...)
		} else {
			cases = append(append([]translation(nil), global...),
				translation{"example.com!user.bob", "cyrus", bad, ""})
		}
		for _, tc := range cases {
			checkTranslation(t, ns, tc, sepForm(ns, tc.std))
		}
	}
	// A domain admin's names without a suffix are in the admin's domain.
	ns := Namespace{VirtDomains: VirtDomainsUserID, DefaultDomain: "internal", Admin: true, UnixHierSep: true}
	for ext, want := range map[string]string{
		"user/bob":           "example.com!user.bob",
		"user/x@internal":    "user.x",
		"user/x@Other.ORG":   "other.org!user.x",
		"shared@example.com": "example.com!shared",
	} {
		if got, err := ns.ToInternal(ext, "admin@example.com"); err != nil || got != want {
			t.Errorf("ToInternal(%q) = %q, %v; want %q", ext, got, err, want)
		}
	}
	if got, err := ns.ToInternal("user/x@bad!domain", "cyrus"); err == nil {
		t.Errorf("bad domain suffix accepted: %q", got)
	}
}

// TestToInternalOneWay covers external spellings that are accepted but are
// not what ToExternal produces.
func TestToInternalOneWay(t *testing.T) {
	tests := []struct {
		ext      string
		alt, uhs bool
		want     string
	}{
		{"inbox", false, false, "user.alice"},
		{"iNbOx", true, true, "user.alice"},
		{"InBoX.Sent", false, false, "user.alice.Sent"},
		// Cyrus forces a case-insensitive INBOX with children to "INBOX"
		// in the alternate namespace.
		{"InBoX/Sent", true, true, "user.alice.INBOX.Sent"},
		{"user.alice", false, false, "user.alice"},
		{"user/alice/x", false, true, "user.alice.x"},
		{"Other Users/alice", true, true, "user.alice"},
		{"Alt Folders", true, true, "user.alice"},
		{"Alt Folders/Sent", true, true, "user.alice.Sent"},
		// Prefixes are literal in the standard namespace.
		{"Other Users/bob", false, true, "Other Users.bob"},
	}
	for _, tt := range tests {
		ns := Namespace{AltNamespace: tt.alt, UnixHierSep: tt.uhs}
		if got, err := ns.ToInternal(tt.ext, "alice"); err != nil || got != tt.want {
			t.Errorf("%s: ToInternal(%q) = %q, %v; want %q", nsName(ns), tt.ext, got, err, tt.want)
		}
	}
}

func TestToInternalErrors(t *testing.T) {
	tests := []struct {
		ext, userid string
		alt, uhs    bool
		reason      string
	}{
		{"", "alice", false, false, "empty name"},
		{"INBOX//x", "alice", false, true, "empty component"},
		{"INBOX..x", "alice", false, false, "empty component"},
		{"/INBOX", "alice", false, true, "empty component"},
		{"INBOX/", "alice", false, true, "empty component"},
		{"Sent.", "alice", true, false, "empty component"},
		{"INBOX/../x", "alice", false, true, "relative"},
		{"INBOX/.", "alice", false, true, "relative"},
		{"INBOX.^", "alice", false, false, "relative"},
		{"INBOX.^^", "alice", false, false, "relative"},
		{"a^b", "alice", true, true, "'^'"},
		{"a/b", "alice", true, false, "'/'"},
		{"a!b", "alice", false, false, "'!'"},
		{"a\tb", "alice", false, false, "control"},
		{"a\x00b", "alice", false, false, "control"},
		{"\xff", "alice", false, false, "UTF-8"},
		{"Shared Folders", "alice", true, true, "shared namespace"},
		{"INBOX", "", false, false, "anonymous"},
		{"Sent", "", true, true, "anonymous"},
		{"Alt Folders/x", "", true, true, "anonymous"},
		{"INBOX", "@example.com", false, false, "empty local part"},
		{"INBOX", "a/b", false, false, "userid"},
		{"INBOX", "a^b", false, false, "userid"},
	}
	for _, tt := range tests {
		ns := Namespace{AltNamespace: tt.alt, UnixHierSep: tt.uhs}
		got, err := ns.ToInternal(tt.ext, tt.userid)
		if err == nil {
			t.Errorf("%s: ToInternal(%q, %q) = %q, want an error", nsName(ns), tt.ext, tt.userid, got)
			continue
		}
		if !isNameError(err) || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("%s: ToInternal(%q, %q): error %q, want a *NameError saying %q", nsName(ns), tt.ext, tt.userid, err, tt.reason)
		}
	}
	vd := Namespace{VirtDomains: VirtDomainsOn}
	if got, err := vd.ToInternal("INBOX", "bob@bad!domain"); err == nil {
		t.Errorf("userid with a bad domain accepted: %q", got)
	}
}

func TestToExternalErrors(t *testing.T) {
	ns := Namespace{AltNamespace: true, UnixHierSep: true}
	for _, internal := range []string{"", "user..x", ".x", "x.", "user.a/b", "a!", "!x", "x!y!z", "user.\x00", "\xff", "user.alice.^"} {
		if got, err := ns.ToExternal(internal, "alice"); err == nil || !isNameError(err) {
			t.Errorf("ToExternal(%q) = %q, %v; want a *NameError", internal, got, err)
		}
	}
}

// TestRoundTrip checks ToInternal(ToExternal(x)) == x for many names, users
// and every namespace, admins included.
func TestRoundTrip(t *testing.T) {
	names := []string{
		"user.alice", "user.alice.Sent", "user.alice.INBOX", "user.alice.INBOX.INBOX",
		"user.alice.inbox.x", "user.alice.Alt Folders.INBOX", "user.alice.a^b.c",
		"user.alice.Other Users", "user.alice.Shared Folders", "user.alice.user.x",
		"user.bob", "user.bob.INBOX", "user.bob.Other Users", "user.bob^smith.x",
		"user", "shared", "shared.INBOX", "INBOX", "Inbox.x", "Other Users.x",
		"Shared Folders", "Alt Folders", "user.alice.Entwürfe.台北", "user.alice.a@b",
		"example.com!user.bob", "example.com!user.bob.Sent", "example.com!user.alice",
		"example.com!shared", "example.com!user", "other.org!user.carol.x",
		"internal!user.alice", "user.alice.~x", "user.alice.x y", "user.alice.&",
	}
	users := []string{"", "alice", "bob", "bob@example.com", "alice@example.com", "carol@other.org",
		"alice@internal", "bob^smith", "bob.smith", "cyrus", "admin@example.com"}
	tried := 0
	for _, base := range allNamespaces() {
		for _, admin := range []bool{false, true} {
			ns := base
			ns.Admin = admin
			for _, u := range users {
				for _, in := range names {
					ext, err := ns.ToExternal(in, u)
					if err != nil {
						continue
					}
					tried++
					want := in
					if d, rest := SplitDomain(in); d == "internal" {
						want = rest // defaultdomain is never spelled internally
					}
					back, err := ns.ToInternal(ext, u)
					if err != nil || back != want {
						t.Errorf("%s user %q: %q -> %q -> %q, %v", nsName(ns), u, in, ext, back, err)
					}
				}
			}
		}
	}
	if tried < 1000 {
		t.Errorf("only %d round trips", tried)
	}
}

func TestNamespaces(t *testing.T) {
	// The classic-namespace lines are from the Cyrus 3.6 reference
	// transcripts imap_alice_session.txt (user with an INBOX) and
	// imap_admin_session.txt (admin without one).
	tests := []struct {
		ns       Namespace
		hasInbox bool
		want     string
	}{
		{Namespace{}, true, `* NAMESPACE (("INBOX." ".")) (("user." ".")) (("" "."))`},
		{Namespace{Admin: true}, false, `* NAMESPACE NIL (("user." ".")) (("" "."))`},
		{Namespace{AltNamespace: true, Admin: true}, false, `* NAMESPACE NIL (("user." ".")) (("" "."))`},
		{Namespace{UnixHierSep: true}, true, `* NAMESPACE (("INBOX/" "/")) (("user/" "/")) (("" "/"))`},
		{Namespace{AltNamespace: true, UnixHierSep: true}, true, `* NAMESPACE (("" "/")) (("Other Users/" "/")) (("Shared Folders/" "/"))`},
		{Namespace{AltNamespace: true}, true, `* NAMESPACE (("" ".")) (("Other Users." ".")) (("Shared Folders." "."))`},
		{Namespace{AltNamespace: true, UnixHierSep: true, UserPrefix: "Andere", SharedPrefix: "Gemeinsam"}, true,
			`* NAMESPACE (("" "/")) (("Andere/" "/")) (("Gemeinsam/" "/"))`},
		{Namespace{DisableUserNamespace: true, DisableSharedNamespace: true}, true, `* NAMESPACE (("INBOX." ".")) NIL NIL`},
		{Namespace{DisableUserNamespace: true, DisableSharedNamespace: true, Admin: true}, false, `* NAMESPACE NIL (("user." ".")) (("" "."))`},
	}
	for _, tt := range tests {
		p, o, s := tt.ns.Namespaces(tt.hasInbox)
		if got := "* NAMESPACE " + nsList(p) + " " + nsList(o) + " " + nsList(s); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", nsName(tt.ns), got, tt.want)
		}
	}
}

func nsList(es []NamespaceEntry) string {
	if es == nil {
		return "NIL"
	}
	var b strings.Builder
	b.WriteByte('(')
	for _, e := range es {
		fmt.Fprintf(&b, "(%q %q)", EncodeMUTF7(e.Prefix), string(e.Separator))
	}
	b.WriteByte(')')
	return b.String()
}

// TestTranscriptNames checks the names of the Cyrus 3.6 reference
// transcripts (classic namespace: altnamespace and unixhierarchysep off).
func TestTranscriptNames(t *testing.T) {
	ns := Namespace{}
	for ext, in := range map[string]string{
		"INBOX":               "user.alice",
		"INBOX.Drafts":        "user.alice.Drafts",
		"INBOX.Sent":          "user.alice.Sent",
		"INBOX.Work":          "user.alice.Work",
		"INBOX.Work.Projects": "user.alice.Work.Projects",
		"INBOX.sub":           "user.alice.sub",
		"user.bob.x":          "user.bob.x",
		"user.bob":            "user.bob",
		"INBOX.nonexistent":   "user.alice.nonexistent",
	} {
		checkTranslation(t, ns, translation{in, "alice", ext, ""}, ext)
	}
	admin := Namespace{Admin: true}
	for _, name := range []string{"user.alice", "user.alice.Drafts", "user.alice.Work.Projects", "user.user10"} {
		checkTranslation(t, admin, translation{name, "cyrus", name, ""}, name)
	}
}

func TestFromConfig(t *testing.T) {
	cfg, err := config.FromMap(map[string]string{"configdirectory": "/var/lib/cyrus"}, "")
	if err != nil {
		t.Fatal(err)
	}
	// Cyrus 3.6 defaults: altnamespace and unixhierarchysep on.
	want := Namespace{AltNamespace: true, UnixHierSep: true, DefaultDomain: "internal",
		UserPrefix: "Other Users", SharedPrefix: "Shared Folders", AltPrefix: "Alt Folders"}
	if got := FromConfig(cfg); got != want {
		t.Errorf("defaults: got %+v, want %+v", got, want)
	}
	cfg, err = config.FromMap(map[string]string{
		"configdirectory":          "/var/lib/cyrus",
		"altnamespace":             "no",
		"unixhierarchysep":         "no",
		"virtdomains":              "userid",
		"defaultdomain":            "Example.NET",
		"userprefix":               "&AMQ-ndere",
		"sharedprefix":             "A & B",
		"disable_shared_namespace": "yes",
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	want = Namespace{VirtDomains: VirtDomainsUserID, DefaultDomain: "example.net",
		UserPrefix: "Ändere", SharedPrefix: "A & B", AltPrefix: "Alt Folders", DisableSharedNamespace: true}
	if got := FromConfig(cfg); got != want {
		t.Errorf("set: got %+v, want %+v", got, want)
	}
	cfg, err = config.FromMap(map[string]string{"configdirectory": "/x", "virtdomains": "yes"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := FromConfig(cfg).VirtDomains; got != VirtDomainsOn {
		t.Errorf("virtdomains yes: got %v", got)
	}
}

func TestCheck(t *testing.T) {
	good := []Namespace{
		{},
		{AltNamespace: true, UnixHierSep: true},
		{AltNamespace: true, UnixHierSep: true, UserPrefix: "Other.Users"},
		{UserPrefix: "a/b"}, // prefixes only matter in the alternate namespace
	}
	for _, ns := range good {
		if err := ns.Check(); err != nil {
			t.Errorf("%+v: %v", ns, err)
		}
	}
	bad := []Namespace{
		{AltNamespace: true, UnixHierSep: true, UserPrefix: "Other/Users"},
		{AltNamespace: true, UserPrefix: "Other.Users"},
		{AltNamespace: true, SharedPrefix: "Other Users"},
		{AltNamespace: true, SharedPrefix: "Other"},
		{AltNamespace: true, UserPrefix: "inbox"},
		{AltNamespace: true, AltPrefix: "Shared Folders"},
		{AltNamespace: true, UserPrefix: strings.Repeat("x", 40)},
		{AltNamespace: true, UserPrefix: "a\tb"},
	}
	for _, ns := range bad {
		if err := ns.Check(); err == nil {
			t.Errorf("%+v: accepted", ns)
		}
	}
}

func TestCanonicalUserID(t *testing.T) {
	on := Namespace{VirtDomains: VirtDomainsOn, DefaultDomain: "internal"}
	off := Namespace{DefaultDomain: "internal"}
	tests := []struct {
		ns       Namespace
		in, want string
	}{
		{on, "bob", "bob"},
		{on, "bob@Example.COM", "bob@example.com"},
		{on, "bob@internal", "bob"},
		{on, "", ""},
		{off, "bob@example.com", "bob"},
		{off, "john.doe", "john.doe"},
	}
	for _, tt := range tests {
		if got, err := tt.ns.CanonicalUserID(tt.in); err != nil || got != tt.want {
			t.Errorf("CanonicalUserID(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"@example.com", "a!b", "a\nb", "..", "bob@", "bob@ex ample"} {
		if got, err := on.CanonicalUserID(in); err == nil {
			t.Errorf("CanonicalUserID(%q) = %q, want an error", in, got)
		}
	}
}

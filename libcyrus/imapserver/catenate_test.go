package imapserver

import (
	"reflect"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/message"
)

func TestParseCatURL(t *testing.T) {
	ss := &session{srv: &Server{serverName: "mail.example"}, user: "alice"}
	tests := []struct {
		url  string
		want *catURL // nil: refused
	}{
		{"/INBOX/;UID=20", &catURL{mailbox: "INBOX", uid: 20, length: -1, wholeMsg: true}},
		{"/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1.MIME",
			&catURL{mailbox: "Drafts", uidValidity: 385759045, uid: 20, length: -1, section: message.SectionSpec{Path: []int{1}, Specifier: "MIME"}}},
		{"/INBOX.Caf%C3%A9/;uid=3/;SECTION=HEADER.FIELDS%20(From%20To)/;PARTIAL=10.20",
			&catURL{mailbox: "INBOX.Café", uid: 3, section: message.SectionSpec{Specifier: "HEADER.FIELDS", Fields: []string{"From", "To"}}, partial: true, offset: 10, length: 20}},
		{"imap://alice@MAIL.example:143/INBOX/;UID=1/;PARTIAL=5", &catURL{mailbox: "INBOX", uid: 1, partial: true, offset: 5, length: -1, wholeMsg: true}},
		{"imap://mail.example/INBOX/;UID=1", &catURL{mailbox: "INBOX", uid: 1, length: -1, wholeMsg: true}},
		{"imap://bob@mail.example/INBOX/;UID=1", nil},
		{"imap://alice@other.example/INBOX/;UID=1", nil},
		{";UID=1", nil}, // no mailbox selected
		{"/INBOX/;UID=0", nil},
		{"/INBOX/;UID=4294967296", nil},
		{"/INBOX;UIDVALIDITY=0/;UID=1", nil},
		{"/INBOX", nil},
		{"//;UID=1", nil},
		{"/INBOX%ZZ/;UID=1", nil},
		{"/INBOX%FF/;UID=1", nil},
		{"/INBOX/;UID=1/;SECTION=0", nil},
		{"/INBOX/;UID=1/;SECTION=HEADER.FIELDS", nil},
		{"/INBOX/;UID=1/;SECTION=TEXT%20(X)", nil},
		{"/INBOX/;UID=1/;PARTIAL=1.0", nil},
		{"/INBOX/;UID=1/;PARTIAL=-1", nil},
		{"/INBOX/;UID=1/;PARTIAL=1/;SECTION=1", nil},
		{"/INBOX/;UID=1/;EXPIRE=2030-01-01T00:00:00Z", nil},
		{"mailto:x@example.com", nil},
		{"", nil},
	}
	for _, tc := range tests {
		got, why := ss.parseCatURL(tc.url)
		if tc.want == nil {
			if got != nil {
				t.Errorf("%q: accepted as %+v", tc.url, got)
			} else if why == "" {
				t.Errorf("%q: refused without a reason", tc.url)
			}
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %+v (%s), want %+v", tc.url, got, why, tc.want)
		}
	}
}

func TestBadURLCode(t *testing.T) {
	r := badURL("/a]b\r\n/;UID=1", "x")
	if r.code != "BADURL /a%5Db%0D%0A/;UID=1" {
		t.Errorf("code %q", r.code)
	}
}

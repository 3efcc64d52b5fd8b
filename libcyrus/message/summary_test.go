package message

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"os"
	"reflect"
	"testing"
	"time"
)

func parseFile(t testing.TB, name string) (*Summary, []byte) {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(bytes.NewReader(raw), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s, raw
}

func TestSummaryFields(t *testing.T) {
	tests := []struct {
		file        string
		subject     string
		base        string
		date        string // RFC 3339, "" for none
		messageID   string
		inReplyTo   []string
		references  []string
		from, to    SortAddr
		cc          SortAddr
		fromDisplay string
	}{
		{file: "simple.eml", subject: "seed 0", base: "seed 0", date: "2024-01-01T00:00:00Z",
			messageID: "<seed0@example.com>",
			from:      SortAddr{Mailbox: "sender", Host: "example.com"},
			to:        SortAddr{Mailbox: "alice", Host: "unspecified-domain"}},
		{file: "alternative.eml", subject: "Lunch?", base: "Lunch?", date: "2024-01-02T10:30:00-05:00",
			messageID: "<alt-1@example.net>", inReplyTo: []string{"<seed0@example.com>"},
			references: []string{"<root@example.com>", "<seed0@example.com>"},
			from:       SortAddr{Name: "Bob Example", Mailbox: "bob", Host: "example.net"},
			to:         SortAddr{Name: "Alice", Mailbox: "alice", Host: "example.org"},
			cc:         SortAddr{Name: "Dave", Mailbox: "dave", Host: "example.org"}},
		{file: "rfc2047.eml", subject: "Re: [tag] Fwd: café au lait (fwd)", base: "café au lait",
			date: "2024-01-05T09:15:00+02:00", messageID: "<2047@example.de>",
			from: SortAddr{Name: "Jürgen Müller", Mailbox: "juergen", Host: "example.de"},
			to:   SortAddr{Name: "André", Mailbox: "andre", Host: "example.fr"}},
		{file: "8bit.eml", subject: "Grüße aus Köln", base: "Grüße aus Köln", date: "2024-01-10T07:00:00+01:00",
			messageID: "<8bit@example.de>",
			from:      SortAddr{Name: "Jürgen Müller", Mailbox: "juergen", Host: "example.de"},
			to:        SortAddr{Name: "Renée", Mailbox: "renee", Host: "example.fr"}},
		{file: "groups.eml", subject: "[Team] Meeting notes", base: "Meeting notes", date: "2024-01-06T18:45:00-08:00",
			messageID: "<groups-1@example.com>",
			from:      SortAddr{Name: "Frank", Mailbox: "frank", Host: "example.com"},
			to:        SortAddr{Mailbox: "alice", Host: "example.org"}},
		{file: "nodate.eml", subject: "no date and no from", base: "no date and no from",
			to: SortAddr{Mailbox: "alice", Host: "example.org"}},
		{file: "specials.eml", subject: `quoted "words" and 100%`, base: `quoted "words" and 100%`,
			date: "2024-01-09T12:34:00-05:00", messageID: "<specials@example.com>",
			from: SortAddr{Name: `Quote "Q" Person`, Mailbox: "q", Host: "example.com"},
			to:   SortAddr{Name: "100% real", Mailbox: "pct", Host: "example.com"}},
		{file: "edge_headers.eml", messageID: "<spaced@example.com>",
			inReplyTo: []string{"<a@example.com>", "<b@example.com>"},
			from:      SortAddr{Mailbox: "second", Host: "example.com"},
			to:        SortAddr{Host: "unspecified-domain"},
			cc:        SortAddr{Mailbox: "a", Host: "b@c.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s, raw := parseFile(t, tt.file)
			sum := sha1.Sum(raw)
			if s.GUID != hex.EncodeToString(sum[:]) {
				t.Errorf("GUID %s, want sha1 %x", s.GUID, sum)
			}
			if s.Size != int64(len(raw)) || s.BareLF || s.Limited || !s.HeaderComplete {
				t.Errorf("size %d bareLF %v limited %v headerComplete %v", s.Size, s.BareLF, s.Limited, s.HeaderComplete)
			}
			if s.Subject != tt.subject || s.BaseSubject != tt.base {
				t.Errorf("subject %q base %q, want %q %q", s.Subject, s.BaseSubject, tt.subject, tt.base)
			}
			var date string
			if !s.Date.IsZero() {
				date = s.Date.Format(time.RFC3339)
			}
			if date != tt.date {
				t.Errorf("date %q, want %q", date, tt.date)
			}
			if s.MessageID != tt.messageID || !reflect.DeepEqual(s.InReplyTo, tt.inReplyTo) || !reflect.DeepEqual(s.References, tt.references) {
				t.Errorf("ids %q %q %q", s.MessageID, s.InReplyTo, s.References)
			}
			if s.From != tt.from || s.To != tt.to || s.Cc != tt.cc {
				t.Errorf("sort addresses\n %+v %+v %+v\nwant %+v %+v %+v", s.From, s.To, s.Cc, tt.from, tt.to, tt.cc)
			}
			hdr := raw[:s.Root.HeaderLen]
			if !bytes.Equal(s.Header, hdr) || !bytes.HasSuffix(hdr, []byte("\r\n\r\n")) {
				t.Errorf("header copy %q", s.Header)
			}
		})
	}
}

func TestHeaderValues(t *testing.T) {
	s, _ := parseFile(t, "rfc2047.eml")
	if got := s.HeaderValues("subject"); !reflect.DeepEqual(got, []string{"Re: [tag] Fwd: café au lait (fwd)"}) {
		t.Errorf("subject %q", got)
	}
	if got := s.HeaderValues("TO"); !reflect.DeepEqual(got, []string{`André <andre@example.fr>, "Zoë" <zoe@example.com>`}) {
		t.Errorf("to %q", got)
	}
	s, _ = parseFile(t, "edge_headers.eml")
	if got := s.HeaderValues("From"); !reflect.DeepEqual(got, []string{"first@example.com", "second@example.com"}) {
		t.Errorf("from %q", got)
	}
	if got := s.HeaderValues("X-Missing"); got != nil {
		t.Errorf("missing %q", got)
	}
}

func TestLeafParts(t *testing.T) {
	s, _ := parseFile(t, "rfc822.eml")
	var got []string
	for _, p := range s.LeafParts() {
		got = append(got, p.Type+"/"+p.Subtype)
	}
	want := []string{"TEXT/PLAIN", "TEXT/PLAIN", "TEXT/HTML", "TEXT/PLAIN"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("leaves %v, want %v", got, want)
	}
}

package imapserver

import "testing"

func TestIMAP4rev2Transcript(t *testing.T) { t.Parallel(); runTranscript(t, "imap4rev2.txt") }

func TestMailboxNameWireForm(t *testing.T) {
	for _, tc := range []struct {
		rev2    bool
		wire    string
		want    string // "" with wantErr
		wantErr bool
		mixed   bool // raw UTF-8 in IMAP4rev1: encodeName gives modified UTF-7
	}{
		{wire: "INBOX.Caf&AOk-", want: "INBOX.Café"},
		{wire: "A&-B", want: "A&B"},
		{wire: "&AOk", wantErr: true},
		{wire: "bad\xff", wantErr: true},
		{wire: "Café&AOk", wantErr: true},
		// Raw UTF-8 in IMAP4rev1, as go-imap v2 sends it when IMAP4rev2
		// is offered: the ASCII around it is still modified UTF-7.
		{wire: "INBOX.Café", want: "INBOX.Café", mixed: true},
		{wire: "Café &- B&AOk-", want: "Café & Bé", mixed: true},
		{rev2: true, wire: "INBOX.Café", want: "INBOX.Café"},
		{rev2: true, wire: "A&B", want: "A&B"},
		{rev2: true, wire: "INBOX.Caf&AOk-", want: "INBOX.Caf&AOk-"},
		{rev2: true, wire: "bad\xff", wantErr: true},
	} {
		ss := &session{enabled: map[string]bool{"IMAP4rev2": tc.rev2}}
		got, err := ss.decodeName(tc.wire)
		if tc.wantErr {
			if err == nil {
				t.Errorf("rev2=%v %q: no error, got %q", tc.rev2, tc.wire, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("rev2=%v decodeName(%q) = %q, %v; want %q", tc.rev2, tc.wire, got, err, tc.want)
			continue
		}
		if back := ss.encodeName(got); back != tc.wire && !tc.mixed {
			t.Errorf("rev2=%v encodeName(%q) = %q, want %q", tc.rev2, got, back, tc.wire)
		}
	}
}

func TestReadStatusItemsDeleted(t *testing.T) {
	for _, tc := range []struct {
		in      string
		rev2    bool
		want    uint16
		wantErr bool
	}{
		{in: "(MESSAGES SIZE)", want: statusMessages | statusSize},
		{in: "(DELETED)", wantErr: true},
		{in: "(deleted size)", rev2: true, want: statusDeleted | statusSize},
		{in: "(DELETED-STORAGE)", rev2: true, wantErr: true},
	} {
		got, err := readStatusItems(wireReader(t, tc.in+"\r\n"), tc.rev2)
		if (err != nil) != tc.wantErr || got != tc.want && !tc.wantErr {
			t.Errorf("%q rev2=%v = %b, %v; want %b", tc.in, tc.rev2, got, err, tc.want)
		}
	}
}

func TestCreatableName(t *testing.T) {
	for _, tc := range []struct {
		rev2 bool
		name string
		want bool
	}{
		{false, "INBOX.Cafe\u0301", true}, // IMAP4rev1 has no such rule
		{true, "INBOX.Café", true},
		{true, "INBOX.Cafe\u0301", false},
		{true, "INBOX.a\u0085b", false},
		{true, "INBOX.a\x7fb", false},
		{true, "INBOX.A&B", true},
	} {
		ss := &session{enabled: map[string]bool{"IMAP4rev2": tc.rev2}}
		if got := ss.creatableName(tc.name); got != tc.want {
			t.Errorf("rev2=%v creatableName(%q) = %v", tc.rev2, tc.name, got)
		}
	}
}

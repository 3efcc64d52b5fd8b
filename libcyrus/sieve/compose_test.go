package sieve

import (
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/message"
)

// TestCompose checks the generated messages parse and carry what RFC
// 5230 5, RFC 5436 2.7 and RFC 5429 2.2 ask for.
func TestCompose(t *testing.T) {
	res, err := runSrc(t, `require "vacation"; vacation :subject "Gone fishin'" "I'm away.
Back soon.";`, msgCoyote, envTo("coyote@desert.example.org", "roadrunner@acme.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	v := res.Actions[0].(Vacation)
	out := string(v.Compose(fixedNow, "<reply@acme.example.com>"))
	for _, want := range []string{
		"From: roadrunner@acme.example.com\r\n", "To: <coyote@desert.example.org>\r\n",
		"Subject: Gone fishin'\r\n", "In-Reply-To: <1@desert.example.org>\r\n",
		"References: <1@desert.example.org>\r\n", "Auto-Submitted: auto-replied (vacation)\r\n",
		"\r\n\r\nI'm away.\r\nBack soon.\r\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("vacation reply lacks %q:\n%s", want, out)
		}
	}
	if _, err := message.Parse(strings.NewReader(out), message.Options{}); err != nil {
		t.Fatal(err)
	}

	n := Notify{Method: "mailto:alm@example.com?subject=Hi%20there&cc=b@example.com", Importance: "1", Message: "msg"}
	rcpts, msg, err := n.Compose(fixedNow, "sieve@example.com", "<n@example.com>")
	if err != nil || strings.Join(rcpts, ",") != "alm@example.com" {
		t.Fatalf("notify: %v %v", rcpts, err)
	}
	for _, want := range []string{"Subject: Hi there\r\n", "Cc: b@example.com\r\n", "Auto-Submitted: auto-notified\r\n", "Importance: high\r\n"} {
		if !strings.Contains(string(msg), want) {
			t.Errorf("notification lacks %q:\n%s", want, msg)
		}
	}

	hdr := NewMessageBytes([]byte(strings.ReplaceAll(msgCoyote, "\n", "\r\n"))).Header()
	mdn := string(Reject{Reason: "go away"}.Compose(fixedNow, "postmaster@acme.example.com", "coyote@desert.example.org", "roadrunner@acme.example.com", "<mdn@x>", hdr))
	for _, want := range []string{"report-type=disposition-notification", "Disposition: automatic-action/MDN-sent-automatically; deleted",
		"Final-Recipient: rfc822; roadrunner@acme.example.com", "Original-Message-ID: <1@desert.example.org>", "go away", "Subject: I have a present for you"} {
		if !strings.Contains(mdn, want) {
			t.Errorf("MDN lacks %q:\n%s", want, mdn)
		}
	}
	sum, err := message.Parse(strings.NewReader(mdn), message.Options{})
	if err != nil || sum.Root.Type != "MULTIPART" || len(sum.Root.Parts) != 3 {
		t.Fatalf("MDN structure: %v %+v", err, sum.Root)
	}
}

// TestEditedHeaderBytes checks that an added field cannot inject lines.
func TestEditedHeaderBytes(t *testing.T) {
	res, err := runSrc(t, `require ["editheader", "encoded-character"];
addheader "X-Test" "line${hex:0d 0a}X-Evil: 1";
addheader :last "X-Long" "`+strings.Repeat("word ", 40)+`";
addheader "X-Utf8" "café";`, msgCoyote, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	WriteHeader(&b, res.Header)
	out := b.String()
	if strings.Contains(out, "\r\nX-Evil") {
		t.Fatalf("header injection:\n%s", out)
	}
	if !strings.Contains(out, "X-Utf8: =?utf-8?q?caf=C3=A9?=\r\n") {
		t.Fatalf("non-ASCII value not encoded:\n%s", out)
	}
	for _, l := range strings.Split(out, "\r\n") {
		if len(l) > 998 {
			t.Fatalf("line too long: %d", len(l))
		}
	}
	if !strings.HasPrefix(out, "X-Utf8:") || !strings.Contains(out, "\r\nX-Long: word") {
		t.Fatalf("placement:\n%s", out)
	}
}

// TestVacationTrackingID: RFC 5230 4.2: the same :handle is the same
// response whatever the text; without one, the arguments decide; and each
// sender is tracked apart.
func TestVacationTrackingID(t *testing.T) {
	id := func(script, from string) string {
		t.Helper()
		res, err := runSrc(t, `require "vacation"; `+script, msgCoyote, envTo(from, "roadrunner@acme.example.com"))
		if err != nil {
			t.Fatal(err)
		}
		return res.Actions[0].(Vacation).TrackingID
	}
	const c = "coyote@desert.example.org"
	if id(`vacation :handle "h" "one";`, c) != id(`vacation :handle "h" :subject "s" "two";`, c) {
		t.Error(":handle does not identify the response")
	}
	if id(`vacation "one";`, c) == id(`vacation "two";`, c) {
		t.Error("different reasons share a tracking id")
	}
	if id(`vacation :subject "a" "one";`, c) == id(`vacation :subject "b" "one";`, c) {
		t.Error("different subjects share a tracking id")
	}
	if id(`vacation "one";`, c) == id(`vacation "one";`, "other@desert.example.org") {
		t.Error("different senders share a tracking id")
	}
}

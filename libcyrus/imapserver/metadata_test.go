package imapserver

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
)

func TestMetadataTranscript(t *testing.T)     { t.Parallel(); runTranscript(t, "metadata.txt") }
func TestMetadataACLTranscript(t *testing.T)  { t.Parallel(); runTranscript(t, "metadata_acl.txt") }
func TestMetadataListTranscript(t *testing.T) { t.Parallel(); runTranscript(t, "metadata_list.txt") }
func TestSpecialUseMetaTranscript(t *testing.T) {
	t.Parallel()
	runTranscript(t, "metadata_specialuse.txt")
}

// TestMetadataTooMany: one owner's entries are bounded (RFC 5464 4.3,
// NO [METADATA TOOMANY]), and the refused command stores none of them.
func TestMetadataTooMany(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, map[string]string{"annotation_allow_undefined": "yes"})
	e.create("user.alice")
	c := e.dial()
	c.mustOK("L0", "LOGIN alice secret")
	var b strings.Builder
	for i := 0; i <= mailbox.MetadataMaxEntries; i++ {
		fmt.Fprintf(&b, " /private/vendor/example/e%d \"v\"", i)
	}
	out := c.cmd("s1", "SETMETADATA INBOX ("+b.String()[1:]+")")
	if got := out[len(out)-1]; got != "s1 NO [METADATA TOOMANY] Too many annotations" {
		t.Fatalf("answer %q", got)
	}
	out = c.cmd("g1", `GETMETADATA INBOX "/private/*"`)
	if len(out) != 1 || out[0] != "g1 OK Completed" {
		t.Fatalf("a refused SETMETADATA stored something: %q", out)
	}
	c.mustOK("s2", "SETMETADATA INBOX (/private/vendor/example/one \"v\")")
}

// TestMetadataLiteralLimits: a value's literal is bounded by the store's
// limit and by maxliteral, and refused before its "+".
func TestMetadataLiteralLimits(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, map[string]string{"maxliteral": "1000"})
	e.create("user.alice")
	c := e.dial()
	c.mustOK("L0", "LOGIN alice secret")
	for _, tc := range []struct{ cmd, want string }{
		{"SETMETADATA INBOX (/shared/comment {1001}", "a NO [TOOBIG] Literal size exceeds fixed limit"},
		{"SETMETADATA INBOX (/shared/comment {70000}", "a NO [METADATA MAXSIZE 65536] Annotation value too large"},
	} {
		if out := c.cmd("a", tc.cmd); out[len(out)-1] != tc.want {
			t.Errorf("%s: %q, want %q", tc.cmd, out, tc.want)
		}
	}
	c.mustOK("b", "SETMETADATA INBOX (/shared/comment {3+}\r\nabc)")
}

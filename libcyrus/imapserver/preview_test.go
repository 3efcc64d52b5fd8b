package imapserver

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPreviewText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"  \r\n\t hello \r\n\r\n world  \r\n", "hello world"},
		{"bad \xff\xfe utf8", "bad utf8"},
		{"nul\x00 and \x1b escape", "nul and escape"},
		{strings.Repeat("é", 300), strings.Repeat("é", 256)},
		{strings.Repeat("a ", 300), strings.TrimSpace(strings.Repeat("a ", 128))},
	}
	for _, tc := range tests {
		got := previewText(tc.in)
		if got != tc.want {
			t.Errorf("previewText(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if n := utf8.RuneCountInString(got); n > previewMax {
			t.Errorf("previewText(%q): %d characters", tc.in, n)
		}
	}
}

func TestHTMLText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<p>a</p><p>b</p>", "a b"},
		{"<STYLE>x{}</STYLE>text<script>evil()</script>", "text"},
		{"<!-- c -->&amp;&lt;&#233;", "&<é"},
		{"unclosed <b", "unclosed"},
		{"a <!-- never closed", "a"},
	}
	for _, tc := range tests {
		if got := previewText(htmlText(tc.in)); got != tc.want {
			t.Errorf("htmlText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

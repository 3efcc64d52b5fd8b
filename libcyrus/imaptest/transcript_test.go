package imaptest

import "testing"

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, got string
		want         bool
		vars         map[string]string
	}{
		{"* 3 EXISTS", "* 3 EXISTS", true, nil},
		{"* <<n>> EXISTS", "* 12 EXISTS", true, nil},
		{"* <<n>> EXISTS", "* x EXISTS", false, nil},
		{"* OK [UIDVALIDITY <<V:n>>] Ok", "* OK [UIDVALIDITY 77] Ok", true, map[string]string{"V": "77"}},
		{"a1 OK [APPENDUID <<V>> 1] Done", "a1 OK [APPENDUID 77 1] Done", true, nil},
		{"a1 OK [APPENDUID <<V>> 1] Done", "a1 OK [APPENDUID 78 1] Done", false, nil},
		{"* OK [MAILBOXID (<<ID:*>>)] Ok", "* OK [MAILBOXID (abc-1)] Ok", true, map[string]string{"ID": "abc-1"}},
		{"S <<*>> end", "S anything at all end", true, nil},
		{"a.b (c)", "a.b (c)", true, nil},
		{"a.b (c)", "axb (c)", false, nil},
	}
	tr := &transcript{vars: map[string]string{"V": "77"}}
	for _, tc := range tests {
		if got := tr.match(tc.pattern, tc.got); got != tc.want {
			t.Errorf("match(%q, %q) = %v, want %v", tc.pattern, tc.got, got, tc.want)
		}
		for k, v := range tc.vars {
			if tr.vars[k] != v {
				t.Errorf("match(%q, %q): %s = %q, want %q", tc.pattern, tc.got, k, tr.vars[k], v)
			}
		}
	}
}

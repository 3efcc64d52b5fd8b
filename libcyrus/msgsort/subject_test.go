package msgsort

import (
	"strings"
	"testing"
)

func TestBaseSubject(t *testing.T) {
	tests := []struct {
		in    string
		want  string
		reply bool
	}{
		{"subj", "subj", false},
		{"Re: subj", "subj", true},
		{"RE: re: Re:subj", "subj", true},
		{"rE :subj", "subj", true},
		{"Fw: FWD: fwd : subj", "subj", true},
		{"Re[2]: subj", "subj", true},     // subj-refwd may carry a blob
		{"Re [2]: subj", "subj", true},    // ... after blanks
		{"Re: [2]: subj", ": subj", true}, // step (4) takes the blob, not the ":"
		{"[list] Re: subj", "subj", true}, // blobs before a refwd go with it
		{"[a][b]Re:subj", "subj", true},
		{"[PATCH] subj", "subj", false}, // step (4): a leading blob
		{"[PATCH]", "[PATCH]", false},   // ... unless nothing would be left
		{"[PATCH]  ", "[PATCH]", false},
		{"Re: [PATCH]", "[PATCH]", true},
		{"[a] [b] subj", "subj", false}, // steps (3)-(5) repeat
		{"[a] [b]", "[b]", false},       // the last blob is the base
		{"[a] Re: [b] subj", "subj", true},
		{"subj (fwd)", "subj", true},
		{"subj (fwd) (FWD)  ", "subj", true}, // step (2) repeats
		{"subj(fwd)", "subj", true},
		{"subj (fwd) x", "subj (fwd) x", false}, // only trailing
		{"(fwd)", "", true},
		{"[fwd: subj]", "subj", true}, // step (6)
		{"[FWD: Re: subj]", "subj", true},
		{"[Fwd: Re: [list] subj (fwd)]", "subj", true},
		{"[fwd: [fwd: subj]]", "subj", true}, // repeats from (2)
		{"[fwd: subj] x", "x", false},        // a plain blob when not wrapping
		{"[fwd:subj", "[fwd:subj", false},
		{"Re: [fwd: subj] (fwd)", "subj", true},
		{"Re:", "", true},
		{"Re: ", "", true},
		{"", "", false},
		{"   ", "", false},
		{"  lots \t of\r\n  blanks  ", "lots of blanks", false},
		{"Reply to this", "Reply to this", false}, // "Re" must be followed by ":"
		{"Research: x", "Research: x", false},
		{"Fwd subj", "Fwd subj", false},
		{"Fwd:", "", true},
		{"Fw:Fwd:Re:x", "x", true},
		{"Re: Re: Re: Re: x", "x", true},
		{"x: Re: y", "x: Re: y", false},
		{"[unterminated subj", "[unterminated subj", false},
		{"[a [b] c", "[a [b] c", false},
		{"[] x", "x", false},
		{"=?utf-8?q?Re=3A_caf=C3=A9?=", "café", true}, // step (1) decodes first
		{"Re: =?iso-8859-1?q?caf=E9?= (fwd)", "café", true},
		{"=?UTF-8?B?W2xpc3RdIFJlOiBow6lsbG8=?=", "héllo", true}, // "[list] Re: héllo"
		{"=?utf-8?q?a?= =?utf-8?q?b?=", "ab", false},            // blanks between words go
		{"=?x-unknown?q?abc?=", "=?x-unknown?q?abc?=", false},
		{"caf\xe9", "caf\uFFFD", false},
		{"Re:\tsubj\t(fwd)", "subj", true},
	}
	// Long runs of blobs, leaders and wrappers take linear time (a
	// quadratic walk would not finish here).
	tests = append(tests,
		struct {
			in, want string
			reply    bool
		}{strings.Repeat("[a]", 300000), "[a]", false},
		struct {
			in, want string
			reply    bool
		}{strings.Repeat("[a] ", 300000) + "x", "x", false},
		struct {
			in, want string
			reply    bool
		}{strings.Repeat("Re: ", 300000) + "x", "x", true},
		struct {
			in, want string
			reply    bool
		}{"x" + strings.Repeat(" (fwd)", 300000), "x", true},
		struct {
			in, want string
			reply    bool
		}{strings.Repeat("[fwd: ", 100000) + "x" + strings.Repeat("]", 100000), "x", true},
	)
	for _, tt := range tests {
		got, reply := BaseSubject(tt.in)
		if got != tt.want || reply != tt.reply {
			in := tt.in
			if len(in) > 40 {
				in = in[:40] + "..."
			}
			t.Errorf("BaseSubject(%q) = %q, %v; want %q, %v", in, got, reply, tt.want, tt.reply)
		}
	}
}

package imapserver

import "testing"

func TestESortTranscript(t *testing.T) { t.Parallel(); runTranscript(t, "esort.txt") }

func TestReadSortReturn(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    searchReturn
		wantErr bool
	}{
		{in: "(DATE)"},
		{in: "RETURN () (DATE)", want: searchReturn{given: true, all: true}},
		{in: "return (min MAX) (DATE)", want: searchReturn{given: true, min: true, max: true}},
		{in: "RETURN (SAVE COUNT ALL) (DATE)", want: searchReturn{given: true, save: true, count: true, all: true}},
		{in: "RETURN (PARTIAL) (DATE)", wantErr: true},
		{in: "RETURNS () (DATE)", wantErr: true},
		{in: "RETURN ()(DATE)", wantErr: true},
		{in: "RETURN", wantErr: true},
		{in: "RETURN (MIN", wantErr: true},
	} {
		r := wireReader(t, tc.in+"\r\n")
		got, err := readSortReturn(r)
		if tc.wantErr {
			if err == nil {
				t.Errorf("%q: no error, got %+v", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q = %+v, %v; want %+v", tc.in, got, err, tc.want)
			continue
		}
		if c, _ := r.Peek(); c != '(' {
			t.Errorf("%q: left at %q, want the sort criteria", tc.in, c)
		}
	}
}

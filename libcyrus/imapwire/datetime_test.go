package imapwire

import (
	"testing"
	"time"
)

func TestReadDateTime(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC 3339, "" for a syntax error
	}{
		{`"17-Jul-1996 02:44:25 -0700"`, "1996-07-17T02:44:25-07:00"},
		{`" 1-Jan-2000 00:00:00 +0000"`, "2000-01-01T00:00:00Z"},
		{`"01-jan-2000 23:59:59 +0530"`, "2000-01-01T23:59:59+05:30"},
		{`"1-DEC-2024 12:00:00 -1200"`, "2024-12-01T12:00:00-12:00"},
		{`"29-Feb-2024 12:00:00 +0000"`, "2024-02-29T12:00:00Z"},
		{`"31-Dec-1999 23:59:60 +0000"`, "2000-01-01T00:00:00Z"},
		{`"29-Feb-2023 12:00:00 +0000"`, ""},
		{`"31-Apr-2024 12:00:00 +0000"`, ""},
		{`"00-Jan-2000 00:00:00 +0000"`, ""},
		{`"17-Jux-1996 02:44:25 -0700"`, ""},
		{`"17-Jul-96 02:44:25 -0700"`, ""},
		{`"17-Jul-1996 24:00:00 -0700"`, ""},
		{`"17-Jul-1996 02:60:00 -0700"`, ""},
		{`"17-Jul-1996 02:44:25 0700"`, ""},
		{`"17-Jul-1996 02:44:25 -07"`, ""},
		{`"17-Jul-1996 02:44:25 +2400"`, ""},
		{`"17-Jul-1996 02:44:25 -0760"`, ""},
		{`"17-Jul-1996 2:44:25 -0700"`, ""},
		{`"17-Jul-1996  02:44:25 -0700"`, ""},
		{`"17-Jul-1996 02:44:25 -0700 "`, ""},
		{`"17-Jul-1996"`, ""},
		{`""`, ""},
		{`"123-Jul-1996 02:44:25 -0700"`, ""},
		{`"17-Jul-1996 02:44:25 -0700 and then a great deal more"`, ""},
		{`17-Jul-1996`, ""},
		{`{26}` + "\r\n" + `17-Jul-1996 02:44:25 -0700`, ""},
	}
	for _, tt := range tests {
		r, _ := open(t, tt.in+" ", testLimits())
		got, err := r.ReadDateTime()
		if tt.want == "" {
			if !isSyntax(err) {
				t.Errorf("ReadDateTime(%s) = %v, %v; want syntax error", tt.in, got, err)
			}
			continue
		}
		if err != nil || got.Format(time.RFC3339) != tt.want {
			t.Errorf("ReadDateTime(%s) = %s, %v; want %s", tt.in, got.Format(time.RFC3339), err, tt.want)
		}
		if !r.PeekSP() {
			t.Errorf("ReadDateTime(%s) did not stop after the closing quote", tt.in)
		}
	}
}

func TestReadDate(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"1-Feb-1994", "1994-02-01"},
		{"01-feb-1994", "1994-02-01"},
		{`"28-Feb-1994"`, "1994-02-28"},
		{"31-Dec-9999", "9999-12-31"},
		{"1-Feb-94", ""},
		{"32-Jan-1994", ""},
		{"1-Fev-1994", ""},
		{"1 Feb 1994", ""},
		{"1-Feb-19944", ""},
		{`"1-Feb-1994` + "\r\n", ""},
		{"(", ""},
		{"123456789-Feb-1994", ""},
	}
	for _, tt := range tests {
		r, _ := open(t, tt.in+" ", testLimits())
		got, err := r.ReadDate()
		if tt.want == "" {
			if !isSyntax(err) {
				t.Errorf("ReadDate(%s) = %v, %v; want syntax error", tt.in, got, err)
			}
			continue
		}
		if err != nil || got.Format(time.DateOnly) != tt.want || got.Location() != time.UTC {
			t.Errorf("ReadDate(%s) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

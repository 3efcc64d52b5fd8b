package table

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestTableShape checks the invariants the parser and the generator rely
// on, so a bad edit of options.go fails here rather than at run time.
func TestTableShape(t *testing.T) {
	opts := Options()
	byName := make(map[string]*Option)
	goNames := make(map[string]string)
	nameRe := regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	goRe := regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	for i := range opts {
		o := &opts[i]
		if i > 0 && opts[i-1].Name >= o.Name {
			t.Errorf("options not sorted or duplicated at %q (after %q)", o.Name, opts[i-1].Name)
		}
		byName[o.Name] = o
		if !nameRe.MatchString(o.Name) {
			t.Errorf("%s: bad name", o.Name)
		}
		if o.Kind < String || o.Kind > List {
			t.Errorf("%s: invalid kind %d", o.Name, o.Kind)
		}
		if strings.TrimSpace(o.Doc) == "" {
			t.Errorf("%s: no doc", o.Name)
		}
		switch {
		case o.Deprecated && o.Go != "":
			t.Errorf("%s: deprecated option has a Go constant %s", o.Name, o.Go)
		case !o.Deprecated && !goRe.MatchString(o.Go):
			t.Errorf("%s: bad Go name %q", o.Name, o.Go)
		case o.Go != "":
			if prev, ok := goNames[o.Go]; ok {
				t.Errorf("%s and %s share the Go name %s", prev, o.Name, o.Go)
			}
			goNames[o.Go] = o.Name
		}
		if o.ReplacedBy != "" && !o.Deprecated {
			t.Errorf("%s: replaced but not deprecated", o.Name)
		}
		switch o.Kind {
		case Duration:
			if !slices.Contains([]string{"s", "m", "h", "d"}, o.Unit) {
				t.Errorf("%s: duration unit %q", o.Name, o.Unit)
			}
		case Size:
			if o.Unit != "B" && o.Unit != "K" {
				t.Errorf("%s: size unit %q", o.Name, o.Unit)
			}
		case Enum:
			if len(o.Values) == 0 {
				t.Errorf("%s: enum without values", o.Name)
			}
		}
		if len(o.Values) > 0 && o.Kind != Enum && o.Kind != List {
			t.Errorf("%s: values on a %s", o.Name, o.Kind)
		}
		if o.Repeat && o.Kind != String {
			t.Errorf("%s: only string options may repeat", o.Name)
		}
		spellings := make(map[string]bool)
		for _, v := range o.Values {
			for _, s := range strings.Split(v, "=") {
				if s == "" || spellings[strings.ToLower(s)] {
					t.Errorf("%s: empty or duplicate value spelling %q", o.Name, s)
				}
				spellings[strings.ToLower(s)] = true
			}
		}
	}
	for _, o := range opts {
		if o.ReplacedBy == "" {
			continue
		}
		r, ok := byName[o.ReplacedBy]
		switch {
		case !ok:
			t.Errorf("%s: replaced by unknown %s", o.Name, o.ReplacedBy)
		case r.ReplacedBy != "" || r.Deprecated:
			t.Errorf("%s: replaced by deprecated %s", o.Name, r.Name)
		case r.Kind != o.Kind || r.Unit != o.Unit || !slices.Equal(r.Values, o.Values):
			t.Errorf("%s (%s) and its replacement %s (%s) differ in kind, unit or values", o.Name, o.Kind, r.Name, r.Kind)
		}
	}
}

func TestFamilyMatch(t *testing.T) {
	tests := []struct {
		key, pattern string
	}{
		{"partition-default", "partition-<name>"},
		{"metapartition-default", "metapartition-<name>"},
		{"archivepartition-p1", "archivepartition-<name>"},
		{"backuppartition-b", "backuppartition-<name>"},
		{"tier1searchpartition-default", "<tier>searchpartition-<name>"},
		{"searchpartition-default", "<tier>searchpartition-<name>"},
		{"xlist-junk", "xlist-<flag>"},
		{"sasl_auxprop_plugin", "sasl_<option>"},
		{"backend1_mechs", "<host>_mechs"},
		{"backend1_password", "<host>_password"},
		{"partition-", ""},
		{"_mechs", ""},
		{"searchpartition-", ""},
		{"partitions", ""},
	}
	fams := Families()
	for _, tt := range tests {
		got := ""
		for _, f := range fams {
			if f.Match(tt.key) {
				got = f.Pattern
				break
			}
		}
		if got != tt.pattern {
			t.Errorf("%q matched %q, want %q", tt.key, got, tt.pattern)
		}
	}
}

func TestOptionsIsACopy(t *testing.T) {
	a := Options()
	a[0].Name = "changed"
	for i := range a {
		if a[i].Values != nil {
			a[i].Values[0] = "changed"
			break
		}
	}
	b := Options()
	if b[0].Name == "changed" {
		t.Fatal("Options returned the table itself")
	}
	for i := range b {
		if b[i].Values != nil && b[i].Values[0] == "changed" {
			t.Fatal("Options shares Values with the table")
		}
	}
}

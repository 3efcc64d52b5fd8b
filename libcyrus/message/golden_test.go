package message

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The golden files hold what Cyrus IMAP 3.6.1 answered for each
// testdata/*.eml (APPENDed, then FETCHed item by item), except where a
// "# deviation:" comment says why cyrusgo answers otherwise. A line is
//
//	ITEM<TAB>value
//	SECTION<TAB>spec<TAB>value
//
// where value is a Go-quoted string or NIL (Cyrus answered NIL; we return
// ErrNoSuchPart and the IMAP engine sends NIL).
type golden struct {
	items    map[string]string
	sections [][2]string // spec, value ("\x00NIL" for NIL)
}

const goldenNIL = "\x00NIL"

func readGolden(t *testing.T, path string) golden {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g := golden{items: map[string]string{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		val := func(s string) string {
			if s == "NIL" {
				return goldenNIL
			}
			v, err := strconv.Unquote(s)
			if err != nil {
				t.Fatalf("%s: bad value %q: %v", path, s, err)
			}
			return v
		}
		switch {
		case fields[0] == "SECTION" && len(fields) == 3:
			g.sections = append(g.sections, [2]string{fields[1], val(fields[2])})
		case len(fields) == 2:
			g.items[fields[0]] = val(fields[1])
		default:
			t.Fatalf("%s: bad line %q", path, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGolden(t *testing.T) {
	emls, err := filepath.Glob("testdata/*.eml")
	if err != nil || len(emls) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for _, eml := range emls {
		name := strings.TrimSuffix(filepath.Base(eml), ".eml")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(eml)
			if err != nil {
				t.Fatal(err)
			}
			g := readGolden(t, strings.TrimSuffix(eml, ".eml")+".golden")
			s, err := Parse(bytes.NewReader(raw), Options{})
			if err != nil {
				t.Fatal(err)
			}
			data, err := s.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			s2, err := Unmarshal(data)
			if err != nil {
				t.Fatal(err)
			}
			for i, sum := range []*Summary{s, s2} {
				which := []string{"parsed", "from cache"}[i]
				check := func(item string, got []byte) {
					t.Helper()
					want, ok := g.items[item]
					if !ok {
						t.Fatalf("golden lacks %s", item)
					}
					if string(got) != want {
						t.Errorf("%s %s:\n got %q\nwant %q", which, item, got, want)
					}
				}
				check("ENVELOPE", sum.Envelope())
				check("BODY", sum.BodyStructure(false))
				check("BODYSTRUCTURE", sum.BodyStructure(true))
				for _, sec := range g.sections {
					spec, want := sec[0], sec[1]
					ref, err := sum.Section(spec)
					if want == goldenNIL {
						if !errors.Is(err, ErrNoSuchPart) {
							t.Errorf("%s BODY[%s]: got %v, want ErrNoSuchPart", which, spec, err)
						}
						continue
					}
					if err != nil {
						t.Errorf("%s BODY[%s]: %v", which, spec, err)
						continue
					}
					got, err := ref.Read(bytes.NewReader(raw))
					if err != nil {
						t.Errorf("%s BODY[%s]: read: %v", which, spec, err)
						continue
					}
					if string(got) != want {
						t.Errorf("%s BODY[%s]:\n got %q\nwant %q", which, spec, got, want)
					}
				}
			}
		})
	}
}

package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Limits on what one configuration may make the parser read, so that a
// hostile or corrupt file (or a fuzzer) cannot make it allocate without
// bound. Real files are a few kilobytes.
const (
	// MaxLineSize bounds one logical line, continuation lines included.
	MaxLineSize = 64 << 10
	// MaxTotalSize bounds the bytes read from a file and everything it
	// includes; Debian's imapd.conf is 1 KiB with its comments stripped,
	// large sites' files a few tens of KiB.
	MaxTotalSize = 1 << 20
	// maxIncludeDepth bounds @include nesting.
	maxIncludeDepth = 16
	// maxKeySize bounds an option name; Cyrus builds <service>_<key> in a
	// 256-byte buffer, so no working file has longer ones.
	maxKeySize = 256
)

// rawLine is one logical line of the form "key: value", with its origin.
type rawLine struct {
	file string
	num  int    // line number of the first physical line
	key  string // lower-cased, as Cyrus does
	val  string // leading and trailing whitespace removed
}

// opener opens an @include file; nil means @include is not available.
type opener func(path string) (io.ReadCloser, error)

// reader collects the lines of a file and of the files it includes.
type reader struct {
	open  opener
	left  int64           // bytes that may still be read, over all files
	files map[string]bool // files read so far: Cyrus refuses a second read
	lines []rawLine
}

func newReader(open opener) *reader {
	return &reader{open: open, left: MaxTotalSize, files: make(map[string]bool)}
}

// budget is an io.Reader that fails once the reader's byte budget is spent.
type budget struct {
	r  io.Reader
	rd *reader
}

var errTooLarge = fmt.Errorf("configuration larger than %d bytes", MaxTotalSize)

func (b *budget) Read(p []byte) (int, error) {
	if b.rd.left <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > b.rd.left {
		p = p[:b.rd.left]
	}
	n, err := b.r.Read(p)
	b.rd.left -= int64(n)
	return n, err
}

// read reads the file name from r. Syntax (imapd.conf(5), lib/libconfig.c):
// a line ending in a backslash continues on the next; blank lines and lines
// whose first non-blank character is '#' are skipped (after joining, as
// Cyrus does); other lines are "key: value", where the key is made of
// letters, digits, '_' and '-', optionally starting with '@' for
// directives.
func (rd *reader) read(r io.Reader, name string, depth int) error {
	if depth > maxIncludeDepth {
		return &ParseError{File: name, Err: fmt.Errorf("@include nested more than %d deep", maxIncludeDepth)}
	}
	if abs, err := filepath.Abs(name); err == nil {
		if rd.files[abs] {
			return &ParseError{File: name, Err: errors.New("configuration file included twice")}
		}
		rd.files[abs] = true
	}
	sc := bufio.NewScanner(&budget{r: r, rd: rd})
	sc.Buffer(make([]byte, 0, 4096), MaxLineSize+2) // room for "\r\n"
	var (
		buf   []byte
		start int // first physical line of the logical line in buf
		num   int
	)
	for {
		more := sc.Scan()
		if !more {
			if err := sc.Err(); err != nil {
				if errors.Is(err, bufio.ErrTooLong) {
					return &ParseError{File: name, Line: num + 1, Err: fmt.Errorf("line longer than %d bytes", MaxLineSize)}
				}
				return &ParseError{File: name, Line: num + 1, Err: err}
			}
			if buf == nil {
				return nil
			}
			// A file ending in a continuation: the last line stands alone.
		} else {
			num++
			phys := bytes.TrimSuffix(sc.Bytes(), []byte("\r"))
			if buf == nil {
				start = num
				buf = make([]byte, 0, len(phys))
			}
			if len(buf)+len(phys) > MaxLineSize {
				return &ParseError{File: name, Line: start, Err: fmt.Errorf("line longer than %d bytes", MaxLineSize)}
			}
			if bytes.HasSuffix(phys, []byte(`\`)) {
				buf = append(buf, phys[:len(phys)-1]...)
				continue
			}
			buf = append(buf, phys...)
		}
		logical := string(buf)
		buf = nil
		if err := rd.line(logical, name, start, depth); err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
}

// line handles one logical line.
func (rd *reader) line(s, name string, num, depth int) error {
	s = strings.TrimSpace(s)
	if s == "" || s[0] == '#' {
		return nil
	}
	fail := func(err error) error { return &ParseError{File: name, Line: num, Err: err} }
	if strings.IndexByte(s, 0) >= 0 {
		return fail(errors.New("NUL byte in line"))
	}
	k, v, ok := strings.Cut(s, ":")
	if !ok {
		return fail(fmt.Errorf("missing ':' after option name in %q", abbrev(s)))
	}
	key := strings.ToLower(strings.TrimSpace(k))
	val := strings.TrimSpace(v)
	if err := checkKey(key); err != nil {
		return fail(err)
	}
	if key[0] == '@' {
		if key != "@include" {
			return fail(fmt.Errorf("unknown directive %q", key))
		}
		return rd.include(val, name, num, depth)
	}
	rd.lines = append(rd.lines, rawLine{file: name, num: num, key: key, val: val})
	return nil
}

// include reads the file named by an @include line in place. A relative
// path is taken from the directory of the including file.
func (rd *reader) include(path, from string, num, depth int) error {
	fail := func(err error) error { return &ParseError{File: from, Line: num, Option: "@include", Err: err} }
	if path == "" {
		return fail(errors.New("empty file name"))
	}
	if rd.open == nil {
		return fail(errors.New("@include is not available here"))
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(from), path)
	}
	f, err := rd.open(path)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	return rd.read(f, path, depth+1)
}

// checkKey enforces Cyrus's key syntax: letters, digits, '_' and '-',
// with an optional leading '@' for directives.
func checkKey(key string) error {
	if key == "" || key == "@" {
		return errors.New("missing option name")
	}
	if len(key) > maxKeySize {
		return fmt.Errorf("option name longer than %d bytes", maxKeySize)
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '@' && i == 0:
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '_', c == '-':
		default:
			return fmt.Errorf("invalid option name %q", abbrev(key))
		}
	}
	return nil
}

// abbrev shortens text quoted in error messages.
func abbrev(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}

package masterconf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// section is one of the four sections of cyrus.conf(5).
type section int

const (
	secStart section = iota + 1
	secServices
	secEvents
	secDaemon
)

func (s section) String() string {
	switch s {
	case secStart:
		return "START"
	case secServices:
		return "SERVICES"
	case secEvents:
		return "EVENTS"
	case secDaemon:
		return "DAEMON"
	}
	return "section(" + strconv.Itoa(int(s)) + ")"
}

// lookupSection matches a section name as Cyrus does: without regard to case
// (masterconf_getsection uses strncasecmp).
func lookupSection(word string) (section, bool) {
	for _, s := range []section{secStart, secServices, secEvents, secDaemon} {
		if strings.EqualFold(word, s.String()) {
			return s, true
		}
	}
	return 0, false
}

// knownKey reports whether master reads key in sec. Keys are case-sensitive,
// as Cyrus compares them with strcmp.
func knownKey(sec section, key string) bool {
	switch sec {
	case secStart:
		return key == "cmd"
	case secServices:
		switch key {
		case "cmd", "listen", "proto", "prefork", "babysit", "maxchild", "maxfds", "maxforkrate":
			return true
		}
	case secEvents:
		switch key {
		case "cmd", "period", "at":
			return true
		}
	case secDaemon:
		switch key {
		case "cmd", "wait", "maxfds", "maxforkrate":
			return true
		}
	}
	return false
}

type parseState int

const (
	stateTop     parseState = iota // between sections
	stateBrace                     // after a section name, before its '{'
	stateSection                   // inside a section
)

type arg struct{ key, value string }

// argSet holds an entry's arguments, at most MaxArgs, each key once.
type argSet []arg

func (as argSet) get(key string) (string, bool) {
	for _, a := range as {
		if a.key == key {
			return a.value, true
		}
	}
	return "", false
}

type entry struct {
	name string
	line int
	args []arg
}

// nameUse records where a name was defined.
type nameUse struct {
	sec  section
	line int
}

type parser struct {
	file string
	log  *slog.Logger
	cfg  Config

	line    int // current line, 1-based
	state   parseState
	sec     section
	secLine int // line of the current section's header

	// SERVICES and DAEMON entries share one namespace: a daemon runs with
	// CYRUS_SERVICE set to its name, and Cyrus's add_daemon and
	// add_service refuse a name already used by the other ("multiple
	// entries for service").
	serviceNames map[string]nameUse
	startNames   map[string]int
	eventNames   map[string]int
}

func newParser(file string, logger *slog.Logger) *parser {
	return &parser{
		file:         file,
		log:          logger,
		serviceNames: make(map[string]nameUse),
		startNames:   make(map[string]int),
		eventNames:   make(map[string]int),
	}
}

func (p *parser) errorf(line int, format string, args ...any) error {
	return &ParseError{File: p.file, Line: line, Err: fmt.Errorf(format, args...)}
}

func (p *parser) wrap(line int, err error) error {
	return &ParseError{File: p.file, Line: line, Err: err}
}

func (p *parser) warn(line int, msg string, attrs ...any) {
	if !p.log.Enabled(context.Background(), slog.LevelWarn) {
		return
	}
	attrs = append([]any{"at", p.file + ":" + strconv.Itoa(line)}, attrs...)
	p.log.Warn(msg, attrs...)
}

func (p *parser) parse(data []byte) error {
	// A UTF-8 byte order mark, as some editors write, is not content.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return p.errorf(bytes.Count(data[:i], []byte("\n"))+1, "NUL byte in file")
	}
	for len(data) > 0 {
		p.line++
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) > MaxLineLength {
			return p.errorf(p.line, "line is longer than %d bytes", MaxLineLength)
		}
		if err := p.parseLine(string(line)); err != nil {
			return err
		}
	}
	switch p.state {
	case stateBrace:
		return p.errorf(p.secLine, "section %s has no opening {", p.sec)
	case stateSection:
		return p.errorf(p.secLine, "section %s is not closed by }", p.sec)
	}
	return nil
}

// isSpace is C's isspace in the "C" locale, which Cyrus's Uisspace is.
func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

// isAlnum is C's isalnum in the "C" locale, which Cyrus's Uisalnum is.
func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

func scanAlnum(s string, i int) int {
	for i < len(s) && isAlnum(s[i]) {
		i++
	}
	return i
}

// wordEnd returns the end of the whitespace-delimited word starting at i,
// for quoting the offending text in errors.
func wordEnd(s string, i int) int {
	for i < len(s) && !isSpace(s[i]) {
		i++
	}
	return i
}

// parseLine consumes one line. A line may hold several things ("SERVICES {",
// "} EVENTS {", an entry followed by the closing brace), so it is scanned as
// a sequence of tokens, carrying the state across lines.
func (p *parser) parseLine(s string) error {
	i := 0
	for {
		i = skipSpace(s, i)
		if i >= len(s) || s[i] == '#' {
			// cyrus.conf(5): lines beginning with "#" are ignored; Cyrus
			// also drops everything after a '#' later in the line.
			return nil
		}
		switch p.state {
		case stateTop:
			j := scanAlnum(s, i)
			if j == i {
				if s[i] == '}' {
					return p.errorf(p.line, "} without a section to close")
				}
				return p.errorf(p.line, "unexpected %q outside a section", s[i:wordEnd(s, i)])
			}
			word := s[i:j]
			if j < len(s) && !isSpace(s[j]) && s[j] != '{' && s[j] != '#' {
				return p.errorf(p.line, "unknown section %q", s[i:wordEnd(s, i)])
			}
			sec, ok := lookupSection(word)
			if !ok {
				return p.errorf(p.line, "unknown section %q (want START, SERVICES, EVENTS or DAEMON)", word)
			}
			p.state, p.sec, p.secLine = stateBrace, sec, p.line
			i = j
		case stateBrace:
			if s[i] != '{' {
				return p.errorf(p.line, "expected { after section name %s, found %q", p.sec, s[i:wordEnd(s, i)])
			}
			p.state = stateSection
			i++
		case stateSection:
			if s[i] == '}' {
				p.state = stateTop
				i++
				continue
			}
			var err error
			if i, err = p.parseEntry(s, i); err != nil {
				return err
			}
		}
	}
}

// parseEntry reads "name key=value ..." from s[i:] up to the end of the line,
// a comment, or a '}' closing the section, and records the entry. It returns
// where scanning continues.
func (p *parser) parseEntry(s string, i int) (int, error) {
	j := scanAlnum(s, i)
	if j == i || (j < len(s) && !isSpace(s[j]) && s[j] != '#' && s[j] != '}') {
		// Cyrus: "bad character '%c' in name". s[j] exists: the caller
		// saw a character at i, and the condition says so for j > i.
		return 0, p.errorf(p.line, "bad character %q in name %q (names are letters and digits only)",
			s[j], s[i:wordEnd(s, i)])
	}
	e := entry{name: s[i:j], line: p.line}
	if sec, ok := lookupSection(e.name); ok {
		if k := skipSpace(s, j); k < len(s) && s[k] == '{' {
			// Never a valid entry; most likely the } was forgotten.
			return 0, p.errorf(p.line, "section %s opened on line %d is not closed by } before section %s",
				p.sec, p.secLine, sec)
		}
	}
	k := j
	for {
		k = skipSpace(s, k)
		if k >= len(s) || s[k] == '#' {
			break
		}
		if s[k] == '}' {
			p.state = stateTop
			k++
			break
		}
		ke := scanAlnum(s, k)
		if ke == k || ke >= len(s) || s[ke] != '=' {
			if ke > k && (ke >= len(s) || isSpace(s[ke]) || s[ke] == '#' || s[ke] == '}') {
				return 0, p.errorf(p.line, "%s entry %q: argument %q has no =value", p.sec, e.name, s[k:ke])
			}
			// Cyrus: "bad character '%c' in argument". s[ke] exists:
			// the loop saw a character at k, and ke == len(s) with
			// ke > k was handled just above.
			return 0, p.errorf(p.line, "%s entry %q: bad character %q in argument %q",
				p.sec, e.name, s[ke], s[k:wordEnd(s, k)])
		}
		key := s[k:ke]
		v := ke + 1
		var value string
		if v < len(s) && s[v] == '"' {
			end := strings.IndexByte(s[v+1:], '"')
			if end < 0 {
				return 0, p.errorf(p.line, "%s entry %q: missing closing \" in %s=", p.sec, e.name, key)
			}
			value = s[v+1 : v+1+end]
			k = v + 1 + end + 1
		} else {
			end := v
			for end < len(s) && !isSpace(s[end]) && s[end] != '#' && s[end] != '}' {
				end++
			}
			value = s[v:end]
			k = end
		}
		if len(e.args) == MaxArgs {
			return 0, p.errorf(p.line, "%s entry %q: too many arguments (at most %d)", p.sec, e.name, MaxArgs)
		}
		e.args = append(e.args, arg{key, value})
	}
	if err := p.addEntry(&e); err != nil {
		return 0, err
	}
	return k, nil
}

// values returns the entry's arguments by key, warning about keys master
// does not read and keys given twice (the first value wins, as in Cyrus).
func (p *parser) values(e *entry) argSet {
	vals := make(argSet, 0, len(e.args))
	for _, a := range e.args {
		if !knownKey(p.sec, a.key) {
			p.warn(e.line, "cyrus.conf: ignoring unknown argument",
				"section", p.sec.String(), "entry", e.name, "key", a.key)
			continue
		}
		if _, dup := vals.get(a.key); dup {
			p.warn(e.line, "cyrus.conf: argument given twice, using the first value",
				"section", p.sec.String(), "entry", e.name, "key", a.key)
			continue
		}
		vals = append(vals, a)
	}
	return vals
}

func (p *parser) addEntry(e *entry) error {
	vals := p.values(e)
	switch p.sec {
	case secStart:
		return p.addStart(e, vals)
	case secServices:
		return p.addService(e, vals)
	case secEvents:
		return p.addEvent(e, vals)
	case secDaemon:
		return p.addDaemon(e, vals)
	}
	return p.errorf(e.line, "entry outside a known section")
}

// command returns the required cmd= value. cyrus.conf(5): "This string
// argument is required." Cyrus treats an empty value as missing, and an
// all-blank one would give an empty argv, so both are refused.
func (p *parser) command(e *entry, vals argSet) (string, error) {
	cmd, ok := vals.get("cmd")
	if !ok || cmd == "" {
		return "", p.errorf(e.line, "%s entry %q: missing cmd", p.sec, e.name)
	}
	if _, err := Argv(cmd); err != nil {
		return "", p.errorf(e.line, "%s entry %q: cmd: %w", p.sec, e.name, err)
	}
	return cmd, nil
}

// intValue parses key's value as Cyrus's masterconf_getint reads an integer
// (optional '-', decimal digits, C int range), but refuses what Cyrus would
// silently replace by the default, so a typo is reported instead of ignored.
func (p *parser) intValue(e *entry, vals argSet, key string, def, min int) (int, error) {
	v, ok := vals.get(key)
	if !ok {
		return def, nil
	}
	n, err := parseInt(v)
	if err != nil {
		return 0, p.errorf(e.line, "%s entry %q: %s=%q: %w", p.sec, e.name, key, v, err)
	}
	if n < min {
		return 0, p.errorf(e.line, "%s entry %q: %s=%q: must be at least %d", p.sec, e.name, key, v, min)
	}
	return n, nil
}

var errNotInteger = errors.New("not an integer")

func parseInt(v string) (int, error) {
	digits := strings.TrimPrefix(v, "-")
	if digits == "" {
		return 0, errNotInteger
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, errNotInteger
		}
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, errors.New("out of range")
	}
	return int(n), nil
}

// boolValue parses a switch. Cyrus's masterconf_getswitch looks at the first
// letters: 0, n, f, "of" are false; 1, y, t, "on" are true. On top of that,
// and without regard to case, any integer counts as its truth value, since
// cyrus.conf(5) documents babysit as "Integer value - if non-zero". Values
// that fit neither are errors where Cyrus would silently use the default.
func (p *parser) boolValue(e *entry, vals argSet, key string) (bool, error) {
	v, ok := vals.get(key)
	if !ok {
		return false, nil
	}
	b, ok := parseSwitch(v)
	if !ok {
		return false, p.errorf(e.line, "%s entry %q: %s=%q: want yes/no, true/false, on/off or a number",
			p.sec, e.name, key, v)
	}
	return b, nil
}

func parseSwitch(v string) (value, ok bool) {
	if n, err := parseInt(v); err == nil {
		return n != 0, true
	}
	lv := strings.ToLower(v)
	switch {
	case lv == "":
		return false, false
	case lv[0] == '0' || lv[0] == 'n' || lv[0] == 'f' || strings.HasPrefix(lv, "of"):
		return false, true
	case lv[0] == '1' || lv[0] == 'y' || lv[0] == 't' || strings.HasPrefix(lv, "on"):
		return true, true
	}
	return false, false
}

func (p *parser) addStart(e *entry, vals argSet) error {
	cmd, err := p.command(e, vals)
	if err != nil {
		return err
	}
	// Cyrus runs every START entry, whatever its name, so a repeated
	// name is legal; it is still most likely a copy-and-paste slip.
	if first, dup := p.startNames[e.name]; dup {
		p.warn(e.line, "cyrus.conf: START entry name used twice", "entry", e.name,
			"first", p.file+":"+strconv.Itoa(first))
	} else {
		p.startNames[e.name] = e.line
	}
	p.cfg.Start = append(p.cfg.Start, Start{Name: e.name, Cmd: cmd, Line: e.line})
	return nil
}

// claimServiceName enforces cyrus.conf(5) "In the SERVICES section, names
// must be unique", extended to DAEMON entries as Cyrus's master does.
func (p *parser) claimServiceName(e *entry) error {
	if first, dup := p.serviceNames[e.name]; dup {
		if first.sec == p.sec {
			return p.errorf(e.line, "%s entry %q: name already used on line %d", p.sec, e.name, first.line)
		}
		return p.errorf(e.line, "%s entry %q: name already used by the %s entry on line %d",
			p.sec, e.name, first.sec, first.line)
	}
	p.serviceNames[e.name] = nameUse{sec: p.sec, line: e.line}
	return nil
}

func isUDP(proto string) bool {
	return strings.HasPrefix(proto, "udp")
}

func validProto(proto string) bool {
	switch proto {
	case "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6":
		return true
	}
	return false
}

func (p *parser) addService(e *entry, vals argSet) error {
	s := Service{Name: e.name, Line: e.line}
	var err error
	if s.Cmd, err = p.command(e, vals); err != nil {
		return err
	}
	// cyrus.conf(5) listen: "This string field is required".
	s.Listen, _ = vals.get("listen")
	if s.Listen == "" {
		return p.errorf(e.line, "SERVICES entry %q: missing listen", e.name)
	}
	s.Proto = DefaultProto
	if v, ok := vals.get("proto"); ok {
		s.Proto = v
	}
	if !validProto(s.Proto) {
		return p.errorf(e.line, "SERVICES entry %q: proto=%q: want tcp, tcp4, tcp6, udp, udp4 or udp6",
			e.name, s.Proto)
	}
	if err := checkListen(s.Listen); err != nil {
		return p.errorf(e.line, "SERVICES entry %q: %w", e.name, err)
	}
	if s.RawPrefork, err = p.intValue(e, vals, "prefork", DefaultPrefork, 0); err != nil {
		return err
	}
	// Cyrus turns any negative maxchild into "unlimited".
	if s.RawMaxChild, err = p.intValue(e, vals, "maxchild", DefaultMaxChild, minInt32); err != nil {
		return err
	}
	if s.RawMaxChild < 0 {
		s.RawMaxChild = -1
	}
	// maxfds=0 leaves the limit master itself has, as Cyrus skips
	// setrlimit for 0.
	if s.MaxFDs, err = p.intValue(e, vals, "maxfds", DefaultMaxFDs, 0); err != nil {
		return err
	}
	if s.RawMaxForkRate, err = p.intValue(e, vals, "maxforkrate", DefaultMaxForkRate, 0); err != nil {
		return err
	}
	if s.RawBabysit, err = p.boolValue(e, vals, "babysit"); err != nil {
		return err
	}
	s.Prefork, s.MaxChild, s.MaxForkRate, s.Babysit = s.RawPrefork, s.RawMaxChild, s.RawMaxForkRate, s.RawBabysit
	// cyrus.conf(5) babysit: "if non-zero, will make sure at least one
	// process is pre-forked, and will set the maxforkrate to 10 if it's
	// zero."
	if s.Babysit {
		s.Prefork = max(s.Prefork, 1)
		if s.MaxForkRate == 0 {
			s.MaxForkRate = BabysitMaxForkRate
		}
	}
	// Cyrus's add_service: a udp service gets one process at most, which
	// reads every datagram, and babysitting applies to tcp only.
	if isUDP(s.Proto) {
		s.Prefork = min(s.Prefork, 1)
		s.MaxChild = 1
		s.Babysit = false
	}
	if err := p.claimServiceName(e); err != nil {
		return err
	}
	p.cfg.Services = append(p.cfg.Services, s)
	return nil
}

const minInt32 = -1 << 31

// maxPeriod is the largest period in minutes: Cyrus computes the period in
// seconds as a C int.
const maxPeriod = (1<<31 - 1) / 60

func (p *parser) addEvent(e *entry, vals argSet) error {
	ev := Event{Name: e.name, At: -1, Line: e.line}
	var err error
	if ev.Cmd, err = p.command(e, vals); err != nil {
		return err
	}
	// cyrus.conf(5) period: "The interval (in minutes) at which to run the
	// command."
	period, err := p.intValue(e, vals, "period", 0, 0)
	if err != nil {
		return err
	}
	if period > maxPeriod {
		return p.errorf(e.line, "EVENTS entry %q: period=%d: at most %d minutes", e.name, period, maxPeriod)
	}
	ev.Period = time.Duration(period) * time.Minute
	if v, ok := vals.get("at"); ok {
		// cyrus.conf(5) at: "The time (24-hour format) at which to run
		// the command each day. If set to a valid time (0000-2359),
		// period is automatically set to 1440." Cyrus reads it as an
		// integer hhmm, so "400" is 04:00 too. Cyrus ignores an invalid
		// time and runs the event as if at= were absent; it is an error
		// here, because that silently changes a daily job into one that
		// runs at every start.
		n, err := parseInt(v)
		if err != nil || n < 0 || n/100 > 23 || n%100 > 59 {
			return p.errorf(e.line, "EVENTS entry %q: at=%q: want a time hhmm from 0000 to 2359", e.name, v)
		}
		if _, both := vals.get("period"); both && period != 24*60 {
			p.warn(e.line, "cyrus.conf: at= is set, so period= is ignored", "entry", e.name)
		}
		ev.At = n/100*60 + n%100
		ev.Period = 24 * time.Hour
	}
	// Cyrus runs every EVENTS entry, whatever its name.
	if first, dup := p.eventNames[e.name]; dup {
		p.warn(e.line, "cyrus.conf: EVENTS entry name used twice", "entry", e.name,
			"first", p.file+":"+strconv.Itoa(first))
	} else {
		p.eventNames[e.name] = e.line
	}
	p.cfg.Events = append(p.cfg.Events, ev)
	return nil
}

func (p *parser) addDaemon(e *entry, vals argSet) error {
	d := Daemon{Name: e.name, Line: e.line}
	var err error
	if d.Cmd, err = p.command(e, vals); err != nil {
		return err
	}
	// cyrus.conf(5) wait: "Switch ... wait=n (the default)".
	if d.Wait, err = p.boolValue(e, vals, "wait"); err != nil {
		return err
	}
	if d.MaxFDs, err = p.intValue(e, vals, "maxfds", DefaultMaxFDs, 0); err != nil {
		return err
	}
	if d.MaxForkRate, err = p.intValue(e, vals, "maxforkrate", 0, 0); err != nil {
		return err
	}
	// Cyrus's add_daemon: "if (maxforkrate == 0) maxforkrate = 10;
	// /* reasonable safety */".
	if d.MaxForkRate == 0 {
		d.MaxForkRate = BabysitMaxForkRate
	}
	if err := p.claimServiceName(e); err != nil {
		return err
	}
	p.cfg.Daemons = append(p.cfg.Daemons, d)
	return nil
}

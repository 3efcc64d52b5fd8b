package config

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/config/internal/table"
)

// file is a parsed configuration before it is resolved for a service. It
// is shared, read-only, by every Config made from it.
type file struct {
	path  string
	lines []*line
	raw   map[string]string // exact key -> value of its last line
}

// line is one key: value line with what its key can mean.
type line struct {
	rawLine
	// generic is what the whole key names, when it is an option, a
	// deprecated name or a family key.
	generic *target
	// scoped is the reading of the key as <prefix>_<option>, if any: an
	// override that applies when the service is prefix.
	scoped *scopedTarget
}

// target is an option or family key that a line sets, with the value
// parsed for it.
type target struct {
	name  string        // canonical option name or family key
	opt   *table.Option // nil for family keys
	alias string        // the deprecated name used, if any
	val   any
}

type scopedTarget struct {
	prefix string
	target
}

// repeatable reports whether the option the line sets may be given several
// times.
func (l *line) repeatable() bool {
	t := l.generic
	if t == nil && l.scoped != nil {
		t = &l.scoped.target
	}
	return t != nil && t.opt != nil && t.opt.Repeat
}

// lookup says what key names: an option (deprecated names resolved to the
// option that replaces them) or a family key. It returns nil for anything
// else.
func lookup(key string) *target {
	if o, ok := optionIndex[key]; ok {
		if o.ReplacedBy != "" {
			return &target{name: o.ReplacedBy, opt: optionIndex[o.ReplacedBy], alias: key}
		}
		return &target{name: key, opt: o}
	}
	for i := range familyList {
		if familyList[i].Match(key) {
			return &target{name: key}
		}
	}
	return nil
}

// extraCheck holds checks that go beyond an option's kind, keyed by option
// name. They mirror the checks Cyrus makes when it reads the file.
var extraCheck = map[string]func(v any) (any, error){
	// lib/libconfig.c: configdirectory must be absolute and not "/".
	"configdirectory": func(v any) (any, error) {
		s := v.(string)
		if !strings.HasPrefix(s, "/") {
			return nil, errors.New("configdirectory must be an absolute path")
		}
		if s == "/" {
			return nil, errors.New("configdirectory must not be /")
		}
		return s, nil
	},
	// lib/libconfig.c: defaultpartition is alphanumeric and lower-cased,
	// like the partition-<name> keys it refers to.
	"defaultpartition": func(v any) (any, error) {
		s := v.(string)
		for _, c := range s {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
				return nil, fmt.Errorf("defaultpartition %q contains a non-alphanumeric character", s)
			}
		}
		return strings.ToLower(s), nil
	},
}

// parse parses the value of l for t.
func (t *target) parse(l *rawLine) (warnings []string, err error) {
	if t.opt == nil {
		t.val = l.val
		return nil, nil
	}
	v, warnings, err := parseValue(t.opt, l.val)
	if err == nil {
		if check, ok := extraCheck[t.name]; ok {
			v, err = check(v)
		}
	}
	if err != nil {
		return nil, err
	}
	t.val = v
	return warnings, nil
}

// compile works out what every line means, validates every value and logs
// what an admin should know about: unknown options (once each), duplicate
// lines, deprecated names and spellings, and, in one line, the options
// given that cyrusgo does not act on.
func compile(raws []rawLine, path, service string, logger *slog.Logger) (*file, error) {
	f := &file{path: path, raw: make(map[string]string, len(raws))}
	unknown := make(map[string]bool)
	ignored := make(map[string]bool)
	lastLine := make(map[string]rawLine) // key -> its previous line, to report duplicates
	for i := range raws {
		l := &line{rawLine: raws[i]}
		fail := func(name string, err error) error {
			return &ParseError{File: l.file, Line: l.num, Option: name, Err: err}
		}
		warn := func(msg string) { logger.Warn(msg, "file", l.file, "line", l.num) }

		if g := lookup(l.key); g != nil {
			ws, err := g.parse(&l.rawLine)
			if err != nil {
				return nil, fail(l.key, err)
			}
			for _, w := range ws {
				warn(fmt.Sprintf("imapd.conf option %q: %s", l.key, w))
			}
			l.generic = g
		}
		// Any option may be prefixed by a service name, and any word may be
		// a service name. cyrus.conf(5) names hold no '_', so the prefix
		// ends at the first one.
		if j := strings.IndexByte(l.key, '_'); j > 0 {
			if t := lookup(l.key[j+1:]); t != nil {
				ws, err := t.parse(&l.rawLine)
				switch {
				case err != nil && l.generic == nil:
					return nil, fail(l.key, err)
				case err != nil:
					// The whole key is an option in its own right
					// (sync_timeout) and the value suits that one only.
				default:
					if l.generic == nil {
						for _, w := range ws {
							warn(fmt.Sprintf("imapd.conf option %q: %s", l.key, w))
						}
					}
					l.scoped = &scopedTarget{prefix: l.key[:j], target: *t}
				}
			}
		}

		switch {
		case l.generic == nil && l.scoped == nil:
			if !unknown[l.key] {
				unknown[l.key] = true
				warn(fmt.Sprintf("unknown imapd.conf option %q ignored", l.key))
			}
		case l.generic != nil:
			noteTarget(l.key, "", l.generic, warn, ignored)
		default:
			noteTarget(l.key, l.scoped.prefix, &l.scoped.target, warn, ignored)
		}

		if prev, ok := lastLine[l.key]; ok && !l.repeatable() {
			where := fmt.Sprintf("line %d", prev.num)
			if prev.file != l.file {
				where = fmt.Sprintf("%s:%d", prev.file, prev.num)
			}
			warn(fmt.Sprintf("imapd.conf option %q given twice; line %d overrides %s", l.key, l.num, where))
		}
		lastLine[l.key] = l.rawLine
		f.raw[l.key] = l.val
		if l.generic != nil || l.scoped != nil {
			f.lines = append(f.lines, l) // unknown keys are only needed by Raw
		}
	}
	if len(ignored) > 0 {
		// Said once, by master at start; every service and tool reading
		// the same file would only repeat it.
		level := slog.LevelDebug
		if service == "master" || service == "" {
			level = slog.LevelInfo
		}
		logger.Log(context.Background(), level, "imapd.conf options that cyrusgo does not act on are ignored",
			"file", path, "options", strings.Join(sortedKeys(ignored), " "))
	}
	return f, nil
}

// noteTarget logs deprecated names and records options cyrusgo ignores.
func noteTarget(key, prefix string, t *target, warn func(string), ignored map[string]bool) {
	if t.alias != "" {
		newKey := t.name
		if prefix != "" {
			newKey = prefix + "_" + newKey
		}
		warn(fmt.Sprintf("imapd.conf option %q is deprecated in favor of %q", key, newKey))
	} else if t.opt != nil && t.opt.Deprecated {
		warn(fmt.Sprintf("imapd.conf option %q is deprecated and no longer used", key))
	}
	if t.opt != nil {
		if !t.opt.Used {
			ignored[t.name] = true
		}
		return
	}
	for i := range familyList {
		if familyList[i].Match(t.name) {
			if !familyList[i].Used {
				ignored[t.name] = true
			}
			return
		}
	}
}

// candidate ranks the lines that set one option for a service: a line for
// the service beats a generic line; at the same level the new name beats
// a deprecated one (as in Cyrus, whatever the order); otherwise the later
// line wins.
type candidate struct {
	scoped bool
	alias  bool
}

func (c candidate) beats(o candidate) bool {
	if c.scoped != o.scoped {
		return c.scoped
	}
	if c.alias != o.alias {
		return !c.alias
	}
	return true // same rank: the later line wins
}

// resolve builds the view of f for service.
func (f *file) resolve(service string) *Config {
	service = strings.ToLower(service)
	c := &Config{file: f, service: service, set: make(map[string]*setting)}
	rank := make(map[string]candidate)
	for _, l := range f.lines {
		var t *target
		var cand candidate
		if service != "" && l.scoped != nil && l.scoped.prefix == service {
			t, cand = &l.scoped.target, candidate{scoped: true}
		}
		if t == nil {
			if l.generic == nil {
				continue
			}
			t = l.generic
		}
		cand.alias = t.alias != ""
		prev, seen := rank[t.name]
		repeat := t.opt != nil && t.opt.Repeat
		switch {
		case !seen || cand.beats(prev) && !(repeat && cand == prev):
			rank[t.name] = cand
			s := &setting{val: t.val, line: l}
			if repeat {
				s.all = []string{t.val.(string)}
			}
			c.set[t.name] = s
		case repeat && cand == prev:
			s := c.set[t.name]
			s.val, s.line = t.val, l
			s.all = append(s.all, t.val.(string))
		}
	}
	return c
}

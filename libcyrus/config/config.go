// Package config reads imapd.conf, the Cyrus IMAP server configuration, for
// every cyrusgo program.
//
// It owns the syntax of the file (key: value lines, comments, continuation
// lines, @include), the table of options (internal/table: name, kind,
// default, unit, meaning, whether cyrusgo acts on it), the validation of
// values, deprecated names, the partition-<name> style key families and the
// <service>_<option> overrides of cyrus.conf service names. A Config is
// immutable once built and safe for concurrent use; there is no
// package-level state besides the option table and the defaults parsed from
// it, both fixed at initialisation.
//
// Values are read through typed keys generated from the table
// (keys_gen.go): c.Bool(config.AllowPlaintext), c.Duration(config.Timeout).
// A key of the wrong kind does not compile; a key that is not in the table
// (a converted string) panics, as a programming error.
package config

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/config/internal/table"
)

// DefaultPath is where Cyrus, and so cyrusgo, looks for imapd.conf when no
// -C option is given.
const DefaultPath = "/etc/imapd.conf"

// ParseError is an error in a configuration file. Its message starts with
// file:line, as compilers do, so editors and admins can jump to it.
type ParseError struct {
	File   string
	Line   int    // 0 when the error is not tied to a line
	Option string // the option concerned, if any
	Err    error
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Option != "" {
		fmt.Fprintf(&b, "option %q: ", e.Option)
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }

// Config is a parsed imapd.conf as seen by one service.
type Config struct {
	file    *file
	service string
	// set holds the options and family keys given in the file, after
	// service overrides and deprecated names are resolved, by canonical
	// name.
	set map[string]*setting
}

// setting is the value an option takes from the file.
type setting struct {
	val  any
	line *line
	// all holds every value of a Repeat option at the winning level.
	all []string
}

// Load reads the configuration file path (DefaultPath if empty) as seen by
// the cyrus.conf service named service (the value of CYRUS_SERVICE; empty
// for tools run outside master). Like Cyrus, it refuses a file that does
// not set configdirectory. logger receives the warnings about unknown,
// duplicate and deprecated options; nil means slog.Default().
func Load(path, service string, logger *slog.Logger) (*Config, error) {
	if path == "" {
		path = DefaultPath
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	defer f.Close()
	c, err := parse(f, path, service, logger, openFile)
	if err != nil {
		return nil, err
	}
	if !c.IsSet(string(ConfigDirectory)) {
		return nil, &ParseError{File: path, Err: fmt.Errorf("configdirectory option not specified in configuration file")}
	}
	return c, nil
}

// Parse parses a configuration read from r for service; name is used in
// error messages and as the base of relative @include paths.
func Parse(r io.Reader, name, service string, logger *slog.Logger) (*Config, error) {
	return parse(r, name, service, logger, openFile)
}

// FromMap builds a Config from key/value pairs as if they were lines of a
// file named "FromMap", in key order; it is meant for tests. Nothing is
// logged.
func FromMap(kv map[string]string, service string) (*Config, error) {
	const name = "FromMap"
	rd := newReader(nil)
	for i, k := range slices.Sorted(maps.Keys(kv)) {
		v := kv[k]
		if strings.ContainsAny(k+v, "\r\n") {
			return nil, &ParseError{File: name, Line: i + 1, Option: k, Err: fmt.Errorf("line break in key or value")}
		}
		if err := rd.line(k+": "+v, name, i+1, 0); err != nil {
			return nil, err
		}
	}
	return build(rd.lines, name, service, slog.New(slog.DiscardHandler))
}

func openFile(path string) (io.ReadCloser, error) { return os.Open(path) }

func parse(r io.Reader, name, service string, logger *slog.Logger, open opener) (*Config, error) {
	if logger == nil {
		logger = slog.Default()
	}
	rd := newReader(open)
	if err := rd.read(r, name, 0); err != nil {
		return nil, err
	}
	return build(rd.lines, name, service, logger)
}

func build(lines []rawLine, name, service string, logger *slog.Logger) (*Config, error) {
	f, err := compile(lines, name, service, logger)
	if err != nil {
		return nil, err
	}
	return f.resolve(service), nil
}

// Service returns the service name the configuration was resolved for.
func (c *Config) Service() string { return c.service }

// Path returns the file the configuration was read from (the name given to
// Parse, "FromMap" for FromMap).
func (c *Config) Path() string { return c.file.path }

// WithService returns the same file lines resolved for another service, so
// master can hand each service its view without reading the file again.
// Nothing is logged.
func (c *Config) WithService(service string) *Config {
	return c.file.resolve(service)
}

// option returns the table entry of a key, or panics: the key constants
// come from the table, so a miss means a key was made up in code.
func option(name string, kind table.Kind) *table.Option {
	o, ok := optionIndex[name]
	if !ok {
		panic(fmt.Sprintf("config: %q is not an imapd.conf option", name))
	}
	if o.ReplacedBy != "" {
		panic(fmt.Sprintf("config: %q is a deprecated name of %q; read that instead", name, o.ReplacedBy))
	}
	if o.Kind != kind {
		panic(fmt.Sprintf("config: option %q is a %s, not a %s", name, o.Kind, kind))
	}
	return o
}

// value returns the value of an option from the file, or its default.
func (c *Config) value(name string, kind table.Kind) any {
	option(name, kind)
	if s, ok := c.set[name]; ok {
		return s.val
	}
	return defaults[name]
}

// String returns the value of a string option. As in Cyrus, a value that
// starts with "{configdirectory}" has it replaced by the configdirectory
// option (idlesocket, lmtpsocket and notifysocket default to such values).
func (c *Config) String(k StringKey) string {
	v := c.value(string(k), table.String).(string)
	const tmpl = "{configdirectory}"
	if k != ConfigDirectory && len(v) >= len(tmpl) && strings.EqualFold(v[:len(tmpl)], tmpl) {
		v = c.String(ConfigDirectory) + v[len(tmpl):]
	}
	return v
}

// Values returns every value given for a string option that may be
// repeated (autocreate_acl), in file order; for other options it holds at
// most the one value given. It is nil when the option is not set.
func (c *Config) Values(k StringKey) []string {
	option(string(k), table.String)
	s, ok := c.set[string(k)]
	if !ok {
		return nil
	}
	if s.all != nil {
		return slices.Clone(s.all)
	}
	return []string{s.val.(string)}
}

// Bool returns the value of a yes/no option.
func (c *Config) Bool(k BoolKey) bool { return c.value(string(k), table.Bool).(bool) }

// Int returns the value of an integer option.
func (c *Config) Int(k IntKey) int64 { return c.value(string(k), table.Int).(int64) }

// Duration returns the value of a duration option. Negative values are
// possible where Cyrus gives them a meaning (popexpiretime: -1 is NEVER).
func (c *Config) Duration(k DurationKey) time.Duration {
	return c.value(string(k), table.Duration).(time.Duration)
}

// Size returns the value of a size option in bytes, whatever the unit of
// the option's bare numbers.
func (c *Config) Size(k SizeKey) int64 { return c.value(string(k), table.Size).(int64) }

// Enum returns the value of an enumerated option, spelled as in the table;
// it is empty for an option with no default that is not set
// (syslog_facility, sql_engine).
func (c *Config) Enum(k EnumKey) string { return c.value(string(k), table.Enum).(string) }

// List returns the words of a list option. The slice is the caller's.
func (c *Config) List(k ListKey) []string {
	return slices.Clone(c.value(string(k), table.List).([]string))
}

// IsSet reports whether the option or family key name (partition-default)
// is given in the file for this service, directly, through a deprecated
// name or through a service override.
func (c *Config) IsSet(name string) bool {
	name = strings.ToLower(name)
	if o, ok := optionIndex[name]; ok && o.ReplacedBy != "" {
		name = o.ReplacedBy
	}
	_, ok := c.set[name]
	return ok
}

// Raw returns the text the file gives for exactly the key name, preferring
// the <service>_<name> form, as Cyrus's config_getoverflowstring does. It
// serves keys outside the table, such as sync channel prefixes
// (<channel>_sync_host); deprecated names are not translated and defaults
// are not applied.
func (c *Config) Raw(name string) (string, bool) {
	name = strings.ToLower(name)
	if c.service != "" {
		if v, ok := c.file.raw[c.service+"_"+name]; ok {
			return v, true
		}
	}
	v, ok := c.file.raw[name]
	return v, ok
}

// Partition returns the directory of spool partition name.
func (c *Config) Partition(name string) (string, bool) {
	return c.family("partition-", name)
}

// Partitions returns every spool partition, name to directory.
func (c *Config) Partitions() map[string]string { return c.families("partition-") }

// MetaPartition returns the metadata directory of spool partition name.
func (c *Config) MetaPartition(name string) (string, bool) {
	return c.family("metapartition-", name)
}

// MetaPartitions returns every metadata partition, name to directory.
func (c *Config) MetaPartitions() map[string]string { return c.families("metapartition-") }

func (c *Config) family(prefix, name string) (string, bool) {
	s, ok := c.set[prefix+strings.ToLower(name)]
	if !ok {
		return "", false
	}
	return s.val.(string), true
}

func (c *Config) families(prefix string) map[string]string {
	m := make(map[string]string)
	for k, s := range c.set {
		if name, ok := strings.CutPrefix(k, prefix); ok {
			m[name] = s.val.(string)
		}
	}
	return m
}

// optionIndex maps every option name, deprecated ones included, to its
// table entry. It is built once and never modified.
var optionIndex = func() map[string]*table.Option {
	opts := table.Options()
	m := make(map[string]*table.Option, len(opts))
	for i := range opts {
		m[opts[i].Name] = &opts[i]
	}
	return m
}()

// familyList is the table's key families, in matching order.
var familyList = table.Families()

// defaults holds the parsed default of every option. A default that does
// not parse is a bug in the table; the tests parse them all, so the panic
// here cannot reach a running server.
var defaults = func() map[string]any {
	m := make(map[string]any, len(optionIndex))
	for name, o := range optionIndex {
		if o.Default == "" {
			m[name] = zero(o.Kind)
			continue
		}
		v, _, err := parseValue(o, o.Default)
		if err != nil {
			panic(fmt.Sprintf("config: default of %s: %v", name, err))
		}
		m[name] = v
	}
	return m
}()

// zero is the value of an option with no default (Cyrus's NULL).
func zero(k table.Kind) any {
	switch k {
	case table.Bool:
		return false
	case table.Int, table.Size:
		return int64(0)
	case table.Duration:
		return time.Duration(0)
	case table.List:
		return []string(nil)
	}
	return ""
}

// sortedKeys returns the keys of a set, sorted, for stable log lines.
func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Package sievescript is the store of Sieve scripts, in Cyrus's layout so
// that a sievedir Cyrus filled is served as it is:
//
//	<sievedir>/<h>/<user>/<name>.script   the source, CRLF line ends
//	<sievedir>/<h>/<user>/<name>.bc       its compiled form
//	<sievedir>/<h>/<user>/defaultbc       symlink to "<name>.bc": the active script
//	<sievedir>/global/<name>.script       global scripts (include :global)
//
// where <h> is the first letter of the user, lower-cased, or "q" (Cyrus's
// dir_hash_c without fulldirhash). Under virtdomains a user@domain lives
// in <sievedir>/domain/<h(domain)>/<domain>/<h>/<user>, and that domain's
// global scripts in <sievedir>/domain/<h(domain)>/<domain>/global.
//
// Every write goes through fsutil.WriteFile (stage, fsync, rename, fsync
// the directory), and the active link is replaced by renaming a new
// symlink over it, so a crash or a dropped connection never leaves a
// half-written script or a missing link. There are no locks: each change
// is one atomic rename, two sessions writing the same script race and the
// last rename wins, as in Cyrus. The maxscripts check is made before the
// write and may be passed by one script under such a race.
//
// The compiled form is a cache: it is checked against a hash of the
// source and against the extensions it was compiled under, and compiled
// again (and rewritten) when it does not match or does not decode.
package sievescript

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/fsutil"
	"github.com/cyrusgo/cyrusgo/libcyrus/sieve"
)

// File names of the layout.
const (
	ScriptSuffix   = ".script"
	CompiledSuffix = ".bc"
	ActiveLink     = "defaultbc"
	GlobalDir      = "global"
)

// Errors of script operations, which ManageSieve maps to its response
// codes (RFC 5804 1.3).
var (
	ErrNotFound = errors.New("script does not exist")
	ErrExists   = errors.New("script already exists")
	ErrActive   = errors.New("active script cannot be deleted")
	ErrBadName  = errors.New("invalid script name")
	ErrEmpty    = errors.New("empty script")
)

// QuotaError is a script refused by sieve_maxscripts (Kind "MAXSCRIPTS")
// or sieve_maxscriptsize (Kind "MAXSIZE").
type QuotaError struct {
	Kind  string
	Limit int64
}

func (e *QuotaError) Error() string {
	if e.Kind == "MAXSIZE" {
		return fmt.Sprintf("Script size is too large. Max script size is %d bytes", e.Limit)
	}
	return fmt.Sprintf("You are only allowed %d scripts on this server", e.Limit)
}

// Options configure a Store.
type Options struct {
	// Dir is sievedir.
	Dir string
	// MaxScripts is sieve_maxscripts; MaxSize sieve_maxscriptsize in
	// bytes.
	MaxScripts int
	MaxSize    int64
	// VirtDomains splits user@domain as Cyrus does under virtdomains.
	VirtDomains bool
	// Compile are the options scripts are compiled with (extensions,
	// limits).
	Compile sieve.CompileOptions
	Logger  *slog.Logger
}

// Store is the sievedir of a server. It is immutable and safe for
// concurrent use.
type Store struct {
	o Options
}

// New returns a Store.
func New(o Options) *Store {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxSize > 0 {
		o.Compile.Limits.MaxScriptSize = int(o.MaxSize)
	}
	return &Store{o: o}
}

// FromConfig returns the Store imapd.conf describes: sievedir,
// sieve_maxscripts, sieve_maxscriptsize, sieve_extensions, virtdomains.
func FromConfig(cfg *config.Config, logger *slog.Logger) *Store {
	return New(Options{
		Dir:         cfg.String(config.SieveDir),
		MaxScripts:  int(cfg.Int(config.SieveMaxScripts)),
		MaxSize:     cfg.Size(config.SieveMaxScriptSize),
		VirtDomains: cfg.Enum(config.VirtDomains) != "off",
		Compile:     sieve.CompileOptions{Extensions: sieve.ExtensionsFromConfig(cfg)},
		Logger:      logger,
	})
}

// Extensions are the capabilities scripts may require.
func (s *Store) Extensions() *sieve.Extensions {
	if s.o.Compile.Extensions == nil {
		return sieve.DefaultExtensions()
	}
	return s.o.Compile.Extensions
}

// MaxSize is the largest script accepted, in bytes (0: no limit).
func (s *Store) MaxSize() int64 { return s.o.MaxSize }

// hashChar is Cyrus's dir_hash_c without fulldirhash: the first letter,
// lower-cased, or 'q'.
func hashChar(s string) string {
	if s != "" {
		c := s[0] | 0x20
		if c >= 'a' && c <= 'z' {
			return string(c)
		}
	}
	return "q"
}

// checkUser refuses user ids that would leave the sievedir.
func checkUser(userid string) error {
	if userid == "" || strings.ContainsAny(userid, "/\x00") || strings.HasPrefix(userid, ".") {
		return fmt.Errorf("sieve: invalid user id %q", userid)
	}
	return nil
}

// split returns the local part and domain of userid under virtdomains.
func (s *Store) split(userid string) (string, string) {
	if s.o.VirtDomains {
		if i := strings.LastIndexByte(userid, '@'); i > 0 {
			return userid[:i], userid[i+1:]
		}
	}
	return userid, ""
}

func (s *Store) domainDir(domain string) string {
	if domain == "" {
		return s.o.Dir
	}
	return filepath.Join(s.o.Dir, "domain", hashChar(domain), domain)
}

// UserPath is the directory of a user's scripts.
func (s *Store) UserPath(userid string) (string, error) {
	if err := checkUser(userid); err != nil {
		return "", err
	}
	local, domain := s.split(userid)
	return filepath.Join(s.domainDir(domain), hashChar(local), local), nil
}

// User returns a user's scripts.
func (s *Store) User(userid string) (*Dir, error) {
	p, err := s.UserPath(userid)
	if err != nil {
		return nil, err
	}
	_, domain := s.split(userid)
	return &Dir{s: s, path: p, domain: domain}, nil
}

// Global returns the global scripts: the site's, or a virtual domain's.
func (s *Store) Global(domain string) (*Dir, error) {
	if strings.ContainsAny(domain, "/\x00") || strings.HasPrefix(domain, ".") {
		return nil, fmt.Errorf("sieve: invalid domain %q", domain)
	}
	return &Dir{s: s, path: filepath.Join(s.domainDir(domain), GlobalDir), domain: domain, global: true}, nil
}

// Dir is one directory of scripts: a user's or a global one.
type Dir struct {
	s      *Store
	path   string
	domain string
	global bool
}

// Path is the directory.
func (d *Dir) Path() string { return d.path }

func (d *Dir) file(name, suffix string) string { return filepath.Join(d.path, name+suffix) }

// Script describes a stored script.
type Script struct {
	Name   string
	Active bool
}

// List returns the scripts, sorted by name.
func (d *Dir) List() ([]Script, error) {
	ents, err := os.ReadDir(d.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list scripts in %s: %w", d.path, err)
	}
	active, _ := d.Active()
	var out []Script
	for _, e := range ents {
		n := e.Name()
		if !strings.HasSuffix(n, ScriptSuffix) || e.IsDir() {
			continue
		}
		name := strings.TrimSuffix(n, ScriptSuffix)
		if name == "" {
			continue
		}
		out = append(out, Script{Name: name, Active: name == active})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// count returns the number of scripts other than name.
func (d *Dir) count(name string) (int, error) {
	list, err := d.List()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sc := range list {
		if sc.Name != name {
			n++
		}
	}
	return n, nil
}

// Active returns the active script's name, "" when none is active.
func (d *Dir) Active() (string, error) {
	target, err := os.Readlink(filepath.Join(d.path, ActiveLink))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read active link in %s: %w", d.path, err)
	}
	name := strings.TrimSuffix(filepath.Base(target), CompiledSuffix)
	if _, err := os.Stat(d.file(name, ScriptSuffix)); err != nil {
		// A link to a script that is gone activates nothing.
		return "", nil
	}
	return name, nil
}

// Exists reports whether the script exists.
func (d *Dir) Exists(name string) bool {
	if sieve.ValidScriptName(name) != nil {
		return false
	}
	_, err := os.Stat(d.file(name, ScriptSuffix))
	return err == nil
}

// Get returns a script's source.
func (d *Dir) Get(name string) ([]byte, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(d.file(name, ScriptSuffix))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read script %s: %w", name, err)
	}
	return b, nil
}

func validName(name string) error {
	if err := sieve.ValidScriptName(name); err != nil {
		return fmt.Errorf("%w: %v", ErrBadName, err)
	}
	return nil
}

// HaveSpace checks whether a script of that name and size would be
// accepted (RFC 5804 2.5).
func (d *Dir) HaveSpace(name string, size int64) error {
	if err := validName(name); err != nil {
		return err
	}
	if d.s.o.MaxSize > 0 && size > d.s.o.MaxSize {
		return &QuotaError{Kind: "MAXSIZE", Limit: d.s.o.MaxSize}
	}
	return d.checkCount(name)
}

func (d *Dir) checkCount(name string) error {
	if d.s.o.MaxScripts <= 0 {
		return nil
	}
	n, err := d.count(name)
	if err != nil {
		return err
	}
	if n+1 > d.s.o.MaxScripts {
		return &QuotaError{Kind: "MAXSCRIPTS", Limit: int64(d.s.o.MaxScripts)}
	}
	return nil
}

// Check compiles a script without storing it (RFC 5804 2.12). Errors are
// *sieve.CompileError, or a QuotaError for an oversized script.
func (d *Dir) Check(src []byte) (*sieve.Script, error) {
	if d.s.o.MaxSize > 0 && int64(len(src)) > d.s.o.MaxSize {
		return nil, &QuotaError{Kind: "MAXSIZE", Limit: d.s.o.MaxSize}
	}
	return sieve.Compile(Normalize(src), d.s.o.Compile)
}

// Normalize makes every line end in CRLF, as Cyrus stores scripts (its
// putscript turns lone CR and LF into CRLF).
func Normalize(src []byte) []byte {
	out := make([]byte, 0, len(src)+len(src)/32)
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '\r':
			out = append(out, '\r', '\n')
			if i+1 < len(src) && src[i+1] == '\n' {
				i++
			}
		case '\n':
			out = append(out, '\r', '\n')
		default:
			out = append(out, c)
		}
	}
	return out
}

// Put checks and stores a script (RFC 5804 2.6): the old one, if any, is
// replaced only once the new one compiled and is on disk.
func (d *Dir) Put(name string, src []byte) error {
	if err := validName(name); err != nil {
		return err
	}
	if len(src) == 0 {
		// RFC 5804 2.6: "A script of zero length SHOULD be disallowed."
		return ErrEmpty
	}
	if err := d.checkCount(name); err != nil {
		return err
	}
	sc, err := d.Check(src)
	if err != nil {
		return err
	}
	data := Normalize(src)
	if err := os.MkdirAll(d.path, 0o750); err != nil {
		return fmt.Errorf("create %s: %w", d.path, err)
	}
	if err := fsutil.WriteFile(d.file(name, ScriptSuffix), data, 0o640); err != nil {
		return fmt.Errorf("store script %s: %w", name, err)
	}
	// The compiled form goes second: if it is missing or stale after a
	// crash, Load compiles the source again.
	if err := d.writeCompiled(name, sc); err != nil {
		return err
	}
	return nil
}

func (d *Dir) writeCompiled(name string, sc *sieve.Script) error {
	bc, err := sc.MarshalBinary()
	if err != nil {
		return err
	}
	if err := fsutil.WriteFile(d.file(name, CompiledSuffix), bc, 0o640); err != nil {
		return fmt.Errorf("store compiled script %s: %w", name, err)
	}
	return nil
}

// Delete removes a script, which must not be the active one (RFC 5804
// 2.10).
func (d *Dir) Delete(name string) error {
	if err := validName(name); err != nil {
		return err
	}
	if active, err := d.Active(); err != nil {
		return err
	} else if active == name {
		return ErrActive
	}
	if err := os.Remove(d.file(name, ScriptSuffix)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return ErrNotFound
		}
		return fmt.Errorf("delete script %s: %w", name, err)
	}
	if err := os.Remove(d.file(name, CompiledSuffix)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete compiled script %s: %w", name, err)
	}
	return fsutil.SyncDir(d.path)
}

// Rename renames a script, keeping it active if it was (RFC 5804 2.11).
// The new names are linked before the old ones go, so a crash leaves the
// script under one name or both, never none.
func (d *Dir) Rename(oldName, newName string) error {
	if err := validName(oldName); err != nil {
		return err
	}
	if err := validName(newName); err != nil {
		return err
	}
	if d.Exists(newName) {
		return ErrExists
	}
	if !d.Exists(oldName) {
		return ErrNotFound
	}
	if err := os.Link(d.file(oldName, ScriptSuffix), d.file(newName, ScriptSuffix)); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return ErrExists
		}
		if errors.Is(err, fs.ErrNotExist) {
			return ErrNotFound
		}
		return fmt.Errorf("rename script %s: %w", oldName, err)
	}
	os.Remove(d.file(newName, CompiledSuffix))
	if err := os.Link(d.file(oldName, CompiledSuffix), d.file(newName, CompiledSuffix)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		d.s.o.Logger.Warn(fmt.Sprintf("sieve: link compiled %s: %v", newName, err))
	}
	if err := fsutil.SyncDir(d.path); err != nil {
		return err
	}
	active, err := d.Active()
	if err != nil {
		return err
	}
	if active == oldName {
		if err := d.SetActive(newName); err != nil {
			return err
		}
	}
	os.Remove(d.file(oldName, ScriptSuffix))
	os.Remove(d.file(oldName, CompiledSuffix))
	return fsutil.SyncDir(d.path)
}

// SetActive makes name the active script; "" deactivates (RFC 5804 2.8,
// not an error when none is active).
func (d *Dir) SetActive(name string) error {
	link := filepath.Join(d.path, ActiveLink)
	if name == "" {
		if err := os.Remove(link); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return fmt.Errorf("deactivate script: %w", err)
		}
		return fsutil.SyncDir(d.path)
	}
	if err := validName(name); err != nil {
		return err
	}
	if !d.Exists(name) {
		return ErrNotFound
	}
	// Make sure the compiled form the link names exists and is current.
	if _, err := d.Load(name); err != nil {
		return err
	}
	tmp := fsutil.TempName(d.path, "."+ActiveLink+".")
	if err := os.Symlink(name+CompiledSuffix, tmp); err != nil {
		return fmt.Errorf("activate script %s: %w", name, err)
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("activate script %s: %w", name, err)
	}
	return fsutil.SyncDir(d.path)
}

// Load returns a script compiled, from its compiled form when that is
// current, compiling (and storing) it otherwise.
func (d *Dir) Load(name string) (*sieve.Script, error) {
	src, err := d.Get(name)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(src)
	bcPath := d.file(name, CompiledSuffix)
	if bc, err := os.ReadFile(bcPath); err == nil {
		sc, err := sieve.UnmarshalScript(bc)
		if err == nil && sc.SourceHash == sum && sc.Extensions == d.s.Extensions().Capability() {
			return sc, nil
		}
		if err != nil {
			d.s.o.Logger.Info(fmt.Sprintf("sieve: recompiling %s: %v", bcPath, err))
		}
	}
	opts := d.s.o.Compile
	// A stored script was accepted once; a lower size limit set since
	// must not stop it from running.
	opts.Limits.MaxScriptSize = max(opts.Limits.MaxScriptSize, len(src))
	sc, err := sieve.Compile(src, opts)
	if err != nil {
		return nil, err
	}
	if err := d.writeCompiled(name, sc); err != nil {
		// The cache is an optimisation; the script still runs.
		d.s.o.Logger.Warn(fmt.Sprintf("sieve: %v", err))
	}
	return sc, nil
}

// LoadActive returns the active script and its name, or nil and "" when
// no script is active.
func (d *Dir) LoadActive() (*sieve.Script, string, error) {
	name, err := d.Active()
	if err != nil || name == "" {
		return nil, "", err
	}
	sc, err := d.Load(name)
	if err != nil {
		return nil, name, err
	}
	return sc, name, nil
}

// Includer returns the Env.Include callback for scripts run from d:
// include :personal reads d, include :global the domain's global scripts
// and then the site's (RFC 6609 3.2).
func (d *Dir) Includer() func(name string, global bool) (*sieve.Script, error) {
	return func(name string, global bool) (*sieve.Script, error) {
		dirs := []*Dir{d}
		if global {
			dirs = nil
			if d.domain != "" {
				if g, err := d.s.Global(d.domain); err == nil {
					dirs = append(dirs, g)
				}
			}
			if g, err := d.s.Global(""); err == nil {
				dirs = append(dirs, g)
			}
		}
		for _, dir := range dirs {
			sc, err := dir.Load(name)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			return sc, err
		}
		return nil, fmt.Errorf("%w: %s", sieve.ErrNotFound, name)
	}
}

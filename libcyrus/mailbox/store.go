// Package mailbox is the mail store every protocol uses: the mailbox list,
// the per-mailbox files on disk (DESIGN.md 3), appends, flags, expunges,
// copies and the per-session view of a mailbox that reports what other
// processes changed.
//
// Every public operation takes the caller's identity and checks the ACL
// itself, so protocol code cannot forget a check.
//
// Locking: the mailbox list is only changed with conditional writes
// (put-if-absent, compare-and-swap), so two processes cannot both create
// or rename onto a name. Each mailbox has a lock file: shared to read a
// consistent snapshot, exclusive to change it. The order is always mailbox
// list entry, then mailbox lock, then quota; no lock is held while talking
// to a client.
package mailbox

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/annotate"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/fsutil"
	"github.com/cyrusgo/cyrusgo/libcyrus/mboxname"
	"github.com/cyrusgo/cyrusgo/libcyrus/quota"
)

// Databases is where the store finds its databases: master's socket
// client in a service, or the files themselves in a tool.
type Databases interface {
	DB(name string) (cyrusdb.DB, error)
}

// Store is the mail store of one imapd.conf.
type Store struct {
	cfg    *config.Config
	ns     mboxname.Namespace
	list   cyrusdb.DB
	seen   cyrusdb.DB
	subs   cyrusdb.DB
	annot  *annotate.DB
	quota  *quota.Quota
	log    *slog.Logger
	admins map[string]bool
	policy acl.Policy

	partitions     map[string]string
	metapartitions map[string]string
	defaultPart    string
	hash           bool
	immediate      bool // expunge_mode: immediate
	delayedDelete  bool // delete_mode: delayed
	now            func() time.Time
}

// New opens the store described by cfg.
func New(cfg *config.Config, dbs Databases, logger *slog.Logger) (*Store, error) {
	s := &Store{
		cfg:            cfg,
		ns:             mboxname.FromConfig(cfg),
		log:            logger,
		admins:         map[string]bool{},
		partitions:     cfg.Partitions(),
		metapartitions: cfg.MetaPartitions(),
		defaultPart:    cfg.String(config.DefaultPartition),
		hash:           cfg.Bool(config.HashIMAPSpool),
		immediate:      cfg.Enum(config.ExpungeMode) == "immediate",
		delayedDelete:  cfg.Enum(config.DeleteMode) == "delayed",
		now:            time.Now,
	}
	for _, a := range cfg.List(config.Admins) {
		s.admins[a] = true
	}
	policy, err := acl.PolicyFromConfig(cfg)
	if err != nil {
		return nil, err
	}
	s.policy = policy
	for name, dst := range map[string]*cyrusdb.DB{cyrusdb.Mailboxes: &s.list, cyrusdb.Seen: &s.seen, cyrusdb.Subscriptions: &s.subs} {
		db, err := dbs.DB(name)
		if err != nil {
			return nil, fmt.Errorf("open %s database: %w", name, err)
		}
		*dst = db
	}
	adb, err := dbs.DB(cyrusdb.Annotations)
	if err != nil {
		return nil, fmt.Errorf("open annotations database: %w", err)
	}
	s.annot = annotate.New(adb)
	qdb, err := dbs.DB(cyrusdb.Quota)
	if err != nil {
		return nil, fmt.Errorf("open quota database: %w", err)
	}
	s.quota = quota.New(qdb)
	if len(s.partitions) == 0 {
		return nil, errors.New("no partition-<name> in imapd.conf")
	}
	if s.defaultPart == "" {
		for p := range s.partitions {
			if s.defaultPart == "" || p < s.defaultPart {
				s.defaultPart = p
			}
		}
	}
	if _, ok := s.partitions[s.defaultPart]; !ok {
		return nil, fmt.Errorf("defaultpartition %q has no partition-%s", s.defaultPart, s.defaultPart)
	}
	s.sweepStages()
	return s, nil
}

// sweepStages removes what processes killed mid-append left in the stage
// directories: each process that opens the store does it once, so a
// crash does not leak disk space for good.
func (s *Store) sweepStages() {
	for p := range s.partitions {
		n, err := fsutil.SweepStages(s.stageDir(p))
		if err != nil {
			s.log.Warn(fmt.Sprintf("sweeping stage directory of partition %s: %v", p, err))
		} else if n > 0 {
			s.log.Info(fmt.Sprintf("removed %d staging files of processes that died in partition %s", n, p))
		}
	}
}

// Namespace returns the store's naming rules.
func (s *Store) Namespace() mboxname.Namespace { return s.ns }

// Quota gives the quota database.
func (s *Store) Quota() *quota.Quota { return s.quota }

// Identity returns who userid is to the store: admins come from imapd.conf.
func (s *Store) Identity(userid string) acl.Identity {
	return acl.Identity{UserID: userid, Admin: s.admins[userid]}
}

// IsAdmin reports whether userid is in admins.
func (s *Store) IsAdmin(userid string) bool { return s.admins[userid] }

// Entry is a mailbox list record.
type Entry struct {
	Name        string `json:"-"`
	UniqueID    string `json:"uniqueid"`
	Partition   string `json:"partition"`
	ACL         string `json:"acl"`
	SpecialUse  string `json:"specialuse,omitempty"`
	UIDValidity uint32 `json:"uidvalidity"`
	Created     int64  `json:"created"`
	// Deleted marks a delayed-delete entry (DELETED.<name>.<stamp>).
	Deleted bool `json:"deleted,omitempty"`
	// DeletedAt is when a delayed-delete entry was deleted (unix
	// seconds): cyr_expire -D purges by it.
	DeletedAt int64 `json:"deletedat,omitempty"`
}

func decodeEntry(name string, b []byte) (*Entry, error) {
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("mailbox list entry %s: %w", name, err)
	}
	e.Name = name
	return &e, nil
}

func (e *Entry) encode() []byte {
	b, _ := json.Marshal(e)
	return b
}

// Lookup returns the list entry of an internal name, with no ACL check
// (for delivery and tools; protocols use Info).
func (s *Store) Lookup(name string) (*Entry, error) {
	b, err := s.list.Get([]byte(name))
	if errors.Is(err, cyrusdb.ErrNotFound) {
		return nil, ErrNonexistent
	}
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", name, err)
	}
	return decodeEntry(name, b)
}

// Rights returns id's rights on entry.
func (s *Store) Rights(id acl.Identity, e *Entry) acl.Rights {
	a, err := acl.Parse(e.ACL)
	if err != nil {
		s.log.Error(fmt.Sprintf("bad ACL on %s: %v", e.Name, err))
		return 0
	}
	owner, _ := mboxname.Owner(e.Name)
	r := a.Evaluate(id, owner, s.policy)
	if id.Admin {
		// Admins may always look and administer, as Cyrus's admins do.
		r |= acl.Lookup | acl.Admin
	}
	return r
}

// newUniqueID returns a random mailbox id, safe as an OBJECTID (RFC 8474).
func newUniqueID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// hashChar is Cyrus's directory hash (hashimapspool): the first letter of
// the user, or of the mailbox for shared ones, lower-cased; 'q' otherwise.
func hashChar(s string) string {
	if s != "" {
		c := s[0] | 0x20
		if c >= 'a' && c <= 'z' {
			return string(c)
		}
	}
	return "q"
}

// relDir is the by-name directory of a mailbox below its partition, as
// Cyrus lays it out: user/alice/Sent, with domain/<h>/<domain>/ before it
// for a virtual domain and <h>/ when hashimapspool is on.
func (s *Store) relDir(name string) string {
	domain := ""
	if i := strings.IndexByte(name, '!'); i >= 0 {
		domain, name = name[:i], name[i+1:]
	}
	// Cyrus names directories by the modified UTF-7 form of the name, so
	// an existing spool is found where Cyrus left it.
	parts := strings.Split(mboxname.EncodeMUTF7(name), ".")
	rel := filepath.Join(parts...)
	if s.hash {
		h := parts[0]
		if parts[0] == "user" && len(parts) > 1 {
			h = parts[1]
		}
		rel = filepath.Join(hashChar(h), rel)
	}
	if domain != "" {
		d := filepath.Join("domain", domain)
		if s.hash {
			d = filepath.Join("domain", hashChar(domain), domain)
		}
		rel = filepath.Join(d, rel)
	}
	return rel
}

// dirs returns the data and metadata directories of e.
func (s *Store) dirs(e *Entry) (data, meta string, err error) {
	root, ok := s.partitions[e.Partition]
	if !ok {
		return "", "", fmt.Errorf("mailbox %s: partition %q not configured", e.Name, e.Partition)
	}
	name := e.Name
	if e.Deleted {
		// A delayed-delete entry keeps its files where they were.
		name = deletedOrigin(e.Name)
	}
	rel := s.relDir(name)
	if e.Deleted {
		rel = filepath.Join("DELETED", rel+"."+e.UniqueID)
	}
	data = filepath.Join(root, rel)
	meta = data
	if m, ok := s.metapartitions[e.Partition]; ok && len(s.cfg.List(config.MetapartitionFiles)) > 0 {
		meta = filepath.Join(m, rel)
	}
	return data, meta, nil
}

// stageDir is where messages are written before they get a UID: one per
// partition, so the final hard link never crosses filesystems.
func (s *Store) stageDir(partition string) string {
	return filepath.Join(s.partitions[partition], "stage.")
}

// Partitions lists the configured partitions (name to path).
func (s *Store) Partitions() map[string]string { return s.partitions }

// Dirs returns where a mailbox's files are: for mbpath and reconstruct.
func (s *Store) Dirs(e *Entry) (data, meta string, err error) { return s.dirs(e) }

func (s *Store) removeDirs(e *Entry) {
	data, meta, err := s.dirs(e)
	if err != nil {
		return
	}
	for _, d := range uniqueDirs(data, meta) {
		ents, _ := os.ReadDir(d)
		for _, ent := range ents {
			if !ent.IsDir() {
				os.Remove(filepath.Join(d, ent.Name()))
			}
		}
		os.Remove(d) // fails, as it should, while child mailboxes remain
	}
}

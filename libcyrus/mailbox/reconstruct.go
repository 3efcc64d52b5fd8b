package mailbox

// Maintenance of mailboxes by the admin tools: reconstruct (rebuild the
// index and cache from the message files), the repack of cyr_expire -X,
// usage for quota -f, and raw list access for ctl_mboxlist and
// reconstruct -f.
//
// Every rebuild holds the mailbox's exclusive lock and installs the new
// index (and, when it must, a new cache) by write-tmp, fsync, rename, so a
// crash in the middle leaves the old files in force. Processes holding the
// mailbox open notice the new index at their next lock (files.refresh) and
// remap their views: the generation is always bumped.

import (
	"bufio"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/acl"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/fsutil"
	"github.com/cyrusgo/cyrusgo/libcyrus/lock"
	"github.com/cyrusgo/cyrusgo/libcyrus/mboxname"
	"github.com/cyrusgo/cyrusgo/libcyrus/quota"
)

// ReconstructOptions say what Reconstruct may do.
type ReconstructOptions struct {
	// DryRun reports what would be fixed and changes nothing
	// (reconstruct -n).
	DryRun bool
	// Adopt takes in a mailbox directory that has no list entry
	// (reconstruct -f): the entry is created after the files are rebuilt.
	Adopt bool
	// Partition is where an adopted mailbox lives; "" searches every
	// partition for its directory.
	Partition string
}

// Report is what Reconstruct found: one line per fix, each starting with
// the mailbox name, as Cyrus's reconstruct prints them. With DryRun the
// lines say what would be fixed.
type Report struct {
	Name  string
	Fixes []string
}

// Consistent reports whether nothing needed fixing.
func (r *Report) Consistent() bool { return len(r.Fixes) == 0 }

func (r *Report) fix(format string, args ...any) {
	r.Fixes = append(r.Fixes, r.Name+": "+fmt.Sprintf(format, args...))
}

// Reconstruct checks one mailbox against its message files and rebuilds
// what is wrong:
//   - a missing directory, cyrusgo.header (keywords are then lost) or a
//     header naming another mailbox;
//   - a torn, truncated or missing index: records that are valid keep
//     their flags, every other message is re-added without flags;
//   - message files the index does not know (orphans, e.g. of an append
//     that never committed) are adopted, records whose file is gone are
//     expunged;
//   - an unreadable cache (rebuilt from the messages) and wrong header
//     counters (exists, last UID, usage, HIGHESTMODSEQ);
//   - a Cyrus spool directory (<uid>. files, no cyrusgo files) becomes a
//     cyrusgo mailbox: Cyrus's flags and keywords are lost.
//
// The mailbox's usage is then written to the quota database. Reconstruct
// holds the mailbox's exclusive lock (shared for DryRun) throughout.
func (s *Store) Reconstruct(name string, opts ReconstructOptions) (Report, error) {
	rep := Report{Name: name}
	e, err := s.Lookup(name)
	adopted := false
	if errors.Is(err, ErrNonexistent) && opts.Adopt {
		e, err = s.adoptEntry(name, opts.Partition)
		adopted = err == nil
	}
	if err != nil {
		return rep, err
	}
	data, meta, err := s.dirs(e)
	if err != nil {
		return rep, err
	}
	if adopted {
		rep.fix("not in the mailbox list; added (partition %s)", e.Partition)
	}
	rb := &rebuild{s: s, e: e, data: data, meta: meta, rep: &rep, dry: opts.DryRun, now: s.now()}
	for _, d := range uniqueDirs(data, meta) {
		if _, err := os.Stat(d); errors.Is(err, os.ErrNotExist) {
			rep.fix("directory %s is missing; created", d)
			if !rb.dry {
				if err := os.MkdirAll(d, 0o750); err != nil {
					return rep, fmt.Errorf("reconstruct %s: %w", name, err)
				}
			}
		}
	}
	lockPath := filepath.Join(meta, lockFileName)
	// A dry run creates nothing, not even the lock file: where it is
	// missing no cyrusgo process has used the mailbox.
	if _, err := os.Stat(lockPath); !rb.dry || err == nil {
		l, err := lock.Lock(lockPath, !rb.dry)
		if err != nil {
			return rep, fmt.Errorf("reconstruct %s: %w", name, err)
		}
		defer l.Unlock()
	}
	if err := rb.run(); err != nil {
		return rep, fmt.Errorf("reconstruct %s: %w", name, err)
	}
	if adopted && !rb.dry {
		// Files first, then the list entry, as Create does.
		ok, err := s.list.PutIfAbsent([]byte(name), e.encode())
		if err != nil {
			return rep, fmt.Errorf("reconstruct %s: add to the mailbox list: %w", name, err)
		}
		if !ok {
			return rep, fmt.Errorf("reconstruct %s: %w", name, errorf(CodeAlreadyExists, "Mailbox already exists"))
		}
	}
	if err := rb.checkUsage(); err != nil {
		return rep, fmt.Errorf("reconstruct %s: %w", name, err)
	}
	return rep, nil
}

// adoptEntry builds (without storing) the list entry of a mailbox found
// on disk: the partition whose directory exists, the identity from its
// cyrusgo.header when there is one, an ACL as Create would give it.
func (s *Store) adoptEntry(name, partition string) (*Entry, error) {
	if err := mboxname.Validate(name); err != nil {
		return nil, &Error{Code: CodeBadName, Msg: "Invalid mailbox name", Err: err}
	}
	e := &Entry{Name: name, Created: s.now().Unix()}
	var parts []string
	if partition != "" {
		parts = []string{partition}
	} else {
		for p := range s.partitions {
			parts = append(parts, p)
		}
		sort.Strings(parts)
	}
	for _, p := range parts {
		e.Partition = p
		data, meta, err := s.dirs(e)
		if err != nil {
			return nil, err
		}
		if isDir(data) || isDir(meta) {
			break
		}
		e.Partition = ""
	}
	if e.Partition == "" {
		return nil, ErrNonexistent
	}
	_, meta, _ := s.dirs(e)
	if h, err := readMailboxHeader(meta); err == nil {
		e.UniqueID, e.UIDValidity = h.UniqueID, h.UIDValidity
	}
	if e.UniqueID == "" {
		e.UniqueID = newUniqueID()
	}
	if e.UIDValidity == 0 {
		e.UIDValidity = s.uidValidity()
	}
	parent, err := s.parentOf(name)
	if err != nil {
		return nil, err
	}
	owner, isUser := mboxname.Owner(name)
	var a acl.ACL
	switch {
	case parent != nil:
		if a, err = acl.Parse(parent.ACL); err != nil {
			return nil, fmt.Errorf("parent ACL of %s: %w", name, err)
		}
	case isUser:
		a = acl.DefaultForUser(owner)
	default:
		a = s.policy.NewSharedACL()
	}
	e.ACL = a.String()
	return e, nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// rebuild is one Reconstruct run.
type rebuild struct {
	s          *Store
	e          *Entry
	data, meta string
	rep        *Report
	dry        bool
	now        time.Time

	final Header // the header in force afterwards (for the usage)
}

// oldIndex is what could be read of the existing index.
type oldIndex struct {
	present bool
	hdr     Header
	hdrOK   bool
	recs    []Record // valid records, in strictly increasing UID order
}

// msgFile is a message file found in the data directory.
type msgFile struct {
	size  int64
	mtime time.Time
}

func (rb *rebuild) run() error {
	rep := rb.rep
	mh, hdrPresent, keywordsLost, hdrChanged, hdrNote := rb.mailboxHeader()
	old, err := rb.readIndex()
	if err != nil {
		return err
	}
	files, err := rb.messageFiles()
	if err != nil {
		return err
	}
	cyrusSpool := !old.present && !hdrPresent && len(files) > 0
	switch {
	case cyrusSpool:
		rep.fix("adopted Cyrus mailbox of %d messages; flags and keywords are lost", len(files))
	case !old.present:
		if hdrNote != "" {
			rep.fix("%s", hdrNote)
		}
		rep.fix("cyrusgo.index is missing; rebuilt from the message files")
	case hdrNote != "":
		rep.fix("%s", hdrNote)
	}
	cache, cacheOK, cacheEnd := rb.openCache(old)
	if cache != nil {
		defer cache.f.Close()
	}
	if !cacheOK && old.present && cache != nil {
		rep.fix("cyrusgo.cache is corrupt; rebuilt")
	} else if !cacheOK && old.present {
		rep.fix("cyrusgo.cache is missing; rebuilt")
	}

	highest := uint64(0)
	if old.hdrOK {
		highest = old.hdr.HighestModseq
	}
	maxRecModseq := uint64(0)
	for i := range old.recs {
		maxRecModseq = max(maxRecModseq, old.recs[i].Modseq)
	}
	highest = max(highest, maxRecModseq)
	nextModseq := func() uint64 { highest++; return highest }

	byUID := make(map[uint32]int, len(old.recs))
	uids := make([]uint32, 0, len(old.recs)+len(files))
	for i := range old.recs {
		byUID[old.recs[i].UID] = i
		uids = append(uids, old.recs[i].UID)
	}
	for uid := range files {
		if _, ok := byUID[uid]; !ok {
			uids = append(uids, uid)
		}
	}
	sort.Slice(uids, func(i, j int) bool { return uids[i] < uids[j] })

	out := make([]Record, 0, len(uids))
	var reparse []int // indexes into out whose message must be parsed
	keywordBitsCleared := false
	var undefined [2]uint64
	for i := len(mh.UserFlags); i < MaxUserFlags; i++ {
		undefined[i/64] |= 1 << (i % 64)
	}
	for _, uid := range uids {
		fi, hasFile := files[uid]
		ri, hasRec := byUID[uid]
		if !hasRec {
			r := Record{UID: uid, InternalDate: fi.mtime, SaveDate: rb.now, Modseq: nextModseq()}
			if !cyrusSpool {
				rep.fix("adopted orphan message %d.", uid)
			}
			out = append(out, r)
			reparse = append(reparse, len(out)-1)
			continue
		}
		r := old.recs[ri]
		if r.Expunged() {
			// Kept for sessions and QRESYNC clients not yet told;
			// cyr_expire -X removes it and its file.
			out = append(out, r)
			continue
		}
		if !hasFile {
			r.Flags |= FlagExpunged
			r.Modseq = nextModseq()
			r.ExpungedAt = rb.now
			rep.fix("message %d: file is missing; expunged.", uid)
			out = append(out, r)
			continue
		}
		changed, parse := false, false // changed: a client sees it (new modseq)
		if keywordsLost && r.UserFlags != [2]uint64{} {
			r.UserFlags = [2]uint64{}
			changed, keywordBitsCleared = true, true
		}
		if r.UserFlags[0]&undefined[0] != 0 || r.UserFlags[1]&undefined[1] != 0 {
			r.UserFlags[0] &^= undefined[0]
			r.UserFlags[1] &^= undefined[1]
			rep.fix("message %d: keywords not defined in cyrusgo.header; cleared", uid)
			changed = true
		}
		switch {
		case r.Size != uint64(fi.size):
			rep.fix("message %d: index says %d bytes, the file has %d; record rebuilt (flags kept)", uid, r.Size, fi.size)
			changed, parse = true, true
		case !cacheOK:
			parse = true
		case !rb.cacheEntryOK(cache, cacheEnd, &r):
			rep.fix("message %d: cache entry unreadable; rebuilt", uid)
			parse = true
		}
		if changed {
			r.Modseq = nextModseq()
		}
		out = append(out, r)
		if parse {
			reparse = append(reparse, len(out)-1)
		}
	}
	if keywordBitsCleared {
		rep.fix("keywords of the messages are lost with cyrusgo.header")
	}

	// Until parsed, a message counts with the size of its file, which is
	// what the parse will find.
	for _, i := range reparse {
		out[i].Size = uint64(files[out[i].UID].size)
	}
	var exists uint32
	var used uint64
	var lastUID uint32
	for i := range out {
		lastUID = max(lastUID, out[i].UID)
		if !out[i].Expunged() {
			exists++
			used += out[i].Size
		}
	}
	nh := Header{
		UIDValidity:   rb.e.UIDValidity,
		LastUID:       lastUID,
		HighestModseq: highest,
		NumRecords:    uint32(len(out)),
		RecentUID:     lastUID,
		CreatedModseq: 1,
		Exists:        exists,
		QuotaUsed:     used,
		// Any value sessions cannot hold: the old header is unreadable.
		Generation: uint64(rb.now.UnixNano()),
	}
	if old.hdrOK {
		o := old.hdr
		nh.CommitSeq = o.CommitSeq
		nh.Generation = o.Generation + 1
		nh.LastUID = max(nh.LastUID, o.LastUID)
		nh.RecentUID = o.RecentUID
		nh.DeletedModseq = o.DeletedModseq
		nh.POP3LastLogin = o.POP3LastLogin
		nh.CreatedModseq = o.CreatedModseq
		if len(reparse) == 0 {
			// Only counters can be off; say which.
			if o.Exists != exists {
				rep.fix("index header counts %d messages, the records %d; corrected", o.Exists, exists)
			}
			if o.QuotaUsed != used {
				rep.fix("index header counts %d bytes, the records %d; corrected", o.QuotaUsed, used)
			}
		}
		if o.LastUID < lastUID {
			rep.fix("last UID %d is below message %d; corrected", o.LastUID, lastUID)
		}
		if o.HighestModseq < maxRecModseq {
			rep.fix("HIGHESTMODSEQ %d is below the records' %d; corrected", o.HighestModseq, maxRecModseq)
		}
		if o.UIDValidity != rb.e.UIDValidity {
			rep.fix("index UIDVALIDITY %d differs from the mailbox list's %d; corrected", o.UIDValidity, rb.e.UIDValidity)
		}
	}
	if len(rep.Fixes) == 0 && !hdrChanged {
		rb.final = old.hdr
		return nil
	}
	rb.final = nh
	if rb.dry {
		return nil
	}

	// Write: the mailbox header, then the cache, then the index, which
	// commits.
	if hdrChanged {
		if err := writeMailboxHeader(rb.meta, mh); err != nil {
			return err
		}
	}
	newCache := !cacheOK
	var cw *cacheFile
	var cacheTmp string
	if newCache {
		cacheTmp = fsutil.TempName(rb.meta, ".cache.")
		f, err := os.OpenFile(cacheTmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("create cache: %w", err)
		}
		defer func() {
			f.Close()
			os.Remove(cacheTmp) // gone already once renamed
		}()
		if err := initCache(f); err != nil {
			return err
		}
		cw = &cacheFile{f: f}
		cacheEnd = cacheHeaderLen
		// Every live message needs an entry in the new cache.
		reparse = reparse[:0]
		for i := range out {
			if out[i].Expunged() {
				out[i].CacheOffset, out[i].CacheLen = 0, 0
				continue
			}
			reparse = append(reparse, i)
		}
	} else {
		cw = cache
	}
	for _, i := range reparse {
		r := &out[i]
		size, guid, sum, err := parseMessageFile(filepath.Join(rb.data, strconv.FormatUint(uint64(r.UID), 10)+"."))
		if err != nil {
			return fmt.Errorf("message %d: %w", r.UID, err)
		}
		r.Size, r.GUID = uint64(size), guid
		off := cacheEnd
		if cacheEnd, err = cw.append(off, sum); err != nil {
			return err
		}
		r.CacheOffset, r.CacheLen = off, uint32(len(sum))
	}
	if err := cw.sync(); err != nil {
		return err
	}
	exists, used = 0, 0
	for i := range out {
		if !out[i].Expunged() {
			exists++
			used += out[i].Size
		}
	}
	nh.Exists, nh.QuotaUsed, nh.CacheSize = exists, used, cacheEnd
	if newCache {
		if err := os.Rename(cacheTmp, filepath.Join(rb.meta, cacheFileName)); err != nil {
			return fmt.Errorf("install cache: %w", err)
		}
	}
	if err := installIndex(rb.meta, &nh, out); err != nil {
		return err
	}
	rb.final = nh
	return nil
}

// mailboxHeader reads cyrusgo.header and returns what it must be:
// changed says it has to be written. A missing or corrupt one is not
// reported here but in note, which a Cyrus spool's adoption replaces.
func (rb *rebuild) mailboxHeader() (h *mailboxHeader, present, keywordsLost, changed bool, note string) {
	e := rb.e
	h, err := readMailboxHeader(rb.meta)
	switch {
	case errors.Is(err, os.ErrNotExist):
		h = &mailboxHeader{Name: e.Name, UniqueID: e.UniqueID, UIDValidity: e.UIDValidity}
		return h, false, true, true, "cyrusgo.header is missing; recreated"
	case err != nil:
		h = &mailboxHeader{Name: e.Name, UniqueID: e.UniqueID, UIDValidity: e.UIDValidity}
		return h, true, true, true, "cyrusgo.header is corrupt; recreated"
	}
	if h.Name != e.Name {
		rb.rep.fix("cyrusgo.header names %q; corrected", h.Name)
		h.Name, changed = e.Name, true
	}
	if h.UniqueID != e.UniqueID {
		rb.rep.fix("cyrusgo.header has uniqueid %s, the mailbox list %s; corrected", h.UniqueID, e.UniqueID)
		h.UniqueID, changed = e.UniqueID, true
	}
	if h.UIDValidity != e.UIDValidity {
		rb.rep.fix("cyrusgo.header has UIDVALIDITY %d, the mailbox list %d; corrected", h.UIDValidity, e.UIDValidity)
		h.UIDValidity, changed = e.UIDValidity, true
	}
	return h, true, false, changed, ""
}

// readIndex reads what survives of the index: a valid header if either
// slot is, and every record with a good checksum in increasing UID order
// (up to the header's count when the header is valid, else every whole
// slot in the file).
func (rb *rebuild) readIndex() (oldIndex, error) {
	var o oldIndex
	f, err := os.Open(filepath.Join(rb.meta, indexFileName))
	if errors.Is(err, os.ErrNotExist) {
		return o, nil
	}
	if err != nil {
		return o, fmt.Errorf("open index: %w", err)
	}
	defer f.Close()
	o.present = true
	fi, err := f.Stat()
	if err != nil {
		return o, fmt.Errorf("stat index: %w", err)
	}
	slots := uint64(0)
	if fi.Size() > headerSize {
		slots = uint64(fi.Size()-headerSize) / RecordSize
	}
	x := indexFile{f: f}
	o.hdr, err = x.readHeader()
	o.hdrOK = err == nil
	n := slots
	if o.hdrOK {
		if uint64(o.hdr.NumRecords) > slots {
			rb.rep.fix("index holds %d of its %d records; the rest are re-added from their files", slots, o.hdr.NumRecords)
		} else {
			n = uint64(o.hdr.NumRecords)
		}
		if o.hdr.Dirty&dirtyRecords != 0 {
			rb.rep.fix("index was left mid-change by a crash; counters recomputed")
		}
	} else {
		rb.rep.fix("index header is invalid; rebuilt")
	}
	br := bufio.NewReaderSize(io.NewSectionReader(f, headerSize, int64(n)*RecordSize), 1<<20)
	var b [RecordSize]byte
	var last uint32
	for i := uint64(0); i < n; i++ {
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return o, fmt.Errorf("read index: %w", err)
		}
		var r Record
		if err := r.unmarshal(b[:]); err != nil {
			rb.rep.fix("index record %d is corrupt; dropped (its message is re-added without flags)", i)
			continue
		}
		if r.UID == 0 || r.UID <= last {
			rb.rep.fix("index record %d has UID %d out of order; dropped", i, r.UID)
			continue
		}
		last = r.UID
		o.recs = append(o.recs, r)
	}
	return o, nil
}

// messageFiles lists the <uid>. files of the data directory.
func (rb *rebuild) messageFiles() (map[uint32]msgFile, error) {
	ents, err := os.ReadDir(rb.data)
	if errors.Is(err, os.ErrNotExist) {
		return map[uint32]msgFile{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", rb.data, err)
	}
	out := make(map[uint32]msgFile, len(ents))
	for _, ent := range ents {
		uid, ok := messageUID(ent.Name())
		if !ok || !ent.Type().IsRegular() {
			continue
		}
		fi, err := ent.Info()
		if err != nil {
			continue // removed meanwhile (an expunge_mode immediate)
		}
		out[uid] = msgFile{size: fi.Size(), mtime: fi.ModTime()}
	}
	return out, nil
}

// messageUID parses a message file name, "<uid>." as in Cyrus.
func messageUID(name string) (uint32, bool) {
	digits, ok := strings.CutSuffix(name, ".")
	if !ok || digits == "" || digits[0] == '0' {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 32)
	if err != nil || n == 0 {
		return 0, false
	}
	return uint32(n), true
}

// openCache opens the cache for reading and appending; ok is false when
// it is missing or its header is wrong. end is where new entries go.
func (rb *rebuild) openCache(old oldIndex) (c *cacheFile, ok bool, end uint64) {
	mode := os.O_RDWR
	if rb.dry {
		mode = os.O_RDONLY // a dry run may be made by a user who cannot write
	}
	f, err := os.OpenFile(filepath.Join(rb.meta, cacheFileName), mode, 0)
	if err != nil {
		return nil, false, 0
	}
	c = &cacheFile{f: f}
	var b [cacheHeaderLen]byte
	if _, err := f.ReadAt(b[:], 0); err != nil || string(b[:12]) != cacheMagic || le32(b[12:]) != cacheVersion {
		return c, false, 0
	}
	fi, err := f.Stat()
	if err != nil {
		return c, false, 0
	}
	end = uint64(fi.Size())
	if old.hdrOK && old.hdr.CacheSize >= cacheHeaderLen && old.hdr.CacheSize <= end {
		// Bytes past the committed size are an interrupted append's.
		end = old.hdr.CacheSize
	}
	return c, true, end
}

func (rb *rebuild) cacheEntryOK(c *cacheFile, end uint64, r *Record) bool {
	if r.CacheOffset < cacheHeaderLen || r.CacheOffset+8+uint64(r.CacheLen) > end {
		return false
	}
	_, err := c.read(r.CacheOffset, r.CacheLen)
	return err == nil
}

// checkUsage compares the quota database's usage of the mailbox with the
// rebuilt header and writes it (absolute) where it differs.
func (rb *rebuild) checkUsage() error {
	q := rb.s.quota
	root, ok, err := q.Root(rb.e.Name)
	if err != nil || !ok {
		return err
	}
	want := quota.Usage{Bytes: int64(rb.final.QuotaUsed), Messages: int64(rb.final.Exists)}
	var have quota.Usage
	err = q.Mailboxes(root, func(mb string, u quota.Usage) error {
		if mb == rb.e.Name {
			have = u
			return cyrusdb.ErrStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, cyrusdb.ErrStop) {
		return err
	}
	if have == want {
		return nil // no entry at all reads as zero, as quota.Usage sums it
	}
	rb.rep.fix("quota usage under %s was %d bytes in %d messages, now %d bytes in %d", root, have.Bytes, have.Messages, want.Bytes, want.Messages)
	if rb.dry {
		return nil
	}
	return q.SetMailboxUsage(root, rb.e.Name, want)
}

// parseMessageFile reads a message file once for its size, GUID and
// cache summary.
func parseMessageFile(path string) (int64, [20]byte, []byte, error) {
	var guid [20]byte
	f, err := os.Open(path)
	if err != nil {
		return 0, guid, nil, err
	}
	defer f.Close()
	h := sha1.New()
	cr := &countingReader{r: f}
	tee := io.TeeReader(cr, h)
	sum, err := summarize(tee)
	if err == nil {
		_, err = io.Copy(io.Discard, tee)
	}
	if err != nil {
		return 0, guid, nil, err
	}
	copy(guid[:], h.Sum(nil))
	return cr.n, guid, sum, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// installIndex writes h and recs as a new index and renames it over the
// old one (caller holds the exclusive lock). Both header slots are valid.
func installIndex(meta string, h *Header, recs []Record) error {
	tmp := fsutil.TempName(meta, ".index.")
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create index: %w", err)
	}
	ok := false
	defer func() {
		f.Close()
		if !ok {
			os.Remove(tmp)
		}
	}()
	w := bufio.NewWriterSize(io.NewOffsetWriter(f, headerSize), 1<<20)
	var b [RecordSize]byte
	for i := range recs {
		recs[i].marshal(b[:])
		if _, err := w.Write(b[:]); err != nil {
			return fmt.Errorf("write index: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	h.NumRecords = uint32(len(recs))
	h.Dirty = 0
	x := indexFile{f: f}
	if err := x.writeHeader(h); err != nil {
		return err
	}
	if err := x.writeHeader(h); err != nil {
		return err
	}
	if err := x.sync(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(meta, indexFileName)); err != nil {
		return fmt.Errorf("install index: %w", err)
	}
	ok = true
	return fsutil.SyncDir(meta)
}

// ExpireExpunged removes the records expunged before cutoff, and their
// message files, from a mailbox (cyr_expire -X): the files go first, so a
// crash never leaves a file reconstruct would take for an orphan; then a
// repacked index and cache replace the old ones. DELETEDMODSEQ becomes the
// highest modseq removed (RFC 7162 3.2.5.2 needs it for QRESYNC). It
// returns how many records it removed.
func (s *Store) ExpireExpunged(name string, cutoff time.Time) (int, error) {
	e, err := s.Lookup(name)
	if err != nil {
		return 0, err
	}
	data, meta, err := s.dirs(e)
	if err != nil {
		return 0, err
	}
	fs, err := openFiles(data, meta)
	if err != nil {
		return 0, fmt.Errorf("expire %s: %w", name, err)
	}
	defer fs.close()
	l, err := fs.lock(true)
	if err != nil {
		return 0, fmt.Errorf("expire %s: %w", name, err)
	}
	defer l.Unlock()
	h, err := fs.idx.readHeader()
	if err != nil {
		return 0, fmt.Errorf("expire %s: %w", name, err)
	}
	var keep []Record
	var gone []uint32
	var exists uint32
	var used, goneModseq uint64
	err = fs.idx.scanRecords(0, h.NumRecords, func(_ uint32, r *Record) error {
		h.HighestModseq = max(h.HighestModseq, r.Modseq)
		if r.Expunged() && expungeTime(r).Before(cutoff) {
			gone = append(gone, r.UID)
			goneModseq = max(goneModseq, r.Modseq)
			return nil
		}
		if !r.Expunged() {
			exists++
			used += r.Size
		}
		keep = append(keep, *r)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("expire %s: %w", name, err)
	}
	if len(gone) == 0 {
		return 0, nil
	}
	for _, uid := range gone {
		if err := os.Remove(fs.messagePath(uid)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return 0, fmt.Errorf("expire %s: %w", name, err)
		}
	}
	if err := fsutil.SyncDir(data); err != nil {
		return 0, fmt.Errorf("expire %s: %w", name, err)
	}
	// Compact the cache too, unless an entry of a kept record cannot be
	// read: then the old cache stays, for reconstruct to deal with.
	tmp := fsutil.TempName(meta, ".cache.")
	cf, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, fmt.Errorf("expire %s: %w", name, err)
	}
	defer func() {
		cf.Close()
		os.Remove(tmp)
	}()
	newCache := initCache(cf) == nil
	nc := &cacheFile{f: cf}
	end := uint64(cacheHeaderLen)
	moved := make([]uint64, len(keep))
	for i := range keep {
		if !newCache {
			break
		}
		r := &keep[i]
		if r.Expunged() {
			continue // its cache entry is never read again
		}
		b, err := fs.cache.read(r.CacheOffset, r.CacheLen)
		if err != nil {
			newCache = false
			break
		}
		moved[i] = end
		if end, err = nc.append(end, b); err != nil {
			return 0, fmt.Errorf("expire %s: %w", name, err)
		}
	}
	if newCache {
		if err := nc.sync(); err != nil {
			return 0, fmt.Errorf("expire %s: %w", name, err)
		}
		for i := range keep {
			if keep[i].Expunged() {
				keep[i].CacheOffset, keep[i].CacheLen = 0, 0
			} else {
				keep[i].CacheOffset = moved[i]
			}
		}
		h.CacheSize = end
		if err := os.Rename(tmp, filepath.Join(meta, cacheFileName)); err != nil {
			return 0, fmt.Errorf("expire %s: install cache: %w", name, err)
		}
	}
	h.Generation++
	h.DeletedModseq = max(h.DeletedModseq, goneModseq)
	h.Exists, h.QuotaUsed = exists, used
	if err := installIndex(meta, &h, keep); err != nil {
		return 0, fmt.Errorf("expire %s: %w", name, err)
	}
	if root, ok, err := s.quota.Root(name); err == nil && ok {
		s.quota.SetMailboxUsage(root, name, quota.Usage{Bytes: int64(used), Messages: int64(exists)})
	}
	return len(gone), nil
}

// expungeTime is when r was expunged; records expunged before the index
// kept that time fall back to their save date, the best lower bound.
func expungeTime(r *Record) time.Time {
	if !r.ExpungedAt.IsZero() {
		return r.ExpungedAt
	}
	return r.SaveDate
}

// MailboxUsage returns a mailbox's usage from its index header (for
// quota -f), counted from the records when a crash left the header behind
// them.
func (s *Store) MailboxUsage(name string) (quota.Usage, error) {
	e, err := s.Lookup(name)
	if err != nil {
		return quota.Usage{}, err
	}
	data, meta, err := s.dirs(e)
	if err != nil {
		return quota.Usage{}, err
	}
	fs, err := openFiles(data, meta)
	if err != nil {
		return quota.Usage{}, fmt.Errorf("usage of %s: %w", name, err)
	}
	defer fs.close()
	l, err := fs.lock(false)
	if err != nil {
		return quota.Usage{}, fmt.Errorf("usage of %s: %w", name, err)
	}
	defer l.Unlock()
	h, err := fs.idx.readHeader()
	if err != nil {
		return quota.Usage{}, fmt.Errorf("usage of %s: %w", name, err)
	}
	if h.Dirty&dirtyRecords == 0 {
		return quota.Usage{Bytes: int64(h.QuotaUsed), Messages: int64(h.Exists)}, nil
	}
	var u quota.Usage
	err = fs.idx.scanRecords(0, h.NumRecords, func(_ uint32, r *Record) error {
		if !r.Expunged() {
			u.Bytes += int64(r.Size)
			u.Messages++
		}
		return nil
	})
	if err != nil {
		return quota.Usage{}, fmt.Errorf("usage of %s: %w", name, err)
	}
	return u, nil
}

// Entries calls fn for every list entry whose name starts with prefix,
// delayed-delete ones included, with no ACL check (ctl_mboxlist -d).
func (s *Store) Entries(prefix string, fn func(e *Entry) error) error {
	return s.list.Scan([]byte(prefix), func(k, v []byte) error {
		e, err := decodeEntry(string(k), v)
		if err != nil {
			s.log.Error(err.Error())
			return nil
		}
		return fn(e)
	})
}

// PutEntry stores a list entry as it is, replacing any of that name
// (ctl_mboxlist -u). It does not touch files: reconstruct builds them.
func (s *Store) PutEntry(e *Entry) error {
	if err := mboxname.Validate(strings.TrimPrefix(e.Name, "DELETED.")); err != nil && !e.Deleted {
		return &Error{Code: CodeBadName, Msg: "Invalid mailbox name", Err: err}
	}
	if _, ok := s.partitions[e.Partition]; !ok {
		return errorf(CodeBadName, "Unknown partition %s", e.Partition)
	}
	if _, err := acl.Parse(e.ACL); err != nil {
		return &Error{Code: CodeBadName, Msg: "Invalid ACL", Err: err}
	}
	if err := s.list.Put([]byte(e.Name), e.encode()); err != nil {
		return fmt.Errorf("store %s: %w", e.Name, err)
	}
	return nil
}

// RemoveEntry deletes a list entry and nothing else (ctl_mboxlist -d -x).
func (s *Store) RemoveEntry(name string) error {
	if err := s.list.Delete([]byte(name)); err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	return nil
}

// Unlisted is a mailbox directory with no list entry.
type Unlisted struct {
	Name      string
	Partition string
}

// FindUnlisted walks every partition for directories that hold mailbox
// files (cyrusgo's, Cyrus's, or <uid>. messages) and whose name, read
// back from the by-name layout, is not in the mailbox list
// (reconstruct -f). Only names starting with prefix are returned.
func (s *Store) FindUnlisted(prefix string) ([]Unlisted, error) {
	var out []Unlisted
	parts := make([]string, 0, len(s.partitions))
	for p := range s.partitions {
		parts = append(parts, p)
	}
	sort.Strings(parts)
	seen := map[string]bool{}
	for _, p := range parts {
		root := s.partitions[p]
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return nil
				}
				return err
			}
			if !d.IsDir() || path == root {
				return nil
			}
			rel, _ := filepath.Rel(root, path)
			if rel == "stage." || rel == "DELETED" || strings.HasSuffix(rel, string(filepath.Separator)+"DELETED") {
				return filepath.SkipDir
			}
			name, ok := s.nameOfDir(rel)
			if !ok || seen[name] || !strings.HasPrefix(name, prefix) || !looksLikeMailbox(path) {
				return nil
			}
			if _, err := s.Lookup(name); errors.Is(err, ErrNonexistent) {
				seen[name] = true
				out = append(out, Unlisted{Name: name, Partition: p})
			} else if err != nil {
				return err
			}
			return nil
		})
		if err != nil {
			return out, fmt.Errorf("scan partition %s: %w", p, err)
		}
	}
	return out, nil
}

// nameOfDir reads an internal name back from a directory below a
// partition (the inverse of relDir), checking that the name leads back to
// the same directory.
func (s *Store) nameOfDir(rel string) (string, bool) {
	comps := strings.Split(filepath.ToSlash(rel), "/")
	domain := ""
	if comps[0] == "domain" {
		n := 2
		if s.hash {
			n = 3
		}
		if len(comps) <= n {
			return "", false
		}
		domain = comps[n-1]
		comps = comps[n:]
	}
	if s.hash {
		if len(comps) < 2 {
			return "", false
		}
		comps = comps[1:]
	}
	for i, c := range comps {
		d, err := mboxname.DecodeMUTF7(c)
		if err != nil {
			return "", false
		}
		comps[i] = d
	}
	name := strings.Join(comps, ".")
	if domain != "" {
		name = domain + "!" + name
	}
	if mboxname.Validate(name) != nil || s.relDir(name) != filepath.Clean(rel) {
		return "", false
	}
	return name, true
}

// looksLikeMailbox reports whether dir holds mailbox files of cyrusgo or
// Cyrus, or message files.
func looksLikeMailbox(dir string) bool {
	d, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer d.Close()
	for {
		names, err := d.Readdirnames(256)
		for _, n := range names {
			switch n {
			case headerFileName, indexFileName, "cyrus.header", "cyrus.index":
				return true
			}
			if _, ok := messageUID(n); ok {
				return true
			}
		}
		if err != nil {
			return false
		}
	}
}

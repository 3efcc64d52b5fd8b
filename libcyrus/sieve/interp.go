package sieve

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Env is everything a run needs besides the script and the message: the
// envelope, the clock, and callbacks into the mail store and the
// tracking databases. Nil callbacks mean "nothing exists" (tests are
// false) or, for the tracking ones, "never seen".
type Env struct {
	Envelope Envelope
	// Addresses are the recipient's own addresses (RFC 5230 4.5 item 1):
	// vacation answers only mail sent to one of them, the envelope
	// recipient or the script's :addresses.
	Addresses []string
	// Now is the time of the delivery, for currentdate (RFC 5260 5: one
	// point in time per run); zero means time.Now().
	Now time.Time
	// Location is the server's time zone for date tests without :zone;
	// nil means time.Local.
	Location *time.Location
	// Environment holds environment items (RFC 5183) by lower-case name:
	// "domain", "host", "remote-host", "remote-ip", "version"... Missing
	// "location", "phase" and "name" default to "MDA", "during" and
	// "cyrusgo".
	Environment map[string]string
	// Extensions is the set ihave tests consult; nil means
	// DefaultExtensions.
	Extensions *Extensions
	// Limits bound the run; zero fields take DefaultLimits.
	Limits Limits
	// VacationMin and VacationMax bound the period between two vacation
	// responses (sieve_vacation_min_response and _max_response); zero
	// means DefaultVacationMin and DefaultVacationMax. DuplicateMax
	// bounds a duplicate record's lifetime (sieve_duplicate_max_expiration).
	VacationMin  time.Duration
	VacationMax  time.Duration
	DuplicateMax time.Duration

	// MailboxExists reports whether the user can file into a mailbox
	// (RFC 5490 3.1), by the name the script uses.
	MailboxExists func(mailbox string) bool
	// MailboxIDExists reports whether a mailbox has that id (RFC 9042).
	MailboxIDExists func(id string) bool
	// SpecialUseExists reports whether a mailbox ("" for any of the
	// user's) has all the special-use attributes (RFC 8579).
	SpecialUseExists func(mailbox string, uses []string) bool
	// Metadata returns a mailbox annotation (RFC 5490 4) and
	// ServerMetadata a server one (RFC 5490 5).
	Metadata       func(mailbox, entry string) (string, bool)
	ServerMetadata func(entry string) (string, bool)
	// Duplicate reports whether the tracking list has id under handle
	// (RFC 7352); the run's DuplicateRecords are what to add afterwards.
	Duplicate func(handle, id string) (bool, error)
	// VacationSent reports whether a vacation response with this
	// tracking id (Vacation.TrackingID) was sent within its period.
	VacationSent func(trackingID string) (bool, error)
	// Include loads a script by name, from the user's scripts or the
	// global ones (RFC 6609); ErrNotFound (wrapped) for a missing one.
	Include func(name string, global bool) (*Script, error)
	// SpamTest and VirusTest give the RFC 3685 results ("0".."10" and
	// "0".."5", maybe followed by text). Nil means "0": not tested. The
	// caller must only report results it can trust (RFC 3685 3), not
	// headers a sender could forge.
	SpamTest  func() string
	VirusTest func() string
}

// frame is one script being run: the top one or an included one.
type frame struct {
	script *Script
	// vars are the script's own variables, nil when it does not
	// require "variables".
	vars map[string]string
	// global names the variables the script declared global.
	global map[string]bool
	// key identifies the script for include recursion checks.
	key string
}

// flow is how a block ended.
type flow int

const (
	flowNext flow = iota
	flowStop
	flowReturn
	flowBreak
)

// run is the state of one execution.
type run struct {
	ctx      context.Context
	env      *Env
	msg      Message
	lim      Limits
	steps    int64
	now      time.Time
	loc      *time.Location
	exts     *Extensions
	header   []Field
	orig     []Field
	edited   bool
	actions  []Action
	noKeep   bool // the implicit keep is cancelled
	flags    []string
	globals  map[string]string
	frames   []*frame
	included map[string]bool

	matchVars []string
	dups      []DuplicateRecord
	dupSeen   map[string]bool
	notes     []string

	vacationDone bool
	redirects    int
	breakName    string

	body      *Part
	bodyDone  bool
	bodyErr   error
	partStack []*Part
	nParts    int
	regexes   map[string]*regexp.Regexp
}

// Run executes the script over msg. It returns the actions to take. On a
// run-time error (RFC 5228 2.10.6) it returns a *RuntimeError together
// with a Result that holds only an implicit keep of the original message,
// which the caller must still carry out (Cyrus also marks that copy
// $SieveFailed).
func (s *Script) Run(ctx context.Context, msg Message, env *Env) (res *Result, err error) {
	if env == nil {
		env = &Env{}
	}
	r := &run{
		ctx:      ctx,
		env:      env,
		msg:      msg,
		lim:      env.Limits.withDefaults(),
		now:      env.Now,
		loc:      env.Location,
		exts:     env.Extensions,
		globals:  map[string]string{},
		included: map[string]bool{},
		dupSeen:  map[string]bool{},
		regexes:  map[string]*regexp.Regexp{},
	}
	if r.now.IsZero() {
		r.now = time.Now()
	}
	if r.loc == nil {
		r.loc = time.Local
	}
	if r.exts == nil {
		r.exts = DefaultExtensions()
	}
	r.orig = msg.Header()
	r.header = slices.Clone(r.orig)
	defer func() {
		if p := recover(); p != nil {
			var rerr *RuntimeError
			switch e := p.(type) {
			case runtimeError:
				rerr = e.err
			default:
				rerr = &RuntimeError{Msg: fmt.Sprintf("internal error: %v", p)}
			}
			res = &Result{Actions: []Action{Keep{Implicit: true}}, Notes: r.notes}
			err = rerr
		}
	}()
	r.push(s, "")
	if f := r.execBlock(s.Commands); f == flowBreak {
		throwf(0, "break outside foreverypart")
	}
	return r.finish(), nil
}

var errCanceled = errors.New("delivery canceled")

// step counts work and stops a run that does too much.
func (r *run) step(n int64) {
	r.steps += n
	if r.steps > r.lim.MaxSteps {
		panic(runtimeError{&RuntimeError{Msg: ErrStepLimit.Error()}})
	}
	if r.steps&^0xffff != (r.steps-n)&^0xffff && r.ctx != nil && r.ctx.Err() != nil {
		panic(runtimeError{&RuntimeError{Msg: errCanceled.Error()}})
	}
}

func (r *run) frame() *frame { return r.frames[len(r.frames)-1] }

func (r *run) push(s *Script, key string) {
	f := &frame{script: s, global: map[string]bool{}, key: key}
	if s.Requires("variables") {
		f.vars = map[string]string{}
	}
	r.frames = append(r.frames, f)
}

func (r *run) note(format string, args ...any) {
	if len(r.notes) < 32 {
		r.notes = append(r.notes, fmt.Sprintf(format, args...))
	}
}

// expand substitutes variables in s when the current script uses them.
func (r *run) expand(s string) string {
	if r.frame().vars == nil {
		return s
	}
	max := len(s) + 2*r.lim.MaxVariableSize
	out := expandVars(s, r.lookup, max)
	r.step(int64(len(out)) / 64)
	return out
}

func (r *run) expandAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = r.expand(s)
	}
	return out
}

// lookup is a variable's value (RFC 5229 3): match variables by number,
// others in the script's or the global scope (RFC 6609 3.4); unknown
// ones are empty.
func (r *run) lookup(name string) string {
	if isDigit(name[0]) {
		i, err := strconv.Atoi(strings.TrimLeft(name, "0") + "0")
		if err != nil {
			return ""
		}
		i /= 10
		if i < len(r.matchVars) {
			return r.matchVars[i]
		}
		return ""
	}
	l := strings.ToLower(name)
	f := r.frame()
	if f.global[l] {
		return r.globals[l]
	}
	return f.vars[l]
}

func (r *run) setVar(line int, name, value string) {
	l := strings.ToLower(name)
	value = truncateUTF8(value, r.lim.MaxVariableSize)
	f := r.frame()
	if f.global[l] {
		if _, ok := r.globals[l]; !ok && len(r.globals) >= r.lim.MaxVariables {
			throwf(line, "too many variables")
		}
		r.globals[l] = value
		return
	}
	if f.vars == nil {
		return
	}
	if _, ok := f.vars[l]; !ok && len(f.vars) >= r.lim.MaxVariables {
		throwf(line, "too many variables")
	}
	f.vars[l] = value
}

// str returns positional argument i as one expanded string.
func (r *run) str(n *Node, i int) string {
	if i >= len(n.Pos) || len(n.Pos[i].Strs) == 0 {
		return ""
	}
	return r.expand(n.Pos[i].Strs[0])
}

// list returns positional argument i as an expanded list.
func (r *run) list(n *Node, i int) []string {
	if i >= len(n.Pos) {
		return nil
	}
	return r.expandAll(n.Pos[i].Strs)
}

// tagStr returns a tag's string parameter, expanded.
func (r *run) tagStr(n *Node, tag string) (string, bool) {
	a, ok := n.Tags[tag]
	if !ok || len(a.Strs) == 0 {
		return "", ok
	}
	return r.expand(a.Strs[0]), true
}

// execBlock runs commands; if/elsif/else chains are tracked here (RFC
// 5228 3.1).
func (r *run) execBlock(cmds []*Node) flow {
	taken := false
	for _, c := range cmds {
		r.step(1)
		switch c.Name {
		case "if", "elsif":
			if c.Name == "elsif" && taken {
				continue
			}
			taken = !c.Unchecked && r.test(c.Tests[0])
			if taken {
				if f := r.execBlock(c.Block); f != flowNext {
					return f
				}
			}
			continue
		case "else":
			if !taken {
				if f := r.execBlock(c.Block); f != flowNext {
					return f
				}
			}
			taken = false
			continue
		}
		taken = false
		if f := r.command(c); f != flowNext {
			return f
		}
	}
	return flowNext
}

// command runs one command other than if/elsif/else.
func (r *run) command(c *Node) flow {
	switch c.Name {
	case "require":
	case "stop":
		return flowStop
	case "return":
		return flowReturn
	case "keep":
		r.noKeep = true
		r.add(c, Keep{Flags: r.actionFlags(c), Header: r.snapshot()})
	case "discard":
		r.noKeep = true
		r.add(c, Discard{})
	case "redirect":
		r.redirect(c)
	case "fileinto":
		fi := FileInto{Mailbox: r.str(c, 0), Flags: r.actionFlags(c), Copy: c.tag("copy"), Create: c.tag("create"), Header: r.snapshot()}
		fi.SpecialUse, _ = r.tagStr(c, "specialuse")
		fi.MailboxID, _ = r.tagStr(c, "mailboxid")
		if fi.Mailbox == "" {
			throwf(c.Line, "fileinto: empty mailbox name")
		}
		if !fi.Copy {
			r.noKeep = true
		}
		r.add(c, fi)
	case "reject", "ereject":
		r.noKeep = true
		r.add(c, Reject{Reason: r.str(c, 0), Extended: c.Name == "ereject"})
	case "vacation":
		r.vacation(c)
	case "setflag", "addflag", "removeflag", "mark", "unmark":
		r.flagCommand(c)
	case "notify":
		r.notify(c)
	case "addheader":
		r.addHeader(c)
	case "deleteheader":
		r.deleteHeader(c)
	case "set":
		r.setVar(c.Line, c.Pos[0].Strs[0], applyModifiers(r.str(c, 1), c.Tags))
	case "global":
		f := r.frame()
		for _, name := range c.Pos[0].Strs {
			f.global[strings.ToLower(name)] = true
		}
	case "include":
		return r.include(c)
	case "error":
		throwf(c.Line, "%s", r.str(c, 0))
	case "foreverypart":
		return r.forEveryPart(c)
	case "break":
		r.breakName, _ = r.tagStr(c, "name")
		return flowBreak
	case "extracttext":
		r.extractText(c)
	default:
		throwf(c.Line, "unknown command %q", c.Name)
	}
	return flowNext
}

// add records an action, within Limits.MaxActions.
func (r *run) add(c *Node, a Action) {
	if len(r.actions) >= r.lim.MaxActions {
		throwf(c.Line, "too many actions (more than %d)", r.lim.MaxActions)
	}
	r.actions = append(r.actions, a)
}

// headerChanged records an editheader change; a header edited back to
// what it was counts as unchanged (RFC 5293 7: "leaves the message
// unchanged").
func (r *run) headerChanged() {
	r.edited = !slices.Equal(r.header, r.orig)
}

// snapshot is the header an action must use (RFC 5293 7), nil when the
// script did not change it.
func (r *run) snapshot() []Field {
	if !r.edited {
		return nil
	}
	return slices.Clone(r.header)
}

func (r *run) redirect(c *Node) {
	addr := strings.TrimSpace(r.str(c, 0))
	if !validAddress(addr) {
		throwf(c.Line, "redirect: invalid address %q", addr)
	}
	addr = strings.TrimSuffix(strings.TrimPrefix(addr, "<"), ">")
	r.redirects++
	if r.redirects > r.lim.MaxRedirects {
		throwf(c.Line, "too many redirects (more than %d)", r.lim.MaxRedirects)
	}
	rd := Redirect{Address: addr, Copy: c.tag("copy"), Header: r.snapshot()}
	if v, ok := r.tagStr(c, "notify"); ok {
		rd.Notify = strings.ToUpper(v)
	}
	if v, ok := r.tagStr(c, "ret"); ok {
		rd.Ret = strings.ToUpper(v)
	}
	if a, ok := c.Tags["bytimerelative"]; ok {
		rd.ByTime = int64(a.Num)
	}
	rd.ByAbsolute, _ = r.tagStr(c, "bytimeabsolute")
	rd.ByMode, _ = r.tagStr(c, "bymode")
	rd.ByTrace = c.tag("bytrace")
	if !rd.Copy {
		r.noKeep = true
	}
	r.add(c, rd)
}

// include runs another script (RFC 6609 3.2).
func (r *run) include(c *Node) flow {
	name := c.Pos[0].Strs[0] // a constant: never expanded (RFC 6609 3.2)
	global := c.tag("global")
	key := "personal:" + name
	if global {
		key = "global:" + name
	}
	recursive := slices.ContainsFunc(r.frames, func(f *frame) bool { return f.key == key })
	if c.tag("once") && (r.included[key] || recursive) {
		return flowNext
	}
	if recursive {
		throwf(c.Line, "include: recursive inclusion of %q", name)
	}
	if len(r.frames) >= r.lim.MaxIncludeDepth {
		throwf(c.Line, "include: nesting deeper than %d scripts", r.lim.MaxIncludeDepth)
	}
	if len(r.included) >= r.lim.MaxIncludes {
		throwf(c.Line, "include: more than %d scripts included", r.lim.MaxIncludes)
	}
	if r.env.Include == nil {
		if c.tag("optional") {
			return flowNext
		}
		throwf(c.Line, "include: script %q not found", name)
	}
	s, err := r.env.Include(name, global)
	if err != nil {
		if errors.Is(err, ErrNotFound) && c.tag("optional") {
			return flowNext
		}
		throwf(c.Line, "include %q: %v", name, err)
	}
	r.included[key] = true
	saved := r.matchVars
	r.push(s, key)
	f := r.execBlock(s.Commands)
	r.frames = r.frames[:len(r.frames)-1]
	r.matchVars = saved
	switch f {
	case flowStop:
		return flowStop
	case flowBreak:
		throwf(c.Line, "break outside foreverypart in included script %q", name)
	}
	return flowNext
}

// finish applies the rules that need the whole run: reject's
// incompatibilities (RFC 5429 2.4), duplicate suppression of deliveries
// to one mailbox (RFC 5228 2.10.3) and the implicit keep (2.10.2).
func (r *run) finish() *Result {
	var rejects, deliveries, vacations int
	for _, a := range r.actions {
		switch a.(type) {
		case Reject:
			rejects++
		case Keep, FileInto, Redirect:
			deliveries++
		case Vacation:
			vacations++
		}
	}
	if rejects > 1 {
		throwf(0, "more than one reject")
	}
	if rejects > 0 && vacations > 0 {
		throwf(0, "reject cannot be used with vacation")
	}
	if rejects > 0 && deliveries > 0 {
		throwf(0, "reject cannot be used with keep, fileinto or redirect")
	}
	if !r.noKeep {
		r.actions = append(r.actions, Keep{Implicit: true, Flags: normalizeFlags(r.flags), Header: r.snapshot()})
	}
	res := &Result{Actions: dedupeDeliveries(r.actions), Duplicates: r.dups, Notes: r.notes}
	if r.edited {
		res.Header = r.header
	}
	return res
}

// dedupeDeliveries merges deliveries to the same mailbox, keeping the
// first and the union of their flags. fileinto "INBOX" is a keep.
func dedupeDeliveries(acts []Action) []Action {
	seen := map[string]int{}
	var out []Action
	for _, a := range acts {
		key := ""
		var flags []string
		switch x := a.(type) {
		case Keep:
			key, flags = "keep", x.Flags
		case FileInto:
			if strings.EqualFold(x.Mailbox, "INBOX") && x.SpecialUse == "" && x.MailboxID == "" {
				key = "keep"
				a = Keep{Flags: x.Flags, Header: x.Header}
			} else {
				key = "fileinto:" + x.Mailbox + "\x00" + x.SpecialUse + "\x00" + x.MailboxID
			}
			flags = x.Flags
		}
		if key == "" {
			out = append(out, a)
			continue
		}
		i, dup := seen[key]
		if !dup {
			seen[key] = len(out)
			out = append(out, a)
			continue
		}
		switch x := out[i].(type) {
		case Keep:
			x.Flags = normalizeFlags(append(slices.Clone(x.Flags), flags...))
			x.Implicit = x.Implicit && isImplicit(a)
			out[i] = x
		case FileInto:
			x.Flags = normalizeFlags(append(slices.Clone(x.Flags), flags...))
			x.Create = x.Create || a.(FileInto).Create
			out[i] = x
		}
	}
	return out
}

func isImplicit(a Action) bool {
	k, ok := a.(Keep)
	return ok && k.Implicit
}

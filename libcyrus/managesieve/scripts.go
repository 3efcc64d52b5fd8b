package managesieve

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cyrusgo/cyrusgo/libcyrus/sieve"
	"github.com/cyrusgo/cyrusgo/libcyrus/sievescript"
)

// The script commands (RFC 5804 2.5-2.12), over the session's
// sievescript.Dir. Texts are Cyrus 3.6's.

// scriptName reads a script name argument.
func (ss *session) scriptName(what string) (string, error) {
	return ss.r.str(maxName, what)
}

// scriptBody reads a script argument, at most sieve_maxscriptsize.
func (ss *session) scriptBody() (string, error) {
	max := ss.srv.o.Scripts.MaxSize()
	if max <= 0 {
		max = 1 << 20
	}
	return ss.r.str(max, "Did not specify legal script data length")
}

// storeError answers NO for a store error.
func (ss *session) storeError(err error, name string) {
	var qe *sievescript.QuotaError
	var ce *sieve.CompileError
	switch {
	case errors.As(err, &qe):
		ss.no("QUOTA/"+qe.Kind, qe.Error())
	case errors.As(err, &ce):
		// Cyrus's form: each error on its own line, CRLF-ended, which
		// makes the text a literal (RFC 5804 2.12: "this may be a
		// multiline literal string").
		ss.no("", strings.Join(ce.Lines(), "\r\n")+"\r\n")
	case errors.Is(err, sievescript.ErrBadName):
		ss.no("", "Invalid script name")
	case errors.Is(err, sievescript.ErrEmpty):
		ss.no("", "Script is empty")
	case errors.Is(err, sievescript.ErrNotFound):
		ss.no("NONEXISTENT", fmt.Sprintf("Script %s does not exist.", name))
	case errors.Is(err, sievescript.ErrExists):
		ss.no("ALREADYEXISTS", fmt.Sprintf("Script %s already exists.", name))
	case errors.Is(err, sievescript.ErrActive):
		ss.no("ACTIVE", "Active script cannot be deleted")
	default:
		ss.srv.log.Error(fmt.Sprintf("sieve: %s: %v", ss.user, err))
		ss.no("TRYLATER", "Internal error")
	}
}

// tooLong answers a script literal over sieve_maxscriptsize with the
// quota code, as HAVESPACE would have.
func (ss *session) tooLong(err error) error {
	var tl *tooLongError
	if errors.As(err, &tl) {
		if err := ss.r.skipLine(); err != nil {
			return err
		}
		ss.storeError(&sievescript.QuotaError{Kind: "MAXSIZE", Limit: tl.max}, "")
		return nil
	}
	return err
}

// nameArg reads the script name every script command but CHECKSCRIPT
// starts with, with Cyrus's texts for what is missing.
func (ss *session) nameArg(cmd, missing string) (string, error) {
	if err := ss.r.sp("SPACE must occur after " + cmd); err != nil {
		return "", err
	}
	return ss.scriptName(missing)
}

// onlyName reads a command whose one argument is a script name.
func (ss *session) onlyName(cmd string) (string, error) {
	name, err := ss.nameArg(cmd, "Did not specify script name")
	if err != nil {
		return "", err
	}
	return name, ss.r.eol()
}

// answer ends a command with OK, or with the NO storeError gives for err
// about the script name.
func (ss *session) answer(err error, name string) error {
	if err != nil {
		ss.storeError(err, name)
		return nil
	}
	ss.ok("", "")
	return nil
}

func cmdHaveSpace(ss *session) error {
	name, err := ss.nameArg("HAVESPACE", "Did not specify script name")
	if err != nil {
		return err
	}
	if err := ss.r.sp("Expected SPACE after SCRIPTNAME"); err != nil {
		return err
	}
	size, err := ss.r.number()
	if err != nil {
		return err
	}
	if err := ss.r.eol(); err != nil {
		return err
	}
	return ss.answer(ss.dir.HaveSpace(name, int64(size)), name)
}

func cmdPutScript(ss *session) error {
	name, err := ss.nameArg("PUTSCRIPT", "Did not specify script name")
	if err != nil {
		return err
	}
	if err := ss.r.sp("Expected SPACE"); err != nil {
		return err
	}
	body, err := ss.scriptBody()
	if err != nil {
		return ss.tooLong(err)
	}
	if err := ss.r.eol(); err != nil {
		return err
	}
	// Only now, with the whole script read, is anything written.
	return ss.answer(ss.dir.Put(name, []byte(body)), name)
}

func cmdCheckScript(ss *session) error {
	if err := ss.r.sp("SPACE must occur after CHECKSCRIPT"); err != nil {
		return err
	}
	body, err := ss.scriptBody()
	if err != nil {
		return ss.tooLong(err)
	}
	if err := ss.r.eol(); err != nil {
		return err
	}
	_, err = ss.dir.Check([]byte(body))
	return ss.answer(err, "")
}

func cmdListScripts(ss *session) error {
	if err := ss.r.eol(); err != nil {
		return err
	}
	list, err := ss.dir.List()
	if err != nil {
		ss.storeError(err, "")
		return nil
	}
	for _, sc := range list {
		ss.w.WriteString(quote(sc.Name))
		if sc.Active {
			ss.w.WriteString(" ACTIVE")
		}
		ss.w.WriteString("\r\n")
	}
	ss.ok("", "")
	return nil
}

func cmdSetActive(ss *session) error {
	name, err := ss.onlyName("SETACTIVE")
	if err != nil {
		return err
	}
	err = ss.dir.SetActive(name)
	if errors.Is(err, sievescript.ErrNotFound) {
		ss.no("NONEXISTENT", "Script does not exist")
		return nil
	}
	return ss.answer(err, name)
}

func cmdGetScript(ss *session) error {
	name, err := ss.onlyName("GETSCRIPT")
	if err != nil {
		return err
	}
	src, err := ss.dir.Get(name)
	if errors.Is(err, sievescript.ErrNotFound) {
		ss.no("NONEXISTENT", "Script does not exist")
		return nil
	}
	if err == nil {
		ss.w.WriteString(literal(string(src)) + "\r\n")
	}
	return ss.answer(err, name)
}

func cmdDeleteScript(ss *session) error {
	name, err := ss.onlyName("DELETESCRIPT")
	if err != nil {
		return err
	}
	return ss.answer(ss.dir.Delete(name), name)
}

func cmdRenameScript(ss *session) error {
	oldName, err := ss.nameArg("RENAMESCRIPT", "Did not specify old script name")
	if err != nil {
		return err
	}
	if err := ss.r.sp("Expected SPACE"); err != nil {
		return err
	}
	newName, err := ss.scriptName("Did not specify new script name")
	if err != nil {
		return err
	}
	if err := ss.r.eol(); err != nil {
		return err
	}
	err = ss.dir.Rename(oldName, newName)
	if errors.Is(err, sievescript.ErrExists) {
		return ss.answer(err, newName)
	}
	return ss.answer(err, oldName)
}

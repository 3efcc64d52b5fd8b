package sieve

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// describe renders an action compactly for table comparisons.
func describe(a Action) string {
	var b strings.Builder
	switch x := a.(type) {
	case Keep:
		b.WriteString("keep")
		if x.Implicit {
			b.WriteString(" implicit")
		}
		if len(x.Flags) > 0 {
			fmt.Fprintf(&b, " flags=%s", strings.Join(x.Flags, ","))
		}
		if x.Header != nil {
			b.WriteString(" edited")
		}
	case FileInto:
		fmt.Fprintf(&b, "fileinto %s", x.Mailbox)
		if x.Copy {
			b.WriteString(" copy")
		}
		if x.Create {
			b.WriteString(" create")
		}
		if x.SpecialUse != "" {
			b.WriteString(" specialuse=" + x.SpecialUse)
		}
		if x.MailboxID != "" {
			b.WriteString(" mailboxid=" + x.MailboxID)
		}
		if len(x.Flags) > 0 {
			fmt.Fprintf(&b, " flags=%s", strings.Join(x.Flags, ","))
		}
		if x.Header != nil {
			b.WriteString(" edited")
		}
	case Redirect:
		fmt.Fprintf(&b, "redirect %s", x.Address)
		if x.Copy {
			b.WriteString(" copy")
		}
		if x.Notify != "" {
			b.WriteString(" notify=" + x.Notify)
		}
		if x.Ret != "" {
			b.WriteString(" ret=" + x.Ret)
		}
		if x.ByTime != 0 {
			fmt.Fprintf(&b, " bytime=%d", x.ByTime)
		}
		if x.ByMode != "" {
			b.WriteString(" bymode=" + x.ByMode)
		}
	case Discard:
		b.WriteString("discard")
	case Reject:
		if x.Extended {
			b.WriteString("ereject ")
		} else {
			b.WriteString("reject ")
		}
		b.WriteString(x.Reason)
	case Vacation:
		fmt.Fprintf(&b, "vacation to=%s from=%s subject=%q period=%s", x.To, x.From, x.Subject, x.Period)
		if x.Mime {
			b.WriteString(" mime")
		}
		if x.Fcc != nil {
			b.WriteString(" fcc=" + x.Fcc.Mailbox)
		}
	case Notify:
		fmt.Fprintf(&b, "notify %s importance=%s message=%q", x.Method, x.Importance, x.Message)
		if x.From != "" {
			b.WriteString(" from=" + x.From)
		}
	default:
		fmt.Fprintf(&b, "%#v", a)
	}
	return b.String()
}

func describeAll(acts []Action) []string {
	out := []string{}
	for _, a := range acts {
		out = append(out, describe(a))
	}
	return out
}

// fixedNow is the delivery time of every test: a Sunday.
var fixedNow = time.Date(2007, 7, 1, 14, 30, 0, 0, time.UTC)

// runSrc compiles and runs src over msg (LF line ends are fine).
func runSrc(t testing.TB, src, msg string, env *Env) (*Result, error) {
	t.Helper()
	s, err := Compile([]byte(src), CompileOptions{})
	if err != nil {
		t.Fatalf("compile: %v\n%s", err, src)
	}
	if env == nil {
		env = &Env{}
	}
	if env.Now.IsZero() {
		env.Now = fixedNow
	}
	if env.Location == nil {
		env.Location = time.UTC
	}
	m := NewMessageBytes([]byte(strings.ReplaceAll(msg, "\n", "\r\n")))
	return s.Run(context.Background(), m, env)
}

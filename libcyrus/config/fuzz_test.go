package config

import (
	"bytes"
	"errors"
	"log/slog"
	"testing"
)

// FuzzParse feeds arbitrary files to the parser: it must never panic,
// every error must be a *ParseError, and every option of a configuration
// that parses must be readable for any service.
func FuzzParse(f *testing.F) {
	f.Add([]byte("configdirectory: /var/lib/cyrus\npartition-default: /spool\n"), "imap")
	f.Fuzz(func(t *testing.T, data []byte, service string) {
		c, err := parse(bytes.NewReader(data), "fuzz.conf", service, slog.New(slog.DiscardHandler), nil)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *ParseError: %v", err, err)
			}
			return
		}
		for _, cc := range []*Config{c, c.WithService("imap"), c.WithService("")} {
			for name, o := range optionIndex {
				if o.ReplacedBy == "" && !o.Deprecated {
					read(cc, name, o.Kind)
				}
			}
			cc.Partitions()
			cc.MetaPartitions()
			cc.Values(AutocreateACL)
			cc.Raw("sync_host")
		}
	})
}

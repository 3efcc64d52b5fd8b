// Command imapd is cyrusgo's IMAP server, run by master for each imap and
// imaps service, as Cyrus's imapd(8).
package main

import (
	"github.com/spf13/pflag"

	"github.com/cyrusgo/cyrusgo/libcyrus/backend"
	"github.com/cyrusgo/cyrusgo/libcyrus/imapserver"
	"github.com/cyrusgo/cyrusgo/libcyrus/service"
)

func main() {
	var implicitTLS bool
	service.Main(service.Spec{
		Program: "imapd",
		Flags: func(fs *pflag.FlagSet) {
			fs.BoolVarP(&implicitTLS, "tls", "s", false, "TLS from the start (imaps)")
		},
		Init: func(env *service.Env) (service.Handler, error) {
			b, err := backend.Open(env.Config, env.Logger, "imap")
			if err != nil {
				return nil, err
			}
			return imapserver.New(imapserver.Options{
				Config:      env.Config,
				Store:       b.Store,
				Auth:        b.Auth,
				TLS:         b.TLS,
				ImplicitTLS: implicitTLS,
				Logger:      env.Logger,
			}), nil
		},
	})
}

// Command lmtpd is cyrusgo's LMTP server (RFC 2033), run by master for
// each lmtp service, as Cyrus's lmtpd(8): the MTA delivers mail into the
// mail store through it. Connections on a Unix socket are trusted; TCP
// connections must AUTH as an admin unless -a pre-authorizes them.
package main

import (
	"github.com/spf13/pflag"

	"github.com/cyrusgo/cyrusgo/libcyrus/backend"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/duplicate"
	"github.com/cyrusgo/cyrusgo/libcyrus/lmtpserver"
	"github.com/cyrusgo/cyrusgo/libcyrus/service"
	"github.com/cyrusgo/cyrusgo/libcyrus/sievescript"
)

func main() {
	var preauth, implicitTLS bool
	service.Main(service.Spec{
		Program: "lmtpd",
		Flags: func(fs *pflag.FlagSet) {
			fs.BoolVarP(&preauth, "preauth", "a", false, "pre-authorize TCP connections (trusted hosts only)")
			fs.BoolVarP(&implicitTLS, "tls", "s", false, "TLS from the start")
		},
		Init: func(env *service.Env) (service.Handler, error) {
			b, err := backend.Open(env.Config, env.Logger, "lmtp")
			if err != nil {
				return nil, err
			}
			deliverDB := b.DBs.DB(cyrusdb.Deliver)
			var dupes *duplicate.Suppressor
			if env.Config.Bool(config.DuplicateSuppression) {
				dupes = duplicate.New(deliverDB, duplicate.Options{Logger: env.Logger})
			}
			// Users' active scripts run on every delivery; their tracking
			// (vacation, duplicate, redirect) lives in the deliver db
			// whatever duplicatesuppression says.
			sieveHook := lmtpserver.NewSieve(lmtpserver.SieveOptions{
				Config:   env.Config,
				Store:    b.Store,
				Scripts:  sievescript.FromConfig(env.Config, env.Logger),
				Deliver:  deliverDB,
				Metadata: lmtpserver.StoreMetadata(b.Store),
				Logger:   env.Logger,
			})
			return lmtpserver.New(lmtpserver.Options{
				Config:      env.Config,
				Store:       b.Store,
				Dupes:       dupes,
				Auth:        b.Auth,
				TLS:         b.TLS,
				ImplicitTLS: implicitTLS,
				PreAuth:     preauth,
				Logger:      env.Logger,
				Sieve:       sieveHook,
			}), nil
		},
	})
}

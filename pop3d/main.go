// Command pop3d is cyrusgo's POP3 server, run by master for each pop3 and
// pop3s service, as Cyrus's pop3d(8).
package main

import (
	"errors"

	"github.com/spf13/pflag"

	"github.com/cyrusgo/cyrusgo/libcyrus/backend"
	"github.com/cyrusgo/cyrusgo/libcyrus/pop3server"
	"github.com/cyrusgo/cyrusgo/libcyrus/service"
)

func main() {
	var implicitTLS, kpop bool
	var ssf int
	service.Main(service.Spec{
		Program: "pop3d",
		Flags: func(fs *pflag.FlagSet) {
			fs.BoolVarP(&implicitTLS, "tls", "s", false, "TLS from the start (pop3s)")
			fs.BoolVarP(&kpop, "kpop", "k", false, "serve Kerberos 4 KPOP (not supported)")
			fs.IntVarP(&ssf, "ssf", "p", 0, "strength of an external security layer (above 1: encrypted)")
		},
		Init: func(env *service.Env) (service.Handler, error) {
			if kpop {
				// pop3d(8) documents -k; Kerberos 4 is long dead and
				// cyrusgo has no KPOP, so say so rather than serve POP3
				// to clients expecting KPOP.
				return nil, errors.New("-k (KPOP, Kerberos 4 POP) is not supported; remove -k from the service's cmd in cyrus.conf")
			}
			b, err := backend.Open(env.Config, env.Logger, "pop")
			if err != nil {
				return nil, err
			}
			return pop3server.New(pop3server.Options{
				Config:      env.Config,
				Store:       b.Store,
				Auth:        b.Auth,
				TLS:         b.TLS,
				ImplicitTLS: implicitTLS,
				ExternalSSF: ssf,
				Logger:      env.Logger,
			}), nil
		},
	})
}

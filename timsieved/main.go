// Command timsieved is cyrusgo's ManageSieve server (RFC 5804), run by
// master for each sieve service, as Cyrus's timsieved(8).
package main

import (
	"github.com/cyrusgo/cyrusgo/libcyrus/backend"
	"github.com/cyrusgo/cyrusgo/libcyrus/managesieve"
	"github.com/cyrusgo/cyrusgo/libcyrus/service"
	"github.com/cyrusgo/cyrusgo/libcyrus/sievescript"
)

func main() {
	service.Main(service.Spec{
		Program: "timsieved",
		Init: func(env *service.Env) (service.Handler, error) {
			b, err := backend.Open(env.Config, env.Logger, "sieve")
			if err != nil {
				return nil, err
			}
			return managesieve.New(managesieve.Options{
				Config:  env.Config,
				Auth:    b.Auth,
				TLS:     b.TLS,
				Scripts: sievescript.FromConfig(env.Config, env.Logger),
				Logger:  env.Logger,
			}), nil
		},
	})
}

// Package backend wires what every protocol service needs from the rest
// of libcyrus, in one place: the databases (through master's socket), the
// mail store, authentication and TLS. Each service main calls Open once.
package backend

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cyrusgo/cyrusgo/libcyrus/auth"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/libcyrus/tlsconf"
)

// Backend is a service's view of the server.
type Backend struct {
	Config *config.Config
	DBs    *cyrusdb.Client
	Store  *mailbox.Store
	Auth   *auth.Authenticator
	// TLS is nil when no certificate is configured.
	TLS *tls.Config
}

// clientDBs adapts the socket client to mailbox.Databases.
type clientDBs struct{ c *cyrusdb.Client }

func (d clientDBs) DB(name string) (cyrusdb.DB, error) { return d.c.DB(name), nil }

// Open connects to master's database socket and builds the store and
// authenticator. saslService is the name saslauthd is told ("imap",
// "pop", "lmtp", "sieve").
func Open(cfg *config.Config, logger *slog.Logger, saslService string) (*Backend, error) {
	dir := cfg.String(config.ConfigDirectory)
	client, err := dialRetry(cyrusdb.SocketPath(dir), logger)
	if err != nil {
		return nil, err
	}
	store, err := mailbox.New(cfg, clientDBs{client}, logger)
	if err != nil {
		client.Close()
		return nil, err
	}
	checker := auth.NewChecker(cfg, client.DB(cyrusdb.Users), logger)
	b := &Backend{
		Config: cfg,
		DBs:    client,
		Store:  store,
		Auth:   auth.NewAuthenticator(cfg, checker, logger, saslService),
	}
	t, err := tlsconf.Load(cfg, logger)
	switch {
	case err == nil:
		b.TLS = t
	case errors.Is(err, tlsconf.ErrNoTLS):
	default:
		logger.Error(fmt.Sprintf("TLS disabled: %v", err))
	}
	return b, nil
}

// dialRetry waits briefly for master's database socket: a service started
// at the same moment as master may race its creation.
func dialRetry(path string, logger *slog.Logger) (*cyrusdb.Client, error) {
	var err error
	for i := 0; i < 50; i++ {
		var c *cyrusdb.Client
		if c, err = cyrusdb.Dial(path, cyrusdb.WithClientLogger(logger)); err == nil {
			return c, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, fmt.Errorf("connect to the database socket %s (is master running?): %w", path, err)
}

// Close releases the database connection.
func (b *Backend) Close() error { return b.DBs.Close() }

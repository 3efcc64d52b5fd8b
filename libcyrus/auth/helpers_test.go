package auth

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
)

// testParams keep PBKDF2 cheap in tests; SCRAM stays at 4096, the least
// xdg-go/scram's client accepts.
var testParams = hashParams{plainIter: 1000, scramIter: scramIterations}

// logBuffer collects log lines for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// newLogger logs through the project's handler, so lines read as in
// production ("notice: login: ...").
func newLogger(w *logBuffer) *slog.Logger {
	return logging.New(logging.Options{Ident: "test", Writer: w, Level: logging.LevelDebug})
}

func testConfig(t testing.TB, kv map[string]string, service string) *config.Config {
	t.Helper()
	cfg, err := config.FromMap(kv, service)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// testEnv is an Authenticator over an in-memory store holding alice
// (a normal user), cyrus (in admins) and proxy (in proxyservers).
type testEnv struct {
	cfg   *config.Config
	db    *cyrusdb.Mem
	check *Checker
	auth  *Authenticator
	log   *logBuffer
}

const (
	alicePW = "alice secret"
	cyrusPW = "cyrus secret"
	proxyPW = "proxy secret"
)

func newEnv(t testing.TB, kv map[string]string) *testEnv {
	t.Helper()
	base := map[string]string{
		"configdirectory": t.TempDir(),
		"admins":          "cyrus",
		"proxyservers":    "proxy",
	}
	for k, v := range kv {
		base[k] = v
	}
	cfg := testConfig(t, base, "imap")
	db := cyrusdb.NewMem()
	for user, pw := range map[string]string{"alice": alicePW, "cyrus": cyrusPW, "proxy": proxyPW} {
		if err := setPassword(db, user, pw, testParams, true); err != nil {
			t.Fatal(err)
		}
	}
	lb := &logBuffer{}
	logger := newLogger(lb)
	ch := NewChecker(cfg, db, logger)
	ch.params = testParams
	return &testEnv{cfg: cfg, db: db, check: ch, auth: NewAuthenticator(cfg, ch, logger, "imap"), log: lb}
}

// run drives a session with the given responses (the first is the initial
// response, nil for none) and returns the challenges and the outcome.
func run(t testing.TB, s Session, responses ...[]byte) ([][]byte, bool, error) {
	t.Helper()
	var challenges [][]byte
	for _, r := range responses {
		ch, done, err := s.Next(r)
		if err != nil {
			return challenges, done, err
		}
		if done {
			return challenges, true, nil
		}
		challenges = append(challenges, ch)
	}
	return challenges, false, nil
}

func plainMsg(authz, authc, pw string) []byte {
	return []byte(strings.Join([]string{authz, authc, pw}, "\x00"))
}

package imap_test

import (
	"net"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/backend"
	"github.com/cyrusgo/cyrusgo/libcyrus/config"
	"github.com/cyrusgo/cyrusgo/libcyrus/imaptest"
	"github.com/cyrusgo/cyrusgo/libcyrus/logging"
	"github.com/cyrusgo/cyrusgo/libcyrus/mailbox"
	"github.com/cyrusgo/cyrusgo/test/harness"
)

// The golden transcripts of the IMAP engine, run against the built imapd
// under the real master: the fixtures go through the store over master's
// database socket, as another service process would, and the client
// lines over TCP.
func TestGoldenTranscripts(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../libcyrus/imapserver/testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			t.Parallel()
			imaptest.Run(t, f, startGolden)
		})
	}
}

// goldenServer is master with its store opened from the test process.
type goldenServer struct {
	m     *harness.Mail
	store *mailbox.Store
}

func (g *goldenServer) Store() *mailbox.Store { return g.store }

func (g *goldenServer) Dial() (net.Conn, error) {
	return net.Dial("tcp", harness.Addr(g.m.IMAP))
}

func startGolden(t *testing.T, conf map[string]string) imaptest.Server {
	keys := make([]string, 0, len(conf))
	for k := range conf {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + ": " + conf[k] + "\n")
	}
	m := harness.StartMail(t, harness.MailOptions{ImapdConf: b.String()})
	cfg, err := config.Load(m.Path("imapd.conf"), "imap", logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	// The store as a service process gets it: over master's database
	// socket.
	svc, err := backend.Open(cfg, logging.Discard(), "imap")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	return &goldenServer{m: m, store: svc.Store}
}

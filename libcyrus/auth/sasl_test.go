package auth

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/xdg-go/scram"
)

func TestMechanisms(t *testing.T) {
	for _, c := range []struct {
		name     string
		kv       map[string]string
		secure   bool
		want     []string
		plainOK  bool
		startErr map[string]error
	}{
		{name: "default, clear", want: []string{"SCRAM-SHA-256", "SCRAM-SHA-1"},
			startErr: map[string]error{"PLAIN": ErrEncrypt, "LOGIN": ErrEncrypt, "CRAM-MD5": ErrNoMech, "scram-sha-256": nil}},
		{name: "default, TLS", secure: true, plainOK: true,
			want: []string{"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "LOGIN"}},
		{name: "allowplaintext", kv: map[string]string{"allowplaintext": "yes"}, plainOK: true,
			want: []string{"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "LOGIN"}},
		{name: "mech list", kv: map[string]string{"sasl_mech_list": "login plain", "allowplaintext": "yes"}, plainOK: true,
			want: []string{"PLAIN", "LOGIN"}, startErr: map[string]error{"SCRAM-SHA-256": ErrNoMech, "PLAIN": nil}},
		{name: "mech list, clear", kv: map[string]string{"sasl_mech_list": "PLAIN SCRAM-SHA-1"},
			want: []string{"SCRAM-SHA-1"}, startErr: map[string]error{"PLAIN": ErrEncrypt, "SCRAM-SHA-256": ErrNoMech}},
		{name: "tls_required, clear", kv: map[string]string{"tls_required": "yes", "allowplaintext": "yes"},
			want: nil, startErr: map[string]error{"SCRAM-SHA-256": ErrEncrypt, "PLAIN": ErrEncrypt}},
		{name: "tls_required, TLS", kv: map[string]string{"tls_required": "yes"}, secure: true, plainOK: true,
			want: []string{"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "LOGIN"}},
		{name: "saslauthd only: no SCRAM", kv: map[string]string{"sasl_pwcheck_method": "saslauthd"}, secure: true, plainOK: true,
			want: []string{"PLAIN", "LOGIN"}, startErr: map[string]error{"SCRAM-SHA-1": ErrNoMech}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, c.kv)
			if got := e.auth.Mechanisms(c.secure); !slices.Equal(got, c.want) {
				t.Errorf("Mechanisms(%v) = %v, want %v", c.secure, got, c.want)
			}
			if got := e.auth.PlaintextAllowed(c.secure); got != c.plainOK {
				t.Errorf("PlaintextAllowed(%v) = %v", c.secure, got)
			}
			for mech, want := range c.startErr {
				_, err := e.auth.Start(t.Context(), mech, c.secure, StartOptions{})
				if want == nil && err != nil || want != nil && !errors.Is(err, want) {
					t.Errorf("Start(%s) = %v, want %v", mech, err, want)
				}
			}
		})
	}
}

func TestPlain(t *testing.T) {
	for _, c := range []struct {
		name      string
		responses [][]byte
		opt       StartOptions
		want      error
		authz     string
	}{
		{name: "initial response", responses: [][]byte{plainMsg("", "alice", alicePW)}, authz: "alice"},
		{name: "no initial response", responses: [][]byte{nil, plainMsg("", "alice", alicePW)}, authz: "alice"},
		{name: "authzid equal to authcid", responses: [][]byte{plainMsg("alice", "alice", alicePW)}, authz: "alice"},
		{name: "bad password", responses: [][]byte{plainMsg("", "alice", "nope")}, want: ErrBadPassword},
		{name: "unknown user", responses: [][]byte{plainMsg("", "nobody", "nope")}, want: ErrNoUser},
		{name: "admin acts as alice", responses: [][]byte{plainMsg("alice", "cyrus", cyrusPW)}, authz: "alice"},
		{name: "proxy server acts as alice", responses: [][]byte{plainMsg("alice", "proxy", proxyPW)}, authz: "alice"},
		{name: "user may not act as admin", responses: [][]byte{plainMsg("cyrus", "alice", alicePW)}, want: ErrAuthzNotAllowed},
		{name: "empty initial response", responses: [][]byte{{}}, want: ErrMalformed},
		{name: "two fields", responses: [][]byte{[]byte("alice\x00pw")}, want: ErrMalformed},
		{name: "empty authcid", responses: [][]byte{plainMsg("", "", "pw")}, want: ErrBadUser},
		{name: "admins only, admin", responses: [][]byte{plainMsg("", "cyrus", cyrusPW)}, opt: StartOptions{AdminsOnly: true}, authz: "cyrus"},
		{name: "admins only, user", responses: [][]byte{plainMsg("", "alice", alicePW)}, opt: StartOptions{AdminsOnly: true}, want: ErrNotAdmin},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, nil)
			s, err := e.auth.Start(t.Context(), "plain", true, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			_, done, err := run(t, s, c.responses...)
			if c.want != nil {
				if !errors.Is(err, c.want) {
					t.Fatalf("err = %v, want %v", err, c.want)
				}
				var ae *Error
				if !errors.As(err, &ae) {
					t.Fatalf("error %T is not *Error", err)
				}
				// The session is over: more input is an error, not a panic.
				if _, _, err := s.Next([]byte("x")); err == nil {
					t.Error("Next after failure succeeded")
				}
				return
			}
			if err != nil || !done {
				t.Fatalf("done=%v err=%v", done, err)
			}
			if r := s.Result(); r.AuthzID != c.authz || r.Mech != "PLAIN" {
				t.Errorf("Result = %+v, want authz %s", r, c.authz)
			}
		})
	}
}

func TestNotAdminLogged(t *testing.T) {
	e := newEnv(t, nil)
	s, _ := e.auth.Start(t.Context(), "PLAIN", true, StartOptions{AdminsOnly: true})
	_, _, err := s.Next(plainMsg("", "alice", alicePW))
	if got := BadLoginLine("localhost [127.0.0.1]", s.Mech(), err); got != "badlogin: localhost [127.0.0.1] PLAIN (alice) [SASL(-13): authentication failure: only admins may authenticate]" {
		t.Errorf("badlogin line %q", got)
	}
	if !strings.Contains(e.log.String(), "alice is not an admin") {
		t.Errorf("log: %s", e.log)
	}
}

func TestLoginMech(t *testing.T) {
	e := newEnv(t, nil)
	s, err := e.auth.Start(t.Context(), "LOGIN", true, StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ch, done, err := run(t, s, nil, []byte("alice"), []byte(alicePW))
	if err != nil || !done {
		t.Fatalf("done=%v err=%v", done, err)
	}
	if len(ch) != 2 || string(ch[0]) != "Username:" || string(ch[1]) != "Password:" {
		t.Errorf("challenges %q", ch)
	}
	if r := s.Result(); r.AuthID != "alice" || r.Mech != "LOGIN" {
		t.Errorf("Result %+v", r)
	}

	// The user name as initial response skips the first challenge.
	s, _ = e.auth.Start(t.Context(), "LOGIN", true, StartOptions{})
	ch, done, err = run(t, s, []byte("alice"), []byte("wrong"))
	if !errors.Is(err, ErrBadPassword) || len(ch) != 1 || string(ch[0]) != "Password:" {
		t.Errorf("challenges %q, done=%v err=%v", ch, done, err)
	}
}

func TestLoginCommand(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.auth.Login(t.Context(), "alice", alicePW, false); !errors.Is(err, ErrEncrypt) {
		t.Errorf("plaintext login without TLS: %v", err)
	}
	r, err := e.auth.Login(t.Context(), "ALICE", alicePW, true)
	if err != nil {
		t.Fatal(err)
	}
	if r != (Result{AuthID: "alice", AuthzID: "alice", Mech: "plaintext"}) {
		t.Errorf("Result %+v", r)
	}
	_, err = e.auth.Login(t.Context(), "alice", "wrong", true)
	if got := BadLoginLine("localhost [127.0.0.1]", MechPlaintext, err); got != "badlogin: localhost [127.0.0.1] plaintext (alice) [SASL(-13): authentication failure: checkpass failed]" {
		t.Errorf("badlogin line %q", got)
	}
	if PublicMessage(err) != "authentication failure" {
		t.Errorf("public message %q", PublicMessage(err))
	}
	_, err = e.auth.Login(t.Context(), "nobody", "x", true)
	if !errors.Is(err, ErrNoUser) || PublicMessage(err) != "authentication failure" {
		t.Errorf("unknown user: %v, public %q", err, PublicMessage(err))
	}

	e = newEnv(t, map[string]string{"allowplaintext": "yes"})
	if _, err := e.auth.Login(t.Context(), "alice", alicePW, false); err != nil {
		t.Errorf("allowplaintext: %v", err)
	}
	e = newEnv(t, map[string]string{"allowplaintext": "yes", "tls_required": "yes"})
	if _, err := e.auth.Login(t.Context(), "alice", alicePW, false); !errors.Is(err, ErrEncrypt) {
		t.Errorf("tls_required: %v", err)
	}
}

// scramLogin runs a SCRAM exchange with xdg-go/scram's client, the stock
// library most Go clients use.
func scramLogin(t *testing.T, a *Authenticator, mech, user, pw, authz string, opt StartOptions) (Result, error) {
	t.Helper()
	hf := scram.SHA256
	if mech == MechSCRAMSHA1 {
		hf = scram.SHA1
	}
	client, err := hf.NewClient(user, pw, authz)
	if err != nil {
		t.Fatal(err)
	}
	conv := client.NewConversation()
	s, err := a.Start(t.Context(), mech, false, opt)
	if err != nil {
		t.Fatal(err)
	}
	// No initial response: the server asks with an empty challenge.
	ch, done, err := s.Next(nil)
	if err != nil || done || len(ch) != 0 {
		t.Fatalf("first step: %q %v %v", ch, done, err)
	}
	first, err := conv.Step("")
	if err != nil {
		t.Fatal(err)
	}
	ch, done, err = s.Next([]byte(first))
	if err != nil || done {
		t.Fatalf("server-first: done=%v err=%v", done, err)
	}
	final, err := conv.Step(string(ch))
	if err != nil {
		t.Fatalf("client rejected server-first %q: %v", ch, err)
	}
	ch, done, err = s.Next([]byte(final))
	if err != nil {
		return Result{}, err
	}
	if done != opt.SuccessData {
		t.Fatalf("done=%v with SuccessData=%v", done, opt.SuccessData)
	}
	// The client checks the server's signature: proof the server holds
	// the user's verifiers.
	if _, err := conv.Step(string(ch)); err != nil || !conv.Valid() {
		t.Fatalf("client rejected server-final %q: %v", ch, err)
	}
	if !done {
		ch, done, err = s.Next([]byte{})
		if err != nil || !done || ch != nil {
			t.Fatalf("ack: %q %v %v", ch, done, err)
		}
	}
	return s.Result(), nil
}

func TestSCRAM(t *testing.T) {
	for _, mech := range []string{MechSCRAMSHA256, MechSCRAMSHA1} {
		t.Run(mech, func(t *testing.T) {
			e := newEnv(t, nil)
			for _, opt := range []StartOptions{{}, {SuccessData: true}} {
				r, err := scramLogin(t, e.auth, mech, "alice", alicePW, "", opt)
				if err != nil {
					t.Fatal(err)
				}
				if r != (Result{AuthID: "alice", AuthzID: "alice", Mech: mech}) {
					t.Errorf("Result %+v", r)
				}
			}
			if _, err := scramLogin(t, e.auth, mech, "alice", "wrong", "", StartOptions{}); !errors.Is(err, ErrBadPassword) {
				t.Errorf("wrong password: %v", err)
			}
			_, err := scramLogin(t, e.auth, mech, "nobody", "x", "", StartOptions{})
			if !errors.Is(err, ErrNoUser) {
				t.Errorf("unknown user: %v", err)
			}
			if got := BadLoginLine("[10.0.0.1]", mech, err); !strings.HasPrefix(got, "badlogin: [10.0.0.1] "+mech+" (nobody) [SASL(-20): user not found") {
				t.Errorf("badlogin line %q", got)
			}
			r, err := scramLogin(t, e.auth, mech, "cyrus", cyrusPW, "alice", StartOptions{})
			if err != nil || r.AuthID != "cyrus" || r.AuthzID != "alice" {
				t.Errorf("admin with authzid: %+v %v", r, err)
			}
			if _, err := scramLogin(t, e.auth, mech, "alice", alicePW, "cyrus", StartOptions{}); !errors.Is(err, ErrAuthzNotAllowed) {
				t.Errorf("user with authzid: %v", err)
			}
		})
	}
}

// The answer to client-first must not tell whether the user exists: same
// shape, same iteration count, a salt stable per name.
func TestSCRAMUnknownUserLooksKnown(t *testing.T) {
	e := newEnv(t, nil)
	serverFirst := func(user string) string {
		s, err := e.auth.Start(t.Context(), MechSCRAMSHA256, false, StartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ch, _, err := s.Next([]byte("n,,n=" + user + ",r=abcdefgh"))
		if err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		parts := strings.Split(string(ch), ",")
		if len(parts) != 3 {
			t.Fatalf("server-first %q", ch)
		}
		return parts[1] + "," + parts[2] // s=..., i=...
	}
	known, unknown := serverFirst("alice"), serverFirst("nobody")
	if !strings.HasSuffix(known, ",i=4096") || !strings.HasSuffix(unknown, ",i=4096") {
		t.Errorf("iterations differ: %q %q", known, unknown)
	}
	if serverFirst("nobody") != unknown {
		t.Error("fake salt is not stable")
	}
}

func TestCanonUser(t *testing.T) {
	for _, c := range []struct {
		kv   map[string]string
		in   string
		want string // "" for an error
	}{
		{nil, "alice", "alice"},
		{nil, "Alice", "alice"},
		{map[string]string{"username_tolower": "no"}, "Alice", "Alice"},
		{nil, "alice@example.com", "alice@example.com"}, // virtdomains off: "@" is kept
		{nil, "alice%example.com", "alice%example.com"},
		{map[string]string{"virtdomains": "userid"}, "alice%Example.COM", "alice@example.com"},
		{map[string]string{"virtdomains": "userid"}, "alice@internal", "alice"},
		{map[string]string{"virtdomains": "userid", "defaultdomain": "example.com"}, "alice@EXAMPLE.com", "alice"},
		{map[string]string{"virtdomains": "on"}, "a.b@c@example.com", "a.b@c@example.com"},
		{map[string]string{"virtdomains": "userid"}, "@example.com", ""},
		{map[string]string{"virtdomains": "userid"}, "alice@", ""},
		{nil, "", ""},
		{nil, "al ice", ""},
		{nil, "al\tice", ""},
		{nil, strings.Repeat("a", MaxUserLen+1), ""},
		{nil, "Jürgen", "jürgen"},
	} {
		kv := map[string]string{"configdirectory": "/tmp"}
		for k, v := range c.kv {
			kv[k] = v
		}
		got, err := CanonUser(testConfig(t, kv, ""), c.in)
		if c.want == "" && err == nil || c.want != "" && (err != nil || got != c.want) {
			t.Errorf("CanonUser(%q) with %v = %q, %v; want %q", c.in, c.kv, got, err, c.want)
		}
	}
}

func TestLoginRealms(t *testing.T) {
	for _, c := range []struct {
		name string
		kv   map[string]string
		user string
		want error
	}{
		{"virtdomains off, no loginrealms", nil, "dave@example.org", ErrCrossRealm},
		{"virtdomains off, realm listed", map[string]string{"loginrealms": "other.net EXAMPLE.ORG"}, "dave@example.org", nil},
		{"virtdomains on: a domain, not a realm", map[string]string{"virtdomains": "userid"}, "dave@example.org", nil},
		{"virtdomains on with loginrealms", map[string]string{"virtdomains": "userid", "loginrealms": "other.net"}, "dave@example.org", ErrCrossRealm},
		{"default domain", map[string]string{"virtdomains": "userid", "loginrealms": "other.net"}, "alice@internal", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, c.kv)
			if err := setPassword(e.db, "dave@example.org", "pw", testParams, false); err != nil {
				t.Fatal(err)
			}
			pw := "pw"
			if strings.HasPrefix(c.user, "alice") {
				pw = alicePW
			}
			_, err := e.auth.Login(t.Context(), c.user, pw, true)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("Login(%s) = %v, want %v", c.user, err, c.want)
			}
		})
	}
}

// lmtp_admins is admins as the lmtp service sees it.
func TestIsAdminPerService(t *testing.T) {
	kv := map[string]string{"configdirectory": "/tmp", "admins": "cyrus Root", "lmtp_admins": "postman"}
	imap := testConfig(t, kv, "imap")
	lmtp := imap.WithService("lmtp")
	for _, c := range []struct {
		user       string
		imap, lmtp bool
	}{{"cyrus", true, false}, {"root", true, false}, {"ROOT", true, false}, {"postman", false, true}, {"alice", false, false}} {
		if got := IsAdmin(imap, c.user); got != c.imap {
			t.Errorf("imap IsAdmin(%s) = %v", c.user, got)
		}
		if got := IsAdmin(lmtp, c.user); got != c.lmtp {
			t.Errorf("lmtp IsAdmin(%s) = %v", c.user, got)
		}
	}
}

// Garbage at any step ends the exchange with an error, never a panic or a
// success.
func TestGarbageSteps(t *testing.T) {
	e := newEnv(t, nil)
	garbage := [][]byte{
		nil, {}, []byte("\x00"), []byte("\x00\x00"), []byte("\x00\x00\x00\x00"),
		[]byte("n,,n=alice,r="), []byte("y,,n=,r=x"), []byte("p=tls-unique,,n=alice,r=x"),
		[]byte("n,a=,n=alice,r=x"), []byte("n,,m=x,n=alice,r=x"), []byte("c=biws,r=x,p=AAAA"),
		[]byte("n,,n=alice,r=x"), []byte("c=biws,r=xyz,p=!!!"), []byte(strings.Repeat("=", 300)),
		[]byte("n,,n=a=2Cb=3D=ZZ,r=x"), []byte("\xff\xfe"),
	}
	for _, mech := range []string{MechPlain, MechLogin, MechSCRAMSHA1, MechSCRAMSHA256} {
		for i := range garbage {
			for j := range garbage {
				s, err := e.auth.Start(t.Context(), mech, true, StartOptions{})
				if err != nil {
					t.Fatal(err)
				}
				_, done, err := run(t, s, garbage[i], garbage[j], garbage[i], garbage[j])
				if done && err == nil {
					t.Errorf("%s: garbage %q %q authenticated as %+v", mech, garbage[i], garbage[j], s.Result())
				}
			}
		}
	}
}

func TestDecode(t *testing.T) {
	for _, c := range []struct {
		in      string
		initial bool
		want    string
		err     error
	}{
		{"*", false, "", ErrCanceled},
		{"", false, "", nil},
		{"=", true, "", nil},
		{"=", false, "", nil},
		{"", true, "", ErrMalformed},
		{"AGFsaWNlAHB3", false, "\x00alice\x00pw", nil},
		{"AGFsaWNlAHB3\r\n", false, "\x00alice\x00pw", nil},
		{"YQ==", true, "a", nil},
		{"YQ", false, "a", nil}, // padding left out
		{"Y", false, "", ErrMalformed},
		{"!!!!", false, "", ErrMalformed},
		{strings.Repeat("QUFB", MaxResponse/3+1), false, "", ErrMalformed},
	} {
		var got []byte
		var err error
		if c.initial {
			got, err = DecodeInitialResponse(c.in)
		} else {
			got, err = DecodeResponse(c.in)
		}
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("decode(%q) err = %v, want %v", c.in, err, c.err)
			}
			continue
		}
		if err != nil || string(got) != c.want || got == nil {
			t.Errorf("decode(%q) = %q (nil %v), %v", c.in, got, got == nil, err)
		}
	}
	if EncodeChallenge([]byte("Password:")) != "UGFzc3dvcmQ6" {
		t.Error("EncodeChallenge")
	}
}

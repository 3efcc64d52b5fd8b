package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/xdg-go/scram"

	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
)

// fuzzMechs are the mechanisms FuzzSASLSteps drives, by index.
var fuzzMechs = [...]string{MechPlain, MechLogin, MechSCRAMSHA1, MechSCRAMSHA256}

const fuzzServerNonce = "fuzzservernonce"

// newFuzzEnv is newEnv with repeatable records (fixed salts) and a fixed
// SCRAM server nonce, so that seeds in testdata/fuzz can hold complete,
// successful SCRAM exchanges.
func newFuzzEnv(t testing.TB) *testEnv {
	e := newEnv(t, nil)
	rnd := rand.NewChaCha8([32]byte{'c', 'y', 'r', 'u', 's'})
	for _, u := range []struct{ user, pw string }{{"alice", alicePW}, {"cyrus", cyrusPW}, {"proxy", proxyPW}} {
		rec, err := newRecord(u.pw, testParams, time.Unix(0, 0), rnd)
		if err != nil {
			t.Fatal(err)
		}
		val, _ := json.Marshal(rec)
		if err := e.db.Put([]byte(u.user), val); err != nil {
			t.Fatal(err)
		}
	}
	e.auth.nonce = func() string { return fuzzServerNonce }
	return e
}

// scramSteps returns the client lines (base64, as on the wire) of a
// complete SCRAM exchange against newFuzzEnv.
func scramSteps(t testing.TB, mech, user, pw, authz string) []byte {
	hf := scram.SHA256
	if mech == MechSCRAMSHA1 {
		hf = scram.SHA1
	}
	c, err := hf.NewClient(user, pw, authz)
	if err != nil {
		t.Fatal(err)
	}
	conv := c.WithNonceGenerator(func() string { return "fuzzclientnonce" }).NewConversation()
	first, _ := conv.Step("")
	rec, err := loadRecord(newFuzzEnv(t).db, user)
	if err != nil {
		t.Fatal(err)
	}
	k := rec.scramFor(mech)
	serverFirst := "r=fuzzclientnonce" + fuzzServerNonce + ",s=" + EncodeChallenge(k.Salt) + ",i=4096"
	final, err := conv.Step(serverFirst)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(EncodeChallenge([]byte(first)) + "\n" + EncodeChallenge([]byte(final)) + "\n")
}

func lines(parts ...[]byte) []byte {
	var b [][]byte
	for _, p := range parts {
		b = append(b, []byte(EncodeChallenge(p)))
	}
	return bytes.Join(b, []byte("\n"))
}

// FuzzSASLSteps feeds client responses into each mechanism: mech%4 picks
// the mechanism; with mech&0x80 the steps (separated by "\n") go to Next as
// raw bytes, otherwise as wire lines through DecodeInitialResponse and
// DecodeResponse; initial says whether the first step is an initial
// response. Nothing may panic, every error must be an *Error, and a
// success must name a real user and respect the authzid rules.
func FuzzSASLSteps(f *testing.F) {
	e := newFuzzEnv(f)
	f.Add(uint8(0), true, lines(plainMsg("", "alice", alicePW)))
	f.Add(uint8(0), false, lines(plainMsg("alice", "cyrus", cyrusPW)))
	f.Add(uint8(0x80), true, plainMsg("cyrus", "alice", alicePW))
	f.Add(uint8(1), false, lines([]byte("alice"), []byte(alicePW)))
	f.Add(uint8(1), true, lines([]byte("alice"), []byte(alicePW)))
	f.Add(uint8(2), true, scramSteps(f, MechSCRAMSHA1, "alice", alicePW, ""))
	f.Add(uint8(3), true, scramSteps(f, MechSCRAMSHA256, "alice", alicePW, ""))
	f.Add(uint8(3), true, scramSteps(f, MechSCRAMSHA256, "cyrus", cyrusPW, "alice"))
	f.Add(uint8(0x83), true, []byte("n,,n=alice,r=abc\nc=biws,r=abcfuzzservernonce,p=AAAA"))
	f.Add(uint8(3), true, []byte("*"))

	f.Fuzz(func(t *testing.T, mech uint8, initial bool, steps []byte) {
		r, ok := driveSteps(t, e, mech, initial, steps)
		if !ok {
			return
		}
		known := map[string]bool{"alice": true, "cyrus": true, "proxy": true}
		if !known[r.AuthID] {
			t.Fatalf("authenticated unknown user %+v", r)
		}
		if r.AuthzID != r.AuthID && r.AuthID == "alice" {
			t.Fatalf("normal user got authzid %+v", r)
		}
	})
}

// driveSteps runs one FuzzSASLSteps input and reports the result of a
// successful exchange.
func driveSteps(t *testing.T, e *testEnv, mech uint8, initial bool, steps []byte) (Result, bool) {
	raw := mech&0x80 != 0
	s, err := e.auth.Start(t.Context(), fuzzMechs[int(mech)%len(fuzzMechs)], true, StartOptions{SuccessData: mech&0x40 != 0})
	if err != nil {
		t.Fatal(err)
	}
	parts := bytes.Split(steps, []byte("\n"))
	if len(parts) > 8 {
		parts = parts[:8]
	}
	if !initial {
		if _, done, err := s.Next(nil); done || err != nil {
			t.Fatalf("first step without initial response: done=%v err=%v", done, err)
		}
	}
	for i, p := range parts {
		resp := p
		if !raw {
			var err error
			if i == 0 && initial {
				resp, err = DecodeInitialResponse(string(p))
			} else {
				resp, err = DecodeResponse(string(p))
			}
			if err != nil {
				var ae *Error
				if !errors.As(err, &ae) {
					t.Fatalf("decode error %T %v", err, err)
				}
				return Result{}, false
			}
		}
		_, done, err := s.Next(resp)
		if err != nil {
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("step error %T %v", err, err)
			}
			return Result{}, false
		}
		if done {
			return s.Result(), true
		}
	}
	return Result{}, false
}

// The seeds with complete exchanges do succeed, so the fuzzer starts from
// inputs that reach every step.
func TestFuzzSeedsSucceed(t *testing.T) {
	e := newFuzzEnv(t)
	for _, c := range []struct {
		mech    uint8
		initial bool
		steps   []byte
		authz   string
	}{
		{0, true, lines(plainMsg("", "alice", alicePW)), "alice"},
		{1, false, lines([]byte("alice"), []byte(alicePW)), "alice"},
		{2, true, scramSteps(t, MechSCRAMSHA1, "alice", alicePW, ""), "alice"},
		{3, true, scramSteps(t, MechSCRAMSHA256, "alice", alicePW, ""), "alice"},
		{0x43, true, scramSteps(t, MechSCRAMSHA256, "cyrus", cyrusPW, "alice"), "alice"},
	} {
		r, ok := driveSteps(t, e, c.mech, c.initial, c.steps)
		if !ok || r.AuthzID != c.authz {
			t.Errorf("seed %d %q: %+v %v", c.mech, c.steps, r, ok)
		}
	}
}

// The Mem database must not be the reason a fuzz run is slow.
var _ cyrusdb.DB = (*cyrusdb.Mem)(nil)

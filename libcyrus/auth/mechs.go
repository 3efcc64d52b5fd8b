package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/emersion/go-sasl"
	"github.com/xdg-go/scram"
)

// errFinished is the detail of a response after the exchange ended.
const detailFinished = "unexpected client response after the exchange ended"

// plainSession is PLAIN (RFC 4616) through go-sasl's server: one message
// "authzid NUL authcid NUL passwd".
type plainSession struct {
	srv    sasl.Server
	res    Result
	failed *Error
	over   bool
}

func (a *Authenticator) newPlain(ctx context.Context, opt StartOptions) *plainSession {
	s := &plainSession{}
	s.srv = sasl.NewPlainServer(func(identity, username, password string) error {
		authid, err := a.checkPassword(ctx, username, password)
		if err == nil {
			s.res, err = a.authorize(authid, identity, MechPlain, opt)
		}
		if err != nil {
			s.failed = asError(err)
			return s.failed
		}
		return nil
	})
	return s
}

func (s *plainSession) Next(response []byte) ([]byte, bool, error) {
	if s.over {
		return nil, true, newError(ErrMalformed, "", detailFinished, nil)
	}
	challenge, done, err := s.srv.Next(response)
	if err != nil {
		s.over = true
		if s.failed != nil {
			return nil, true, s.failed
		}
		return nil, true, newError(ErrMalformed, "", "PLAIN message is not authzid NUL authcid NUL passwd", err)
	}
	if done {
		s.over = true
		return nil, true, nil
	}
	return challenge, false, nil
}

func (s *plainSession) Result() Result { return s.res }
func (s *plainSession) Mech() string   { return MechPlain }

// loginSession is the obsolete but widely used LOGIN mechanism
// (draft-murchison-sasl-login-00): the server asks "Username:" and
// "Password:", the client answers each; an initial response is the user
// name. go-sasl no longer carries a LOGIN server, so it is here.
type loginSession struct {
	a     *Authenticator
	ctx   context.Context
	opt   StartOptions
	state int // 0 new, 1 asked for the user name, 2 asked for the password, 3 over
	user  string
	res   Result
}

func (a *Authenticator) newLogin(ctx context.Context, opt StartOptions) *loginSession {
	return &loginSession{a: a, ctx: ctx, opt: opt}
}

func (s *loginSession) Next(response []byte) ([]byte, bool, error) {
	switch s.state {
	case 0:
		if len(response) == 0 {
			s.state = 1
			return []byte("Username:"), false, nil
		}
		s.user = string(response)
		s.state = 2
		return []byte("Password:"), false, nil
	case 1:
		s.user = string(response)
		s.state = 2
		return []byte("Password:"), false, nil
	case 2:
		s.state = 3
		authid, err := s.a.checkPassword(s.ctx, s.user, string(response))
		if err == nil {
			s.res, err = s.a.authorize(authid, "", MechLogin, s.opt)
		}
		if err != nil {
			return nil, true, asError(err)
		}
		return nil, true, nil
	}
	return nil, true, newError(ErrMalformed, "", detailFinished, nil)
}

func (s *loginSession) Result() Result { return s.res }
func (s *loginSession) Mech() string   { return MechLogin }

// scramSession is SCRAM-SHA-1 (RFC 5802) or SCRAM-SHA-256 (RFC 7677)
// through xdg-go/scram's server conversation, with the verifiers of the
// native user store. Channel binding (the -PLUS variants) is not offered,
// so a client's "y" flag is accepted and "p" refused (RFC 5802 section 6).
type scramSession struct {
	a     *Authenticator
	mech  string
	opt   StartOptions
	conv  *scram.ServerConversation
	state int // 0 before client-first, 1 before client-final, 2 before the empty ack, 3 over
	// user is the canonical authentication identity once known; known
	// says whether the store held verifiers for it. For an unknown user
	// the exchange goes on with fake verifiers and fails at the proof, so
	// that the reply to client-first does not tell who exists.
	user  string
	known bool
	// lookupErr is a store failure met while looking the user up.
	lookupErr error
	final     []byte
	res       Result
}

func (a *Authenticator) newSCRAM(_ context.Context, mech string, opt StartOptions) (*scramSession, error) {
	s := &scramSession{a: a, mech: mech, opt: opt}
	hf := scram.SHA256
	if mech == MechSCRAMSHA1 {
		hf = scram.SHA1
	}
	srv, err := hf.NewServer(s.lookup)
	if err != nil {
		return nil, newError(ErrTemporary, "", "SCRAM server", err)
	}
	if a.nonce != nil {
		srv = srv.WithNonceGenerator(a.nonce)
	}
	s.conv = srv.NewConversation()
	return s, nil
}

// lookup is xdg-go/scram's credential callback. It never fails, for the
// reason given at scramSession.user.
func (s *scramSession) lookup(name string) (scram.StoredCredentials, error) {
	user, err := CanonUser(s.a.cfg, name)
	if err != nil {
		s.user = printable(name)
		return s.fake(name), nil
	}
	s.user = user
	keys, err := s.a.checker.scramKeysFor(user, s.mech)
	if err != nil {
		s.lookupErr = err
		s.a.logger.Error(fmt.Sprintf("auxprop: %v", err))
		return s.fake(name), nil
	}
	if keys == nil {
		return s.fake(name), nil
	}
	s.known = true
	return scram.StoredCredentials{
		KeyFactors: scram.KeyFactors{Salt: string(keys.Salt), Iters: keys.Iter},
		StoredKey:  keys.StoredKey,
		ServerKey:  keys.ServerKey,
	}, nil
}

// fake returns verifiers no password matches, with a salt that is stable
// per name and secret and the iteration count real records get.
func (s *scramSession) fake(name string) scram.StoredCredentials {
	m := hmac.New(sha256.New, s.a.secret[:])
	m.Write([]byte(s.mech + "\x00" + name))
	sum := m.Sum(nil)
	size := sha256.Size
	if s.mech == MechSCRAMSHA1 {
		size = 20
	}
	return scram.StoredCredentials{
		KeyFactors: scram.KeyFactors{Salt: string(sum[:saltLen]), Iters: s.a.checker.params.scramIter},
		StoredKey:  make([]byte, size),
		ServerKey:  make([]byte, size),
	}
}

func (s *scramSession) Next(response []byte) (challenge []byte, done bool, err error) {
	defer func() {
		// xdg-go/scram parses hostile input; should it ever panic, the
		// exchange fails instead of the connection.
		if p := recover(); p != nil {
			s.state = 3
			challenge, done, err = nil, true, newError(ErrMalformed, s.user, "SCRAM message", fmt.Errorf("panic: %v", p))
		}
	}()
	switch s.state {
	case 0:
		if response == nil {
			// No initial response: an empty challenge asks for
			// client-first (RFC 4422 section 5).
			return []byte{}, false, nil
		}
		s.state = 1
		if len(response) == 0 {
			s.state = 3
			return nil, true, newError(ErrMalformed, "", "empty SCRAM client-first message", nil)
		}
		first, err := s.conv.Step(string(response))
		if err != nil {
			s.state = 3
			return nil, true, newError(ErrMalformed, s.user, "SCRAM client-first message", err)
		}
		return []byte(first), false, nil
	case 1:
		s.state = 2
		final, err := s.conv.Step(string(response))
		if err != nil || !s.conv.Valid() {
			s.state = 3
			return nil, true, s.proofError(final, err)
		}
		s.res, err = s.a.authorize(s.user, s.conv.AuthzID(), s.mech, s.opt)
		if err != nil {
			s.state = 3
			return nil, true, asError(err)
		}
		if s.opt.SuccessData {
			s.state = 3
			return []byte(final), true, nil
		}
		// RFC 5802 section 5: the server-final message goes out as a
		// challenge when the protocol has no success data; the client
		// answers it with an empty response.
		return []byte(final), false, nil
	case 2:
		s.state = 3
		if len(response) != 0 {
			return nil, true, newError(ErrMalformed, s.user, "non-empty response to SCRAM server-final message", nil)
		}
		return nil, true, nil
	}
	return nil, true, newError(ErrMalformed, s.user, detailFinished, nil)
}

// proofError classifies a failed client-final message.
func (s *scramSession) proofError(serverErr string, err error) *Error {
	switch {
	case s.lookupErr != nil:
		return newError(ErrTemporary, s.user, "auxprop", s.lookupErr)
	case !s.known && (serverErr == scram.ErrInvalidProof || (serverErr == scram.ErrOtherError && err != nil)):
		return newError(ErrNoUser, s.user, "no SCRAM verifiers for user", nil)
	case serverErr == scram.ErrInvalidProof:
		return newError(ErrBadPassword, s.user, "SCRAM authentication failed", nil)
	}
	if err == nil {
		err = errors.New("conversation not valid")
	}
	return newError(ErrMalformed, s.user, "SCRAM client-final message", err)
}

func (s *scramSession) Result() Result { return s.res }
func (s *scramSession) Mech() string   { return s.mech }

// asError returns err as an *Error, wrapping anything else as temporary.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return newError(ErrTemporary, "", "", err)
}

package realtime

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ErrInvalidOption is wrapped by every error a constructor returns because
// one of its options was invalid, so callers can tell configuration mistakes
// from runtime failures with errors.Is.
var ErrInvalidOption = errors.New("realtime: invalid option")

// DevelopmentUserID is the user id given to connections that present no
// token when development mode is on. It matches the reference deployment so
// that front ends written against it keep working unchanged.
const DevelopmentUserID = "test-user-id"

// Handshake is what a client presented when it connected: the Socket.IO
// CONNECT payload (the client's auth option) and the HTTP request that opened
// the session.
type Handshake struct {
	// Auth is the client's auth object; nil when the client sent none.
	Auth map[string]any
	// Header holds the headers of the request that opened the session.
	// Browsers cannot set headers on a websocket, so browser clients put
	// their token in Auth instead.
	Header http.Header
	// Query holds the query parameters of that request.
	Query url.Values
	// RemoteAddr is the network address of the peer, as net/http reports it.
	RemoteAddr string
	// Namespace is the Socket.IO namespace the client is joining.
	Namespace string
}

// Identity is who a connection belongs to.
type Identity struct {
	// UserID names the user; a connection joins the room user:<UserID>.
	UserID string
	// Email is the user's address when the credential carries one.
	Email string
	// Claims holds every claim of the token, as decoded from JSON (numbers
	// are float64). It is nil in development mode.
	Claims map[string]any
	// ExpiresAt is when the credential stops being accepted (a JWT's exp
	// plus the authenticator's leeway); zero when it does not expire.
	ExpiresAt time.Time
}

// Authenticator turns a handshake into an Identity or refuses it.
//
// Returning an *AuthError (possibly wrapped) sets the code and message the
// client sees. Any other error is reported to the client as UNAUTHORIZED with
// a generic message, so that internal failures never leak to the network.
// Authenticate may be called concurrently from many connections.
type Authenticator interface {
	Authenticate(ctx context.Context, h *Handshake) (*Identity, error)
}

// AuthenticatorFunc adapts a function to the Authenticator interface.
type AuthenticatorFunc func(ctx context.Context, h *Handshake) (*Identity, error)

// Authenticate calls f(ctx, h).
func (f AuthenticatorFunc) Authenticate(ctx context.Context, h *Handshake) (*Identity, error) {
	return f(ctx, h)
}

// AuthError refuses a connection. Message is human readable and reaches the
// client's connect_error handler as err.message; Code reaches it as
// err.data.code. Err is the underlying cause, for server logs only.
type AuthError struct {
	Code    string
	Message string
	Err     error
}

// Error describes the refusal for server logs, including the cause. Send
// Message, not Error(), to clients.
func (e *AuthError) Error() string {
	if e == nil {
		return "realtime: authentication refused"
	}
	var b strings.Builder
	b.WriteString("realtime: authentication refused (")
	b.WriteString(e.Code)
	b.WriteString("): ")
	b.WriteString(e.Message)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *AuthError) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

// Client-facing messages. They name the kind of failure so that a developer
// can fix the client, and never mention keys, causes or server internals.
const (
	msgUnauthorized = "unauthorized"
	msgInvalidToken = "invalid token"
	msgTokenExpired = "token expired"
)

// authRefusal turns whatever an Authenticator returned into what the client
// may see. A nil identity or one without a user id is refused too, because a
// connection must belong to someone: it joins user:<id>.
func authRefusal(id *Identity, err error) *AuthError {
	if err != nil {
		var ae *AuthError
		if !errors.As(err, &ae) || ae == nil || ae.Code == "" {
			return &AuthError{Code: CodeUnauthorized, Message: msgUnauthorized, Err: err}
		}
		if ae.Message != "" && err == error(ae) {
			return ae
		}
		msg := ae.Message
		if msg == "" {
			msg = defaultAuthMessage(ae.Code)
		}
		// Keep the whole chain as the cause so that server logs see the
		// context the authenticator wrapped around its refusal.
		cause := err
		if err == error(ae) {
			cause = ae.Err
		}
		return &AuthError{Code: ae.Code, Message: msg, Err: cause}
	}
	if id == nil || id.UserID == "" {
		return &AuthError{Code: CodeUnauthorized, Message: msgUnauthorized,
			Err: errors.New("realtime: authenticator returned no user id")}
	}
	return nil
}

// defaultAuthMessage fills in for an AuthError that carries a code but no
// message, because the client must always see something readable.
func defaultAuthMessage(code string) string {
	switch code {
	case CodeInvalidToken:
		return msgInvalidToken
	case CodeTokenExpired:
		return msgTokenExpired
	default:
		return msgUnauthorized
	}
}

// authenticate runs a and normalises its result: exactly one of the return
// values is nil.
func authenticate(ctx context.Context, a Authenticator, h *Handshake) (*Identity, *AuthError) {
	id, err := a.Authenticate(ctx, h)
	if ae := authRefusal(id, err); ae != nil {
		return nil, ae
	}
	return id, nil
}

// TokenFromHandshake finds the bearer token a client presented, looking in
// order at auth.token (a string; an optional "Bearer " prefix is stripped),
// the Authorization header with the Bearer scheme, and, only when allowQuery
// is true, the token query parameter. The scheme name is matched without
// regard to case and surrounding whitespace is removed. ok is false when no
// non-empty token is present.
//
// It suits any authenticator of bearer credentials (JWTs, opaque session
// tokens, API keys), so that clients send a token the same way whatever
// verifies it; jwtauth.Authenticator and development mode use it.
func TokenFromHandshake(h *Handshake, allowQuery bool) (token string, ok bool) {
	if h == nil {
		return "", false
	}
	if s, isString := h.Auth["token"].(string); isString {
		if t := stripBearer(s); t != "" {
			return t, true
		}
	}
	if t, isBearer := cutBearer(h.Header.Get("Authorization")); isBearer && t != "" {
		return t, true
	}
	if allowQuery {
		if t := stripBearer(h.Query.Get("token")); t != "" {
			return t, true
		}
	}
	return "", false
}

// stripBearer trims s and removes a leading bearer scheme if there is one, so
// that clients which copy an Authorization value into auth.token still work.
func stripBearer(s string) string {
	if t, ok := cutBearer(s); ok {
		return t
	}
	return strings.TrimSpace(s)
}

// cutBearer reports whether s is a bearer credential ("Bearer <token>", in
// any case) and returns the trimmed token.
func cutBearer(s string) (string, bool) {
	const scheme = "bearer"
	s = strings.TrimSpace(s)
	if len(s) < len(scheme) || !strings.EqualFold(s[:len(scheme)], scheme) {
		return "", false
	}
	rest := s[len(scheme):]
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		// "Bearerx" is some other word, not the scheme.
		return "", false
	}
	return strings.TrimSpace(rest), true
}

// QueryTokenPolicy is implemented by an Authenticator that finds its token
// with TokenFromHandshake and reads the token query parameter only when
// configured to (jwtauth.Authenticator does). Development mode asks it, so
// that it looks for a token exactly where the authenticator would: a client
// whose only token is in a query parameter the authenticator ignores
// connects as DevelopmentUserID instead of being refused. An authenticator
// that does not implement it is taken not to read the query.
type QueryTokenPolicy interface {
	// AllowsQueryToken reports whether the token query parameter is read.
	AllowsQueryToken() bool
}

// developmentAuthenticator lets clients without any token in as
// DevelopmentUserID, as the reference deployment does in development. A
// client that does present a token is still verified by next, so a bad token
// is refused rather than silently downgraded. With a nil next every client
// becomes DevelopmentUserID.
func developmentAuthenticator(next Authenticator) Authenticator {
	allowQuery := false
	if p, ok := next.(QueryTokenPolicy); ok {
		allowQuery = p.AllowsQueryToken()
	}
	return AuthenticatorFunc(func(ctx context.Context, h *Handshake) (*Identity, error) {
		if next == nil {
			return &Identity{UserID: DevelopmentUserID}, nil
		}
		if _, ok := TokenFromHandshake(h, allowQuery); !ok {
			return &Identity{UserID: DevelopmentUserID}, nil
		}
		return next.Authenticate(ctx, h)
	})
}

package jwtauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tradewithai/realtime"
)

// Client-facing messages for refused tokens. They name the kind of failure
// so that a developer can fix the client, and never mention keys or causes.
const (
	msgTokenRequired  = "authentication token required"
	msgUnauthorized   = "unauthorized"
	msgInvalidToken   = "invalid token"
	msgTokenExpired   = "token expired"
	msgMalformedToken = "malformed token"
	msgTokenTooLarge  = "token too large"
	msgNotValidYet    = "token not valid yet"
	msgExpiryRequired = "token expiry required"
	msgInvalidIssuer  = "invalid token issuer"
	msgInvalidAud     = "invalid token audience"
	msgInvalidClaims  = "invalid token claims"
	msgMissingUserID  = "token has no user id"
	msgInvalidUserID  = "invalid user id"
)

const (
	// maxTokenLen bounds the work an anonymous client can make the server do
	// before any signature is checked. Real tokens are a few hundred bytes;
	// HTTP servers commonly cap a whole header at 8 KiB.
	maxTokenLen = 16 << 10
	// maxLeeway keeps clock-skew tolerance from quietly turning into
	// accepting expired tokens.
	maxLeeway = 5 * time.Minute
	// minRSABits is the smallest RSA modulus accepted for RS256.
	minRSABits = 2048
	// maxExactInt is the bound below which every integer has an exact
	// float64, so a numeric user id decoded from JSON is the one that was
	// signed and two users can never collapse into one.
	maxExactInt = 1 << 53
)

// Authenticator verifies JSON Web Tokens signed with one pinned algorithm
// and key source. It implements realtime.Authenticator, so it is handed to
// realtime.WithAuthenticator, and realtime.QueryTokenPolicy, so that
// development mode looks for a token where it does. It is safe for
// concurrent use.
//
// A token is accepted only if its signature verifies with the configured key
// under the configured algorithm (alg "none" and algorithm substitution are
// refused), it carries an exp claim that has not passed, its nbf and iat are
// not in the future, its iss and aud match when WithIssuer and WithAudience
// are given, and its user id claim is a non-empty string or an integer.
type Authenticator struct {
	parser      *jwt.Parser
	staticKey   jwt.Keyfunc
	keyFunc     func(ctx context.Context, t *jwt.Token) (any, error)
	userIDClaim string
	emailClaim  string
	allowQuery  bool
	needIssuer  bool
	leeway      time.Duration
}

var (
	_ realtime.Authenticator    = (*Authenticator)(nil)
	_ realtime.QueryTokenPolicy = (*Authenticator)(nil)
)

// New returns an authenticator configured by opts. Exactly one key option
// (WithHMACSecret, WithRSAPublicKey, WithECDSAPublicKey,
// WithEd25519PublicKey or WithKeyFunc) is required. Any invalid option makes
// it return an error wrapping realtime.ErrInvalidOption.
func New(opts ...Option) (*Authenticator, error) {
	c := config{userIDClaim: "sub", emailClaim: "email"}
	for _, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("%w: nil jwtauth.Option", realtime.ErrInvalidOption)
		}
		if err := opt(&c); err != nil {
			return nil, err
		}
	}
	if c.keyOption == "" {
		return nil, fmt.Errorf("%w: no JWT key configured (use jwtauth.WithHMACSecret, WithRSAPublicKey, WithECDSAPublicKey, WithEd25519PublicKey or WithKeyFunc)", realtime.ErrInvalidOption)
	}

	popts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{c.alg}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(c.leeway),
		// Canonical base64 only, so one signed token has one spelling.
		jwt.WithStrictDecoding(),
	}
	if c.issuer != "" {
		popts = append(popts, jwt.WithIssuer(c.issuer))
	}
	if c.audience != "" {
		popts = append(popts, jwt.WithAudience(c.audience))
	}
	a := &Authenticator{
		parser:      jwt.NewParser(popts...),
		keyFunc:     c.keyFunc,
		userIDClaim: c.userIDClaim,
		emailClaim:  c.emailClaim,
		allowQuery:  c.allowQuery,
		needIssuer:  c.issuer != "",
		leeway:      c.leeway,
	}
	if c.keyFunc == nil {
		key := c.key
		a.staticKey = func(*jwt.Token) (any, error) { return key, nil }
	}
	return a, nil
}

// Authenticate finds the client's token with realtime.TokenFromHandshake
// (the token query parameter only with WithQueryToken(true)) and verifies
// it. A client without a token is refused with realtime.CodeUnauthorized;
// every error is a *realtime.AuthError.
func (a *Authenticator) Authenticate(ctx context.Context, h *realtime.Handshake) (*realtime.Identity, error) {
	token, ok := realtime.TokenFromHandshake(h, a.allowQuery)
	if !ok {
		return nil, &realtime.AuthError{Code: realtime.CodeUnauthorized, Message: msgTokenRequired}
	}
	return a.verify(ctx, token)
}

// Verify checks one token string and returns its identity. Every error is a
// *realtime.AuthError whose Code is realtime.CodeInvalidToken or
// realtime.CodeTokenExpired, unless a WithKeyFunc function returned an
// *realtime.AuthError of its own.
func (a *Authenticator) Verify(token string) (*realtime.Identity, error) {
	return a.verify(context.Background(), token)
}

// AllowsQueryToken reports whether Authenticate reads the token query
// parameter, as set by WithQueryToken.
func (a *Authenticator) AllowsQueryToken() bool { return a.allowQuery }

func (a *Authenticator) verify(ctx context.Context, token string) (*realtime.Identity, error) {
	if a.parser == nil {
		return nil, &realtime.AuthError{Code: realtime.CodeUnauthorized, Message: msgUnauthorized,
			Err: errors.New("jwtauth: Authenticator not created by New")}
	}
	if len(token) > maxTokenLen {
		return nil, &realtime.AuthError{Code: realtime.CodeInvalidToken, Message: msgTokenTooLarge}
	}
	claims := jwt.MapClaims{}
	if _, err := a.parser.ParseWithClaims(token, claims, a.keyfunc(ctx)); err != nil {
		return nil, a.refusal(err, claims)
	}

	userID, err := claimUserID(claims, a.userIDClaim)
	if err != nil {
		return nil, err
	}
	id := &realtime.Identity{UserID: userID, Claims: claims}
	if email, ok := claims[a.emailClaim].(string); ok {
		id.Email = email
	}
	// The parser has already required exp, so this only converts it. The
	// token is accepted until exp plus the leeway, so that is when a
	// connection holding it expires.
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
		id.ExpiresAt = exp.Time.Add(a.leeway)
	}
	return id, nil
}

// keyfunc adapts the configured key source to the parser, carrying ctx to a
// WithKeyFunc function (which may fetch keys over the network).
func (a *Authenticator) keyfunc(ctx context.Context) jwt.Keyfunc {
	if a.keyFunc == nil {
		return a.staticKey
	}
	return func(t *jwt.Token) (any, error) {
		key, err := a.keyFunc(ctx, t)
		if err != nil {
			return nil, err
		}
		if isNilKey(key) {
			return nil, errors.New("jwtauth: key function returned no key")
		}
		return key, nil
	}
}

// isNilKey catches typed nil keys, which the signing methods would
// dereference.
func isNilKey(key any) bool {
	switch k := key.(type) {
	case nil:
		return true
	case []byte:
		return len(k) == 0
	case ed25519.PublicKey:
		return len(k) == 0
	case *rsa.PublicKey:
		return k == nil || k.N == nil
	case *ecdsa.PublicKey:
		return !ecdsaKeyHasPoint(k)
	case jwt.VerificationKeySet:
		for _, kk := range k.Keys {
			if isNilKey(kk) {
				return true
			}
		}
		return len(k.Keys) == 0
	}
	return false
}

// refusal maps a parser error to what the client is told. Failures that no
// refresh can fix are checked before expiry, so that a client is only told
// to fetch a new token when a new token could succeed.
func (a *Authenticator) refusal(err error, claims jwt.MapClaims) error {
	invalid := func(msg string) error {
		return &realtime.AuthError{Code: realtime.CodeInvalidToken, Message: msg, Err: err}
	}
	var ae *realtime.AuthError
	switch {
	case errors.As(err, &ae) && ae != nil && ae.Code != "":
		// A key function refused the token with its own code. The whole
		// chain stays the cause, for server logs.
		msg := ae.Message
		if msg == "" {
			msg = defaultMessage(ae.Code)
		}
		return &realtime.AuthError{Code: ae.Code, Message: msg, Err: err}
	case errors.Is(err, jwt.ErrTokenMalformed):
		return invalid(msgMalformedToken)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return invalid(msgInvalidToken)
	case errors.Is(err, jwt.ErrInvalidType):
		return invalid(msgInvalidClaims)
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		// The parser treats exp 0 as absent.
		if exp, ok := claims["exp"]; !ok || exp == float64(0) {
			return invalid(msgExpiryRequired)
		}
		if iss, _ := claims["iss"].(string); a.needIssuer && iss == "" {
			return invalid(msgInvalidIssuer)
		}
		return invalid(msgInvalidAud)
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return invalid(msgInvalidIssuer)
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return invalid(msgInvalidAud)
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return invalid(msgNotValidYet)
	case errors.Is(err, jwt.ErrTokenExpired):
		return &realtime.AuthError{Code: realtime.CodeTokenExpired, Message: msgTokenExpired, Err: err}
	default:
		return invalid(msgInvalidToken)
	}
}

// defaultMessage fills in for a key function's refusal that carries a code
// but no message, because the client must always see something readable.
func defaultMessage(code string) string {
	switch code {
	case realtime.CodeInvalidToken:
		return msgInvalidToken
	case realtime.CodeTokenExpired:
		return msgTokenExpired
	default:
		return msgUnauthorized
	}
}

// claimUserID reads the user id claim. Numbers are accepted because some
// issuers put numeric database ids in sub; they are written in plain decimal
// (123, never 1.23e+02) and must be exact integers.
func claimUserID(claims jwt.MapClaims, name string) (string, error) {
	switch v := claims[name].(type) {
	case nil:
		return "", &realtime.AuthError{Code: realtime.CodeInvalidToken, Message: msgMissingUserID}
	case string:
		if v == "" {
			return "", &realtime.AuthError{Code: realtime.CodeInvalidToken, Message: msgMissingUserID}
		}
		return v, nil
	case float64:
		if v != math.Trunc(v) || math.Abs(v) >= maxExactInt {
			return "", &realtime.AuthError{Code: realtime.CodeInvalidToken, Message: msgInvalidUserID}
		}
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	default:
		return "", &realtime.AuthError{Code: realtime.CodeInvalidToken, Message: msgInvalidUserID}
	}
}

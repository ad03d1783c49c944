package realtime

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Client-facing messages for refused tokens.
const (
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

// JWTAuthenticator verifies JSON Web Tokens signed with one pinned algorithm
// and key source. It is safe for concurrent use.
//
// A token is accepted only if its signature verifies with the configured key
// under the configured algorithm (alg "none" and algorithm substitution are
// refused), it carries an exp claim that has not passed, its nbf and iat are
// not in the future, its iss and aud match when WithIssuer and WithAudience
// are given, and its user id claim is a non-empty string or an integer.
type JWTAuthenticator struct {
	parser      *jwt.Parser
	staticKey   jwt.Keyfunc
	keyFunc     func(ctx context.Context, t *jwt.Token) (any, error)
	userIDClaim string
	emailClaim  string
	allowQuery  bool
	needIssuer  bool
	leeway      time.Duration
}

// JWTOption configures a JWTAuthenticator.
type JWTOption func(*jwtConfig) error

type jwtConfig struct {
	alg         string
	key         any
	keyFunc     func(ctx context.Context, t *jwt.Token) (any, error)
	keyOption   string // the option that set the key, to name it in conflicts
	issuer      string
	audience    string
	leeway      time.Duration
	userIDClaim string
	emailClaim  string
	allowQuery  bool
}

// NewJWTAuthenticator returns an authenticator configured by opts. Exactly
// one key option (WithHMACSecret, WithRSAPublicKey, WithECDSAPublicKey,
// WithEd25519PublicKey or WithKeyFunc) is required. Any invalid option makes
// it return an error wrapping ErrInvalidOption.
func NewJWTAuthenticator(opts ...JWTOption) (*JWTAuthenticator, error) {
	c := jwtConfig{userIDClaim: "sub", emailClaim: "email"}
	for _, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("%w: nil JWTOption", ErrInvalidOption)
		}
		if err := opt(&c); err != nil {
			return nil, err
		}
	}
	if c.keyOption == "" {
		return nil, fmt.Errorf("%w: no JWT key configured (use WithHMACSecret, WithRSAPublicKey, WithECDSAPublicKey, WithEd25519PublicKey or WithKeyFunc)", ErrInvalidOption)
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
	a := &JWTAuthenticator{
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

// Authenticate finds the client's token with TokenFromHandshake and verifies
// it. A client without a token is refused with CodeUnauthorized; every error
// is an *AuthError.
func (a *JWTAuthenticator) Authenticate(ctx context.Context, h *Handshake) (*Identity, error) {
	token, ok := TokenFromHandshake(h, a.allowQuery)
	if !ok {
		return nil, &AuthError{Code: CodeUnauthorized, Message: msgTokenRequired}
	}
	return a.verify(ctx, token)
}

// Verify checks one token string and returns its identity. Every error is an
// *AuthError whose Code is CodeInvalidToken or CodeTokenExpired, unless a
// WithKeyFunc function returned an *AuthError of its own.
func (a *JWTAuthenticator) Verify(token string) (*Identity, error) {
	return a.verify(context.Background(), token)
}

func (a *JWTAuthenticator) allowsQueryToken() bool { return a.allowQuery }

func (a *JWTAuthenticator) verify(ctx context.Context, token string) (*Identity, error) {
	if a.parser == nil {
		return nil, &AuthError{Code: CodeUnauthorized, Message: msgUnauthorized,
			Err: errors.New("realtime: JWTAuthenticator not created by NewJWTAuthenticator")}
	}
	if len(token) > maxTokenLen {
		return nil, &AuthError{Code: CodeInvalidToken, Message: msgTokenTooLarge}
	}
	claims := jwt.MapClaims{}
	if _, err := a.parser.ParseWithClaims(token, claims, a.keyfunc(ctx)); err != nil {
		return nil, a.refusal(err, claims)
	}

	userID, err := claimUserID(claims, a.userIDClaim)
	if err != nil {
		return nil, err
	}
	id := &Identity{UserID: userID, Claims: claims}
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
func (a *JWTAuthenticator) keyfunc(ctx context.Context) jwt.Keyfunc {
	if a.keyFunc == nil {
		return a.staticKey
	}
	return func(t *jwt.Token) (any, error) {
		key, err := a.keyFunc(ctx, t)
		if err != nil {
			return nil, err
		}
		if isNilKey(key) {
			return nil, errors.New("realtime: key function returned no key")
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

// jwtRefusal maps a parser error to what the client is told. Failures that
// no refresh can fix are checked before expiry, so that a client is only
// told to fetch a new token when a new token could succeed.
func (a *JWTAuthenticator) refusal(err error, claims jwt.MapClaims) error {
	invalid := func(msg string) error {
		return &AuthError{Code: CodeInvalidToken, Message: msg, Err: err}
	}
	var ae *AuthError
	switch {
	case errors.As(err, &ae) && ae != nil && ae.Code != "":
		// A key function refused the token with its own code.
		return authRefusal(nil, err)
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
		return &AuthError{Code: CodeTokenExpired, Message: msgTokenExpired, Err: err}
	default:
		return invalid(msgInvalidToken)
	}
}

// claimUserID reads the user id claim. Numbers are accepted because some
// issuers put numeric database ids in sub; they are written in plain decimal
// (123, never 1.23e+02) and must be exact integers.
func claimUserID(claims jwt.MapClaims, name string) (string, error) {
	switch v := claims[name].(type) {
	case nil:
		return "", &AuthError{Code: CodeInvalidToken, Message: msgMissingUserID}
	case string:
		if v == "" {
			return "", &AuthError{Code: CodeInvalidToken, Message: msgMissingUserID}
		}
		return v, nil
	case float64:
		if v != math.Trunc(v) || math.Abs(v) >= maxExactInt {
			return "", &AuthError{Code: CodeInvalidToken, Message: msgInvalidUserID}
		}
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	default:
		return "", &AuthError{Code: CodeInvalidToken, Message: msgInvalidUserID}
	}
}

// setKey records the key source, refusing a second one: with two keys it
// would be unclear which algorithm is pinned.
func (c *jwtConfig) setKey(option, alg string, key any, fn func(context.Context, *jwt.Token) (any, error)) error {
	if c.keyOption != "" {
		return fmt.Errorf("%w: %s conflicts with %s: configure one JWT key source", ErrInvalidOption, option, c.keyOption)
	}
	c.keyOption, c.alg, c.key, c.keyFunc = option, alg, key, fn
	return nil
}

// WithHMACSecret verifies HS256 tokens with secret. The secret should be at
// least 32 random bytes; a short or guessable secret lets anyone forge
// tokens. An empty secret is refused. The secret is copied.
func WithHMACSecret(secret []byte) JWTOption {
	return func(c *jwtConfig) error {
		if len(secret) == 0 {
			return fmt.Errorf("%w: WithHMACSecret: empty secret", ErrInvalidOption)
		}
		return c.setKey("WithHMACSecret", "HS256", bytes.Clone(secret), nil)
	}
}

// WithRSAPublicKey verifies RS256 tokens with k, which must be at least 2048
// bits.
func WithRSAPublicKey(k *rsa.PublicKey) JWTOption {
	return func(c *jwtConfig) error {
		if k == nil || k.N == nil {
			return fmt.Errorf("%w: WithRSAPublicKey: nil key", ErrInvalidOption)
		}
		if k.N.BitLen() < minRSABits {
			return fmt.Errorf("%w: WithRSAPublicKey: %d-bit key, need at least %d", ErrInvalidOption, k.N.BitLen(), minRSABits)
		}
		return c.setKey("WithRSAPublicKey", "RS256", k, nil)
	}
}

// WithECDSAPublicKey verifies ES256 tokens with k, which must be on curve
// P-256 (ES256 is defined for that curve only).
func WithECDSAPublicKey(k *ecdsa.PublicKey) JWTOption {
	return func(c *jwtConfig) error {
		if !ecdsaKeyHasPoint(k) {
			return fmt.Errorf("%w: WithECDSAPublicKey: nil key", ErrInvalidOption)
		}
		if k.Curve != elliptic.P256() {
			return fmt.Errorf("%w: WithECDSAPublicKey: ES256 needs a P-256 key", ErrInvalidOption)
		}
		if _, err := k.Bytes(); err != nil {
			return fmt.Errorf("%w: WithECDSAPublicKey: %w", ErrInvalidOption, err)
		}
		return c.setKey("WithECDSAPublicKey", "ES256", k, nil)
	}
}

// ecdsaKeyHasPoint reports whether k can be handed to crypto/ecdsa, which
// dereferences the coordinates without checking them.
func ecdsaKeyHasPoint(k *ecdsa.PublicKey) bool {
	//lint:ignore SA1019 reading the coordinates is the only way to spot a key crypto/ecdsa would crash on.
	return k != nil && k.Curve != nil && k.X != nil && k.Y != nil
}

// WithEd25519PublicKey verifies EdDSA tokens with k. The key is copied.
func WithEd25519PublicKey(k ed25519.PublicKey) JWTOption {
	return func(c *jwtConfig) error {
		if len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("%w: WithEd25519PublicKey: key is %d bytes, want %d", ErrInvalidOption, len(k), ed25519.PublicKeySize)
		}
		return c.setKey("WithEd25519PublicKey", "EdDSA", ed25519.PublicKey(bytes.Clone(k)), nil)
	}
}

// WithKeyFunc looks the verification key up per token, typically by the kid
// header, to support key rotation. alg is pinned: tokens with any other alg
// are refused before fn is called. It must be one of HS256, HS384, HS512,
// RS256, RS384, RS512, PS256, ES256, ES384 or EdDSA.
//
// fn returns the key in the form golang-jwt expects for alg ([]byte for HMAC,
// *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey, or a
// jwt.VerificationKeySet). It receives the connection's context and may be
// called concurrently. If it returns an *AuthError the client sees that code
// and message; any other error refuses the token as CodeInvalidToken.
func WithKeyFunc(alg string, fn func(ctx context.Context, t *jwt.Token) (any, error)) JWTOption {
	return func(c *jwtConfig) error {
		if fn == nil {
			return fmt.Errorf("%w: WithKeyFunc: nil function", ErrInvalidOption)
		}
		if !isJWTAlgorithm(alg) {
			return fmt.Errorf("%w: WithKeyFunc: unsupported algorithm %q", ErrInvalidOption, alg)
		}
		return c.setKey("WithKeyFunc", alg, nil, fn)
	}
}

func isJWTAlgorithm(alg string) bool {
	switch alg {
	case "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA":
		return true
	}
	return false
}

// WithIssuer requires the iss claim to equal iss. By default iss is not
// checked.
func WithIssuer(iss string) JWTOption {
	return func(c *jwtConfig) error {
		if iss == "" {
			return fmt.Errorf("%w: WithIssuer: empty issuer", ErrInvalidOption)
		}
		c.issuer = iss
		return nil
	}
}

// WithAudience requires the aud claim to be or to contain aud. By default
// aud is not checked.
func WithAudience(aud string) JWTOption {
	return func(c *jwtConfig) error {
		if aud == "" {
			return fmt.Errorf("%w: WithAudience: empty audience", ErrInvalidOption)
		}
		c.audience = aud
		return nil
	}
}

// WithLeeway tolerates clock skew of up to d between the token issuer and
// this server when checking exp, nbf and iat. The default is 0; d must be
// between 0 and 5 minutes.
func WithLeeway(d time.Duration) JWTOption {
	return func(c *jwtConfig) error {
		if d < 0 || d > maxLeeway {
			return fmt.Errorf("%w: WithLeeway: %v outside 0..%v", ErrInvalidOption, d, maxLeeway)
		}
		c.leeway = d
		return nil
	}
}

// WithUserIDClaim names the claim that holds the user id. The default is
// "sub".
func WithUserIDClaim(name string) JWTOption {
	return func(c *jwtConfig) error {
		if name == "" {
			return fmt.Errorf("%w: WithUserIDClaim: empty claim name", ErrInvalidOption)
		}
		c.userIDClaim = name
		return nil
	}
}

// WithEmailClaim names the claim that holds the user's email address. The
// default is "email". The claim is optional in tokens.
func WithEmailClaim(name string) JWTOption {
	return func(c *jwtConfig) error {
		if name == "" {
			return fmt.Errorf("%w: WithEmailClaim: empty claim name", ErrInvalidOption)
		}
		c.emailClaim = name
		return nil
	}
}

// WithQueryToken also accepts the token from the token query parameter of
// the request that opened the session. The default is false, because URLs,
// and the tokens in them, end up in proxy and access logs.
func WithQueryToken(allow bool) JWTOption {
	return func(c *jwtConfig) error {
		c.allowQuery = allow
		return nil
	}
}

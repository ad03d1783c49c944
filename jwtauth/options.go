package jwtauth

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tradewithai/realtime"
)

// Option configures an Authenticator. Each option checks its own value; New
// returns the first error, which wraps realtime.ErrInvalidOption.
type Option func(*config) error

type config struct {
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

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: jwtauth."+format, append([]any{realtime.ErrInvalidOption}, args...)...)
}

// setKey records the key source, refusing a second one: with two keys it
// would be unclear which algorithm is pinned.
func (c *config) setKey(option, alg string, key any, fn func(context.Context, *jwt.Token) (any, error)) error {
	if c.keyOption != "" {
		return invalid("%s conflicts with %s: configure one JWT key source", option, c.keyOption)
	}
	c.keyOption, c.alg, c.key, c.keyFunc = option, alg, key, fn
	return nil
}

// WithHMACSecret verifies HS256 tokens with secret. The secret should be at
// least 32 random bytes; a short or guessable secret lets anyone forge
// tokens. An empty secret is refused. The secret is copied. There is no
// default key: New needs exactly one key option.
func WithHMACSecret(secret []byte) Option {
	return func(c *config) error {
		if len(secret) == 0 {
			return invalid("WithHMACSecret: empty secret")
		}
		return c.setKey("WithHMACSecret", "HS256", bytes.Clone(secret), nil)
	}
}

// WithRSAPublicKey verifies RS256 tokens with k, which must be at least 2048
// bits. There is no default key: New needs exactly one key option.
func WithRSAPublicKey(k *rsa.PublicKey) Option {
	return func(c *config) error {
		if k == nil || k.N == nil {
			return invalid("WithRSAPublicKey: nil key")
		}
		if k.N.BitLen() < minRSABits {
			return invalid("WithRSAPublicKey: %d-bit key, need at least %d", k.N.BitLen(), minRSABits)
		}
		return c.setKey("WithRSAPublicKey", "RS256", k, nil)
	}
}

// WithECDSAPublicKey verifies ES256 tokens with k, which must be on curve
// P-256 (ES256 is defined for that curve only). There is no default key:
// New needs exactly one key option.
func WithECDSAPublicKey(k *ecdsa.PublicKey) Option {
	return func(c *config) error {
		if !ecdsaKeyHasPoint(k) {
			return invalid("WithECDSAPublicKey: nil key")
		}
		if k.Curve != elliptic.P256() {
			return invalid("WithECDSAPublicKey: ES256 needs a P-256 key")
		}
		if _, err := k.Bytes(); err != nil {
			return invalid("WithECDSAPublicKey: %w", err)
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
// There is no default key: New needs exactly one key option.
func WithEd25519PublicKey(k ed25519.PublicKey) Option {
	return func(c *config) error {
		if len(k) != ed25519.PublicKeySize {
			return invalid("WithEd25519PublicKey: key is %d bytes, want %d", len(k), ed25519.PublicKeySize)
		}
		return c.setKey("WithEd25519PublicKey", "EdDSA", ed25519.PublicKey(bytes.Clone(k)), nil)
	}
}

// WithKeyFunc looks the verification key up per token, typically by the kid
// header, to support key rotation. alg is pinned: tokens with any other alg
// are refused before fn is called. It must be one of HS256, HS384, HS512,
// RS256, RS384, RS512, PS256, ES256, ES384 or EdDSA. There is no default
// key: New needs exactly one key option.
//
// The package verifies with github.com/golang-jwt/jwt/v5, so fn has the
// shape of that package's Keyfunc with a context added, and JWKS libraries
// built for it plug in directly. fn returns the key in the form golang-jwt
// expects for alg ([]byte for HMAC, *rsa.PublicKey, *ecdsa.PublicKey,
// ed25519.PublicKey, or a jwt.VerificationKeySet). It receives the
// connection's context and may be called concurrently. If it returns a
// *realtime.AuthError the client sees that code and message; any other error
// refuses the token as realtime.CodeInvalidToken.
func WithKeyFunc(alg string, fn func(ctx context.Context, t *jwt.Token) (any, error)) Option {
	return func(c *config) error {
		if fn == nil {
			return invalid("WithKeyFunc: nil function")
		}
		if !isAlgorithm(alg) {
			return invalid("WithKeyFunc: unsupported algorithm %q", alg)
		}
		return c.setKey("WithKeyFunc", alg, nil, fn)
	}
}

func isAlgorithm(alg string) bool {
	switch alg {
	case "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA":
		return true
	}
	return false
}

// WithIssuer requires the iss claim to equal iss. By default iss is not
// checked.
func WithIssuer(iss string) Option {
	return func(c *config) error {
		if iss == "" {
			return invalid("WithIssuer: empty issuer")
		}
		c.issuer = iss
		return nil
	}
}

// WithAudience requires the aud claim to be or to contain aud. By default
// aud is not checked.
func WithAudience(aud string) Option {
	return func(c *config) error {
		if aud == "" {
			return invalid("WithAudience: empty audience")
		}
		c.audience = aud
		return nil
	}
}

// WithLeeway tolerates clock skew of up to d between the token issuer and
// this server when checking exp, nbf and iat. The default is 0; d must be
// between 0 and 5 minutes.
func WithLeeway(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 || d > maxLeeway {
			return invalid("WithLeeway: %v outside 0..%v", d, maxLeeway)
		}
		c.leeway = d
		return nil
	}
}

// WithUserIDClaim names the claim that holds the user id. The default is
// "sub".
func WithUserIDClaim(name string) Option {
	return func(c *config) error {
		if name == "" {
			return invalid("WithUserIDClaim: empty claim name")
		}
		c.userIDClaim = name
		return nil
	}
}

// WithEmailClaim names the claim that holds the user's email address. The
// default is "email". The claim is optional in tokens.
func WithEmailClaim(name string) Option {
	return func(c *config) error {
		if name == "" {
			return invalid("WithEmailClaim: empty claim name")
		}
		c.emailClaim = name
		return nil
	}
}

// WithQueryToken also accepts the token from the token query parameter of
// the request that opened the session. The default is false, because URLs,
// and the tokens in them, end up in proxy and access logs.
func WithQueryToken(allow bool) Option {
	return func(c *config) error {
		c.allowQuery = allow
		return nil
	}
}

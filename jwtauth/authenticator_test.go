package jwtauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tradewithai/realtime"
	"github.com/tradewithai/realtime/jwtauth"
)

var jwtTestSecret = []byte("0123456789abcdef0123456789abcdef")

// signTestToken signs claims with method and key, adding header fields.
func signTestToken(t testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign token: %v", err)
	}
	return s
}

// hs256Token signs claims with the shared test secret.
func hs256Token(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	return signTestToken(t, jwt.SigningMethodHS256, jwtTestSecret, claims, nil)
}

// freshClaims returns claims for user u that are valid for an hour.
func freshClaims(u string) jwt.MapClaims {
	return jwt.MapClaims{"sub": u, "exp": time.Now().Add(time.Hour).Unix()}
}

func mustNew(t testing.TB, opts ...jwtauth.Option) *jwtauth.Authenticator {
	t.Helper()
	a, err := jwtauth.New(opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

// requireAuthError asserts that err is an *AuthError with code and message.
func requireAuthError(t testing.TB, err error, code, message string) {
	t.Helper()
	var ae *realtime.AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v (%T), want *AuthError %s %q", err, err, code, message)
	}
	if ae.Code != code || ae.Message != message {
		t.Fatalf("AuthError = {%s %q}, want {%s %q} (cause: %v)", ae.Code, ae.Message, code, message, ae.Err)
	}
}

func requireUser(t testing.TB, id *realtime.Identity, err error, user string) {
	t.Helper()
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	if id == nil || id.UserID != user {
		t.Fatalf("identity = %+v, want user %q", id, user)
	}
}

func TestAuthenticatorAcceptsValidHS256Token(t *testing.T) {
	a := mustNew(t, jwtauth.WithHMACSecret(jwtTestSecret))
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	token := hs256Token(t, jwt.MapClaims{
		"sub":   "user-123",
		"email": "user@example.com",
		"role":  "trader",
		"exp":   exp.Unix(),
		"iat":   time.Now().Unix(),
	})

	id, err := a.Authenticate(context.Background(), &realtime.Handshake{Auth: map[string]any{"token": token}})
	requireUser(t, id, err, "user-123")
	if id.Email != "user@example.com" {
		t.Errorf("Email = %q, want user@example.com", id.Email)
	}
	if !id.ExpiresAt.Equal(exp) {
		t.Errorf("ExpiresAt = %v, want %v", id.ExpiresAt, exp)
	}
	if id.Claims["role"] != "trader" || id.Claims["sub"] != "user-123" || id.Claims["exp"] != float64(exp.Unix()) {
		t.Errorf("Claims = %v, want every claim of the token", id.Claims)
	}
}

func TestAuthenticatorRefusesBadTokens(t *testing.T) {
	now := time.Now()
	a := mustNew(t, jwtauth.WithHMACSecret(jwtTestSecret))
	noneToken := signTestToken(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, freshClaims("u"), nil)

	tests := []struct {
		name    string
		token   string
		code    string
		message string
	}{
		{"expired", hs256Token(t, jwt.MapClaims{"sub": "u", "exp": now.Add(-time.Minute).Unix()}),
			realtime.CodeTokenExpired, "token expired"},
		{"not before in future", hs256Token(t, jwt.MapClaims{"sub": "u", "exp": now.Add(time.Hour).Unix(), "nbf": now.Add(10 * time.Minute).Unix()}),
			realtime.CodeInvalidToken, "token not valid yet"},
		{"issued in future", hs256Token(t, jwt.MapClaims{"sub": "u", "exp": now.Add(time.Hour).Unix(), "iat": now.Add(10 * time.Minute).Unix()}),
			realtime.CodeInvalidToken, "token not valid yet"},
		{"wrong secret", signTestToken(t, jwt.SigningMethodHS256, []byte("another secret of thirty-two bytes!"), freshClaims("u"), nil),
			realtime.CodeInvalidToken, "invalid token"},
		{"expired with wrong secret", signTestToken(t, jwt.SigningMethodHS256, []byte("another secret of thirty-two bytes!"),
			jwt.MapClaims{"sub": "u", "exp": now.Add(-time.Minute).Unix()}, nil),
			realtime.CodeInvalidToken, "invalid token"},
		{"alg none", noneToken, realtime.CodeInvalidToken, "invalid token"},
		{"alg none without signature", strings.TrimSuffix(noneToken, "."), realtime.CodeInvalidToken, "malformed token"},
		{"other HMAC algorithm", signTestToken(t, jwt.SigningMethodHS512, jwtTestSecret, freshClaims("u"), nil),
			realtime.CodeInvalidToken, "invalid token"},
		{"missing exp", hs256Token(t, jwt.MapClaims{"sub": "u"}), realtime.CodeInvalidToken, "token expiry required"},
		{"zero exp", hs256Token(t, jwt.MapClaims{"sub": "u", "exp": 0}), realtime.CodeInvalidToken, "token expiry required"},
		{"exp not a number", hs256Token(t, jwt.MapClaims{"sub": "u", "exp": "tomorrow"}), realtime.CodeInvalidToken, "invalid token claims"},
		{"missing sub", hs256Token(t, jwt.MapClaims{"exp": now.Add(time.Hour).Unix()}), realtime.CodeInvalidToken, "token has no user id"},
		{"empty sub", hs256Token(t, freshClaims("")), realtime.CodeInvalidToken, "token has no user id"},
		{"fractional sub", hs256Token(t, jwt.MapClaims{"sub": 1.5, "exp": now.Add(time.Hour).Unix()}), realtime.CodeInvalidToken, "invalid user id"},
		{"inexact numeric sub", hs256Token(t, jwt.MapClaims{"sub": 1 << 53, "exp": now.Add(time.Hour).Unix()}), realtime.CodeInvalidToken, "invalid user id"},
		{"object sub", hs256Token(t, jwt.MapClaims{"sub": map[string]any{"id": "u"}, "exp": now.Add(time.Hour).Unix()}), realtime.CodeInvalidToken, "invalid user id"},
		{"garbage", "not-a-jwt", realtime.CodeInvalidToken, "malformed token"},
		{"bad base64", "a.b.c", realtime.CodeInvalidToken, "malformed token"},
		{"tampered payload", tamperPayload(t, hs256Token(t, freshClaims("u")), freshClaims("admin")), realtime.CodeInvalidToken, "invalid token"},
		{"huge", strings.Repeat("a", 64<<10), realtime.CodeInvalidToken, "token too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := a.Verify(tt.token)
			if id != nil {
				t.Fatalf("identity = %+v, want refusal", id)
			}
			requireAuthError(t, err, tt.code, tt.message)
		})
	}
}

// tamperPayload replaces the claims of a signed token, keeping its signature.
func tamperPayload(t testing.TB, token string, claims jwt.MapClaims) string {
	t.Helper()
	other := hs256Token(t, claims)
	parts, otherParts := strings.Split(token, "."), strings.Split(other, ".")
	return parts[0] + "." + otherParts[1] + "." + parts[2]
}

func TestAuthenticatorIssuerAndAudience(t *testing.T) {
	const iss, aud = "https://auth.example.com", "realtime"
	a := mustNew(t, jwtauth.WithHMACSecret(jwtTestSecret), jwtauth.WithIssuer(iss), jwtauth.WithAudience(aud))
	exp := time.Now().Add(time.Hour).Unix()
	claims := func(kv ...any) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "u", "exp": exp}
		for i := 0; i < len(kv); i += 2 {
			c[kv[i].(string)] = kv[i+1]
		}
		return c
	}

	tests := []struct {
		name    string
		claims  jwt.MapClaims
		message string // empty when accepted
	}{
		{"matching", claims("iss", iss, "aud", aud), ""},
		{"audience list", claims("iss", iss, "aud", []string{"other", aud}), ""},
		{"wrong issuer", claims("iss", "https://evil.example.com", "aud", aud), "invalid token issuer"},
		{"missing issuer", claims("aud", aud), "invalid token issuer"},
		{"wrong audience", claims("iss", iss, "aud", "billing"), "invalid token audience"},
		{"missing audience", claims("iss", iss), "invalid token audience"},
		{"expired with wrong issuer", jwt.MapClaims{"sub": "u", "exp": time.Now().Add(-time.Hour).Unix(), "iss": "x", "aud": aud}, "invalid token issuer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := a.Verify(hs256Token(t, tt.claims))
			if tt.message == "" {
				requireUser(t, id, err, "u")
				return
			}
			requireAuthError(t, err, realtime.CodeInvalidToken, tt.message)
		})
	}
}

func TestAuthenticatorLeeway(t *testing.T) {
	now := time.Now()
	justExpired := hs256Token(t, jwt.MapClaims{"sub": "u", "exp": now.Add(-30 * time.Second).Unix()})
	almostValid := hs256Token(t, jwt.MapClaims{"sub": "u", "exp": now.Add(time.Hour).Unix(), "nbf": now.Add(30 * time.Second).Unix()})
	longExpired := hs256Token(t, jwt.MapClaims{"sub": "u", "exp": now.Add(-2 * time.Minute).Unix()})

	strict := mustNew(t, jwtauth.WithHMACSecret(jwtTestSecret))
	_, err := strict.Verify(justExpired)
	requireAuthError(t, err, realtime.CodeTokenExpired, "token expired")
	_, err = strict.Verify(almostValid)
	requireAuthError(t, err, realtime.CodeInvalidToken, "token not valid yet")

	lenient := mustNew(t, jwtauth.WithHMACSecret(jwtTestSecret), jwtauth.WithLeeway(time.Minute))
	id, err := lenient.Verify(justExpired)
	requireUser(t, id, err, "u")
	id, err = lenient.Verify(almostValid)
	requireUser(t, id, err, "u")
	_, err = lenient.Verify(longExpired)
	requireAuthError(t, err, realtime.CodeTokenExpired, "token expired")
}

func TestAuthenticatorCustomClaims(t *testing.T) {
	a := mustNew(t, jwtauth.WithHMACSecret(jwtTestSecret),
		jwtauth.WithUserIDClaim("uid"), jwtauth.WithEmailClaim("mail"))
	token := hs256Token(t, jwt.MapClaims{
		"sub": "ignored", "uid": "u-42", "email": "ignored@example.com", "mail": "u42@example.com",
		"exp": time.Now().Add(time.Hour).Unix(),
	})
	id, err := a.Verify(token)
	requireUser(t, id, err, "u-42")
	if id.Email != "u42@example.com" {
		t.Errorf("Email = %q, want u42@example.com", id.Email)
	}

	_, err = a.Verify(hs256Token(t, freshClaims("only-sub")))
	requireAuthError(t, err, realtime.CodeInvalidToken, "token has no user id")
}

func TestAuthenticatorNumericUserID(t *testing.T) {
	a := mustNew(t, jwtauth.WithHMACSecret(jwtTestSecret))
	exp := time.Now().Add(time.Hour).Unix()
	for _, tt := range []struct {
		sub  any
		want string
	}{
		{123, "123"},
		{1e6, "1000000"},
		{-7, "-7"},
		{float64(1<<53 - 1), "9007199254740991"},
	} {
		id, err := a.Verify(hs256Token(t, jwt.MapClaims{"sub": tt.sub, "exp": exp}))
		requireUser(t, id, err, tt.want)
	}
}

func TestAuthenticatorIgnoresNonStringEmail(t *testing.T) {
	a := mustNew(t, jwtauth.WithHMACSecret(jwtTestSecret))
	id, err := a.Verify(hs256Token(t, jwt.MapClaims{"sub": "u", "email": 5, "exp": time.Now().Add(time.Hour).Unix()}))
	requireUser(t, id, err, "u")
	if id.Email != "" {
		t.Errorf("Email = %q, want empty", id.Email)
	}
}

func TestAuthenticatorRS256(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	a := mustNew(t, jwtauth.WithRSAPublicKey(&key.PublicKey))

	id, err := a.Verify(signTestToken(t, jwt.SigningMethodRS256, key, freshClaims("rsa-user"), nil))
	requireUser(t, id, err, "rsa-user")

	t.Run("HS256 signed with the public key", func(t *testing.T) {
		der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		for _, k := range [][]byte{pemBytes, der} {
			_, err := a.Verify(signTestToken(t, jwt.SigningMethodHS256, k, freshClaims("attacker"), nil))
			requireAuthError(t, err, realtime.CodeInvalidToken, "invalid token")
		}
	})
	t.Run("PS256 with the right key", func(t *testing.T) {
		_, err := a.Verify(signTestToken(t, jwt.SigningMethodPS256, key, freshClaims("u"), nil))
		requireAuthError(t, err, realtime.CodeInvalidToken, "invalid token")
	})
	t.Run("RS256 with another key", func(t *testing.T) {
		other, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		_, err = a.Verify(signTestToken(t, jwt.SigningMethodRS256, other, freshClaims("u"), nil))
		requireAuthError(t, err, realtime.CodeInvalidToken, "invalid token")
	})
}

func TestAuthenticatorES256(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a := mustNew(t, jwtauth.WithECDSAPublicKey(&key.PublicKey))
	id, err := a.Verify(signTestToken(t, jwt.SigningMethodES256, key, freshClaims("ec-user"), nil))
	requireUser(t, id, err, "ec-user")

	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Verify(signTestToken(t, jwt.SigningMethodES256, other, freshClaims("u"), nil))
	requireAuthError(t, err, realtime.CodeInvalidToken, "invalid token")
}

func TestAuthenticatorEdDSA(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a := mustNew(t, jwtauth.WithEd25519PublicKey(pub))
	id, err := a.Verify(signTestToken(t, jwt.SigningMethodEdDSA, priv, freshClaims("ed-user"), nil))
	requireUser(t, id, err, "ed-user")

	// The authenticator keeps its own copy of the key.
	pub[0] ^= 0xff
	id, err = a.Verify(signTestToken(t, jwt.SigningMethodEdDSA, priv, freshClaims("ed-user"), nil))
	requireUser(t, id, err, "ed-user")
}

type ctxKey struct{}

func TestAuthenticatorKeyFuncSelectsKeyByKid(t *testing.T) {
	keys := map[string][]byte{
		"2024": []byte("old secret, thirty-two bytes long"),
		"2025": []byte("new secret, thirty-two bytes long"),
	}
	var mu sync.Mutex
	var seenCtx []any
	a := mustNew(t, jwtauth.WithKeyFunc("HS256", func(ctx context.Context, tok *jwt.Token) (any, error) {
		mu.Lock()
		seenCtx = append(seenCtx, ctx.Value(ctxKey{}))
		mu.Unlock()
		kid, _ := tok.Header["kid"].(string)
		if kid == "revoked" {
			return nil, &realtime.AuthError{Code: "KEY_REVOKED", Message: "signing key revoked"}
		}
		k, ok := keys[kid]
		if !ok {
			return nil, errors.New("unknown kid")
		}
		return k, nil
	}))

	ctx := context.WithValue(context.Background(), ctxKey{}, "conn-1")
	for kid, secret := range keys {
		token := signTestToken(t, jwt.SigningMethodHS256, secret, freshClaims("user-"+kid), map[string]any{"kid": kid})
		id, err := a.Authenticate(ctx, &realtime.Handshake{Auth: map[string]any{"token": token}})
		requireUser(t, id, err, "user-"+kid)
	}
	mu.Lock()
	if len(seenCtx) != 2 || seenCtx[0] != "conn-1" || seenCtx[1] != "conn-1" {
		t.Errorf("key function saw contexts %v, want the connection's context twice", seenCtx)
	}
	mu.Unlock()

	crossed := signTestToken(t, jwt.SigningMethodHS256, keys["2024"], freshClaims("u"), map[string]any{"kid": "2025"})
	_, err := a.Verify(crossed)
	requireAuthError(t, err, realtime.CodeInvalidToken, "invalid token")

	unknown := signTestToken(t, jwt.SigningMethodHS256, keys["2024"], freshClaims("u"), map[string]any{"kid": "1999"})
	_, err = a.Verify(unknown)
	requireAuthError(t, err, realtime.CodeInvalidToken, "invalid token")

	revoked := signTestToken(t, jwt.SigningMethodHS256, keys["2024"], freshClaims("u"), map[string]any{"kid": "revoked"})
	_, err = a.Verify(revoked)
	requireAuthError(t, err, "KEY_REVOKED", "signing key revoked")
}

func TestAuthenticatorKeyFuncAlgorithmIsPinned(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	a := mustNew(t, jwtauth.WithKeyFunc("ES256", func(context.Context, *jwt.Token) (any, error) {
		calls++
		return &key.PublicKey, nil
	}))
	id, err := a.Verify(signTestToken(t, jwt.SigningMethodES256, key, freshClaims("u"), nil))
	requireUser(t, id, err, "u")

	_, err = a.Verify(hs256Token(t, freshClaims("u")))
	requireAuthError(t, err, realtime.CodeInvalidToken, "invalid token")
	if calls != 1 {
		t.Errorf("key function called %d times, want 1: a token with another alg must be refused before key lookup", calls)
	}
}

func TestAuthenticatorKeyFuncReturningNoKey(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	esToken := signTestToken(t, jwt.SigningMethodES256, ecKey, freshClaims("u"), nil)
	rsToken := signTestToken(t, jwt.SigningMethodRS256, rsaKey, freshClaims("u"), nil)
	edToken := signTestToken(t, jwt.SigningMethodEdDSA, edKey, freshClaims("u"), nil)
	hsToken := hs256Token(t, freshClaims("u"))
	for _, tt := range []struct {
		alg, token string
		key        any
	}{
		{"HS256", hsToken, nil},
		{"HS256", hsToken, []byte{}},
		{"RS256", rsToken, (*rsa.PublicKey)(nil)},
		{"RS256", rsToken, &rsa.PublicKey{}},
		{"ES256", esToken, (*ecdsa.PublicKey)(nil)},
		{"ES256", esToken, &ecdsa.PublicKey{Curve: elliptic.P256()}},
		{"ES256", esToken, jwt.VerificationKeySet{Keys: []jwt.VerificationKey{&ecKey.PublicKey, &ecdsa.PublicKey{Curve: elliptic.P256()}}}},
		{"EdDSA", edToken, ed25519.PublicKey(nil)},
	} {
		a := mustNew(t, jwtauth.WithKeyFunc(tt.alg, func(context.Context, *jwt.Token) (any, error) {
			return tt.key, nil
		}))
		_, err := a.Verify(tt.token)
		requireAuthError(t, err, realtime.CodeInvalidToken, "invalid token")
	}
}

func TestAuthenticatorTokenSources(t *testing.T) {
	good := hs256Token(t, freshClaims("good"))
	bad := hs256Token(t, jwt.MapClaims{"sub": "bad", "exp": time.Now().Add(-time.Hour).Unix()})
	plain := mustNew(t, jwtauth.WithHMACSecret(jwtTestSecret))
	withQuery := mustNew(t, jwtauth.WithHMACSecret(jwtTestSecret), jwtauth.WithQueryToken(true))

	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	query := func(tok string) url.Values { return url.Values{"token": {tok}} }

	tests := []struct {
		name string
		a    *jwtauth.Authenticator
		h    *realtime.Handshake
		code string // empty when accepted as "good"
	}{
		{"auth token", plain, &realtime.Handshake{Auth: map[string]any{"token": good}}, ""},
		{"auth token with Bearer prefix", plain, &realtime.Handshake{Auth: map[string]any{"token": "Bearer " + good}}, ""},
		{"bearer header", plain, &realtime.Handshake{Header: bearer(good)}, ""},
		{"lower-case bearer header", plain, &realtime.Handshake{Header: http.Header{"Authorization": {"bearer " + good}}}, ""},
		{"query ignored by default", plain, &realtime.Handshake{Query: query(good)}, realtime.CodeUnauthorized},
		{"query when enabled", withQuery, &realtime.Handshake{Query: query(good)}, ""},
		{"auth token before header", plain, &realtime.Handshake{Auth: map[string]any{"token": bad}, Header: bearer(good)}, realtime.CodeTokenExpired},
		{"header before query", withQuery, &realtime.Handshake{Header: bearer(good), Query: query(bad)}, ""},
		{"empty auth token falls back to header", plain, &realtime.Handshake{Auth: map[string]any{"token": ""}, Header: bearer(good)}, ""},
		{"basic auth header is no token", plain, &realtime.Handshake{Header: http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}}, realtime.CodeUnauthorized},
		{"nothing", plain, &realtime.Handshake{}, realtime.CodeUnauthorized},
		{"nil handshake", plain, nil, realtime.CodeUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := tt.a.Authenticate(context.Background(), tt.h)
			switch tt.code {
			case "":
				requireUser(t, id, err, "good")
			case realtime.CodeUnauthorized:
				requireAuthError(t, err, realtime.CodeUnauthorized, "authentication token required")
			case realtime.CodeTokenExpired:
				requireAuthError(t, err, realtime.CodeTokenExpired, "token expired")
			}
		})
	}
}

// TestAuthenticatorAllowsQueryToken: development mode learns through
// realtime.QueryTokenPolicy where the authenticator looks for a token.
func TestAuthenticatorAllowsQueryToken(t *testing.T) {
	var p realtime.QueryTokenPolicy = mustNew(t, jwtauth.WithHMACSecret(jwtTestSecret))
	if p.AllowsQueryToken() {
		t.Error("AllowsQueryToken() = true by default, want false")
	}
	p = mustNew(t, jwtauth.WithHMACSecret(jwtTestSecret), jwtauth.WithQueryToken(true))
	if !p.AllowsQueryToken() {
		t.Error("AllowsQueryToken() = false with WithQueryToken(true)")
	}
}

func TestNewOptionErrors(t *testing.T) {
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// Only the modulus size is inspected, so no 1024-bit key need be made.
	weakRSA := &rsa.PublicKey{N: new(big.Int).Lsh(big.NewInt(1), 1023), E: 65537}
	keyFunc := func(context.Context, *jwt.Token) (any, error) { return jwtTestSecret, nil }
	secret := jwtauth.WithHMACSecret(jwtTestSecret)

	tests := []struct {
		name string
		opts []jwtauth.Option
	}{
		{"no key", nil},
		{"no key but other options", []jwtauth.Option{jwtauth.WithIssuer("iss")}},
		{"two keys", []jwtauth.Option{secret, jwtauth.WithECDSAPublicKey(&p256.PublicKey)}},
		{"same key twice", []jwtauth.Option{secret, secret}},
		{"key and key func", []jwtauth.Option{jwtauth.WithKeyFunc("HS256", keyFunc), secret}},
		{"empty secret", []jwtauth.Option{jwtauth.WithHMACSecret(nil)}},
		{"nil RSA key", []jwtauth.Option{jwtauth.WithRSAPublicKey(nil)}},
		{"1024-bit RSA key", []jwtauth.Option{jwtauth.WithRSAPublicKey(weakRSA)}},
		{"nil ECDSA key", []jwtauth.Option{jwtauth.WithECDSAPublicKey(nil)}},
		{"ECDSA key without point", []jwtauth.Option{jwtauth.WithECDSAPublicKey(&ecdsa.PublicKey{Curve: elliptic.P256()})}},
		{"P-384 key for ES256", []jwtauth.Option{jwtauth.WithECDSAPublicKey(&p384.PublicKey)}},
		{"short Ed25519 key", []jwtauth.Option{jwtauth.WithEd25519PublicKey(edPub[:16])}},
		{"nil key func", []jwtauth.Option{jwtauth.WithKeyFunc("HS256", nil)}},
		{"key func alg none", []jwtauth.Option{jwtauth.WithKeyFunc("none", keyFunc)}},
		{"key func unknown alg", []jwtauth.Option{jwtauth.WithKeyFunc("HS1", keyFunc)}},
		{"key func lower-case alg", []jwtauth.Option{jwtauth.WithKeyFunc("hs256", keyFunc)}},
		{"empty issuer", []jwtauth.Option{secret, jwtauth.WithIssuer("")}},
		{"empty audience", []jwtauth.Option{secret, jwtauth.WithAudience("")}},
		{"negative leeway", []jwtauth.Option{secret, jwtauth.WithLeeway(-time.Second)}},
		{"leeway over five minutes", []jwtauth.Option{secret, jwtauth.WithLeeway(5*time.Minute + time.Second)}},
		{"empty user id claim", []jwtauth.Option{secret, jwtauth.WithUserIDClaim("")}},
		{"empty email claim", []jwtauth.Option{secret, jwtauth.WithEmailClaim("")}},
		{"nil option", []jwtauth.Option{secret, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := jwtauth.New(tt.opts...)
			if !errors.Is(err, realtime.ErrInvalidOption) {
				t.Fatalf("New error = %v, want one wrapping ErrInvalidOption", err)
			}
			if a != nil {
				t.Errorf("got an authenticator alongside the error")
			}
		})
	}

	// The boundaries themselves are allowed.
	for _, opts := range [][]jwtauth.Option{
		{secret, jwtauth.WithLeeway(0)},
		{secret, jwtauth.WithLeeway(5 * time.Minute)},
		{jwtauth.WithKeyFunc("EdDSA", keyFunc)},
		{jwtauth.WithEd25519PublicKey(edPub)},
	} {
		mustNew(t, opts...)
	}
}

func TestAuthenticatorConcurrentVerify(t *testing.T) {
	a := mustNew(t, jwtauth.WithHMACSecret(jwtTestSecret))
	good := hs256Token(t, freshClaims("u"))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if _, err := a.Verify(good); err != nil {
					errs <- err
					return
				}
				if _, err := a.Verify("x.y.z"); err == nil {
					errs <- errors.New("garbage verified")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestZeroAuthenticatorRefuses(t *testing.T) {
	var a jwtauth.Authenticator
	_, err := a.Verify(hs256Token(t, freshClaims("u")))
	requireAuthError(t, err, realtime.CodeUnauthorized, "unauthorized")
}

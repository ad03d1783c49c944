package jwtauth_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tradewithai/realtime"
	"github.com/tradewithai/realtime/jwtauth"
)

func FuzzVerify(f *testing.F) {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	_, otherPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	hmacAuth := mustNew(f, jwtauth.WithHMACSecret(jwtTestSecret), jwtauth.WithIssuer("iss"), jwtauth.WithLeeway(time.Minute))
	edAuth := mustNew(f, jwtauth.WithEd25519PublicKey(pub))

	claims := freshClaims("u")
	claims["iss"] = "iss"
	forged := signTestToken(f, jwt.SigningMethodHS256, []byte("guessed secret"), claims, nil)
	f.Add("")
	f.Add("a.b.c")
	f.Add("....")
	f.Add(forged)
	f.Add(strings.Replace(forged, ".", ". ", 1))
	f.Add(signTestToken(f, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims, nil))
	f.Add(signTestToken(f, jwt.SigningMethodEdDSA, otherPriv, claims, nil))
	f.Add(signTestToken(f, jwt.SigningMethodHS256, []byte(pub), claims, nil))
	f.Add("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjEsImV4cCI6MWU5OTl9.")

	f.Fuzz(func(t *testing.T, token string) {
		for _, a := range []*jwtauth.Authenticator{hmacAuth, edAuth} {
			id, err := a.Verify(token)
			if err == nil || id != nil {
				t.Fatalf("Verify(%q) = %+v, %v; a random string must never verify", token, id, err)
			}
			var ae *realtime.AuthError
			if !errors.As(err, &ae) {
				t.Fatalf("Verify error %v (%T) is not an *AuthError", err, err)
			}
			if ae.Code != realtime.CodeInvalidToken || ae.Message == "" {
				t.Fatalf("Verify refusal = {%s %q}, want INVALID_TOKEN with a message", ae.Code, ae.Message)
			}
		}
	})
}

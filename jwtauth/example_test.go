package jwtauth_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tradewithai/realtime"
	"github.com/tradewithai/realtime/jwtauth"
)

// A gateway whose clients present HS256 tokens, with
// io("https://host", { auth: { token } }) in socket.io-client.
func ExampleNew() {
	auth, err := jwtauth.New(
		jwtauth.WithHMACSecret([]byte(os.Getenv("JWT_SECRET"))),
		jwtauth.WithIssuer("https://auth.example.com"),
		jwtauth.WithLeeway(30*time.Second),
	)
	if err != nil {
		log.Fatal(err)
	}
	gw, err := realtime.New(realtime.WithAuthenticator(auth))
	if err != nil {
		log.Fatal(err)
	}
	defer gw.Shutdown(context.Background())

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", gw)
}

// Options are checked when the authenticator is built.
func ExampleNew_invalidOption() {
	_, err := jwtauth.New(jwtauth.WithHMACSecret([]byte("0123456789abcdef0123456789abcdef")), jwtauth.WithLeeway(time.Hour))
	fmt.Println(errors.Is(err, realtime.ErrInvalidOption))
	fmt.Println(err)
	// Output:
	// true
	// realtime: invalid option: jwtauth.WithLeeway: 1h0m0s outside 0..5m0s
}

// Verify checks a token outside a connection, for example one sent to an
// HTTP endpoint of the host. A refusal carries the code a client would get.
func ExampleAuthenticator_Verify() {
	secret := []byte("0123456789abcdef0123456789abcdef")
	auth, err := jwtauth.New(jwtauth.WithHMACSecret(secret))
	if err != nil {
		log.Fatal(err)
	}
	sign := func(exp time.Time) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "user-123", "exp": exp.Unix()}).SignedString(secret)
		if err != nil {
			log.Fatal(err)
		}
		return s
	}

	id, err := auth.Verify(sign(time.Now().Add(time.Hour)))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(id.UserID)

	_, err = auth.Verify(sign(time.Now().Add(-time.Minute)))
	var ae *realtime.AuthError
	if errors.As(err, &ae) {
		fmt.Println(ae.Code, ae.Message)
	}
	// Output:
	// user-123
	// TOKEN_EXPIRED token expired
}

// Keys rotate: the key function picks the key by the token's kid header.
// The algorithm stays pinned, so a token with another alg is refused before
// the function runs.
func ExampleWithKeyFunc() {
	keys := map[string][]byte{
		"2025-06": []byte("the June secret, 32 bytes long.."),
		"2025-07": []byte("the July secret, 32 bytes long.."),
	}
	auth, err := jwtauth.New(jwtauth.WithKeyFunc("HS256", func(ctx context.Context, t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		key, ok := keys[kid]
		if !ok {
			return nil, fmt.Errorf("unknown kid %q", kid) // the client sees INVALID_TOKEN
		}
		return key, nil
	}))
	if err != nil {
		log.Fatal(err)
	}

	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "user-123", "exp": time.Now().Add(time.Hour).Unix()})
	tok.Header["kid"] = "2025-07"
	signed, err := tok.SignedString(keys["2025-07"])
	if err != nil {
		log.Fatal(err)
	}
	id, err := auth.Verify(signed)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(id.UserID)
	// Output: user-123
}

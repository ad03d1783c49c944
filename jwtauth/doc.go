// Package jwtauth authenticates realtime gateway connections with JSON Web
// Tokens. Its Authenticator implements realtime.Authenticator: it finds the
// token a client presented (auth.token, an Authorization: Bearer header, or
// with WithQueryToken the token query parameter; see
// realtime.TokenFromHandshake), verifies it, and turns its claims into a
// realtime.Identity.
//
// Verification is built on github.com/golang-jwt/jwt/v5 and hardened for
// tokens that arrive from anyone on the network. One algorithm is pinned
// per Authenticator, chosen by its key option (WithHMACSecret for HS256,
// WithRSAPublicKey for RS256, WithECDSAPublicKey for ES256,
// WithEd25519PublicKey for EdDSA, or WithKeyFunc with an explicit algorithm
// for keys looked up per token), so alg "none" and algorithm substitution
// are refused. exp is required, nbf and iat must not be in the future, the
// clock-skew leeway is at most 5 minutes, and tokens over 16 KiB are
// refused unparsed. A refusal is a *realtime.AuthError whose Code
// (realtime.CodeUnauthorized, CodeInvalidToken or CodeTokenExpired) and
// fixed Message reach the client's connect_error handler; the cause is kept
// for server logs only.
//
// A gateway that verifies HS256 tokens:
//
//	auth, err := jwtauth.New(jwtauth.WithHMACSecret(secret))
//	if err != nil { ... }
//	gw, err := realtime.New(realtime.WithAuthenticator(auth))
//
// The user id comes from the sub claim (WithUserIDClaim), the email from
// email (WithEmailClaim); every claim is kept in Identity.Claims, and the
// connection expires with the token (exp plus the leeway).
package jwtauth

package realtime

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestTokenFromHandshake(t *testing.T) {
	bearer := func(v string) http.Header { return http.Header{"Authorization": {v}} }
	query := func(v string) url.Values { return url.Values{"token": {v}} }

	tests := []struct {
		name       string
		h          *Handshake
		allowQuery bool
		want       string // empty when no token is found
	}{
		{"nil handshake", nil, true, ""},
		{"empty handshake", &Handshake{}, true, ""},
		{"auth token", &Handshake{Auth: map[string]any{"token": "abc"}}, false, "abc"},
		{"auth token trimmed", &Handshake{Auth: map[string]any{"token": " \tabc\n"}}, false, "abc"},
		{"auth token Bearer prefix", &Handshake{Auth: map[string]any{"token": "Bearer abc"}}, false, "abc"},
		{"auth token BEARER prefix", &Handshake{Auth: map[string]any{"token": "BEARER  abc "}}, false, "abc"},
		{"auth token starting with bearer word", &Handshake{Auth: map[string]any{"token": "bearerabc"}}, false, "bearerabc"},
		{"auth token only scheme", &Handshake{Auth: map[string]any{"token": "Bearer "}}, false, ""},
		{"auth token whitespace", &Handshake{Auth: map[string]any{"token": "   "}}, false, ""},
		{"auth token not a string", &Handshake{Auth: map[string]any{"token": 42}}, false, ""},
		{"auth token null", &Handshake{Auth: map[string]any{"token": nil}}, false, ""},
		{"auth without token", &Handshake{Auth: map[string]any{"jwt": "abc"}}, false, ""},
		{"header", &Handshake{Header: bearer("Bearer abc")}, false, "abc"},
		{"header lower case", &Handshake{Header: bearer("bearer abc")}, false, "abc"},
		{"header tab", &Handshake{Header: bearer("Bearer\tabc")}, false, "abc"},
		{"header without scheme", &Handshake{Header: bearer("abc")}, false, ""},
		{"header basic scheme", &Handshake{Header: bearer("Basic abc")}, false, ""},
		{"header scheme only", &Handshake{Header: bearer("Bearer")}, false, ""},
		{"header glued scheme", &Handshake{Header: bearer("Bearerabc")}, false, ""},
		{"query not allowed", &Handshake{Query: query("abc")}, false, ""},
		{"query allowed", &Handshake{Query: query("abc")}, true, "abc"},
		{"query trimmed", &Handshake{Query: query(" abc ")}, true, "abc"},
		{"auth before header", &Handshake{Auth: map[string]any{"token": "a"}, Header: bearer("Bearer h")}, true, "a"},
		{"header before query", &Handshake{Header: bearer("Bearer h"), Query: query("q")}, true, "h"},
		{"empty auth falls back", &Handshake{Auth: map[string]any{"token": ""}, Header: bearer("Bearer h")}, true, "h"},
		{"basic header falls back to query", &Handshake{Header: bearer("Basic x"), Query: query("q")}, true, "q"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := TokenFromHandshake(tt.h, tt.allowQuery)
			if got != tt.want || ok != (tt.want != "") {
				t.Fatalf("TokenFromHandshake = %q, %v; want %q, %v", got, ok, tt.want, tt.want != "")
			}
		})
	}
}

func TestAuthErrorUnwrapAndMessage(t *testing.T) {
	cause := errors.New("signature mismatch")
	err := fmt.Errorf("connect: %w", &AuthError{Code: CodeInvalidToken, Message: "invalid token", Err: cause})

	var ae *AuthError
	if !errors.As(err, &ae) || ae.Code != CodeInvalidToken {
		t.Fatalf("errors.As did not find the AuthError in %v", err)
	}
	if !errors.Is(err, cause) {
		t.Errorf("errors.Is(err, cause) = false; the cause must stay reachable for logs")
	}
	for _, part := range []string{CodeInvalidToken, "invalid token", "signature mismatch"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("Error() = %q, want it to mention %q", err.Error(), part)
		}
	}
	if s := (&AuthError{Code: CodeUnauthorized, Message: "no"}).Error(); strings.Contains(s, "<nil>") {
		t.Errorf("Error() without cause = %q", s)
	}
}

// TestAuthenticateNormalisesRefusals checks what the gateway will send for
// each kind of result an Authenticator can produce.
func TestAuthenticateNormalisesRefusals(t *testing.T) {
	internal := errors.New("db: connection refused to 10.0.0.7:5432")
	tests := []struct {
		name        string
		id          *Identity
		err         error
		wantCode    string
		wantMessage string
		wantCause   error
	}{
		{"auth error as is", nil, &AuthError{Code: "BANNED", Message: "account suspended"}, "BANNED", "account suspended", nil},
		{"wrapped auth error", nil, fmt.Errorf("lookup: %w", &AuthError{Code: CodeTokenExpired, Message: "token expired", Err: internal}), CodeTokenExpired, "token expired", internal},
		{"auth error without message", nil, &AuthError{Code: CodeTokenExpired}, CodeTokenExpired, "token expired", nil},
		{"auth error without code", nil, &AuthError{Message: "internal detail"}, CodeUnauthorized, "unauthorized", nil},
		{"typed nil auth error", nil, (*AuthError)(nil), CodeUnauthorized, "unauthorized", nil},
		{"plain error is not leaked", nil, internal, CodeUnauthorized, "unauthorized", internal},
		{"no identity", nil, nil, CodeUnauthorized, "unauthorized", nil},
		{"no user id", &Identity{Email: "a@example.com"}, nil, CodeUnauthorized, "unauthorized", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := AuthenticatorFunc(func(context.Context, *Handshake) (*Identity, error) { return tt.id, tt.err })
			id, ae := authenticate(context.Background(), a, &Handshake{})
			if id != nil || ae == nil {
				t.Fatalf("authenticate = %+v, %v; want a refusal", id, ae)
			}
			if ae.Code != tt.wantCode || ae.Message != tt.wantMessage {
				t.Fatalf("refusal = {%s %q}, want {%s %q}", ae.Code, ae.Message, tt.wantCode, tt.wantMessage)
			}
			if tt.wantCause != nil && !errors.Is(ae, tt.wantCause) {
				t.Errorf("cause %v lost from %v", tt.wantCause, ae)
			}
			if ae.Error() == "" {
				t.Errorf("empty Error()")
			}
			if strings.Contains(ae.Message, "10.0.0.7") {
				t.Errorf("message %q leaks internals", ae.Message)
			}
		})
	}

	want := &Identity{UserID: "u"}
	a := AuthenticatorFunc(func(context.Context, *Handshake) (*Identity, error) { return want, nil })
	if id, ae := authenticate(context.Background(), a, &Handshake{}); id != want || ae != nil {
		t.Fatalf("authenticate = %+v, %v; want the identity", id, ae)
	}
}

// tokenVerifier stands in for a token authenticator such as
// jwtauth.Authenticator: it finds the token with TokenFromHandshake, reading
// the query parameter only when allowQuery is set, accepts "good" as alice,
// refuses "expired" with TOKEN_EXPIRED and any other token with
// INVALID_TOKEN.
type tokenVerifier struct{ allowQuery bool }

func (v tokenVerifier) AllowsQueryToken() bool { return v.allowQuery }

func (v tokenVerifier) Authenticate(_ context.Context, h *Handshake) (*Identity, error) {
	token, ok := TokenFromHandshake(h, v.allowQuery)
	switch {
	case !ok:
		return nil, &AuthError{Code: CodeUnauthorized, Message: "authentication token required"}
	case token == "good":
		return &Identity{UserID: "alice"}, nil
	case token == "expired":
		return nil, &AuthError{Code: CodeTokenExpired, Message: msgTokenExpired}
	default:
		return nil, &AuthError{Code: CodeInvalidToken, Message: msgInvalidToken}
	}
}

func TestDevelopmentAuthenticator(t *testing.T) {
	const good, expired = "good", "expired"
	dev := developmentAuthenticator(tokenVerifier{})

	tests := []struct {
		name     string
		h        *Handshake
		wantUser string // empty when refused
		wantCode string
	}{
		{"no token", &Handshake{}, DevelopmentUserID, ""},
		{"nil handshake", nil, DevelopmentUserID, ""},
		{"auth without token", &Handshake{Auth: map[string]any{"token": nil}}, DevelopmentUserID, ""},
		{"valid token", &Handshake{Auth: map[string]any{"token": good}}, "alice", ""},
		{"valid header token", &Handshake{Header: http.Header{"Authorization": {"Bearer " + good}}}, "alice", ""},
		{"expired token is still refused", &Handshake{Auth: map[string]any{"token": expired}}, "", CodeTokenExpired},
		{"garbage token is still refused", &Handshake{Auth: map[string]any{"token": "garbage"}}, "", CodeInvalidToken},
		// The authenticator ignores query tokens unless enabled, so
		// development mode must treat such a client as tokenless too.
		{"query token not enabled", &Handshake{Query: url.Values{"token": {"garbage"}}}, DevelopmentUserID, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := dev.Authenticate(context.Background(), tt.h)
			if tt.wantUser == "" {
				var ae *AuthError
				if !errors.As(err, &ae) || ae.Code != tt.wantCode {
					t.Fatalf("error = %v, want AuthError %s", err, tt.wantCode)
				}
				return
			}
			if err != nil || id == nil || id.UserID != tt.wantUser {
				t.Fatalf("Authenticate = %+v, %v; want user %q", id, err, tt.wantUser)
			}
			if tt.wantUser == DevelopmentUserID && (id.Claims != nil || id.Email != "" || !id.ExpiresAt.IsZero()) {
				t.Errorf("development identity = %+v, want only a user id", id)
			}
		})
	}

	t.Run("query token when enabled", func(t *testing.T) {
		_, err := developmentAuthenticator(tokenVerifier{allowQuery: true}).Authenticate(context.Background(), &Handshake{Query: url.Values{"token": {"garbage"}}})
		var ae *AuthError
		if !errors.As(err, &ae) || ae.Code != CodeInvalidToken {
			t.Fatalf("error = %v, want INVALID_TOKEN", err)
		}
	})

	t.Run("nil next", func(t *testing.T) {
		id, err := developmentAuthenticator(nil).Authenticate(context.Background(), &Handshake{Auth: map[string]any{"token": good}})
		if err != nil || id.UserID != DevelopmentUserID {
			t.Fatalf("Authenticate = %+v, %v; want %s", id, err, DevelopmentUserID)
		}
	})

	t.Run("custom next sees the handshake", func(t *testing.T) {
		next := AuthenticatorFunc(func(_ context.Context, h *Handshake) (*Identity, error) {
			tok, _ := TokenFromHandshake(h, false)
			return &Identity{UserID: "custom:" + tok}, nil
		})
		id, err := developmentAuthenticator(next).Authenticate(context.Background(), &Handshake{Auth: map[string]any{"token": "t1"}})
		if err != nil || id.UserID != "custom:t1" {
			t.Fatalf("Authenticate = %+v, %v; want custom:t1", id, err)
		}
	})
}

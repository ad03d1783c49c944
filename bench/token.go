package bench

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"time"
)

// jwtHeader is {"alg":"HS256","typ":"JWT"}, base64url-encoded.
const jwtHeader = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"

// MintToken returns an HS256 JSON Web Token for user, valid for an hour
// from now, of the shape both servers verify: sub, iat and exp.
func MintToken(secret []byte, user string, now time.Time) string {
	payload := `{"sub":` + strconv.Quote(user) +
		`,"iat":` + strconv.FormatInt(now.Unix(), 10) +
		`,"exp":` + strconv.FormatInt(now.Add(time.Hour).Unix(), 10) + `}`
	signing := jwtHeader + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

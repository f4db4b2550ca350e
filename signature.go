package ozgflow

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"time"
)

// Headers of an HMAC-signed HTTP body, used for webhooks and deliveries.
const (
	HeaderSignature          = "X-Ozgflow-Signature"
	HeaderSignatureTimestamp = "X-Ozgflow-Timestamp"
)

// SignatureMaxSkew is how far a signed request's timestamp may be from now.
const SignatureMaxSkew = 5 * time.Minute

// SignBody returns the signature header value of body sent at ts:
// "sha256=" and the hex HMAC-SHA256 of "<unix seconds>.<body>".
func SignBody(secret []byte, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifyBody checks a signature and its timestamp header value against body.
func VerifyBody(secret []byte, now time.Time, timestamp, signature string, body []byte) error {
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("missing or malformed signature timestamp")
	}
	ts := time.Unix(secs, 0)
	if d := now.Sub(ts); d > SignatureMaxSkew || d < -SignatureMaxSkew {
		return errors.New("signature timestamp too far from now")
	}
	if !hmac.Equal([]byte(SignBody(secret, ts, body)), []byte(signature)) {
		return errors.New("signature does not match")
	}
	return nil
}

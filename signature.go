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
	// HeaderWebhookID carries the unique ID of a webhook into the gateway
	// (payments, signatures). It is part of the signed material
	// (SignWebhook), so it cannot be swapped, and the gateway remembers it
	// for the signature's time window to answer a replay without effect.
	// Retries of one event keep its ID.
	HeaderWebhookID = "X-Ozgflow-Webhook-Id"
)

// SignatureMaxSkew is how far a signed request's timestamp may be from now.
const SignatureMaxSkew = 5 * time.Minute

// WebhookIDMaxLen is the longest webhook ID a receiver takes.
const WebhookIDMaxLen = 128

// SignBody returns the signature header value of body sent at ts:
// "sha256=" and the hex HMAC-SHA256 of "<unix seconds>.<body>".
func SignBody(secret []byte, ts time.Time, body []byte) string {
	return sign(secret, ts, nil, body)
}

// VerifyBody checks a signature and its timestamp header value against body.
func VerifyBody(secret []byte, now time.Time, timestamp, signature string, body []byte) error {
	return verify(secret, now, timestamp, nil, signature, body)
}

// SignWebhook returns the signature header value of the webhook id with
// body sent at ts: "sha256=" and the hex HMAC-SHA256 of
// "<unix seconds>.<id>.<body>". id must be a ValidWebhookID, which has no
// dot, so the signed string splits one way only.
func SignWebhook(secret []byte, ts time.Time, id string, body []byte) string {
	return sign(secret, ts, []byte(id), body)
}

// VerifyWebhook checks the signature of the webhook id and its timestamp
// header value against body; an ID that is not a ValidWebhookID fails.
func VerifyWebhook(secret []byte, now time.Time, timestamp, id, signature string, body []byte) error {
	if !ValidWebhookID(id) {
		return errors.New("missing or malformed webhook ID")
	}
	return verify(secret, now, timestamp, []byte(id), signature, body)
}

// ValidWebhookID reports whether id can name a webhook: 1 to
// WebhookIDMaxLen ASCII letters, digits, '-' and '_'.
func ValidWebhookID(id string) bool {
	if id == "" || len(id) > WebhookIDMaxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// sign is the HMAC of "<unix seconds>.<id>.<body>", or of
// "<unix seconds>.<body>" without an id.
func sign(secret []byte, ts time.Time, id, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	mac.Write([]byte("."))
	if id != nil {
		mac.Write(id)
		mac.Write([]byte("."))
	}
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func verify(secret []byte, now time.Time, timestamp string, id []byte, signature string, body []byte) error {
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("missing or malformed signature timestamp")
	}
	ts := time.Unix(secs, 0)
	if d := now.Sub(ts); d > SignatureMaxSkew || d < -SignatureMaxSkew {
		return errors.New("signature timestamp too far from now")
	}
	if !hmac.Equal([]byte(sign(secret, ts, id, body)), []byte(signature)) {
		return errors.New("signature does not match")
	}
	return nil
}

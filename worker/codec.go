package worker

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// Payload metadata of encrypted payloads.
const (
	encodingEncrypted = "binary/encrypted"
	metadataEncoding  = "encoding"
	metadataKeyID     = "encryption-key-id"
)

// Codec encrypts every payload with AES-256-GCM, so the application data, which
// holds personal data, is never stored in Temporal in the clear. It
// encrypts with the current key and decrypts with any key of its ring, named
// by the key ID each payload carries, so that the secret can be rotated
// while cases are open.
type Codec struct {
	keyID string
	aead  cipher.AEAD
	ring  map[string]cipher.AEAD
}

// NewCodec derives the payload key from the configured secret; previous
// secrets still decrypt what was encrypted with them.
func NewCodec(secret []byte, previous ...[]byte) (*Codec, error) {
	c := &Codec{ring: map[string]cipher.AEAD{}}
	for i, s := range append([][]byte{secret}, previous...) {
		id, aead, err := payloadKey(s)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			c.keyID, c.aead = id, aead
		}
		if _, known := c.ring[id]; !known {
			c.ring[id] = aead
		}
	}
	return c, nil
}

// payloadKey derives a payload key and its ID from a secret.
func payloadKey(secret []byte) (string, cipher.AEAD, error) {
	if len(secret) < 16 {
		return "", nil, errors.New("payload encryption secret must be at least 16 bytes")
	}
	key := sha256.Sum256(append([]byte("ozgflow payload key\x00"), secret...))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return "", nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return "", nil, err
	}
	id := sha256.Sum256(key[:])
	return fmt.Sprintf("%x", id[:4]), aead, nil
}

// Encode implements converter.PayloadCodec.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encode payload: %w", err)
		}
		nonce := make([]byte, c.aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return nil, err
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				metadataEncoding: []byte(encodingEncrypted),
				metadataKeyID:    []byte(c.keyID),
			},
			Data: c.aead.Seal(nonce, nonce, plain, nil),
		}
	}
	return out, nil
}

// Decode implements converter.PayloadCodec; unencrypted payloads pass through.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.Metadata[metadataEncoding]) != encodingEncrypted {
			out[i] = p
			continue
		}
		id := string(p.Metadata[metadataKeyID])
		aead, ok := c.ring[id]
		if !ok {
			return nil, fmt.Errorf("payload encrypted with key %s, which is not among this process's keys (current %s; previous secrets go into OZGFLOW_PREVIOUS_SECRETS)", id, c.keyID)
		}
		n := aead.NonceSize()
		if len(p.Data) < n {
			return nil, errors.New("encrypted payload too short")
		}
		plain, err := aead.Open(nil, p.Data[:n], p.Data[n:], nil)
		if err != nil {
			return nil, fmt.Errorf("decrypt payload: %w", err)
		}
		var decoded commonpb.Payload
		if err := proto.Unmarshal(plain, &decoded); err != nil {
			return nil, fmt.Errorf("decode payload: %w", err)
		}
		out[i] = &decoded
	}
	return out, nil
}

// DataConverter wraps the default converter with the codec.
func (c *Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

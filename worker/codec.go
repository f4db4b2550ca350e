package worker

import (
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/ozgflow/ozgflow/internal/keyring"
)

// Payload metadata of encrypted payloads.
const (
	encodingEncrypted = "binary/encrypted"
	metadataEncoding  = "encoding"
	metadataKeyID     = "encryption-key-id"
)

// Codec encrypts every payload with AES-256-GCM, so the application data, which
// holds personal data, is never stored in Temporal in the clear. It
// encrypts with the ring's current key and decrypts with any key of the
// ring, named by the key ID each payload carries, so that the secret can be
// rotated while cases are open.
type Codec struct {
	ring *keyring.Ring
}

// NewCodec derives the payload key from the configured secret; previous
// secrets still decrypt what was encrypted with them.
func NewCodec(secret []byte, previous ...[]byte) (*Codec, error) {
	ring, err := keyring.New(secret, previous...)
	if err != nil {
		return nil, fmt.Errorf("payload encryption: %w", err)
	}
	return &Codec{ring: ring}, nil
}

// Encode implements converter.PayloadCodec.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encode payload: %w", err)
		}
		keyID, sealed, err := c.ring.Seal(plain)
		if err != nil {
			return nil, err
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				metadataEncoding: []byte(encodingEncrypted),
				metadataKeyID:    []byte(keyID),
			},
			Data: sealed,
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
		plain, err := c.ring.Open(string(p.Metadata[metadataKeyID]), p.Data)
		if err != nil {
			return nil, fmt.Errorf("payload: %w", err)
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

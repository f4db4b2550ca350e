package worker

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"sync"

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
	// metadataCompression says the sealed bytes were deflated before
	// sealing; payloads without it were sealed as they were.
	metadataCompression = "compression"
	compressionDeflate  = "deflate"
)

// compressFrom is the size from which a payload is deflated before it is
// sealed. Snapshots, definitions and submissions are JSON of several
// kilobytes that shrink to a third; every byte saved is written less often
// to the engine's history, its mutable state and its visibility store.
const compressFrom = 1024

// maxInflated bounds what one payload may inflate to (the engine refuses
// payloads far smaller).
const maxInflated = 64 << 20

// deflaters reuses compressors: a new one allocates about a megabyte.
var deflaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed)
	return w
}}

// Codec encrypts every payload with AES-256-GCM, so the application data, which
// holds personal data, is never stored in Temporal in the clear. It
// encrypts with the ring's current key and decrypts with any key of the
// ring, named by the key ID each payload carries, so that the secret can be
// rotated while cases are open.
type Codec struct {
	ring     *keyring.Ring
	compress bool
}

// NewCodec derives the payload key from the configured secret; previous
// secrets still decrypt what was encrypted with them.
func NewCodec(secret []byte, previous ...[]byte) (*Codec, error) {
	ring, err := keyring.New(secret, previous...)
	if err != nil {
		return nil, fmt.Errorf("payload encryption: %w", err)
	}
	return &Codec{ring: ring, compress: true}, nil
}

// WithoutCompression makes the codec seal payloads as they are. Reading is
// unchanged: deflated payloads are still read. It is for the rolling
// upgrade from a release that cannot read deflated payloads, until every
// process runs this one (OZGFLOW_PAYLOAD_COMPRESSION=off).
func (c *Codec) WithoutCompression() *Codec {
	c.compress = false
	return c
}

// Encode implements converter.PayloadCodec.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encode payload: %w", err)
		}
		meta := map[string][]byte{metadataEncoding: []byte(encodingEncrypted)}
		if c.compress && len(plain) >= compressFrom {
			if small, err := deflate(plain); err == nil && len(small) < len(plain) {
				plain = small
				meta[metadataCompression] = []byte(compressionDeflate)
			}
		}
		keyID, sealed, err := c.ring.Seal(plain)
		if err != nil {
			return nil, err
		}
		meta[metadataKeyID] = []byte(keyID)
		out[i] = &commonpb.Payload{Metadata: meta, Data: sealed}
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
		if string(p.Metadata[metadataCompression]) == compressionDeflate {
			if plain, err = inflate(plain); err != nil {
				return nil, fmt.Errorf("payload: %w", err)
			}
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

// deflate compresses b.
func deflate(b []byte) ([]byte, error) {
	w := deflaters.Get().(*flate.Writer)
	defer deflaters.Put(w)
	var buf bytes.Buffer
	buf.Grow(len(b) / 2)
	w.Reset(&buf)
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// inflate decompresses b, refusing more than maxInflated bytes.
func inflate(b []byte) ([]byte, error) {
	r := flate.NewReader(bytes.NewReader(b))
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, maxInflated+1))
	if err != nil {
		return nil, fmt.Errorf("inflate: %w", err)
	}
	if len(out) > maxInflated {
		return nil, errors.New("inflate: payload too large")
	}
	return out, nil
}

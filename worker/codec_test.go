package worker

import (
	"bytes"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

func TestCodecEncryptsAndRoundTrips(t *testing.T) {
	codec, err := NewCodec([]byte("0123456789abcdef-secret"))
	if err != nil {
		t.Fatal(err)
	}
	dc := codec.DataConverter()
	payload, err := dc.ToPayload(map[string]string{"name": "Anna Muster"})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(payload.Data, []byte("Anna")) {
		t.Fatal("payload holds personal data in the clear")
	}
	var got map[string]string
	if err := dc.FromPayload(payload, &got); err != nil || got["name"] != "Anna Muster" {
		t.Fatalf("round trip: %v %v", got, err)
	}
	other, _ := NewCodec([]byte("another-secret-0123456789"))
	if err := other.DataConverter().FromPayload(payload, &got); err == nil {
		t.Error("decoded with another key")
	}
	plain, _ := converter.GetDefaultDataConverter().ToPayload("x")
	var s string
	if err := dc.FromPayload(plain, &s); err != nil || s != "x" {
		t.Errorf("unencrypted payload: %q %v", s, err)
	}
	if _, err := NewCodec([]byte("short")); err == nil {
		t.Error("short secret accepted")
	}
}

// TestCodecDecryptsWithPreviousSecrets: after a rotation of OZGFLOW_SECRET
// the payloads of open cases, encrypted with the old key, stay readable
// while new ones use the new key.
func TestCodecDecryptsWithPreviousSecrets(t *testing.T) {
	old, err := NewCodec([]byte("the-old-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := old.Encode([]*commonpb.Payload{{Data: []byte(`"Anna Muster"`)}})
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := NewCodec([]byte("the-new-secret-0123456789"), []byte("the-old-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := rotated.Decode(sealed)
	if err != nil || string(plain[0].Data) != `"Anna Muster"` {
		t.Fatalf("old payload after rotation: %v %v", plain, err)
	}
	fresh, _ := rotated.Encode([]*commonpb.Payload{{Data: []byte("x")}})
	if string(fresh[0].Metadata[metadataKeyID]) == string(sealed[0].Metadata[metadataKeyID]) {
		t.Error("new payloads are encrypted with the previous key")
	}
	forgotten, _ := NewCodec([]byte("the-new-secret-0123456789"))
	if _, err := forgotten.Decode(sealed); err == nil || !strings.Contains(err.Error(), "OZGFLOW_PREVIOUS_SECRETS") {
		t.Errorf("without the previous secret: %v", err)
	}
}

// TestCodecCompressesLargePayloads: snapshots and definitions are sealed
// deflated, so the engine stores a fraction of their size, and come back
// whole; small payloads are sealed as they are.
func TestCodecCompressesLargePayloads(t *testing.T) {
	codec, err := NewCodec([]byte("0123456789abcdef-secret"))
	if err != nil {
		t.Fatal(err)
	}
	dc := codec.DataConverter()
	big := map[string]string{}
	for i := range 200 {
		big[strings.Repeat("k", i%7+1)+string(rune('a'+i%26))+string(rune('a'+i/26))] = "Die Gewerbeanmeldung ist eingegangen und wird geprüft."
	}
	plain, _ := converter.GetDefaultDataConverter().ToPayload(big)
	sealed, err := dc.ToPayload(big)
	if err != nil {
		t.Fatal(err)
	}
	if string(sealed.Metadata[metadataCompression]) != compressionDeflate || len(sealed.Data)*3 > len(plain.Data) {
		t.Errorf("a %d-byte payload was sealed as %d bytes, compression %q", len(plain.Data), len(sealed.Data), sealed.Metadata[metadataCompression])
	}
	var got map[string]string
	if err := dc.FromPayload(sealed, &got); err != nil || len(got) != len(big) {
		t.Fatalf("round trip: %d entries, %v", len(got), err)
	}
	small, _ := dc.ToPayload("Anna")
	if _, ok := small.Metadata[metadataCompression]; ok {
		t.Error("a small payload was deflated")
	}
}

// TestCodecWithoutCompressionWritesWhatOlderReleasesRead: during a rolling
// upgrade, payloads are sealed as before, and deflated ones are still read.
func TestCodecWithoutCompressionWritesWhatOlderReleasesRead(t *testing.T) {
	codec, err := NewCodec([]byte("0123456789abcdef-secret"))
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("Die Gewerbeanmeldung ist eingegangen. ", 100)
	deflated, err := codec.DataConverter().ToPayload(big)
	if err != nil {
		t.Fatal(err)
	}
	plain := codec.WithoutCompression().DataConverter()
	sealed, err := plain.ToPayload(big)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := sealed.Metadata[metadataCompression]; ok {
		t.Error("a payload was deflated with compression off")
	}
	var got string
	if err := plain.FromPayload(deflated, &got); err != nil || got != big {
		t.Errorf("a deflated payload was not read with compression off: %v", err)
	}
}

package worker

import (
	"bytes"
	"testing"

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

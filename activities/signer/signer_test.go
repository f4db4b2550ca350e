package signer_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow/activities/signer"
)

func TestSealThroughTheAPIVerifiesWithPublishedKeys(t *testing.T) {
	ctx := context.Background()
	sb, err := signer.NewSandbox("")
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	sb.Register(r)
	srv := httptest.NewServer(r)
	defer srv.Close()
	c := signer.NewClient(srv.URL+"/sandbox/signer", nil)

	payload := []byte(`{"caseId":"c1","data":{"a":1}}`)
	res, err := c.Seal(ctx, payload)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := c.Keys(ctx)
	if err != nil || len(keys.Keys) != 1 || !keys.Keys[0].IsPublic() {
		t.Fatalf("keys = %+v %v", keys, err)
	}
	got, err := signer.Verify(res.JWS, keys)
	if err != nil || string(got) != string(payload) || res.KeyID != keys.Keys[0].KeyID {
		t.Fatalf("verify: %q %v", got, err)
	}

	parts := strings.Split(res.JWS, ".")
	tampered := parts[0] + "." + strings.TrimRight(parts[1], "A") + "B." + parts[2]
	if _, err := signer.Verify(tampered, keys); err == nil {
		t.Error("tampered payload verified")
	}
	other, _ := signer.NewSandbox("")
	if _, err := signer.Verify(res.JWS, other.JWKS()); err == nil {
		t.Error("verified with someone else's keys")
	}
	if _, err := c.Seal(ctx, nil); err == nil {
		t.Error("empty payload sealed")
	}
}

func TestKeyPersists(t *testing.T) {
	file := filepath.Join(t.TempDir(), "key.json")
	first, err := signer.NewSandbox(file)
	if err != nil {
		t.Fatal(err)
	}
	res, _ := first.Seal(context.Background(), []byte("x"))
	second, err := signer.NewSandbox(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := signer.Verify(res.JWS, second.JWKS()); err != nil {
		t.Errorf("seal from before the restart does not verify: %v", err)
	}
}

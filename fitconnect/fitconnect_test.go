package fitconnect

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

// key returns one 4096-bit key for the whole test binary: making one takes
// seconds.
func key(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, KeyBits)
		if err != nil {
			t.Fatal(err)
		}
		testKey = k
	})
	return testKey
}

func TestEncryptDecryptRoundTrip(t *testing.T) {
	k := key(t)
	plain := bytes.Repeat([]byte(`{"name":"Erika Mustermann"}`), 100)
	for _, compress := range []bool{false, true} {
		jwe, err := Encrypt(plain, &k.PublicKey, "kid-1", "application/json", compress)
		if err != nil {
			t.Fatal(err)
		}
		if compress != strings.Contains(string(mustHeader(t, jwe)), `"zip":"DEF"`) {
			t.Errorf("compress=%v but header %s", compress, mustHeader(t, jwe))
		}
		got, tag, err := Decrypt(jwe, k)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, plain) || tag == "" || tag != AuthTag(jwe) {
			t.Errorf("round trip lost the content or the tag")
		}
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwe, _ := Encrypt(plain, &other.PublicKey, "x", "", false)
	if _, _, err := Decrypt(jwe, k); err == nil {
		t.Error("a JWE for another key decrypted")
	}
	if _, _, err := Decrypt("not a jwe", k); !errors.Is(err, ErrNotJWE) {
		t.Errorf("garbage: got %v, want ErrNotJWE", err)
	}
}

func mustHeader(t *testing.T, compact string) []byte {
	t.Helper()
	h, err := decodeSegment(strings.SplitN(compact, ".", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestEncryptionKeyRefusesWeakOrWrongKeys(t *testing.T) {
	k := key(t)
	if _, err := EncryptionKey(EncryptionJWK(k, "a")); err != nil {
		t.Errorf("good key refused: %v", err)
	}
	if _, err := EncryptionKey(SigningJWK(k, "a")); err == nil {
		t.Error("a signing key was taken for encryption")
	}
	small, _ := rsa.GenerateKey(rand.Reader, 2048)
	if _, err := EncryptionKey(EncryptionJWK(small, "b")); err == nil {
		t.Error("a 2048-bit key was taken")
	}
	b, err := json.Marshal(EncryptionJWK(k, "a"))
	if err != nil {
		t.Fatal(err)
	}
	var back PublicJWK
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"key_ops":["wrapKey"]`) || back.KeyOps[0] != "wrapKey" || back.KeyID != "a" {
		t.Errorf("JWK did not survive JSON: %s", b)
	}
}

func TestEventsSignedAndVerified(t *testing.T) {
	k := key(t)
	e := Event{ID: "j1", Issuer: "dest-1", SubmissionID: "s1", CaseID: "c1", Type: EventReject,
		IssuedAt: time.Unix(1700000000, 0).UTC(), Payload: EventPayload{Problems: []Problem{{Type: RejectHashMismatch, Title: "Hash"}}}}
	tok, err := SignEvent(e, k, "sig-1")
	if err != nil {
		t.Fatal(err)
	}
	keys := func(iss, kid string) (*rsa.PublicKey, error) {
		if iss != "dest-1" || kid != "sig-1" {
			return nil, errors.New("unknown")
		}
		return &k.PublicKey, nil
	}
	got, err := VerifyEvent(tok, keys)
	if err != nil {
		t.Fatal(err)
	}
	if got.Type != EventReject || got.SubmissionID != "s1" || got.CaseID != "c1" || got.Payload.Problems[0].Type != RejectHashMismatch || !got.IssuedAt.Equal(e.IssuedAt) {
		t.Errorf("got %+v", got)
	}
	parts := strings.Split(tok, ".")
	forged := parts[0] + "." + strings.TrimRight(parts[1], "A") + "B." + parts[2]
	if _, err := VerifyEvent(forged, keys); !errors.Is(err, ErrBadEvent) {
		t.Errorf("forged event: got %v", err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	if _, err := VerifyEvent(tok, func(string, string) (*rsa.PublicKey, error) { return &other.PublicKey, nil }); err == nil {
		t.Error("event verified with the wrong key")
	}
}

func TestMetadataCheck(t *testing.T) {
	h := Hash{Type: HashSHA512, Content: SHA512([]byte("x"))}
	good := Metadata{Schema: MetadataSchemaPrefix + "1.2.0/metadata.schema.json", ContentStructure: ContentStructure{
		Data:        &DataPart{SubmissionSchema: SchemaRef{SchemaURI: "urn:x", MimeType: "application/json"}, Hash: h},
		Attachments: []Attachment{{AttachmentID: "a", Purpose: "attachment", MimeType: "application/pdf", Hash: h}}}}
	tests := []struct {
		name   string
		modify func(m *Metadata)
		want   string
	}{
		{"good 1.x", func(*Metadata) {}, ""},
		{"good 2.x", func(m *Metadata) { m.Schema = MetadataSchemaPrefix + "2.1.0/metadata.schema.json" }, ""},
		{"unknown schema", func(m *Metadata) { m.Schema = MetadataSchemaPrefix + "9.0.0/metadata.schema.json" }, "/$schema"},
		{"2.x without data", func(m *Metadata) {
			m.Schema = MetadataSchemaPrefix + "2.0.0/metadata.schema.json"
			m.ContentStructure.Data = nil
		}, "/contentStructure/data"},
		{"short hash", func(m *Metadata) { m.ContentStructure.Data.Hash.Content = "abc" }, "/contentStructure/data/hash/content"},
		{"twice the same attachment", func(m *Metadata) {
			m.ContentStructure.Attachments = append(m.ContentStructure.Attachments, m.ContentStructure.Attachments[0])
		}, "/contentStructure/attachments/1/attachmentId"},
		{"bad purpose", func(m *Metadata) { m.ContentStructure.Attachments[0].Purpose = "x" }, "/contentStructure/attachments/0/purpose"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := json.Marshal(good)
			m, err := ParseMetadata(b)
			if err != nil {
				t.Fatal(err)
			}
			tt.modify(&m)
			probs := m.Check()
			if tt.want == "" && len(probs) > 0 {
				t.Fatalf("got %v, want none", probs)
			}
			if tt.want != "" && (len(probs) == 0 || probs[0].Pointer != tt.want) {
				t.Fatalf("got %v, want %s", probs, tt.want)
			}
		})
	}
	if !HashMatches(h, []byte("x")) || HashMatches(h, []byte("y")) {
		t.Error("HashMatches is wrong")
	}
}

func TestLoadOrCreateKeyKeepsTheKey(t *testing.T) {
	p := filepath.Join(t.TempDir(), "keys", "enc.pem")
	a, err := LoadOrCreateKey(p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreateKey(p)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Equal(b) || KeyID(&a.PublicKey) == "" || KeyID(&a.PublicKey) != KeyID(&b.PublicKey) {
		t.Error("the key changed between starts")
	}
}

// TestLoadOrCreateKeyAtOnce: processes making the same key at once end up
// with one key and one file, no temporary ones left.
func TestLoadOrCreateKeyAtOnce(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "enc.pem")
	var keys [2]*rsa.PrivateKey
	var errs [2]error
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() { keys[i], errs[i] = LoadOrCreateKey(p) })
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	if !keys[0].Equal(keys[1]) {
		t.Error("two starts at once made two keys")
	}
	kept, err := LoadKey(p)
	if err != nil || !kept.Equal(keys[0]) {
		t.Errorf("the file holds another key (%v)", err)
	}
	if files, _ := os.ReadDir(dir); len(files) != 1 {
		t.Errorf("files left: %v", files)
	}
}

// TestLoadKeyMissing: a missing key file is os.ErrNotExist, not made.
func TestLoadKeyMissing(t *testing.T) {
	p := filepath.Join(t.TempDir(), "enc.pem")
	if _, err := LoadKey(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want os.ErrNotExist", err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Error("LoadKey made the file")
	}
}

// decodeSegment decodes one base64url segment of a compact serialization.
func decodeSegment(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(s)
}

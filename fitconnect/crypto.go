package fitconnect

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// KeyBits is the RSA key size FIT-Connect requires for encryption and
// signature keys.
const KeyBits = 4096

// Algorithms FIT-Connect prescribes.
const (
	KeyAlgorithm      = jose.RSA_OAEP_256
	ContentEncryption = jose.A256GCM
	SignatureAlg      = jose.PS512
)

// SHA512 returns the hex sha512 of b, as metadata hashes carry it.
func SHA512(b []byte) string {
	sum := sha512.Sum512(b)
	return hex.EncodeToString(sum[:])
}

// HashMatches says whether b has the hash h, in constant time.
func HashMatches(h Hash, b []byte) bool {
	if h.Type != HashSHA512 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(h.Content)), []byte(SHA512(b))) == 1
}

// PublicJWK is a public key as the Submission API publishes it: an RSA JWK
// with its key_ops (wrapKey for encryption, verify for signatures).
type PublicJWK struct {
	jose.JSONWebKey
	KeyOps []string
}

// MarshalJSON writes the JWK with its key_ops, which go-jose does not know.
func (k PublicJWK) MarshalJSON() ([]byte, error) {
	b, err := k.JSONWebKey.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	m["key_ops"] = k.KeyOps
	return json.Marshal(m)
}

// UnmarshalJSON reads a JWK with its key_ops.
func (k *PublicJWK) UnmarshalJSON(b []byte) error {
	if err := k.JSONWebKey.UnmarshalJSON(b); err != nil {
		return err
	}
	var ops struct {
		KeyOps []string `json:"key_ops"`
	}
	if err := json.Unmarshal(b, &ops); err != nil {
		return err
	}
	k.KeyOps = ops.KeyOps
	return nil
}

// EncryptionJWK returns the public encryption key of priv under kid.
func EncryptionJWK(priv *rsa.PrivateKey, kid string) PublicJWK {
	return PublicJWK{JSONWebKey: jose.JSONWebKey{Key: &priv.PublicKey, KeyID: kid, Algorithm: string(KeyAlgorithm)}, KeyOps: []string{"wrapKey"}}
}

// SigningJWK returns the public signature key of priv under kid.
func SigningJWK(priv *rsa.PrivateKey, kid string) PublicJWK {
	return PublicJWK{JSONWebKey: jose.JSONWebKey{Key: &priv.PublicKey, KeyID: kid, Algorithm: string(SignatureAlg)}, KeyOps: []string{"verify"}}
}

// EncryptionKey checks that a published key may be used to encrypt to a
// destination (RSA, 4096 bits, key_ops wrapKey) and returns it.
func EncryptionKey(k PublicJWK) (*rsa.PublicKey, error) {
	pub, ok := k.Key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("key %s is not an RSA public key", k.KeyID)
	}
	if pub.N.BitLen() < KeyBits {
		return nil, fmt.Errorf("key %s has %d bits, FIT-Connect requires %d", k.KeyID, pub.N.BitLen(), KeyBits)
	}
	for _, op := range k.KeyOps {
		if op == "wrapKey" {
			return pub, nil
		}
	}
	return nil, fmt.Errorf("key %s is not meant for encryption (key_ops lacks wrapKey)", k.KeyID)
}

// Encrypt encrypts plain as a compact JWE to pub (RSA-OAEP-256, A256GCM),
// naming kid in the header; compress deflates the plaintext first (zip: DEF).
func Encrypt(plain []byte, pub *rsa.PublicKey, kid, contentType string, compress bool) (string, error) {
	opts := &jose.EncrypterOptions{}
	if compress {
		opts.Compression = jose.DEFLATE
	}
	if contentType != "" {
		opts.WithContentType(jose.ContentType(contentType))
	}
	enc, err := jose.NewEncrypter(ContentEncryption, jose.Recipient{Algorithm: KeyAlgorithm, Key: pub, KeyID: kid}, opts)
	if err != nil {
		return "", fmt.Errorf("encrypter: %w", err)
	}
	obj, err := enc.Encrypt(plain)
	if err != nil {
		return "", fmt.Errorf("encrypt: %w", err)
	}
	return obj.CompactSerialize()
}

// ErrNotJWE says that a part is not a compact JWE at all.
var ErrNotJWE = errors.New("not a compact JWE")

// Decrypt opens a compact JWE encrypted to priv with FIT-Connect's algorithms,
// inflating a DEFLATE-compressed plaintext. It also returns the JWE's
// authentication tag, which accept events carry.
func Decrypt(compact string, priv *rsa.PrivateKey) (plain []byte, authTag string, err error) {
	compact = strings.TrimSpace(compact)
	if strings.Count(compact, ".") != 4 {
		return nil, "", ErrNotJWE
	}
	obj, err := jose.ParseEncryptedCompact(compact, []jose.KeyAlgorithm{KeyAlgorithm}, []jose.ContentEncryption{ContentEncryption})
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrNotJWE, err)
	}
	plain, err = obj.Decrypt(priv)
	if err != nil {
		return nil, "", fmt.Errorf("decrypt: %w", err)
	}
	return plain, AuthTag(compact), nil
}

// AuthTag returns the authentication tag (the last segment) of a compact JWE.
func AuthTag(compact string) string {
	i := strings.LastIndexByte(compact, '.')
	if i < 0 {
		return ""
	}
	return compact[i+1:]
}

// LoadKey reads an RSA private key from a PEM file (PKCS #8). A missing
// file is an error that matches os.ErrNotExist.
func LoadKey(path string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key %s: %w", path, err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("key file %s holds no PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key file %s holds no RSA key", path)
	}
	return rk, nil
}

// LoadOrCreateKey reads an RSA private key from a PEM file, or makes a new
// one (KeyBits) and keeps it there when the file does not exist. The new
// file appears whole or not at all: it is written under a unique name in
// the same directory and linked into place, which fails when another
// process was first; then that process's key is read, so processes
// starting at once end up with one key.
func LoadOrCreateKey(path string) (*rsa.PrivateKey, error) {
	rk, err := LoadKey(path)
	if !errors.Is(err, os.ErrNotExist) {
		return rk, err
	}
	if rk, err = rsa.GenerateKey(rand.Reader, KeyBits); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(rk)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("key directory: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("write key %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write key %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("write key %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, os.ErrExist) {
		return LoadKey(path)
	} else if err != nil {
		return nil, fmt.Errorf("write key %s: %w", path, err)
	}
	return rk, nil
}

// KeyID derives a stable key ID from a public key (its JWK thumbprint).
func KeyID(pub *rsa.PublicKey) string {
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return ""
	}
	return hex.EncodeToString(tp[:16])
}

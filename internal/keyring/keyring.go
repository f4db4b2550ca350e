// Package keyring derives ozgflow's encryption keys from the configured
// secret and its previous values. The Temporal payload codec and the
// records database encrypt with the same ring: the current key encrypts,
// every key of the ring decrypts what carries its ID, so the secret can be
// rotated while cases are open and documents are kept.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// MinSecretBytes is the shortest secret a key is derived from.
const MinSecretBytes = 16

// Ring holds the current key and the previous ones, by key ID.
type Ring struct {
	current string
	keys    map[string]cipher.AEAD
}

// New derives the ring from the current secret and previous secrets.
func New(secret []byte, previous ...[]byte) (*Ring, error) {
	r := &Ring{keys: map[string]cipher.AEAD{}}
	for i, s := range append([][]byte{secret}, previous...) {
		id, aead, err := derive(s)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			r.current = id
		}
		if _, known := r.keys[id]; !known {
			r.keys[id] = aead
		}
	}
	return r, nil
}

// derive makes an AES-256-GCM key and its ID from a secret.
func derive(secret []byte) (string, cipher.AEAD, error) {
	if len(secret) < MinSecretBytes {
		return "", nil, fmt.Errorf("encryption secret must be at least %d bytes", MinSecretBytes)
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

// Current is the ID of the key new data is encrypted with.
func (r *Ring) Current() string { return r.current }

// Knows reports whether the ring holds the key with this ID.
func (r *Ring) Knows(keyID string) bool { _, ok := r.keys[keyID]; return ok }

// Seal encrypts plain with the current key; the result starts with a
// random nonce. It returns the key ID to keep beside the sealed bytes.
func (r *Ring) Seal(plain []byte) (keyID string, sealed []byte, err error) {
	aead := r.keys[r.current]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", nil, err
	}
	return r.current, aead.Seal(nonce, nonce, plain, nil), nil
}

// Open decrypts what Seal made with the key of keyID.
func (r *Ring) Open(keyID string, sealed []byte) ([]byte, error) {
	aead, ok := r.keys[keyID]
	if !ok {
		return nil, fmt.Errorf("encrypted with key %s, which is not among this process's keys (current %s; previous secrets go into OZGFLOW_PREVIOUS_SECRETS)", keyID, r.current)
	}
	n := aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("encrypted data too short")
	}
	plain, err := aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	return plain, nil
}

package oidctest

import (
	"crypto/rsa"

	jose "github.com/go-jose/go-jose/v4"
)

// signingKey is the RSA key, made at Start, that signs ID and access tokens.
type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.key }
func (k signingKey) ID() string                                  { return k.id }

// publicKey is the signing key's public half, published at the JWKS endpoint.
type publicKey struct{ signing signingKey }

func (k publicKey) ID() string                         { return k.signing.id }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return k.signing.SignatureAlgorithm() }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.signing.key.PublicKey }

package connector

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// sealVersion prefixes every sealed value, so that the format can change.
const sealVersion = 1

// Sealer encrypts connector secrets (headers, credentials) with AES-256-GCM
// before they are stored. The database never holds them in clear.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer derives a 256-bit key from secret (SHA-256 of it: any string of
// enough entropy works, such as 32 random bytes in base64).
func NewSealer(secret string) (*Sealer, error) {
	if len(secret) < 16 {
		return nil, errors.New("connector: the secret key must be at least 16 characters")
	}
	key := sha256.Sum256([]byte(secret))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, fmt.Errorf("connector: cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("connector: cipher: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// NewKey returns a fresh random key in base64 (for a generated secret).
func NewKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// Seal encrypts plain; additional binds the ciphertext to its owner (the
// connector or credential it belongs to), so a sealed value copied onto
// another row does not open.
func (s *Sealer) Seal(plain []byte, additional string) []byte {
	if len(plain) == 0 {
		return nil
	}
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := append([]byte{sealVersion}, nonce...)
	return s.aead.Seal(out, nonce, plain, []byte(additional))
}

// Open decrypts a value made by Seal with the same additional data.
func (s *Sealer) Open(sealed []byte, additional string) ([]byte, error) {
	if len(sealed) == 0 {
		return nil, nil
	}
	n := s.aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != sealVersion {
		return nil, errors.New("connector: sealed secret has an unknown format")
	}
	plain, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(additional))
	if err != nil {
		return nil, errors.New("connector: cannot decrypt a stored secret (was TRAMONTANE_SECRET_KEY changed?)")
	}
	return plain, nil
}

package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"slices"
	"strings"
)

// verificationKey is one key a token may be verified with, and the
// algorithms it may be used with. A key is never used with an algorithm
// of another family: that is what stops HS256-signed-with-the-RSA-public-
// key (key confusion) and alg "none".
type verificationKey struct {
	id string
	// key is []byte (HMAC), *rsa.PublicKey, *ecdsa.PublicKey or
	// ed25519.PublicKey.
	key  any
	algs map[string]bool
	// issuers are the issuers the key signs for; empty: any.
	issuers []string
}

// signsFor reports whether the key may verify a token of issuer iss.
func (k *verificationKey) signsFor(iss string) bool {
	return len(k.issuers) == 0 || slices.Contains(k.issuers, iss)
}

// allows reports whether the key verifies alg.
func (k *verificationKey) allows(alg string) bool { return k.algs[alg] }

// algorithmsFor lists the algorithms a key of this type can verify.
// Symmetric keys only verify HS*; asymmetric keys never do.
func algorithmsFor(key any) []string {
	switch k := key.(type) {
	case []byte:
		return []string{"HS256", "HS384", "HS512"}
	case *rsa.PublicKey:
		return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return []string{"ES256"}
		case elliptic.P384():
			return []string{"ES384"}
		}
	case ed25519.PublicKey:
		return []string{"EdDSA"}
	}
	return nil
}

// newVerificationKey checks that every algorithm of allow fits the key
// type; an empty allow takes every algorithm of the type (for a
// symmetric key from a JWKS, only when allowed explicitly).
func newVerificationKey(id string, key any, allow []string, jwkAlg string) (*verificationKey, error) {
	fit := algorithmsFor(key)
	if len(fit) == 0 {
		return nil, errors.New("unsupported key type")
	}
	fits := map[string]bool{}
	for _, a := range fit {
		fits[a] = true
	}
	k := &verificationKey{id: id, key: key, algs: map[string]bool{}}
	if len(allow) == 0 {
		allow = fit
	}
	for _, a := range allow {
		if fits[a] && (jwkAlg == "" || jwkAlg == a) {
			k.algs[a] = true
		}
	}
	if len(k.algs) == 0 {
		return nil, fmt.Errorf("the key cannot verify any allowed algorithm (%s)", strings.Join(allow, ", "))
	}
	return k, nil
}

// loadKey builds the key of a configuration entry.
func loadKey(c KeyConfig) (*verificationKey, error) {
	switch {
	case c.Secret != "":
		return newVerificationKey(c.KID, []byte(c.Secret), c.Algorithms, "")
	case c.PEM != "" || c.PEMFile != "":
		data := []byte(c.PEM)
		if c.PEMFile != "" {
			b, err := os.ReadFile(c.PEMFile)
			if err != nil {
				return nil, fmt.Errorf("pem_file: %w", err)
			}
			data = b
		}
		key, err := parsePEM(data)
		if err != nil {
			return nil, err
		}
		return newVerificationKey(c.KID, key, c.Algorithms, "")
	default:
		data := []byte(c.JWK)
		if c.JWKFile != "" {
			b, err := os.ReadFile(c.JWKFile)
			if err != nil {
				return nil, fmt.Errorf("jwk_file: %w", err)
			}
			data = b
		}
		var j jwk
		if err := json.Unmarshal(data, &j); err != nil {
			return nil, fmt.Errorf("jwk: not a JSON Web Key: %w", err)
		}
		key, err := j.publicKey(true)
		if err != nil {
			return nil, fmt.Errorf("jwk: %w", err)
		}
		id := c.KID
		if id == "" {
			id = j.Kid
		}
		return newVerificationKey(id, key, c.Algorithms, j.Alg)
	}
}

// parsePEM reads a public key (PKIX or PKCS#1) or a certificate's key.
func parsePEM(data []byte) (any, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("pem: no PEM block found")
	}
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("pem: %w", err)
		}
		return k, nil
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("pem: %w", err)
		}
		return k, nil
	case "CERTIFICATE":
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("pem: %w", err)
		}
		return cert.PublicKey, nil
	}
	return nil, fmt.Errorf("pem: a %q block is not a public key (private keys are refused)", block.Type)
}

// jwk is a JSON Web Key (RFC 7517, 7518, 8037): the members needed to
// build a verification key.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	// RSA
	N string `json:"n"`
	E string `json:"e"`
	// EC and OKP
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	// oct
	K string `json:"k"`
	// D is a private member: a JWK carrying it is refused, so a private
	// key pasted by mistake is never held in memory as a verifier.
	D string `json:"d"`
}

func b64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// publicKey builds the key; symmetric keys ("oct") only when allowOct.
func (j *jwk) publicKey(allowOct bool) (any, error) {
	if j.D != "" {
		return nil, errors.New("a private key is not accepted")
	}
	switch j.Kty {
	case "RSA":
		n, err1 := b64(j.N)
		e, err2 := b64(j.E)
		if err1 != nil || err2 != nil || len(n) == 0 || len(e) == 0 || len(e) > 4 {
			return nil, errors.New("malformed RSA key")
		}
		exp := int(new(big.Int).SetBytes(e).Int64())
		if len(n) < 256 {
			return nil, errors.New("RSA keys shorter than 2048 bits are refused")
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}, nil
	case "EC":
		var curve elliptic.Curve
		switch j.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		default:
			return nil, fmt.Errorf("unsupported curve %q", j.Crv)
		}
		x, err1 := b64(j.X)
		y, err2 := b64(j.Y)
		if err1 != nil || err2 != nil {
			return nil, errors.New("malformed EC key")
		}
		size := (curve.Params().BitSize + 7) / 8
		if len(x) != size || len(y) != size {
			return nil, errors.New("malformed EC key")
		}
		// A point that is not on the curve is refused.
		raw := append(append([]byte{4}, x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, raw)
		if err != nil {
			return nil, errors.New("the EC point is not on the curve")
		}
		return pub, nil
	case "OKP":
		if j.Crv != "Ed25519" {
			return nil, fmt.Errorf("unsupported curve %q", j.Crv)
		}
		x, err := b64(j.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, errors.New("malformed Ed25519 key")
		}
		return ed25519.PublicKey(x), nil
	case "oct":
		if !allowOct {
			return nil, errors.New("symmetric keys are not accepted from a key set")
		}
		k, err := b64(j.K)
		if err != nil || len(k) < 32 {
			return nil, errors.New("an HMAC key must be at least 32 bytes")
		}
		return k, nil
	}
	return nil, fmt.Errorf("unsupported key type %q", j.Kty)
}

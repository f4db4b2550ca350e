// Package fitconnecttest gives tests the FIT-Connect keys they need without
// making new ones each time: a 4096-bit key takes seconds to make, so the
// keys are kept in the machine's temporary directory and shared by every
// test binary.
package fitconnecttest

import (
	"crypto/rsa"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ozgflow/ozgflow/fitconnect"
	"github.com/ozgflow/ozgflow/fitconnect/submissionapi"
)

var (
	once sync.Once
	keys [3]*rsa.PrivateKey
	err  error
)

// Dir is where the shared test keys are kept.
func Dir() string { return filepath.Join(os.TempDir(), "ozgflow-fitconnect-test-keys") }

// Keys returns the API's signing key and a destination's keys.
func Keys(t testing.TB) (*rsa.PrivateKey, submissionapi.Keys) {
	t.Helper()
	once.Do(func() {
		for i, name := range []string{"api-signature.pem", "destination-encryption.pem", "destination-signature.pem"} {
			if keys[i], err = fitconnect.LoadOrCreateKey(filepath.Join(Dir(), name)); err != nil {
				return
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys[0], submissionapi.Keys{Encryption: keys[1], Signature: keys[2]}
}

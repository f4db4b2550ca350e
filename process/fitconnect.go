package process

import (
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
	"github.com/ozgflow/ozgflow/fitconnect"
	"github.com/ozgflow/ozgflow/fitconnect/submissionapi"
	"github.com/ozgflow/ozgflow/gateway/intake"
)

// The FIT-Connect sender that `dev` knows (and no other process does).
const (
	DevFITConnectClient = "dev-fitconnect"
	DevFITConnectSecret = "dev-fitconnect-secret"
)

// fitConnectClients parses OZGFLOW_FITCONNECT_CLIENTS: id=secret pairs,
// comma-separated.
func (c Config) fitConnectClients() (map[string]string, error) {
	out := map[string]string{}
	for _, pair := range strings.Split(c.FITConnectClients, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		id, secret, ok := strings.Cut(strings.TrimSpace(pair), "=")
		id, secret = strings.TrimSpace(id), strings.TrimSpace(secret)
		if !ok || id == "" || secret == "" {
			return nil, fmt.Errorf("OZGFLOW_FITCONNECT_CLIENTS: %q: want client-id=secret, comma-separated", pair)
		}
		if _, dup := out[id]; dup {
			return nil, fmt.Errorf("OZGFLOW_FITCONNECT_CLIENTS: client %s is listed twice", id)
		}
		out[id] = secret
	}
	return out, nil
}

// fitConnectSecrets are the configured clients' secrets, named for
// refuseKnownSecrets.
func (c Config) fitConnectSecrets() []namedSecret {
	clients, _ := c.fitConnectClients()
	ids := make([]string, 0, len(clients))
	for id := range clients {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []namedSecret
	for _, id := range ids {
		out = append(out, namedSecret{name: "OZGFLOW_FITCONNECT_CLIENTS (client " + id + ")", value: clients[id]})
	}
	return out
}

// validateFITConnect checks the clients, and that a gateway serving them
// knows where its keys are.
func (c Config) validateFITConnect(process string) []error {
	clients, err := c.fitConnectClients()
	if err != nil {
		return []error{err}
	}
	if process == "gateway" && len(clients) > 0 && c.FITConnectKeysDir == "" {
		return []error{errors.New("OZGFLOW_FITCONNECT_KEYS_DIR is required with OZGFLOW_FITCONNECT_CLIENTS: " +
			"the destinations' keys are kept there, the same for every gateway")}
	}
	return nil
}

// fitConnectKeyFiles are the files of the key directory: the Submission
// API's signature key, the destinations' encryption and signature keys.
var fitConnectKeyFiles = []string{"api-signature.pem", "destination-encryption.pem", "destination-signature.pem"}

// fitConnect is the FIT-Connect intake's configuration: in `dev` always,
// with the dev sender and keys in the data directory; elsewhere when
// OZGFLOW_FITCONNECT_CLIENTS names senders (nil otherwise). In `dev`, keys
// missing from the key directory are made (RSA-4096, which takes seconds)
// and kept; elsewhere they are refused, naming the files: gateways made
// their own keys each, and senders would encrypt to a key another gateway
// does not have.
func (c Config) fitConnect(dev bool) (*intake.Config, []definitions.FITConnectDestination, error) {
	dests, err := definitions.LoadFITConnectDestinations(catalog.FS)
	if err != nil {
		return nil, nil, err
	}
	clients, err := c.fitConnectClients()
	if err != nil {
		return nil, nil, err
	}
	dir := c.FITConnectKeysDir
	if dev {
		clients[DevFITConnectClient] = DevFITConnectSecret
		if dir == "" {
			dir = filepath.Join(c.DataDir, "fitconnect")
		}
	}
	if len(clients) == 0 {
		return nil, dests, nil
	}
	load := fitconnect.LoadKey
	if dev {
		load = fitconnect.LoadOrCreateKey
	}
	var (
		keys    [3]*rsa.PrivateKey
		missing []string
	)
	for i, name := range fitConnectKeyFiles {
		keys[i], err = load(filepath.Join(dir, name))
		switch {
		case errors.Is(err, os.ErrNotExist):
			missing = append(missing, name)
		case err != nil:
			return nil, nil, fmt.Errorf("OZGFLOW_FITCONNECT_KEYS_DIR: %w", err)
		}
	}
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("OZGFLOW_FITCONNECT_KEYS_DIR (%s) lacks %s: every gateway must use the same keys, "+
			"so only dev makes them; create each once with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out %s/FILE` "+
			"(see the README's \"FIT-Connect intake\") and give every gateway that directory",
			dir, strings.Join(missing, ", "), dir)
	}
	mac := hmac.New(sha256.New, []byte(c.Secret))
	mac.Write([]byte("fit-connect access tokens"))
	return &intake.Config{Clients: clients, TokenSecret: mac.Sum(nil), SigningKey: keys[0],
		Keys: submissionapi.Keys{Encryption: keys[1], Signature: keys[2]}, PublicURL: c.PublicURL}, dests, nil
}

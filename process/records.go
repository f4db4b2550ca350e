package process

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/ozgflow/ozgflow/internal/keyring"
	"github.com/ozgflow/ozgflow/records"
)

// recordsURL is where the records database is: OZGFLOW_RECORDS_URL, or in
// dev a SQLite file in the data directory.
func (c Config) recordsURL(process string) string {
	if c.RecordsURL == "" && process == "dev" {
		return filepath.Join(c.DataDir, "records.db")
	}
	return c.RecordsURL
}

// keyRing is the key ring of OZGFLOW_SECRET and OZGFLOW_PREVIOUS_SECRETS,
// which the payload codec and the records database share.
func (c Config) keyRing() (*keyring.Ring, error) {
	ring, err := keyring.New([]byte(c.Secret), c.previousSecretKeys()...)
	if err != nil {
		return nil, fmt.Errorf("OZGFLOW_SECRET: %w", err)
	}
	return ring, nil
}

// openRecords opens the records database of the process and applies its
// migrations; stops gets what closes it.
func openRecords(ctx context.Context, cfg Config, process string, stops *closers) (*records.DB, error) {
	ring, err := cfg.keyRing()
	if err != nil {
		return nil, err
	}
	db, err := records.Open(ctx, cfg.recordsURL(process), ring)
	if err != nil {
		return nil, fmt.Errorf("OZGFLOW_RECORDS_URL: %w", err)
	}
	stops.add(db.Close)
	return db, nil
}

// RotateKeys encrypts every document and closed-case record kept under a
// previous secret again with the current one, so that the previous secret
// can leave OZGFLOW_PREVIOUS_SECRETS; it returns how many it re-encrypted.
func RotateKeys(ctx context.Context, cfg Config) (int, error) {
	if cfg.Secret == "" {
		return 0, fmt.Errorf("OZGFLOW_SECRET is required: documents are encrypted again with it")
	}
	var stops closers
	defer stops.closeAll()
	db, err := openRecords(ctx, cfg, "rotate-keys", &stops)
	if err != nil {
		return 0, err
	}
	total := 0
	for {
		n, err := db.RotateKeys(ctx, 500)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

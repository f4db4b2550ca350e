package definitions

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/google/uuid"
	"gopkg.in/yaml.v3"
)

// FITConnectFile lists the catalog's FIT-Connect destinations.
const FITConnectFile = "fitconnect.yaml"

// FITConnectDestination is a destination online services deliver to over
// FIT-Connect: its ID, and the service and authority whose published
// variant takes what arrives there.
type FITConnectDestination struct {
	ID        string `json:"destinationId" yaml:"destinationId"`
	Service   string `json:"service" yaml:"service"`
	Authority string `json:"authority" yaml:"authority"`
}

// LoadFITConnectDestinations reads FITConnectFile from the catalog; a
// catalog without one has no destinations. Every destination needs a UUID,
// a LeiKa key and an ARS; an ID or a (service, authority) given twice is an
// error.
func LoadFITConnectDestinations(fsys fs.FS) ([]FITConnectDestination, error) {
	b, err := fs.ReadFile(fsys, FITConnectFile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var out []FITConnectDestination
	if err := yaml.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", FITConnectFile, err)
	}
	ids, variants := map[string]bool{}, map[string]bool{}
	for i, d := range out {
		if _, err := uuid.Parse(d.ID); err != nil {
			return nil, fmt.Errorf("%s: destination %d: destinationId %q is no UUID", FITConnectFile, i+1, d.ID)
		}
		if !leikaPattern.MatchString(d.Service) || !arsPattern.MatchString(d.Authority) {
			return nil, fmt.Errorf("%s: destination %s: service must be a 14-digit LeiKa key and authority a 12-digit ARS", FITConnectFile, d.ID)
		}
		if ids[d.ID] || variants[d.Service+"/"+d.Authority] {
			return nil, fmt.Errorf("%s: destination %s: its ID or its service and authority are listed twice", FITConnectFile, d.ID)
		}
		ids[d.ID], variants[d.Service+"/"+d.Authority] = true, true
	}
	return out, nil
}

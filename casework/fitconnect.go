package casework

import (
	"fmt"

	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/fitconnect"
)

// FITConnectDestination is a FIT-Connect destination as administrators and
// senders see it: its ID, the service and authority it delivers to, and,
// while their variant is published, the schema its data must follow.
type FITConnectDestination struct {
	DestinationID string `json:"destinationId"`
	// Service is the LeiKa key; ServiceIdentifier the URN senders name.
	Service           string `json:"service"`
	ServiceIdentifier string `json:"serviceIdentifier"`
	ServiceName       string `json:"serviceName,omitempty"`
	Authority         string `json:"authority"`
	AuthorityName     string `json:"authorityName,omitempty"`
	// SchemaURI is the $id of the variant's data schema
	// (submissionSchema.schemaUri); empty while no variant is published.
	SchemaURI string `json:"schemaUri,omitempty"`
	// Definition is the published variant, e.g. gewerbeanmeldung-leipzig@1.
	Definition string `json:"definition,omitempty"`
	// Status is active while the variant is published, inactive otherwise.
	Status string `json:"status"`
}

// FITConnectDestinations lists every configured destination with the
// variant that takes its submissions now, in the order configured.
func (s *Service) FITConnectDestinations() []FITConnectDestination {
	out := make([]FITConnectDestination, 0, len(s.Destinations))
	for _, d := range s.Destinations {
		view, _, _ := s.FITConnectDestination(d.ID)
		out = append(out, view)
	}
	return out
}

// FITConnectDestination returns a destination and the published variant
// that takes its submissions; false for an unknown ID. A destination whose
// variant is not published is inactive, with a zero definition.
func (s *Service) FITConnectDestination(id string) (FITConnectDestination, definitions.Definition, bool) {
	for _, d := range s.Destinations {
		if d.ID != id {
			continue
		}
		view := FITConnectDestination{DestinationID: d.ID, Service: d.Service, ServiceIdentifier: fitconnect.ServiceURN(d.Service),
			Authority: d.Authority, Status: fitconnect.DestinationInactive}
		reg := s.Defs.Registry()
		if a, ok := reg.Authority(d.Authority); ok {
			view.AuthorityName = a.Name
		}
		def, err := reg.Resolve(d.Service, d.Authority)
		if err != nil {
			return view, definitions.Definition{}, true
		}
		view.ServiceName, view.SchemaURI, view.Status = def.Name, def.SchemaURI(), fitconnect.DestinationActive
		view.Definition = fmt.Sprintf("%s@%d", def.ID, def.Version)
		return view, def, true
	}
	return FITConnectDestination{}, definitions.Definition{}, false
}

package fitconnect

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow/fitconnect"
	"github.com/ozgflow/ozgflow/fitconnect/submissionapi"
)

// SandboxPath is where the sandbox destination serves the Submission API
// (its token endpoint at SandboxPath+"/token", the API at
// SandboxPath+"/v1") and its own pages: SandboxPath+"/received" lists what
// arrived, SandboxPath+"/reject" says how many of the next submissions it
// rejects.
const SandboxPath = "/sandbox/fitconnect"

// SandboxDestination is one destination the sandbox plays: the services it
// takes by LeiKa key, each with the schema URIs it understands.
type SandboxDestination struct {
	ID       string
	Services map[string][]string // LeiKa key → schema URIs
}

// SandboxConfig is what the sandbox destination needs.
type SandboxConfig struct {
	// BaseURL is where senders reach the sandbox's routes (ending in
	// SandboxPath); it names the API in the events it signs.
	BaseURL string
	// ClientID and ClientSecret are the sender's credentials.
	ClientID, ClientSecret string
	// KeyDir keeps the sandbox's RSA keys across restarts; Keys and
	// SigningKey, if set, are used instead.
	KeyDir     string
	Keys       submissionapi.Keys
	SigningKey *rsa.PrivateKey
	// Destinations are the destinations it plays.
	Destinations []SandboxDestination
	// RejectNext is how many submissions it rejects before it accepts
	// again (OZGFLOW_FITCONNECT_SANDBOX_REJECT in dev).
	RejectNext int
	Logger     *slog.Logger
}

// Arrival is what the sandbox destination received: the submission's IDs,
// service and schema, the sender's reference, the data, and the
// attachments with their sizes and checked hashes, and its answer.
type Arrival struct {
	SubmissionID    string               `json:"submissionId"`
	CaseID          string               `json:"caseId"`
	DestinationID   string               `json:"destinationId"`
	Service         string               `json:"service"`
	SchemaURI       string               `json:"schemaUri"`
	SenderReference string               `json:"senderReference"`
	ApplicationDate string               `json:"applicationDate"`
	Payment         string               `json:"payment,omitempty"` // payment status, if any
	Data            json.RawMessage      `json:"data"`
	Attachments     []ArrivedAttachment  `json:"attachments"`
	Accepted        bool                 `json:"accepted"`
	Problems        []fitconnect.Problem `json:"problems,omitempty"`
	At              time.Time            `json:"at"`
}

// ArrivedAttachment is one attachment as the sandbox decrypted it.
type ArrivedAttachment struct {
	ID       string `json:"attachmentId"`
	Filename string `json:"filename"`
	MimeType string `json:"mimeType"`
	Size     int    `json:"size"`
	SHA512   string `json:"sha512"`
}

// Sandbox is a FIT-Connect destination for dev and tests: the Submission
// API server, which decrypts and checks every hash, and a receiver that
// records what arrived and rejects as many of the next submissions as it
// is told to. Its keys are loaded (or made, which takes seconds) at its
// first request, so that a process that never delivers over FIT-Connect
// pays nothing for it.
type Sandbox struct {
	cfg SandboxConfig

	once    sync.Once
	api     *submissionapi.Server
	handler http.Handler
	err     error

	mu         sync.Mutex
	arrivals   []Arrival
	rejectNext int
}

// NewSandbox returns the sandbox destination; it checks the configuration
// now and starts the API at its first request.
func NewSandbox(cfg SandboxConfig) (*Sandbox, error) {
	if cfg.ClientID == "" || len(cfg.ClientSecret) < 8 {
		return nil, errors.New("fitconnect sandbox: a client ID and a secret of at least 8 characters are required")
	}
	if (cfg.Keys.Encryption == nil || cfg.Keys.Signature == nil || cfg.SigningKey == nil) && cfg.KeyDir == "" {
		return nil, errors.New("fitconnect sandbox: no keys and no key directory")
	}
	return &Sandbox{cfg: cfg, rejectNext: cfg.RejectNext}, nil
}

// start loads the keys and builds the Submission API server, once.
func (s *Sandbox) start() error {
	s.once.Do(func() {
		cfg := s.cfg
		keys, signing := cfg.Keys, cfg.SigningKey
		if keys.Encryption == nil || keys.Signature == nil || signing == nil {
			for _, k := range []struct {
				into **rsa.PrivateKey
				file string
			}{{&keys.Encryption, "encryption.pem"}, {&keys.Signature, "signature.pem"}, {&signing, "api-signature.pem"}} {
				if *k.into, s.err = fitconnect.LoadOrCreateKey(filepath.Join(cfg.KeyDir, k.file)); s.err != nil {
					return
				}
			}
		}
		dests := sandboxDestinations{}
		for _, d := range cfg.Destinations {
			dest := fitconnect.Destination{DestinationID: d.ID, Status: fitconnect.DestinationActive}
			leikas := make([]string, 0, len(d.Services))
			for leika := range d.Services {
				leikas = append(leikas, leika)
			}
			sort.Strings(leikas)
			for _, leika := range leikas {
				ds := fitconnect.DestinationService{Identifier: fitconnect.ServiceURN(leika)}
				for _, uri := range d.Services[leika] {
					ds.SubmissionSchemas = append(ds.SubmissionSchemas, fitconnect.SchemaRef{SchemaURI: uri, MimeType: "application/json"})
				}
				dest.Services = append(dest.Services, ds)
			}
			dests[d.ID] = dest
		}
		s.api, s.err = submissionapi.New(submissionapi.Config{
			Issuer: cfg.BaseURL, Clients: map[string]string{cfg.ClientID: cfg.ClientSecret},
			TokenSecret: []byte("fitconnect-sandbox:" + cfg.ClientSecret), SigningKey: signing, Keys: keys,
			Destinations: dests, Store: submissionapi.NewMemoryStore(), Receiver: submissionapi.ReceiverFunc(s.receive),
			Logger: cfg.Logger,
		})
		if s.err == nil {
			s.handler = s.api.Handler(SandboxPath)
		}
	})
	return s.err
}

type sandboxDestinations map[string]fitconnect.Destination

func (d sandboxDestinations) Destination(_ context.Context, id string) (fitconnect.Destination, bool, error) {
	dest, ok := d[id]
	return dest, ok, nil
}

// receive records a checked submission and accepts it, unless it is one
// of those it was told to reject. The same submission again gets the
// same answer.
func (s *Sandbox) receive(_ context.Context, r submissionapi.Received) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.arrivals {
		if a.SubmissionID == r.Submission.ID {
			if a.Accepted {
				return nil
			}
			return submissionapi.Reject(a.Problems...)
		}
	}
	a := Arrival{SubmissionID: r.Submission.ID, CaseID: r.Submission.CaseID, DestinationID: r.Submission.DestinationID,
		Data: json.RawMessage(r.Data), Attachments: []ArrivedAttachment{}, Accepted: true, At: time.Now().UTC()}
	if st := r.Metadata.PublicServiceType; st != nil {
		a.Service = st.Identifier
	}
	if d := r.Metadata.ContentStructure.Data; d != nil {
		a.SchemaURI = d.SubmissionSchema.SchemaURI
	}
	if ri := r.Metadata.AdditionalReferenceInfo; ri != nil {
		a.SenderReference, a.ApplicationDate = ri.SenderReference, ri.ApplicationDate
	}
	if p := r.Metadata.PaymentInformation; p != nil {
		a.Payment = p.Status
	}
	if !json.Valid(r.Data) {
		a.Data = nil
	}
	for _, att := range r.Attachments {
		a.Attachments = append(a.Attachments, ArrivedAttachment{ID: att.AttachmentID, Filename: att.Filename,
			MimeType: att.MimeType, Size: len(att.Content), SHA512: fitconnect.SHA512(att.Content)})
	}
	if s.rejectNext > 0 {
		s.rejectNext--
		a.Accepted = false
		a.Problems = []fitconnect.Problem{{Type: fitconnect.RejectContentNotAccepted, Title: "Inhalt nicht angenommen",
			Detail: "Die Sandbox-Empfangsstelle lehnt diese Einreichung ab, wie eingestellt.", Instance: "/data"}}
	}
	s.arrivals = append(s.arrivals, a)
	if !a.Accepted {
		return submissionapi.Reject(a.Problems...)
	}
	return nil
}

// Arrivals returns what the sandbox received, oldest first.
func (s *Sandbox) Arrivals() []Arrival {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Arrival(nil), s.arrivals...)
}

// RejectNext has the sandbox reject the next n submissions.
func (s *Sandbox) RejectNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejectNext = max(n, 0)
}

// Register serves the Submission API and the sandbox's own routes on r
// under SandboxPath.
func (s *Sandbox) Register(r *mux.Router) {
	r.HandleFunc(SandboxPath+"/received", s.handleReceived).Methods(http.MethodGet)
	r.HandleFunc(SandboxPath+"/reject", s.handleReject).Methods(http.MethodGet, http.MethodPut)
	r.PathPrefix(SandboxPath + "/").HandlerFunc(s.serveAPI)
}

// serveAPI serves the Submission API, starting it at the first request.
func (s *Sandbox) serveAPI(w http.ResponseWriter, r *http.Request) {
	if err := s.start(); err != nil {
		if s.cfg.Logger != nil {
			s.cfg.Logger.Error("FIT-Connect sandbox destination does not start", "error", err)
		}
		submissionapi.WriteProblem(w, http.StatusServiceUnavailable, fitconnect.Problem{Type: "about:blank",
			Title: "Service Unavailable", Detail: "The sandbox destination's keys are not available."})
		return
	}
	s.handler.ServeHTTP(w, r)
}

// handleReceived lists what arrived, for one sender reference
// (?reference=, the case number) or all.
func (s *Sandbox) handleReceived(w http.ResponseWriter, r *http.Request) {
	ref := r.URL.Query().Get("reference")
	out := []Arrival{}
	for _, a := range s.Arrivals() {
		if ref == "" || a.SenderReference == ref {
			out = append(out, a)
		}
	}
	writeSandboxJSON(w, http.StatusOK, out)
}

// rejectSetting is the body and answer of SandboxPath+"/reject".
type rejectSetting struct {
	Next int `json:"next"`
}

// handleReject reads (GET) or sets (PUT {"next": n}) how many of the next
// submissions the sandbox rejects.
func (s *Sandbox) handleReject(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPut {
		var set rejectSetting
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1024)).Decode(&set); err != nil || set.Next < 0 {
			writeSandboxJSON(w, http.StatusBadRequest, map[string]string{"error": `want {"next": n} with n ≥ 0`})
			return
		}
		s.RejectNext(set.Next)
	}
	s.mu.Lock()
	n := s.rejectNext
	s.mu.Unlock()
	writeSandboxJSON(w, http.StatusOK, rejectSetting{Next: n})
}

func writeSandboxJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

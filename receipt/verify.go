package receipt

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/locale"
)

// Verdict is the outcome of checking a receipt.
type Verdict string

// Verdicts of Verify.
const (
	// Valid: sealed with one of our keys and unchanged.
	Valid Verdict = "valid"
	// Tampered: the seal names one of our keys but does not match the
	// content, or a PDF's embedded seal differs from the printed one.
	Tampered Verdict = "tampered"
	// Unknown: no seal found, a broken one, or one made with a key that is
	// not ours; nothing can be said about the receipt.
	Unknown Verdict = "unknown"
)

// Reasons behind a verdict, for programs; people read Message.
const (
	ReasonSealed          = "sealed"           // valid
	ReasonSignature       = "signature"        // tampered: the signature does not match the content
	ReasonMismatch        = "mismatch"         // tampered: embedded and printed seal differ
	ReasonContent         = "content"          // tampered: the printed content differs from the case's receipt
	ReasonNoSeal          = "no-seal"          // unknown: nothing that looks like a seal
	ReasonMalformed       = "malformed"        // unknown: incomplete or damaged
	ReasonUnknownKey      = "unknown-key"      // unknown: not made with one of our keys
	ReasonNotASeal        = "not-a-seal"       // unknown: an applicant's signature, not the authority's seal
	ReasonKeysUnavailable = "keys-unavailable" // unknown: our keys could not be read just now
)

// ApplicantSignatureType is the typ header of an applicant's signature made
// through the signing service. It signs the same payload as the seal, but
// is no receipt of the authority, so the check does not take it for one.
const ApplicantSignatureType = "ozgflow-applicant-signature+jws"

// Result is the outcome of checking a receipt with, for a valid one, what
// the seal covers.
type Result struct {
	Verdict Verdict `json:"verdict"`
	Reason  string  `json:"reason"`
	// Message says in plain German what the verdict means for the reader;
	// MessageEN says it in English.
	Message   string `json:"message"`
	MessageEN string `json:"messageEn"`

	CaseID            string    `json:"caseId,omitempty"`
	CaseNumber        string    `json:"caseNumber,omitempty"`  // filled by callers who know the case
	Service           string    `json:"service,omitempty"`     // LeiKa key
	ServiceName       string    `json:"serviceName,omitempty"` // filled by callers who know the catalog
	Authority         string    `json:"authority,omitempty"`   // ARS
	AuthorityName     string    `json:"authorityName,omitempty"`
	SubmittedAt       time.Time `json:"submittedAt,omitzero"`
	DefinitionID      string    `json:"definitionId,omitempty"`
	DefinitionVersion int       `json:"definitionVersion,omitempty"`
	KeyID             string    `json:"keyId,omitempty"`
	// Differences name the printed lines that are not the case's, for a
	// receipt whose content was changed.
	Differences []Difference `json:"differences,omitempty"`
}

// messages are the German and English sentences of each reason.
var messages = map[string][2]string{
	ReasonSealed: {
		"Die Eingangsbestätigung ist echt: Das Siegel der Behörde ist gültig und der Inhalt wurde nicht verändert.",
		"The receipt is genuine: the authority's seal is valid and the content has not been changed.",
	},
	ReasonSignature: {
		"Die Eingangsbestätigung wurde verändert: Das Siegel passt nicht zum Inhalt. Verlassen Sie sich nicht auf diese Angaben und wenden Sie sich an die Behörde.",
		"The receipt has been altered: the seal does not match its content. Do not rely on it and contact the authority.",
	},
	ReasonMismatch: {
		"Die Eingangsbestätigung wurde verändert: Das im Dokument gespeicherte Siegel weicht vom aufgedruckten ab. Verlassen Sie sich nicht auf diese Angaben und wenden Sie sich an die Behörde.",
		"The receipt has been altered: the seal stored in the document differs from the printed one. Do not rely on it and contact the authority.",
	},
	ReasonContent: {
		"Die Eingangsbestätigung wurde verändert: Das Siegel ist echt, aber der aufgedruckte Inhalt weicht von der Eingangsbestätigung des Antrags ab. Verlassen Sie sich nicht auf diese Angaben und wenden Sie sich an die Behörde.",
		"The receipt has been altered: the seal is genuine, but the printed content differs from the application's receipt. Do not rely on it and contact the authority.",
	},
	ReasonNoSeal: {
		"Es wurde kein Siegel gefunden. Laden Sie die PDF-Datei der Eingangsbestätigung hoch oder fügen Sie das Siegel vollständig ein (der lange Text, der mit „eyJ“ beginnt).",
		"No seal was found. Upload the receipt's PDF file or paste the complete seal (the long text that starts with \"eyJ\").",
	},
	ReasonMalformed: {
		"Das Siegel ist unvollständig oder beschädigt und kann nicht geprüft werden. Bitte fügen Sie es vollständig ein oder laden Sie die PDF-Datei hoch.",
		"The seal is incomplete or damaged and cannot be checked. Please paste all of it or upload the PDF file.",
	},
	ReasonUnknownKey: {
		"Das Siegel stammt nicht von einem Schlüssel, den wir kennen. Ob die Eingangsbestätigung echt ist, können wir nicht sagen.",
		"The seal was not made with a key we know. We cannot tell whether the receipt is genuine.",
	},
	ReasonNotASeal: {
		"Das ist kein Siegel der Behörde, sondern die elektronische Unterschrift der antragstellenden Person. Bitte prüfen Sie die Eingangsbestätigung selbst.",
		"This is not the authority's seal but the applicant's electronic signature. Please check the receipt itself.",
	},
	ReasonKeysUnavailable: {
		"Die Prüfung ist gerade nicht möglich. Bitte versuchen Sie es später noch einmal.",
		"The check is not possible right now. Please try again later.",
	},
}

func verdict(v Verdict, reason string) Result {
	m := messages[reason]
	return Result{Verdict: v, Reason: reason, Message: m[0], MessageEN: m[1]}
}

// ContentChanged is the result for a PDF whose seal is genuine but whose
// printed lines differ from the case's receipt.
func ContentChanged(sealed Result, diffs []Difference) Result {
	res := verdict(Tampered, ReasonContent)
	res.CaseID, res.KeyID, res.Differences = sealed.CaseID, sealed.KeyID, diffs
	return res
}

// IsPDF reports whether a receipt to check is a PDF (rather than text
// holding its seal).
func IsPDF(input []byte) bool { return isPDF(input) }

// KeysUnavailable is the result when the keys to check with cannot be read:
// the receipt can be neither confirmed nor refuted now.
func KeysUnavailable() Result { return verdict(Unknown, ReasonKeysUnavailable) }

// sealAlgorithm is the one algorithm seals are made with.
const sealAlgorithm = jose.ES256

// Verify checks a receipt, as a PDF made by Render or as text containing
// its seal, against our public keys.
func Verify(input []byte, keys jose.JSONWebKeySet) Result {
	jws, err := Extract(input)
	switch {
	case errors.Is(err, ErrMismatch):
		return verdict(Tampered, ReasonMismatch)
	case err != nil:
		return verdict(Unknown, ReasonNoSeal)
	}
	return VerifyJWS(jws, keys)
}

// VerifyJWS checks a compact JWS as the seal of a receipt.
func VerifyJWS(jws string, keys jose.JSONWebKeySet) Result {
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return verdict(Unknown, ReasonMalformed)
	}
	headerJSON, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return verdict(Unknown, ReasonMalformed)
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}
	if err := json.Unmarshal(headerJSON, &header); err != nil || header.Alg == "" {
		return verdict(Unknown, ReasonMalformed)
	}
	found := keys.Key(header.Kid)
	if header.Kid == "" || len(found) == 0 {
		return verdict(Unknown, ReasonUnknownKey)
	}
	if header.Typ == ApplicantSignatureType {
		return verdict(Unknown, ReasonNotASeal)
	}
	if header.Alg != string(sealAlgorithm) {
		// Our key named with another algorithm: a forgery, not an accident.
		return verdict(Tampered, ReasonSignature)
	}
	if n := signatureLength[header.Alg]; len(parts[2]) != n {
		return verdict(Unknown, ReasonMalformed) // cut short or run on: a copying mistake
	}
	obj, err := jose.ParseSignedCompact(jws, []jose.SignatureAlgorithm{sealAlgorithm})
	if err != nil || len(obj.Signatures) != 1 {
		return verdict(Tampered, ReasonSignature) // the header is ours, the rest does not decode
	}
	var payload []byte
	for _, k := range found {
		pub := k.Public()
		if !pub.Valid() {
			continue
		}
		if p, err := obj.Verify(pub); err == nil {
			payload = p
			break
		}
	}
	if payload == nil {
		return verdict(Tampered, ReasonSignature)
	}
	res := verdict(Valid, ReasonSealed)
	res.KeyID = header.Kid
	var p ozgflow.SealedPayload
	if json.Unmarshal(payload, &p) == nil {
		res.CaseID, res.Service, res.Authority = p.CaseID, p.Service, p.Authority
		res.DefinitionID, res.DefinitionVersion = p.DefinitionID, p.DefinitionVersion
		res.SubmittedAt = p.SubmittedAt
	}
	if res.CaseID != "" && !res.SubmittedAt.IsZero() {
		res.Message += " Sie gehört zum Antrag " + res.CaseID + ", eingegangen am " + locale.DE.Time(res.SubmittedAt) + "."
		res.MessageEN += " It belongs to application " + res.CaseID + ", received on " +
			locale.EN.Time(res.SubmittedAt) + "."
	}
	return res
}

package casework

import (
	"context"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/receipt"
	"github.com/ozgflow/ozgflow/records"
)

// Receipts renders and checks sealed receipts (Eingangsbestätigungen).
type Receipts struct {
	Cases *Service
	// Keys returns the public keys that verify receipts (JWKS); nil when no
	// signer is configured.
	Keys func(ctx context.Context) (jose.JSONWebKeySet, error)
	// PublicURL is the gateway's address as browsers see it: receipts
	// print the absolute address of the check (/pruefen) under it.
	PublicURL string
}

// PDF renders the receipt of a sealed case. A closed case's receipt is
// rendered once and then kept among its documents.
func (rs *Receipts) PDF(ctx context.Context, c ozgflow.Case) ([]byte, error) {
	if c.Seal == nil || c.Seal.JWS == "" {
		return nil, ozgflow.Errorf(ozgflow.ECONFLICT,
			"The application has not been sealed yet; its receipt is available once it is.")
	}
	if c.Status.Final() {
		if kept, err := rs.Cases.Records.LatestOfKind(ctx, c.ID, records.KindReceipt); err == nil {
			return kept.Data, nil
		}
	}
	rc, err := rs.receiptOf(c)
	if err != nil {
		return nil, ozgflow.Errorf(ozgflow.EINTERNAL, "receipt of case %s: %v", c.ID, err)
	}
	pdf, err := receipt.Render(rc)
	if err != nil {
		return nil, ozgflow.Errorf(ozgflow.EINTERNAL, "receipt of case %s: %v", c.ID, err)
	}
	if c.Status.Final() {
		rs.keep(ctx, c.ID, pdf)
	}
	return pdf, nil
}

// keep files the receipt of a closed case among its documents, so that it
// stays the same and outlives the workflow's history; a failure is logged,
// as the receipt can be rendered again.
func (rs *Receipts) keep(ctx context.Context, caseID string, pdf []byte) {
	doc := records.Document{CaseID: caseID, SHA256: records.SumSHA256(pdf), Name: "eingangsbestaetigung-" + caseID + ".pdf",
		ContentType: "application/pdf", Kind: records.KindReceipt, Data: pdf}
	if _, err := rs.Cases.Records.PutDocument(ctx, doc); err != nil {
		rs.Cases.Logger.Warn("Receipt of a closed case not kept", "case", caseID, "error", err)
	}
}

// receiptOf is what a sealed case's receipt shows.
func (rs *Receipts) receiptOf(c ozgflow.Case) (receipt.Receipt, error) {
	r, err := receipt.FromCase(c, rs.Cases.Definition(c), rs.Cases.AuthorityName(c.Authority))
	if base := strings.TrimSuffix(rs.PublicURL, "/"); base != "" {
		r.CheckURL, r.KeysURL = base+"/pruefen", base+"/api/v1/keys"
	}
	return r, err
}

// Verify checks a receipt, as its PDF or as text containing its seal,
// against the keys of the signer, and names the service and authority of a
// valid one. When the keys cannot be read the verdict is unknown and says
// to try again later.
func (rs *Receipts) Verify(ctx context.Context, input []byte) receipt.Result {
	if rs.Keys == nil {
		return receipt.KeysUnavailable()
	}
	keys, err := rs.Keys(ctx)
	if err != nil {
		rs.Cases.Logger.Warn("Keys to check a receipt not read", "error", err)
		return receipt.KeysUnavailable()
	}
	res := receipt.Verify(input, keys)
	if res.Verdict != receipt.Valid {
		return res
	}
	// Only the projection is read: an anonymous check never costs the
	// engine a query.
	c, err := rs.Cases.Stored(ctx, res.CaseID)
	if err != nil && ozgflow.ErrorCode(err) != ozgflow.ENOTFOUND {
		rs.Cases.Logger.Warn("Case of a receipt to check not read", "case", res.CaseID, "error", err)
	}
	if err == nil && receipt.IsPDF(input) {
		res = rs.compareContent(input, c, res)
	}
	if res.Verdict == receipt.Valid {
		if err == nil && c.CaseNumber != "" {
			// People know the case by its number.
			res.CaseNumber = c.CaseNumber
			res.Message = strings.ReplaceAll(res.Message, res.CaseID, c.CaseNumber)
			res.MessageEN = strings.ReplaceAll(res.MessageEN, res.CaseID, c.CaseNumber)
		}
		if name := rs.Cases.ServiceName(res.Service); name != res.Service {
			res.ServiceName = name
		}
		res.AuthorityName = rs.Cases.AuthorityName(res.Authority)
	}
	return res
}

// compareContent holds a PDF with a genuine seal to the receipt of its
// case: what it prints beside the seal (the fee, the authority's names)
// must be the case's too. A receipt fetched before the fee was paid lacks
// the date of payment, so that receipt counts as well. When the case
// cannot be read, the seal's verdict stands.
func (rs *Receipts) compareContent(pdf []byte, c ozgflow.Case, sealed receipt.Result) receipt.Result {
	current, err := rs.receiptOf(c)
	if err != nil {
		return sealed
	}
	candidates := []receipt.Receipt{current}
	if p := current.Payment; p != nil && !p.PaidAt.IsZero() {
		unpaid := *p
		unpaid.PaidAt = time.Time{}
		before := current
		before.Payment = &unpaid
		candidates = append(candidates, before)
	}
	// A receipt fetched before receipts named the applicant and the case
	// number prints neither.
	for _, c := range candidates {
		candidates = append(candidates, c.Legacy())
	}
	if diffs := receipt.Differences(pdf, candidates...); len(diffs) > 0 {
		return receipt.ContentChanged(sealed, diffs)
	}
	return sealed
}

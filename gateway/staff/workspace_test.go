package staff

import (
	"log/slog"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
	"github.com/ozgflow/ozgflow/records"
)

func TestDocumentsAreDescribedAsPeopleKnowThem(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{fileKind("application/pdf"), "PDF"}, {fileKind("image/jpeg"), "JPEG-Bild"}, {fileKind("text/csv"), "CSV-Datei"},
		{fileKind(""), "Datei"}, {fileSize(512), "512 Bytes"}, {fileSize(1_500), "1,5 kB"}, {fileSize(20_000), "20 kB"},
		{fileSize(2_500_000), "2,5 MB"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestTrailDetailsReadInGerman(t *testing.T) {
	for _, tt := range []struct {
		entry       records.Entry
		via, detail string
	}{
		{records.Entry{Detail: "GET /arbeitskorb/vorgaenge/{caseId}/dokumente/{sha256}; document " + "0123456789abcdef0123 (download)"},
			"Arbeitskorb", "Dokument 0123456789ab…, heruntergeladen"},
		{records.Entry{Detail: "POST /api/v1/tasks/{taskId}/claim; task c1.review.1"}, "Schnittstelle (API)", "Aufgabe c1.review.1"},
		{records.Entry{Role: string(ozgflow.RoleSystem), Action: "case.deliver", Detail: "gewerbe-leipzig (case)"}, "ozgflow selbst", "Fachverfahren gewerbe-leipzig"},
		{records.Entry{Role: string(ozgflow.RoleSystem), Action: "case.deliver", Detail: "dms (archive)"}, "ozgflow selbst", "Archiv dms"},
		{records.Entry{Detail: "POST /antraege/{id}/antwort"}, "Antragsseite", ""},
	} {
		via, detail := trailDetail(tt.entry)
		if via != tt.via || detail != tt.detail {
			t.Errorf("%q: %q, %q; want %q, %q", tt.entry.Detail, via, detail, tt.via, tt.detail)
		}
	}
}

func TestAuditDetailsNameQueuesPeopleAndOutcomes(t *testing.T) {
	reg, err := definitions.LoadCatalog(catalog.FS)
	if err != nil {
		t.Fatal(err)
	}
	p := New(&casework.Service{Defs: casework.StaticDefinitions{Reg: reg}, Now: time.Now}, Options{}, []byte("secret"), slog.Default())
	names := map[string]string{"sb-leipzig-2": "Erika Muster"}
	for _, tt := range []struct {
		action, detail, want string
	}{
		{ozgflow.AuditDecided, "reject", "Abgelehnt"},
		{ozgflow.AuditProposed, "approve", "Bewilligt"},
		{ozgflow.AuditHandedOver, "to queue gewerbe-leitung, sb-leipzig-2: Bitte entscheiden", "an Arbeitskorb „Gewerbe – Sachgebietsleitung“, Erika Muster: Bitte entscheiden"},
		{ozgflow.AuditHandedOver, "to sb-leipzig-2", "an Erika Muster"},
		{ozgflow.AuditEscalated, "priority raised, moved to queue gewerbe-leitung", "Priorität erhöht, in den Arbeitskorb „Gewerbe – Sachgebietsleitung“ verschoben"},
		{ozgflow.AuditEscalated, "priority raised", "Priorität erhöht"},
		{ozgflow.AuditReminded, "due 04.12.2026, 18:00 Uhr, reminder to queue:gewerbe", "fällig am 04.12.2026, 18:00 Uhr, Erinnerung an Arbeitskorb „Gewerbeangelegenheiten“"},
		{ozgflow.AuditReminded, "due 04.12.2026, reminder to sb-leipzig-2", "fällig am 04.12.2026, Erinnerung an Erika Muster"},
		{ozgflow.AuditAnswerExpired, "reject", "der Antrag wird abgelehnt"},
		{ozgflow.AuditAsked, "Bitte den Auszug nachreichen.", "Bitte den Auszug nachreichen."},
	} {
		got := p.auditDetail("147130000000", ozgflow.AuditEntry{Action: tt.action, Detail: tt.detail}, names)
		if got != tt.want {
			t.Errorf("%s %q: %q, want %q", tt.action, tt.detail, got, tt.want)
		}
	}
}

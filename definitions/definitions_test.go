package definitions_test

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
)

const (
	leipzig  = "147130000000"
	dresden  = "146120000000"
	chemnitz = "145110000000"
)

func mustCatalog(t *testing.T) *definitions.Registry {
	t.Helper()
	reg, err := definitions.LoadCatalog(catalog.FS)
	if err != nil {
		t.Fatalf("load catalog: %v", err)
	}
	return reg
}

func TestCatalogResolvesVariants(t *testing.T) {
	reg := mustCatalog(t)
	tests := []struct {
		name, service, authority string
		wantID                   string
		wantFee                  int64
		wantCode                 string
	}{
		{"leika key", "99050035001000", leipzig, "gewerbeanmeldung-leipzig", 2600, ""},
		{"slug", "gewerbeanmeldung", dresden, "gewerbeanmeldung-dresden", 2500, ""},
		{"parking leipzig", "anwohnerparkausweis", leipzig, "anwohnerparkausweis-leipzig", 3070, ""},
		{"dog tax has no fee", "hundesteuer-anmeldung", dresden, "hundesteuer-anmeldung-dresden", 0, ""},
		{"unknown service", "99999999999999", leipzig, "", 0, ozgflow.ENOTFOUND},
		{"unknown authority", "gewerbeanmeldung", "999999999999", "", 0, ozgflow.ENOTFOUND},
		{"malformed authority", "gewerbeanmeldung", "leipzig", "", 0, ozgflow.ENOTFOUND},
		{"no variant for pair", "gewerbeanmeldung", chemnitz, "", 0, ozgflow.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def, err := reg.Resolve(tt.service, tt.authority)
			if got := ozgflow.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("code = %q, want %q (err %v)", got, tt.wantCode, err)
			}
			if err != nil {
				return
			}
			if def.ID != tt.wantID || def.FeeAmount() != tt.wantFee {
				t.Errorf("got %s fee %d, want %s fee %d", def.ID, def.FeeAmount(), tt.wantID, tt.wantFee)
			}
		})
	}
}

func TestVariantInheritsAndOverridesSteps(t *testing.T) {
	reg := mustCatalog(t)
	def, err := reg.Resolve("gewerbeanmeldung", dresden)
	if err != nil {
		t.Fatal(err)
	}
	review, ok := def.Step("review")
	if !ok {
		t.Fatal("review step missing")
	}
	if review.DueWorkingDays != 5 || review.Due != 0 {
		t.Errorf("review due = %d working days, %v, want 5 working days (Dresden override)", review.DueWorkingDays, time.Duration(review.Due))
	}
	if review.Escalation == nil || review.Escalation.Queue != "gewerbe-leitung" {
		t.Errorf("review escalation = %+v, want the base's", review.Escalation)
	}
	if review.Queue != "gewerbe" {
		t.Errorf("review queue = %q, want inherited gewerbe", review.Queue)
	}
	deliver, _ := def.Step("deliver")
	if deliver.Target != "gewerbe-dresden" {
		t.Errorf("deliver target = %q", deliver.Target)
	}
	if def.Fee.Currency != "EUR" {
		t.Errorf("currency not inherited: %q", def.Fee.Currency)
	}
	var ids []string
	for _, s := range def.Steps {
		ids = append(ids, s.ID)
	}
	if got, want := strings.Join(ids, ","), "validate,payment,seal,deliver,review,archive"; got != want {
		t.Errorf("steps = %s, want %s", got, want)
	}
}

func TestValidateDataListsEveryViolation(t *testing.T) {
	reg := mustCatalog(t)
	def, _ := reg.Resolve("gewerbeanmeldung", leipzig)
	valid := `{"betrieb":{"name":"Café Anna","taetigkeit":"Gastronomie","beginn":"2026-12-01","rechtsform":"gmbh"},
		"anschrift":{"strasse":"Markt","hausnummer":"1","plz":"04109","ort":"Leipzig"}}`
	if errs, err := reg.ValidateData(def, []byte(valid)); err != nil || len(errs) != 0 {
		t.Fatalf("valid data refused: %v %v", errs, err)
	}
	invalid := `{"betrieb":{"name":"Café Anna","beginn":"1. Dezember","rechtsform":"verein"},
		"anschrift":{"strasse":"Markt","hausnummer":"1","plz":"4109","ort":"Leipzig"},"extra":1}`
	errs, err := reg.ValidateData(def, []byte(invalid))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range errs {
		got[e.Pointer] = true
		if e.Detail == "" {
			t.Errorf("%s: empty detail", e.Pointer)
		}
	}
	for _, want := range []string{"/data/betrieb/taetigkeit", "/data/betrieb/beginn", "/data/betrieb/rechtsform",
		"/data/anschrift/plz", "/data/extra"} {
		if !got[want] {
			t.Errorf("no error for %s; got %v", want, errs)
		}
	}
	if len(errs) != 5 {
		t.Errorf("got %d errors, want 5: %v", len(errs), errs)
	}
}

func TestValidateReportsPlaceOfError(t *testing.T) {
	base := func() definitions.Definition {
		d, err := mustCatalog(t).Resolve("gewerbeanmeldung", leipzig)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		name    string
		change  func(d *definitions.Definition)
		pointer string
	}{
		{"unknown kind", func(d *definitions.Definition) { d.Steps[0].Kind = "teleport" }, "/steps/0/kind"},
		{"task without queue", func(d *definitions.Definition) { d.Steps[4].Queue = "" }, "/steps/4/queue"},
		{"condition does not compile", func(d *definitions.Definition) { d.Steps[4].When = "data.betrieb ==" }, "/steps/4/when"},
		{"duplicate step id", func(d *definitions.Definition) { d.Steps[1].ID = "validate" }, "/steps/1/id"},
		{"notice template broken", func(d *definitions.Definition) {
			d.Notices["approved"] = definitions.NoticeTemplate{Title: "x", Text: "{{.Nope}}"}
		}, "/notices/approved/text"},
		{"notice template that does not parse", func(d *definitions.Definition) {
			d.Notices["approved"] = definitions.NoticeTemplate{Title: "x", Text: "{{if .Comment}}"}
		}, "/notices/approved/text"},
		{"schema invalid", func(d *definitions.Definition) { d.Schema = definitions.Schema(`{"type": 5}`) }, "/schema"},
		{"condition reads a field the schema lacks", func(d *definitions.Definition) {
			d.Steps[4].When = `data.betrieb.gruendungsjahr > 2000`
		}, "/steps/4/when"},
		{"unreachable step after an unconditional decision", func(d *definitions.Definition) {
			d.Steps = append(d.Steps[:4], append([]definitions.Step{{ID: "auto", Kind: definitions.KindDecide,
				Default: "approve"}}, d.Steps[4:]...)...)
		}, "/steps/5"},
		{"rules that may leave the case undecided", func(d *definitions.Definition) {
			d.Steps = append(d.Steps[:4], definitions.Step{ID: "rule", Kind: definitions.KindDecide,
				Rules: []definitions.Rule{{When: `data.betrieb.rechtsform == "gmbh"`, Outcome: "approve"}}})
		}, "/steps/4/default"},
		{"the Fachverfahren's decision awaited before the delivery", func(d *definitions.Definition) {
			d.Steps = append(d.Steps[:1], append([]definitions.Step{{ID: "bescheid", Kind: definitions.KindWaitExternal,
				Event: "decided", Timeout: definitions.Duration(24 * time.Hour)}}, d.Steps[1:]...)...)
		}, "/steps/1/event"},
		{"a task with a retry", func(d *definitions.Definition) {
			d.Steps[4].Retry = &definitions.Retry{Initial: definitions.Duration(time.Minute)}
		}, "/steps/4/retry"},
		{"a delivery retried within a millisecond", func(d *definitions.Definition) {
			d.Steps[3].Retry = &definitions.Retry{Initial: definitions.Duration(time.Millisecond)}
		}, "/steps/3/retry/initial"},
		{"a delivery whose longest wait is shorter than its first", func(d *definitions.Definition) {
			d.Steps[3].Retry = &definitions.Retry{Initial: definitions.Duration(time.Hour), Maximum: definitions.Duration(time.Minute)}
		}, "/steps/3/retry/maximum"},
		{"a delivery whose waits shrink", func(d *definitions.Definition) {
			d.Steps[3].Retry = &definitions.Retry{Backoff: 0.5}
		}, "/steps/3/retry/backoff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := base()
			tt.change(&d)
			err := d.Validate()
			found := false
			for _, f := range ozgflow.ErrorFields(err) {
				found = found || f.Pointer == tt.pointer
			}
			if !found {
				t.Errorf("no error at %s: %v %v", tt.pointer, err, ozgflow.ErrorFields(err))
			}
		})
	}
}

func TestLoadCatalogRefusesCycles(t *testing.T) {
	fsys := fstest.MapFS{
		"a.yaml": {Data: []byte("id: a\nextends: b\n")},
		"b.yaml": {Data: []byte("id: b\nextends: a\n")},
	}
	if _, err := definitions.LoadCatalog(fsys); err == nil || !strings.Contains(err.Error(), "im Kreis") {
		t.Fatalf("err = %v, want cycle", err)
	}
}

func TestConditions(t *testing.T) {
	env := definitions.ConditionEnv{
		Data: definitions.DataMap([]byte(`{"zone":"Südvorstadt","halterIstAntragsteller":true}`)),
		Vars: map[string]any{"zones": []any{"Südvorstadt", "Gohlis-Süd"}},
	}
	ok, err := definitions.EvalCondition(`data.zone in vars.zones && data.halterIstAntragsteller == true`, env)
	if err != nil || !ok {
		t.Fatalf("got %v %v, want true", ok, err)
	}
	env.Data["zone"] = "Mondbasis"
	if ok, _ := definitions.EvalCondition(`data.zone in vars.zones`, env); ok {
		t.Error("unknown zone matched")
	}
}

// TestDeliveryRetryStatedInTheVariant: a deliver step may say how its
// target is tried again.
func TestDeliveryRetryStatedInTheVariant(t *testing.T) {
	d, err := mustCatalog(t).Resolve("gewerbeanmeldung", leipzig)
	if err != nil {
		t.Fatal(err)
	}
	if d.Steps[3].Kind != definitions.KindDeliver {
		t.Fatalf("step 3 is %s, not a delivery", d.Steps[3].Kind)
	}
	d.Steps[3].Retry = &definitions.Retry{Initial: definitions.Duration(10 * time.Second),
		Maximum: definitions.Duration(time.Hour), Backoff: 3}
	if err := d.Validate(); err != nil {
		t.Errorf("a delivery with a stated retry is refused: %v", err)
	}
}

// TestValidateDataKeepsEachSchemaApart: the compiled schemas a process
// keeps are told apart by the schema itself, not only the variant's ID, so
// a new version of a variant validates with its own.
func TestValidateDataKeepsEachSchemaApart(t *testing.T) {
	loose := definitions.Definition{ID: "schema-cache", Schema: definitions.Schema(`{"type":"object"}`)}
	strict := definitions.Definition{ID: "schema-cache", Schema: definitions.Schema(`{"type":"object","required":["name"]}`)}
	for i := 0; i < 2; i++ { // the second round reads from the cache
		if errs, err := loose.ValidateData([]byte(`{}`)); err != nil || len(errs) != 0 {
			t.Errorf("round %d, loose schema: %v %v", i, errs, err)
		}
		if errs, err := strict.ValidateData([]byte(`{}`)); err != nil || len(errs) != 1 {
			t.Errorf("round %d, strict schema: %v %v, want one violation", i, errs, err)
		}
	}
	broken := definitions.Definition{ID: "schema-cache", Schema: definitions.Schema(`{"type":`)}
	if _, err := broken.ValidateData([]byte(`{}`)); err == nil {
		t.Error("a schema that is no JSON validated")
	}
}

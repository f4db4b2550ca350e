package workflows

import (
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
)

func TestCatalogWorkflowVersionsDefinitions(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(CatalogWorkflow)
	seed, err := definitions.SeedCatalog(catalog.FS, time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	update := func(name, wantCode string, ch ozgflow.DefinitionChange) {
		t.Helper()
		env.UpdateWorkflow(name, name+time.Now().String(), &testsuite.TestUpdateCallback{
			OnReject: func(err error) {
				if got := appErrorType(err); got != wantCode {
					t.Errorf("%s rejected with %s (%v), want %q", name, got, err, wantCode)
				}
			},
			OnAccept: func() {
				if wantCode != "" {
					t.Errorf("%s accepted, want %s", name, wantCode)
				}
			},
			OnComplete: func(any, error) {},
		}, ch)
	}
	env.RegisterDelayedCallback(func() {
		id := "gewerbeanmeldung-dresden"
		update(ozgflow.UpdateDefinitionEdit, ozgflow.ECONFLICT, ozgflow.DefinitionChange{ID: id, Version: 1,
			Document: map[string]any{"id": id, "extends": "gewerbeanmeldung"}, By: "admin"})
		update(ozgflow.UpdateDefinitionDraft, "", ozgflow.DefinitionChange{ID: id, By: "admin"})
		update(ozgflow.UpdateDefinitionEdit, "", ozgflow.DefinitionChange{ID: id, Version: 2, By: "admin",
			Document: map[string]any{"id": id, "extends": "gewerbeanmeldung", "authority": "146120000000",
				"steps": []any{map[string]any{"id": "review", "kind": "teleport"}}}})
		update(ozgflow.UpdateDefinitionPublish, ozgflow.EUNPROCESSABLE, ozgflow.DefinitionChange{ID: id, Version: 2, By: "admin"})
		update(ozgflow.UpdateDefinitionEdit, "", ozgflow.DefinitionChange{ID: id, Version: 2, By: "admin",
			Document: map[string]any{"id": id, "extends": "gewerbeanmeldung", "authority": "146120000000",
				"fee":   map[string]any{"amount": 2700, "purpose": "Gebühr"},
				"steps": []any{map[string]any{"id": "deliver", "target": "gewerbe-dresden"}}}})
		update(ozgflow.UpdateDefinitionPublish, "", ozgflow.DefinitionChange{ID: id, Version: 2, By: "admin"})
	}, time.Minute)
	checked := false
	env.RegisterDelayedCallback(func() {
		checked = true
		val, err := env.QueryWorkflow(ozgflow.QueryCatalog)
		if err != nil {
			t.Fatal(err)
		}
		var c definitions.Catalog
		if err := val.Get(&c); err != nil {
			t.Fatal(err)
		}
		reg, err := c.Registry()
		if err != nil {
			t.Fatal(err)
		}
		def, err := reg.Resolve("gewerbeanmeldung", "146120000000")
		if err != nil || def.Version != 2 || def.FeeAmount() != 2700 {
			t.Errorf("published = %s v%d fee %d (%v), want version 2 with fee 2700", def.ID, def.Version, def.FeeAmount(), err)
		}
		if n := len(c.Changes); n != 5 {
			t.Errorf("%d changes recorded, want 5 (drafted, edited twice, version 1 retired, published): %+v", n, c.Changes)
		}
		env.CancelWorkflow()
	}, 2*time.Minute)
	env.ExecuteWorkflow(CatalogWorkflow, seed)
	if !checked {
		t.Error("the catalog was never checked")
	}
}

// A catalog started by an earlier deployment takes the authorities a
// gateway ships: publishing checks queues and targets against them.
func TestCatalogWorkflowTakesTheShippedAuthorities(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(CatalogWorkflow)
	seed, err := definitions.SeedCatalog(catalog.FS, time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	shipped := seed.Clone().Authorities
	old := seed.Clone()
	for i := range old.Authorities {
		old.Authorities[i].Targets = nil // as before targets were listed
	}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(ozgflow.UpdateCatalogAuthorities, "sync", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { t.Errorf("rejected: %v", err) },
			OnAccept:   func() {},
			OnComplete: func(any, error) {},
		}, shipped)
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		val, err := env.QueryWorkflow(ozgflow.QueryCatalog)
		if err != nil {
			t.Fatal(err)
		}
		var c definitions.Catalog
		if err := val.Get(&c); err != nil {
			t.Fatal(err)
		}
		if len(c.Authorities) == 0 || len(c.Authorities[0].Targets) == 0 || c.Revision != old.Revision+1 {
			t.Errorf("authorities after the update: %+v (revision %d)", c.Authorities, c.Revision)
		}
		env.CancelWorkflow()
	}, 2*time.Minute)
	env.ExecuteWorkflow(CatalogWorkflow, old)
}

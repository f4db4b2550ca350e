package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
)

// CatalogWorkflow holds the versioned definitions. Administrators change them
// through updates, whose validators refuse what the catalog refuses, so a
// caller gets a synchronous yes or a clear reason. It continues as new when
// its history grows long, carrying the catalog along.
func CatalogWorkflow(ctx workflow.Context, catalog definitions.Catalog) (definitions.Catalog, error) {
	if err := workflow.SetQueryHandler(ctx, ozgflow.QueryCatalog, func() (definitions.Catalog, error) {
		return catalog, nil
	}); err != nil {
		return catalog, fmt.Errorf("register catalog query: %w", err)
	}
	// apply runs one change on a catalog; the validator runs it on a copy.
	apply := func(c *definitions.Catalog, name string, ch ozgflow.DefinitionChange, ctx workflow.Context) error {
		at := workflow.Now(ctx).UTC()
		var err error
		switch name {
		case ozgflow.UpdateDefinitionCreate:
			_, err = c.Create(ch.Document, ch.By, at)
		case ozgflow.UpdateDefinitionDraft:
			_, err = c.Draft(ch.ID, ch.From, ch.By, at)
		case ozgflow.UpdateDefinitionEdit:
			// Edits recorded before revisions carry none and are checked as
			// before; the check only refuses, in the validator, so a
			// refused edit never reaches the history.
			if ch.Revision != "" {
				if err = c.CheckRevision(ch.ID, ch.Version, ch.Revision); err != nil {
					break
				}
			}
			_, err = c.Edit(ch.ID, ch.Version, ch.Document, ch.Source, ch.By, at)
		case ozgflow.UpdateDefinitionPublish:
			err = c.Publish(ch.ID, ch.Version, ch.By, at)
		case ozgflow.UpdateDefinitionRetire:
			err = c.Retire(ch.ID, ch.Version, ch.By, at)
		}
		return err
	}
	for _, name := range []string{ozgflow.UpdateDefinitionCreate, ozgflow.UpdateDefinitionDraft, ozgflow.UpdateDefinitionEdit,
		ozgflow.UpdateDefinitionPublish, ozgflow.UpdateDefinitionRetire} {
		name := name
		err := workflow.SetUpdateHandlerWithOptions(ctx, name,
			func(ctx workflow.Context, ch ozgflow.DefinitionChange) (definitions.Catalog, error) {
				if err := apply(&catalog, name, ch, ctx); err != nil {
					return catalog, refuseWith(err)
				}
				return catalog, nil
			},
			workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, ch ozgflow.DefinitionChange) error {
				trial := catalog.Clone()
				return refuseWith(apply(&trial, name, ch, ctx))
			}})
		if err != nil {
			return catalog, fmt.Errorf("register %s: %w", name, err)
		}
	}
	// The authorities come with each deployment (authorities.yaml): a
	// gateway that ships others replaces them.
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ozgflow.UpdateCatalogAuthorities,
		func(ctx workflow.Context, authorities []definitions.Authority) (definitions.Catalog, error) {
			catalog.SetAuthorities(authorities)
			return catalog, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, authorities []definitions.Authority) error {
			if len(authorities) == 0 {
				return refuseWith(ozgflow.Errorf(ozgflow.EINVALID, "Die Liste der Behörden ist leer."))
			}
			return nil
		}}); err != nil {
		return catalog, fmt.Errorf("register %s: %w", ozgflow.UpdateCatalogAuthorities, err)
	}
	if err := workflow.Await(ctx, func() bool {
		return workflow.GetInfo(ctx).GetContinueAsNewSuggested() && workflow.AllHandlersFinished(ctx)
	}); err != nil {
		return catalog, err
	}
	return catalog, workflow.NewContinueAsNewError(ctx, CatalogWorkflow, catalog)
}

// refuseWith turns an ozgflow error into the application error an update
// returns, keeping its code and field violations.
func refuseWith(err error) error {
	if err == nil {
		return nil
	}
	return temporalError(err)
}

package casework

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.temporal.io/api/serviceerror"

	"github.com/ozgflow/ozgflow"
)

// TestAnEngineThatDoesNotAnswerInTimeIsUnavailable: a call to the engine
// that ran out of time or was cancelled is "try again" (503), not an
// internal error (500); other failures stay what they were.
func TestAnEngineThatDoesNotAnswerInTimeIsUnavailable(t *testing.T) {
	for name, err := range map[string]error{
		"the engine's deadline":   serviceerror.NewDeadlineExceeded("deadline exceeded"),
		"cancelled by the engine": serviceerror.NewCanceled("stream terminated by RST_STREAM with error code: CANCEL"),
		"the call's own deadline": fmt.Errorf("start workflow: %w", context.DeadlineExceeded),
	} {
		if got := ozgflow.ErrorCode(FromTemporal(err)); got != ozgflow.EUNAVAILABLE {
			t.Errorf("%s: %s, want %s", name, got, ozgflow.EUNAVAILABLE)
		}
	}
	if got := ozgflow.ErrorCode(FromTemporal(serviceerror.NewUnavailable("down"))); got != ozgflow.EUNAVAILABLE {
		t.Errorf("unavailable: %s", got)
	}
	if got := ozgflow.ErrorCode(FromTemporal(errors.New("broken"))); got != ozgflow.EINTERNAL {
		t.Errorf("another failure: %s, want %s", got, ozgflow.EINTERNAL)
	}
}

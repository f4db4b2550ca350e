package conformance

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteText writes the report for people: one block per requirement,
// PASS or FAIL with its evidence, and a last line with the count.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "ozgflow conformance kit: %s\n", r.Target)
	fmt.Fprintf(&b, "callbacks expected at %s; started %s, took %s\n\n", r.CallbackURL,
		r.StartedAt.Format("2006-01-02 15:04:05 MST"), r.Took)
	width := 0
	for _, res := range r.Requirements {
		width = max(width, len(res.ID))
	}
	for _, res := range r.Requirements {
		mark := "PASS"
		if !res.Passed {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "%s  %-*s  %s\n", mark, width, res.ID, res.Title)
		for _, e := range res.Evidence {
			fmt.Fprintf(&b, "      %s %s\n", strings.Repeat(" ", width), e)
		}
	}
	failed := r.Failed()
	fmt.Fprintf(&b, "\n%d of %d requirements met", len(r.Requirements)-len(failed), len(r.Requirements))
	if len(failed) > 0 {
		fmt.Fprintf(&b, "; not met: %s", strings.Join(failed, ", "))
	}
	b.WriteString(".\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as one JSON document.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

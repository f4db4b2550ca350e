// Package faults is the fault suite: it runs the ozgflow binary's `dev` as
// a child process on the machine's Redis, breaks it the way production
// breaks — killed with cases in flight, stopped with SIGTERM while portals
// submit, Redis flushed, the Fachverfahren and the portal down for a
// while, files of the data directory deleted or damaged — and counts what
// an operator and a citizen would notice: cases lost, cases delivered to
// the Fachverfahren twice, notices sent to the portal twice, and how long
// it took until everything was done again. Every count must be zero.
//
// The figures are logged as a table; with OZGFLOW_FAULTS_REPORT=path the
// table is also written to that file as Markdown (a relative path is
// relative to this directory).
package faults

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	if v := os.Getenv("REDIS_URL"); v != "" {
		redisURL = v
	}
	if err := redisAnswers(context.Background()); err != nil {
		fmt.Fprintf(os.Stderr, "faults: Redis at %s does not answer (%v); the fault suite needs it: "+
			"`make prepare-test` starts one, REDIS_URL names another\n", redisURL, err)
		os.Exit(1)
	}
	bin, err := buildOzgflow()
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		os.Exit(1)
	}
	ozgflowBinary = bin
	os.Exit(m.Run())
}

// row is one line of the table of figures.
type row struct {
	fault string
	tally
	// recovery is the time from the restart or the end of the outage
	// until everything was done again; zero when it never was.
	recovery time.Duration
	happened string // what the scenario saw, in a few words
}

// TestFaults runs every fault in turn against its own installation of dev
// and reports the figures.
func TestFaults(t *testing.T) {
	var rows []row
	report := func(r row) { rows = append(rows, r) }
	for _, sc := range []struct {
		name string
		run  func(t *testing.T, report func(row))
	}{
		{"KillWithCasesInFlight", killWithCasesInFlight},
		{"SIGTERMWithSubmitsInFlight", sigtermWithSubmitsInFlight},
		{"RedisFlushed", redisFlushed},
		{"FachverfahrenOutage", fachverfahrenOutage},
		{"PortalOutage", portalOutage},
		{"DataFiles", dataFiles},
	} {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, report) })
	}
	table := markdown(rows)
	t.Log("\n" + table)
	if path := os.Getenv("OZGFLOW_FAULTS_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(table), 0o644); err != nil {
			t.Errorf("OZGFLOW_FAULTS_REPORT: %v", err)
		}
	}
}

// expectNothingLost fails the test for every count of r that is not zero.
func expectNothingLost(t *testing.T, r row) {
	t.Helper()
	if len(r.lost) > 0 {
		t.Errorf("%d cases lost: %v", len(r.lost), r.lost)
	}
	if r.duplicateDeliveries > 0 {
		t.Errorf("%d cases delivered to the Fachverfahren more than once", r.duplicateDeliveries)
	}
	if r.duplicateNotices > 0 {
		t.Errorf("%d notices sent to the portal more than once", r.duplicateNotices)
	}
	if r.missingNotices > 0 {
		t.Errorf("%d notices never reached the portal", r.missingNotices)
	}
}

// markdown is the table of figures.
func markdown(rows []row) string {
	var b strings.Builder
	b.WriteString("| Fault | Cases | Lost | Delivered twice | Notices twice | Time to recover | What happened |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|---|\n")
	for _, r := range rows {
		recovery := "—"
		if r.recovery > 0 {
			recovery = fmt.Sprintf("%.1f s", r.recovery.Seconds())
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %s | %s |\n", r.fault, r.accepted, len(r.lost),
			r.duplicateDeliveries, r.duplicateNotices, recovery, r.happened)
	}
	return b.String()
}

// seconds formats a duration for the table.
func seconds(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

package faults

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Bounds of the scenarios: few cases, short outages, so that the package
// stays within a few minutes on two cores.
const (
	finishTimeout  = 2 * time.Minute // until every case is done after a fault
	noticesTimeout = time.Minute     // until every notice reached the portal
	outage         = 5 * time.Second // how long the Fachverfahren and the portal are down
	// leftBehind is more than the cases of an orderly stop take after the
	// restart, and less than the 30 s start-to-close timeout of a delivery
	// that a stopping worker abandoned.
	leftBehind = 20 * time.Second
)

// submitting submits the applications in the background, workers at a
// time; enough is closed once after the first `after` answers 201, done
// when every application was tried.
func submitting(pt *portal, apps []*application, workers, after int) (enough, done chan struct{}) {
	enough, done = make(chan struct{}), make(chan struct{})
	var n atomic.Int32
	var once sync.Once
	go func() {
		defer close(done)
		pt.submitAll(context.Background(), apps, workers, func(a answer) {
			if a == created && int(n.Add(1)) == after {
				once.Do(func() { close(enough) })
			}
		})
		once.Do(func() { close(enough) })
	}()
	return enough, done
}

// acceptedCount counts the applications that have a case.
func acceptedCount(apps []*application) int {
	n := 0
	for _, a := range apps {
		if a.accepted {
			n++
		}
	}
	return n
}

// undelivered counts the cases accepted so far that the Fachverfahren
// simulator does not hold yet.
func (p *portal) undelivered(t *testing.T, apps []*application) int {
	t.Helper()
	var received []struct {
		CaseID string `json:"caseId"`
		Kind   string `json:"kind"`
	}
	if status, err := p.call(http.MethodGet, "/sandbox/fachverfahren/received", "", nil, &received); err != nil || status != http.StatusOK {
		t.Fatalf("Fachverfahren simulator: %d %v", status, err)
	}
	delivered := map[string]bool{}
	for _, r := range received {
		if r.Kind == "case" {
			delivered[r.CaseID] = true
		}
	}
	n := 0
	p.mu.Lock() // submits may be under way
	defer p.mu.Unlock()
	for _, a := range apps {
		if a.accepted && !delivered[a.id] {
			n++
		}
	}
	return n
}

// recoverAndCount waits until every case is finished and every notice reached the
// portal, counts, and returns the row with the time to recover measured
// from since until every case was finished.
func recoverAndCount(t *testing.T, pt *portal, apps []*application, fault string, since time.Time) row {
	t.Helper()
	r := row{fault: fault}
	if finished := pt.waitFinished(apps, finishTimeout); !finished.IsZero() {
		r.recovery = finished.Sub(since)
		pt.waitNotices(t, apps, noticesTimeout)
	}
	r.tally = pt.count(t, apps)
	if r.recovery == 0 {
		t.Errorf("not every case finished within %v", finishTimeout)
	}
	return r
}

// killWithCasesInFlight kills dev with SIGKILL while portals submit and
// cases are under way, starts it again on the same data directory, and
// sends the submits that got no answer again under their keys.
func killWithCasesInFlight(t *testing.T, report func(row)) {
	in := newInstallation(t)
	in.start(t, false)
	pt := newPortal(in.URL())
	apps := applications(t, 30, 5)
	enough, done := submitting(pt, apps, 6, 12)
	<-enough
	undelivered := pt.undelivered(t, apps)
	accepted := pt.answered(created)
	in.running.kill()
	<-done
	cut := pt.answered(cutOff)

	restart := time.Now()
	in.start(t, true)
	resent := pt.resubmit(t, apps)
	pt.pay(t, apps)
	r := recoverAndCount(t, pt, apps, "`kill -9` with cases in flight", restart)
	r.happened = fmt.Sprintf("killed after %d submits answered `201`, %d of those cases not yet delivered, %d submits cut off; "+
		"after the restart %d submits sent again under their key, the parking permits paid", accepted, undelivered, cut, resent)
	if n := len(pt.answeredWithoutLink()); n > 0 {
		r.happened += fmt.Sprintf("; %d permits answered `201` without their payment link", n)
	}
	report(r)
	expectNothingLost(t, r)
}

// sigtermWithSubmitsInFlight stops dev with SIGTERM while portals submit:
// every submit answers 201 or, once the stop began, 503; none 500.
func sigtermWithSubmitsInFlight(t *testing.T, report func(row)) {
	in := newInstallation(t)
	in.start(t, false)
	pt := newPortal(in.URL())
	apps := applications(t, 30, 5)
	enough, done := submitting(pt, apps, 6, 12)
	<-enough
	before := pt.answered(created)
	took := in.running.stop(t)
	<-done
	if wrong := pt.wrongAnswers(); len(wrong) > 0 {
		t.Errorf("answers during the stop other than 201 and 503: %v", wrong)
	}
	if n := pt.answered(cutOff); n > 0 {
		t.Errorf("%d submits were cut off instead of answered", n)
	}
	during := fmt.Sprintf("%d × `201`, %d × `503`, %d found the door closed", pt.answered(created)-before,
		pt.answered(refused), pt.answered(doorClosed))

	restart := time.Now()
	in.start(t, true)
	ready := time.Now()
	resent := pt.resubmit(t, apps)
	pt.pay(t, apps)
	r := recoverAndCount(t, pt, apps, "`SIGTERM` with submits in flight", restart)
	r.happened = fmt.Sprintf("stopped in %s, exit 0; while stopping %s, none `500`; after the restart %d sent again",
		seconds(took), during, resent)
	report(r)
	expectNothingLost(t, r)
	// An orderly stop lets the worker finish what it runs: work it left
	// behind would wait for its timeout after the restart, 30 s for a
	// delivery.
	if afterReady := r.recovery - ready.Sub(restart); r.recovery > 0 && afterReady > leftBehind {
		t.Errorf("every case finished %s after dev was ready again: the stop left running work behind", seconds(afterReady))
	}
}

// redisFlushed deletes every key of the installation's prefix while cases
// are submitted and under way: /readyz says "rebuilding" until the worker
// has rebuilt the projections by itself.
func redisFlushed(t *testing.T, report func(row)) {
	in := newInstallation(t)
	in.start(t, false)
	pt := newPortal(in.URL())
	apps := applications(t, 30, 0)
	enough, done := submitting(pt, apps, 4, 10)
	<-enough

	var rebuilding atomic.Bool
	var readyAgain atomic.Int64
	stopWatching := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stopWatching:
				return
			default:
			}
			ok, body := pt.ready()
			switch {
			case !ok && strings.Contains(body, "rebuilding"):
				rebuilding.Store(true)
			case ok && rebuilding.Load() && readyAgain.Load() == 0:
				readyAgain.Store(time.Now().UnixNano())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	toCome := len(apps) - pt.answered(created)
	flushed := time.Now()
	keys, err := in.flushProjections(context.Background())
	if err != nil {
		t.Fatalf("delete the projections: %v", err)
	}
	<-done
	r := recoverAndCount(t, pt, apps, "Redis flushed (every key of the prefix)", flushed)
	close(stopWatching)
	<-watched
	if !rebuilding.Load() {
		t.Error(`/readyz never said "rebuilding" after the projections were deleted`)
	}
	missing := pt.missingInMailboxes(t, apps)
	if missing > 0 {
		t.Errorf("the mailboxes lack %d notices after the rebuild", missing)
	}
	ready := "never"
	if at := readyAgain.Load(); at != 0 {
		ready = "after " + seconds(time.Unix(0, at).Sub(flushed))
	}
	r.happened = fmt.Sprintf("%d keys deleted with %d submits still to come; `/readyz` said \"rebuilding\", ready again %s; "+
		"%d notices missing from the mailboxes", keys, toCome, ready, missing)
	report(r)
	expectNothingLost(t, r)
}

// fachverfahrenOutage takes the Fachverfahren simulator down while cases
// are submitted; they wait and are delivered once it is back.
func fachverfahrenOutage(t *testing.T, report func(row)) {
	in := newInstallation(t)
	in.start(t, false)
	pt := newPortal(in.URL())
	apps := applications(t, 20, 0)
	pt.setDown(t, "fachverfahren", true)
	down := time.Now()
	pt.submitAll(context.Background(), apps, 4, nil)
	if n := acceptedCount(apps); n != len(apps) {
		t.Errorf("%d of %d submits accepted during the outage; the portal's submits do not wait for the Fachverfahren", n, len(apps))
	}
	time.Sleep(time.Until(down.Add(outage))) // the outage lasts this long
	during := len(apps) - pt.undelivered(t, apps)
	pt.setDown(t, "fachverfahren", false)
	up := time.Now()
	r := recoverAndCount(t, pt, apps, "Fachverfahren down for "+seconds(outage), up)
	r.happened = fmt.Sprintf("%d cases submitted during the outage, %d delivered during it; "+
		"time from its end until every case was delivered and confirmed", len(apps), during)
	report(r)
	expectNothingLost(t, r)
	if during > 0 {
		t.Errorf("%d cases delivered while the Fachverfahren was down", during)
	}
}

// portalOutage takes the sandbox portal down while cases run: they go on
// without it, and their notices arrive, each once, when it is back.
func portalOutage(t *testing.T, report func(row)) {
	in := newInstallation(t)
	in.start(t, false)
	pt := newPortal(in.URL())
	apps := applications(t, 20, 0)
	pt.setDown(t, "portal", true)
	down := time.Now()
	pt.submitAll(context.Background(), apps, 4, nil)
	finished := pt.waitFinished(apps, finishTimeout)
	if finished.IsZero() {
		t.Error("cases did not finish while the portal was down")
	}
	time.Sleep(time.Until(down.Add(outage))) // the outage lasts at least this long
	during := pt.count(t, apps)
	pt.setDown(t, "portal", false)
	up := time.Now()
	r := row{fault: "Portal down for " + seconds(time.Since(down))}
	if at := pt.waitNotices(t, apps, noticesTimeout); !at.IsZero() {
		r.recovery = at.Sub(up)
	} else {
		t.Errorf("not every notice reached the portal within %v", noticesTimeout)
	}
	r.tally = pt.count(t, apps)
	received := during.noticesReceived
	r.happened = fmt.Sprintf("%d cases finished during the outage, %d notices reached the portal during it; "+
		"time from its end until every notice arrived", len(apps)-len(during.lost), received)
	report(r)
	expectNothingLost(t, r)
	if received > 0 {
		t.Errorf("%d notices reached the portal while it was down", received)
	}
}

// damage is a way to break the data directory of a stopped dev.
type damage struct {
	name string // of the subtest
	what string
	file string // the file dev must name
	do   func(path string) error
}

// dataFiles breaks the data directory of a stopped dev in several ways:
// dev refuses to start and names the file; with the file restored from a
// copy taken while dev was stopped, it starts and every case is there.
func dataFiles(t *testing.T, report func(row)) {
	in := newInstallation(t)
	in.start(t, false)
	pt := newPortal(in.URL())
	apps := applications(t, 10, 0)
	pt.submitAll(context.Background(), apps, 4, nil)
	if pt.waitFinished(apps, finishTimeout).IsZero() {
		t.Fatal("cases not finished before the stop")
	}
	pt.waitNotices(t, apps, noticesTimeout)
	in.running.stop(t)
	backup := filepath.Join(t.TempDir(), "backup")
	if err := copyDir(in.dir, backup); err != nil {
		t.Fatal(err)
	}

	remove := func(path string) error { return os.Remove(path) }
	for _, d := range []damage{
		{"TemporalDBDeleted", "`temporal.db` deleted", "temporal.db", remove},
		{"SecretDeleted", "`secret` deleted", "secret", remove},
		{"TemporalDBOverwritten", "`temporal.db` overwritten in the middle", "temporal.db", overwriteMiddle},
		{"TemporalDBTruncated", "`temporal.db` truncated to half", "temporal.db", truncateHalf},
		{"RecordsDBOverwritten", "`records.db` overwritten in the middle", "records.db", overwriteMiddle},
	} {
		t.Run(d.name, func(t *testing.T) {
			path := filepath.Join(in.dir, d.file)
			if err := d.do(path); err != nil {
				t.Fatal(err)
			}
			p := in.launch(t)
			code, err := p.wait(startTimeout)
			out := p.out.String()
			refusal := "refused: exit " + fmt.Sprint(code)
			switch {
			case err != nil:
				t.Errorf("dev started with %s: %v", d.what, err)
				refusal = "started anyway"
			case code == 0:
				t.Errorf("dev exited 0 with %s:\n%s", d.what, out)
			case !strings.Contains(out, path):
				t.Errorf("dev's refusal does not name %s:\n%s", path, out)
			default:
				refusal += ", names " + d.file
			}
			if err := restore(backup, in.dir, d.file); err != nil {
				t.Fatal(err)
			}
			restart := time.Now()
			in.start(t, true)
			r := recoverAndCount(t, pt, apps, d.what, restart)
			r.happened = refusal + "; restored from the copy, dev starts with every case"
			report(r)
			expectNothingLost(t, r)
			in.running.stop(t)
		})
	}
}

// overwriteMiddle overwrites 64 KiB in the middle of a file with bytes of
// no meaning, as a failing disk or a careless copy would.
func overwriteMiddle(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	const size = 64 << 10
	at := (info.Size() / 2) &^ 4095
	if at+size > info.Size() {
		at = max(info.Size()-size, 4096)
	}
	junk := make([]byte, size)
	for i := range junk {
		junk[i] = byte(i*131 + 7)
	}
	_, err = f.WriteAt(junk, at)
	return err
}

// truncateHalf cuts a file to half its length, as a full disk or an
// interrupted copy would.
func truncateHalf(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	return os.Truncate(path, info.Size()/2)
}

// restore puts a file of the data directory back from the backup, with its
// SQLite companions as they were.
func restore(backup, dir, name string) error {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		dst := filepath.Join(dir, name+suffix)
		if err := os.Remove(dst); err != nil && !os.IsNotExist(err) {
			return err
		}
		src := filepath.Join(backup, name+suffix)
		if _, err := os.Stat(src); os.IsNotExist(err) {
			continue
		}
		if err := copyFile(src, dst); err != nil {
			return err
		}
	}
	return nil
}

// copyDir copies a directory tree of regular files.
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		return copyFile(path, target)
	})
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	info, err := os.Stat(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, info.Mode().Perm())
}

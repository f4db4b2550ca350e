package e2e

import (
	"fmt"
	"html"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// revisionField finds the revision a version page's forms carry.
var revisionField = regexp.MustCompile(`name="revision" value="([0-9a-f]+)"`)

// concurrentDraftEdits: two administrators edit the same draft. Whoever
// saves second on what they loaded before is refused, in German, with what
// they typed kept and what differs from the draft now; nothing of the
// first save is lost. The same holds for the form, for the YAML view and,
// with If-Match, for the API.
func concurrentDraftEdits(t *testing.T, st *Stack) {
	const id = "gewerbeabmeldung-leipzig"
	res := st.api(t, http.MethodPost, "/api/v1/definitions/"+id+"/drafts", "dev-admin", nil)
	if res.Status != http.StatusCreated {
		t.Fatalf("draft: %d %s", res.Status, res.Body)
	}
	versions := res.JSON(t)["versions"].([]any)
	number := int(versions[len(versions)-1].(map[string]any)["number"].(float64))
	versionPage := "/verwaltung/definitionen/" + id + "/versionen/" + strconv.Itoa(number)

	// Both open the draft.
	first, csrf1 := st.staffPage(t, "dev-admin", versionPage)
	second, csrf2 := st.staffPage(t, "dev-admin", versionPage)
	loaded := func(p *page) (text, revision string) {
		body := p.get(versionPage).Body
		m := revisionField.FindStringSubmatch(body)
		doc := regexp.MustCompile(`(?s)<textarea id="document"[^>]*>(.*?)</textarea>`).FindStringSubmatch(body)
		if m == nil || doc == nil {
			t.Fatalf("the draft's page lacks its revision or text")
		}
		return html.UnescapeString(doc[1]), m[1]
	}
	text1, rev1 := loaded(first)
	text2, rev2 := loaded(second)
	if rev1 != rev2 {
		t.Fatalf("the same draft has two revisions: %s, %s", rev1, rev2)
	}
	mine := text1 + "name: Gewerbeabmeldung (Leipzig, erste Änderung)\n"
	if res := first.post(versionPage, url.Values{"csrf": {csrf1}, "revision": {rev1}, "document": {mine}, "action": {"save"}}); res.Status != http.StatusSeeOther {
		t.Fatalf("the first save: %d\n%s", res.Status, res.Body)
	}
	theirs := text2 + "name: Gewerbeabmeldung (Leipzig, zweite Änderung)\n"
	res2 := second.post(versionPage, url.Values{"csrf": {csrf2}, "revision": {rev2}, "document": {theirs}, "action": {"save"}})
	for _, want := range []string{"Nicht gespeichert: Jemand hat diesen Entwurf geändert, seit Sie ihn geöffnet haben.",
		"Zuletzt gespeichert von", "Ihre Eingaben sind unten erhalten", "zweite Änderung", "erste Änderung"} {
		if res2.Status != http.StatusConflict || !strings.Contains(html.UnescapeString(res2.Body), want) {
			t.Errorf("the stale save of the text: %d, the versionPage does not say %q", res2.Status, want)
		}
	}
	if got := versionOf(t, st, id, number); !strings.Contains(got["source"].(string), "erste Änderung") || strings.Contains(got["source"].(string), "zweite") {
		t.Errorf("the draft after the stale save:\n%s", got["source"])
	}

	// The form, sent on the old revision, is refused as well.
	form := url.Values{"csrf": {csrf2}, "revision": {rev2}, "action": {"save"}}
	if res := second.post(versionPage+"/formular", form); res.Status != http.StatusConflict ||
		!strings.Contains(res.Body, "Nicht gespeichert: Jemand hat diesen Entwurf geändert") {
		t.Errorf("the stale save of the form: %d", res.Status)
	}
	// Saved again on the revision the refusal showed, the text applies.
	_, rev3 := loaded(second)
	if res := second.post(versionPage, url.Values{"csrf": {csrf2}, "revision": {rev3}, "document": {theirs}, "action": {"save"}}); res.Status != http.StatusSeeOther {
		t.Errorf("saving again on the draft as it is now: %d", res.Status)
	}

	// The API: the ETag is the revision; an edit with a stale If-Match is 412.
	path := "/api/v1/definitions/" + id + "/versions/" + strconv.Itoa(number)
	got := st.api(t, http.MethodGet, path, "dev-admin", nil)
	etag := got.Header.Get("ETag")
	if _, rev := loaded(second); etag != `"`+rev+`"` {
		t.Errorf("the API's ETag %s is not the page's revision", etag)
	}
	doc := got.JSON(t)["document"].(map[string]any)
	doc["name"] = "Gewerbeabmeldung (Leipzig, über die API)"
	edited := st.api(t, http.MethodPut, path, "dev-admin", doc, "If-Match", etag)
	if edited.Status != http.StatusOK || edited.Header.Get("ETag") == "" || edited.Header.Get("ETag") == etag {
		t.Fatalf("an edit on the current ETag: %d %s (ETag %q)", edited.Status, edited.Body, edited.Header.Get("ETag"))
	}
	doc["name"] = "Gewerbeabmeldung (Leipzig, veraltet)"
	stale := st.api(t, http.MethodPut, path, "dev-admin", doc, "If-Match", etag)
	if stale.Status != http.StatusPreconditionFailed || stale.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("an edit on a stale ETag: %d %s", stale.Status, stale.Body)
	}
	if name := versionOf(t, st, id, number)["document"].(map[string]any)["name"]; name != "Gewerbeabmeldung (Leipzig, über die API)" {
		t.Errorf("the draft after the stale API edit is named %v", name)
	}

	// Two edits sent at once on the same ETag: one applies, the other is
	// 412 as well, also when both passed the gateway's look at the catalog
	// and the catalog workflow refused the later one.
	current := edited.Header.Get("ETag")
	answers := make([]Response, 2)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := maps.Clone(doc)
			mine["name"] = fmt.Sprintf("Gewerbeabmeldung (Leipzig, gleichzeitig %d)", i+1)
			answers[i] = Call(t, st.URL, http.MethodPut, path, st.token(t, "dev-admin"), mine, "If-Match", current)
		}()
	}
	wg.Wait()
	statuses := []int{answers[0].Status, answers[1].Status}
	slices.Sort(statuses)
	if statuses[0] != http.StatusOK || statuses[1] != http.StatusPreconditionFailed {
		t.Errorf("two edits at once on one ETag: %v, want one 200 and one 412", statuses)
	}
}

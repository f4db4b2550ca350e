package definitions

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/locale"
)

// VersionStatus is where a version of a definition stands: draft →
// published → retired.
type VersionStatus string

// The statuses of a version.
const (
	StatusDraft     VersionStatus = "draft"
	StatusPublished VersionStatus = "published"
	StatusRetired   VersionStatus = "retired"
)

// Version is one version of an authored definition. A variant's document
// holds only what it overrides; the effective definition is resolved against
// the published version of the base it extends.
type Version struct {
	Number   int            `json:"number"`
	Status   VersionStatus  `json:"status"`
	Document map[string]any `json:"document"`
	// Source is the YAML text the document was written as, kept so that an
	// administrator gets back the order and comments they wrote; "" when the
	// document came as JSON or from a workbook.
	Source      string    `json:"source,omitempty"`
	CreatedBy   string    `json:"createdBy"`
	CreatedAt   time.Time `json:"createdAt"`
	PublishedAt time.Time `json:"publishedAt,omitzero"`
	RetiredAt   time.Time `json:"retiredAt,omitzero"`
}

// Entry is one authored definition, a base or a variant, with its versions.
type Entry struct {
	ID       string    `json:"id"`
	Extends  string    `json:"extends,omitempty"`
	Versions []Version `json:"versions"`
}

// Change records who changed which definition, when, and how.
type Change struct {
	At           time.Time `json:"at"`
	By           string    `json:"by"`
	Action       string    `json:"action"` // created, drafted, edited, published, retired
	DefinitionID string    `json:"definitionId"`
	Version      int       `json:"version"`
	Detail       string    `json:"detail,omitempty"`
}

// Catalog is every definition with its versions and the record of changes.
// Its methods are deterministic, so the catalog workflow can hold it.
type Catalog struct {
	Revision    int64       `json:"revision"`
	Authorities []Authority `json:"authorities"`
	Entries     []Entry     `json:"entries"` // ordered by ID
	Changes     []Change    `json:"changes"`
}

// SeedCatalog makes a catalog of the shipped documents, each published as
// version 1 by "catalog".
func SeedCatalog(fsys fs.FS, at time.Time) (Catalog, error) {
	authorities, docs, files, err := readDocuments(fsys)
	if err != nil {
		return Catalog{}, err
	}
	c := Catalog{Authorities: authorities}
	ids := sortedKeys(docs)
	for _, id := range ids {
		doc := docs[id]
		extends, _ := doc["extends"].(string)
		number := 1
		if v, ok := doc["version"].(int); ok && v > 0 {
			number = v
		}
		c.Entries = append(c.Entries, Entry{ID: id, Extends: extends, Versions: []Version{{
			Number: number, Status: StatusPublished, Document: jsonCopy(doc), Source: sourceOf(fsys, files[id]), CreatedBy: "catalog",
			CreatedAt: at, PublishedAt: at,
		}}})
	}
	if _, err := c.Registry(); err != nil {
		return Catalog{}, err
	}
	for _, id := range ids {
		def, err := c.Effective(id, c.Entries[c.index(id)].Versions[0].Number)
		if err != nil {
			return Catalog{}, err
		}
		if fe := def.CheckReferences(c.Authorities); len(fe) > 0 {
			return Catalog{}, fmt.Errorf("%s: %s: %s", files[id], fe[0].Pointer, fe[0].Detail)
		}
	}
	return c, nil
}

// sourceOf is the text of a catalog file, "" when it cannot be read.
func sourceOf(fsys fs.FS, name string) string {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return ""
	}
	return string(b)
}

func (c *Catalog) index(id string) int {
	return sort.Search(len(c.Entries), func(i int) bool { return c.Entries[i].ID >= id })
}

// Entry returns the entry with the given ID.
func (c *Catalog) Entry(id string) (*Entry, bool) {
	i := sort.Search(len(c.Entries), func(i int) bool { return c.Entries[i].ID >= id })
	if i < len(c.Entries) && c.Entries[i].ID == id {
		return &c.Entries[i], true
	}
	return nil, false
}

// Version returns a version of the entry.
func (e *Entry) Version(number int) (*Version, bool) {
	for i := range e.Versions {
		if e.Versions[i].Number == number {
			return &e.Versions[i], true
		}
	}
	return nil, false
}

// Published returns the version that takes new cases, if any.
func (e *Entry) Published() (*Version, bool) {
	for i := range e.Versions {
		if e.Versions[i].Status == StatusPublished {
			return &e.Versions[i], true
		}
	}
	return nil, false
}

func (e *Entry) draft() (*Version, bool) {
	for i := range e.Versions {
		if e.Versions[i].Status == StatusDraft {
			return &e.Versions[i], true
		}
	}
	return nil, false
}

// Registry resolves the published versions into a registry for new cases.
func (c *Catalog) Registry() (*Registry, error) {
	docs := map[string]map[string]any{}
	for i := range c.Entries {
		if v, ok := c.Entries[i].Published(); ok {
			docs[c.Entries[i].ID] = v.Document
		}
	}
	return buildRegistry(c.Authorities, docs, nil)
}

// Effective resolves one version of an entry against the published versions
// of the bases it extends.
func (c *Catalog) Effective(id string, number int) (Definition, error) {
	_, v, err := c.find(id, number)
	if err != nil {
		return Definition{}, err
	}
	docs := map[string]map[string]any{}
	for i := range c.Entries {
		if p, ok := c.Entries[i].Published(); ok {
			docs[c.Entries[i].ID] = p.Document
		}
	}
	docs[id] = v.Document
	resolved, err := resolve(id, docs, nil)
	if err != nil {
		return Definition{}, ozgflow.Errorf(ozgflow.EUNPROCESSABLE, "Prozessvariante %s, Version %d: %v", id, number, err)
	}
	def, err := DecodeDocument(resolved)
	if err != nil {
		return Definition{}, ozgflow.Errorf(ozgflow.EUNPROCESSABLE, "Prozessvariante %s, Version %d: %v", id, number, err)
	}
	return def, nil
}

// find returns an entry and one of its versions, or ENOTFOUND.
func (c *Catalog) find(id string, number int) (*Entry, *Version, error) {
	e, ok := c.Entry(id)
	if !ok {
		return nil, nil, ozgflow.Errorf(ozgflow.ENOTFOUND, "Die Prozessvariante %s gibt es nicht.", id)
	}
	v, ok := e.Version(number)
	if !ok {
		return nil, nil, ozgflow.Errorf(ozgflow.ENOTFOUND, "Die Prozessvariante %s hat keine Version %d.", id, number)
	}
	return e, v, nil
}

// Create adds a new definition, a variant for another authority say, as a
// draft of version 1.
func (c *Catalog) Create(doc map[string]any, by string, at time.Time) (Version, error) {
	id, _ := doc["id"].(string)
	if !idPattern.MatchString(id) {
		return Version{}, fieldError("/id", "Kennung (id): "+msgIdent)
	}
	if _, exists := c.Entry(id); exists {
		return Version{}, ozgflow.Errorf(ozgflow.ECONFLICT, "Die Prozessvariante %s gibt es schon; legen Sie stattdessen einen Entwurf davon an.", id)
	}
	doc = jsonCopy(doc)
	doc["version"] = 1
	if err := checkDocument(doc); err != nil {
		return Version{}, err
	}
	extends, _ := doc["extends"].(string)
	v := Version{Number: 1, Status: StatusDraft, Document: doc, CreatedBy: by, CreatedAt: at}
	c.Entries = append(c.Entries, Entry{ID: id, Extends: extends, Versions: []Version{v}})
	sort.Slice(c.Entries, func(i, j int) bool { return c.Entries[i].ID < c.Entries[j].ID })
	c.record(at, by, "created", id, 1, "")
	return v, nil
}

// Draft makes a new draft from a version (0: the newest), leaving the
// published one as it is. An entry has at most one draft.
func (c *Catalog) Draft(id string, from int, by string, at time.Time) (Version, error) {
	e, ok := c.Entry(id)
	if !ok {
		return Version{}, ozgflow.Errorf(ozgflow.ENOTFOUND, "Die Prozessvariante %s gibt es nicht.", id)
	}
	if d, exists := e.draft(); exists {
		return Version{}, ozgflow.Errorf(ozgflow.ECONFLICT, "Die Prozessvariante %s hat schon einen Entwurf: Version %d.", id, d.Number)
	}
	newest := e.Versions[len(e.Versions)-1]
	source := &newest
	if from != 0 {
		if source, ok = e.Version(from); !ok {
			return Version{}, ozgflow.Errorf(ozgflow.ENOTFOUND, "Die Prozessvariante %s hat keine Version %d.", id, from)
		}
	}
	number := newest.Number + 1
	doc := jsonCopy(source.Document)
	doc["version"] = number
	v := Version{Number: number, Status: StatusDraft, Document: doc, Source: withVersion(source.Source, number), CreatedBy: by, CreatedAt: at}
	e.Versions = append(e.Versions, v)
	c.record(at, by, "drafted", id, number, fmt.Sprintf("aus Version %d", source.Number))
	return v, nil
}

// Edit replaces the document of a draft, and the YAML text it was written
// as ("" when it came otherwise); published and retired versions cannot be
// edited.
func (c *Catalog) Edit(id string, number int, doc map[string]any, source string, by string, at time.Time) (Version, error) {
	e, v, err := c.find(id, number)
	if err != nil {
		return Version{}, err
	}
	if v.Status != StatusDraft {
		return Version{}, ozgflow.Errorf(ozgflow.ECONFLICT, "Version %d von %s ist %s und kann nicht bearbeitet werden; legen Sie einen neuen Entwurf an.",
			number, id, locale.DE.VersionStatus(string(v.Status)))
	}
	if docID, _ := doc["id"].(string); docID != id {
		return Version{}, fieldError("/id", fmt.Sprintf("Kennung (id): muss „%s“ bleiben", id))
	}
	if extends, _ := doc["extends"].(string); extends != e.Extends {
		if e.Extends == "" {
			return Version{}, fieldError("/extends", "Basis (extends): eine Basis erbt von keiner anderen; das Feld muss fehlen")
		}
		return Version{}, fieldError("/extends", fmt.Sprintf("Basis (extends): muss „%s“ bleiben", e.Extends))
	}
	doc = jsonCopy(doc)
	doc["version"] = number
	if err := checkDocument(doc); err != nil {
		return Version{}, err
	}
	v.Document, v.Source = doc, withVersion(source, number)
	c.record(at, by, "edited", id, number, "")
	return *v, nil
}

// Publish validates a draft and makes it the version that takes new cases;
// the version published before is retired. Publishing a base checks every
// variant that extends it.
func (c *Catalog) Publish(id string, number int, by string, at time.Time) error {
	e, v, err := c.find(id, number)
	if err != nil {
		return err
	}
	if v.Status != StatusDraft {
		return ozgflow.Errorf(ozgflow.ECONFLICT, "Version %d von %s ist %s; nur ein Entwurf kann veröffentlicht werden.",
			number, id, locale.DE.VersionStatus(string(v.Status)))
	}
	trial := c.Clone()
	tv, _ := mustEntry(&trial, id).Version(number)
	if old, ok := mustEntry(&trial, id).Published(); ok {
		old.Status = StatusRetired
	}
	tv.Status = StatusPublished
	if err := trial.validatePublished(id); err != nil {
		return err
	}
	if old, ok := e.Published(); ok {
		old.Status, old.RetiredAt = StatusRetired, at
		c.record(at, by, "retired", id, old.Number, fmt.Sprintf("ersetzt durch Version %d", number))
	}
	v.Status, v.PublishedAt = StatusPublished, at
	c.record(at, by, "published", id, number, "")
	return nil
}

// SetAuthorities replaces the authorities the catalog knows, as a
// deployment ships them; the versions stay as they are. It reports whether
// anything changed.
func (c *Catalog) SetAuthorities(authorities []Authority) bool {
	old, _ := json.Marshal(c.Authorities)
	now, _ := json.Marshal(authorities)
	if bytes.Equal(old, now) {
		return false
	}
	var copied []Authority
	_ = json.Unmarshal(now, &copied)
	c.Authorities = copied
	c.Revision++
	return true
}

// Check lists what would stop a version from being published, as Publish
// says it (German, pointers into the version's document), without changing
// the catalog; nil when nothing would.
func (c *Catalog) Check(id string, number int) []ozgflow.FieldError {
	trial := c.Clone()
	e, v, err := trial.find(id, number)
	if err != nil {
		return []ozgflow.FieldError{{Detail: ozgflow.ErrorMessage(err)}}
	}
	v.Status = StatusDraft
	for i := range e.Versions {
		if e.Versions[i].Number != number && e.Versions[i].Status == StatusPublished {
			e.Versions[i].Status = StatusRetired
		}
	}
	if err := trial.Publish(id, number, "", time.Time{}); err != nil {
		if fe := ozgflow.ErrorFields(err); len(fe) > 0 {
			return fe
		}
		return []ozgflow.FieldError{{Detail: ozgflow.ErrorMessage(err)}}
	}
	return nil
}

// Retire takes a published version out of service: the definition takes no
// new cases until another version is published. Running cases go on.
func (c *Catalog) Retire(id string, number int, by string, at time.Time) error {
	_, v, err := c.find(id, number)
	if err != nil {
		return err
	}
	if v.Status != StatusPublished {
		return ozgflow.Errorf(ozgflow.ECONFLICT, "Version %d von %s ist %s; nur die veröffentlichte Version kann stillgelegt werden.",
			number, id, locale.DE.VersionStatus(string(v.Status)))
	}
	v.Status, v.RetiredAt = StatusRetired, at
	c.record(at, by, "retired", id, number, "")
	return nil
}

// validatePublished checks the effective definition of id and of every
// published variant that extends it, and what they name against what
// exists (queues, targets, notice fields). Findings point into the document
// the administrator wrote, a step found by its id, and say the field in
// German; those of other variants name the variant.
func (c *Catalog) validatePublished(id string) error {
	var fields []ozgflow.FieldError
	check := func(entryID string) {
		e, _ := c.Entry(entryID)
		v, ok := e.Published()
		if !ok {
			return
		}
		def, err := c.Effective(entryID, v.Number)
		if err != nil {
			fields = append(fields, ozgflow.FieldError{Detail: prefixed(entryID != id, entryID, ozgflow.ErrorMessage(err))})
			return
		}
		var found []ozgflow.FieldError
		if err := def.Validate(); err != nil {
			found = ozgflow.ErrorFields(err)
			if len(found) == 0 {
				found = []ozgflow.FieldError{{Detail: ozgflow.ErrorMessage(err)}}
			}
		}
		found = append(found, def.CheckReferences(c.Authorities)...)
		for _, f := range found {
			t := Trace(v.Document, &def, f)
			detail := t.Detail
			if t.Field != "" {
				detail = t.Field + ": " + detail
			}
			if t.Inherited && e.Extends != "" {
				detail += fmt.Sprintf(" (der Wert kommt aus der Basis „%s“)", e.Extends)
			}
			pointer := t.Pointer
			if entryID != id {
				pointer = ""
			}
			fields = append(fields, ozgflow.FieldError{Pointer: pointer, Detail: prefixed(entryID != id, entryID, detail)})
		}
	}
	check(id)
	for i := range c.Entries {
		if c.Entries[i].ID != id && c.extendsFrom(c.Entries[i].ID, id) {
			check(c.Entries[i].ID)
		}
	}
	if len(fields) > 0 {
		return &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE,
			Message: fmt.Sprintf("Die Prozessvariante %s kann so nicht veröffentlicht werden.", id), Fields: fields}
	}
	return nil
}

// prefixed names another variant in a finding.
func prefixed(other bool, id, detail string) string {
	if !other {
		return detail
	}
	return "Prozessvariante " + id + ", die darauf aufbaut: " + detail
}

// checkDocument refuses a document whose keys or values definitions cannot
// read, naming each place in German.
func checkDocument(doc map[string]any) error {
	if fe := CheckShape(doc); len(fe) > 0 {
		for i := range fe {
			if label := FieldLabel(nil, fe[i].Pointer); label != "" {
				fe[i].Detail = label + ": " + fe[i].Detail
			}
		}
		return &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE, Message: "Das Dokument lässt sich so nicht lesen.", Fields: fe}
	}
	if _, err := DecodeDocument(doc); err != nil {
		return fieldError("", "Das Dokument lässt sich so nicht lesen: "+err.Error())
	}
	return nil
}

// extendsFrom reports whether entry id inherits from base, directly or not.
func (c *Catalog) extendsFrom(id, base string) bool {
	for seen := 0; seen < len(c.Entries); seen++ {
		e, ok := c.Entry(id)
		if !ok || e.Extends == "" {
			return false
		}
		if e.Extends == base {
			return true
		}
		id = e.Extends
	}
	return false
}

func (c *Catalog) record(at time.Time, by, action, id string, version int, detail string) {
	c.Revision++
	c.Changes = append(c.Changes, Change{At: at, By: by, Action: action, DefinitionID: id, Version: version, Detail: detail})
}

// Clone deep-copies the catalog through JSON.
func (c *Catalog) Clone() Catalog {
	var out Catalog
	b, _ := json.Marshal(c)
	_ = json.Unmarshal(b, &out)
	return out
}

func mustEntry(c *Catalog, id string) *Entry {
	e, _ := c.Entry(id)
	return e
}

// jsonCopy deep-copies a document so that versions never share maps.
func jsonCopy(doc map[string]any) map[string]any {
	var out map[string]any
	b, _ := json.Marshal(doc)
	_ = json.Unmarshal(b, &out)
	return out
}

func fieldError(pointer, detail string) error {
	return &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE, Message: "Das Dokument lässt sich so nicht lesen.",
		Fields: []ozgflow.FieldError{{Pointer: pointer, Detail: detail}}}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Revision identifies what a version holds now: a hash of its text as
// written (or of its document where it has none). An editor carries the
// revision it loaded, so that a save on a draft another administrator
// changed meanwhile is refused instead of overwriting their change.
func (v Version) Revision() string {
	content := []byte(v.Source)
	if v.Source == "" {
		content, _ = json.Marshal(v.Document) // map keys come out sorted: stable
	}
	sum := sha256.Sum256(content)
	return hex.EncodeToString(sum[:8])
}

// CheckRevision refuses a change to a version made on an older revision
// of it than it holds now (see Version.Revision).
func (c *Catalog) CheckRevision(id string, number int, revision string) error {
	_, v, err := c.find(id, number)
	if err != nil {
		return err
	}
	if revision != v.Revision() {
		return ozgflow.Errorf(ozgflow.ECONFLICT,
			"Version %d von %s wurde geändert, seit Sie sie geladen haben (Stand %s, jetzt %s); Ihre Änderung ist nicht gespeichert.",
			number, id, revision, v.Revision())
	}
	return nil
}

// Package xlsx carries definitions to and from an Excel workbook, for
// administrators who edit process variants in Excel.
//
// The workbook holds the documents as authored, not resolved: a base with all
// its fields, a variant (Erweitert = the base's Kennung) with only what it
// overrides, so an administrator sees and edits exactly what the catalog
// file says. ReadCatalog reads a catalog that way, Export writes the
// workbook, Import reads it back, Compare tells what changed against the
// catalog, and Resolve applies inheritance and validation before anything is
// published.
//
// Sheets (row 1 holds the headers; every row names its document in the
// column Kennung):
//
//   - Leistungen: one row per document: Kennung, Erweitert, Version,
//     Leistung (LeiKa), Kurzname, Name, Behörde (ARS), LeiKa-Hinweis.
//   - Gebühren: fee and payment deadline: Betrag (Cent), Währung,
//     Verwendungszweck, Zahlungsfrist, and the fee's lines with their
//     booking data as a JSON list (Positionen mit Buchungsdaten).
//   - Schritte: one row per step: Position, Schritt (step id), Art, and a
//     column per step field; Ergebnisse and Felder comma-separated, Regeln
//     as a JSON list.
//   - Fristen: a read-only overview of the deadlines that apply after
//     inheritance (payment, task due times, wait-external timeouts) and the
//     document that sets each. Deadlines are edited where they belong, in
//     Gebühren (Zahlungsfrist) and Schritte (Frist, Wartezeit); the sheet is
//     protected and Import does not read it.
//   - Mitteilungen: one row per notice: Schlüssel, Titel, Text.
//   - Variablen: one row per variable: Name, Wert (JSON).
//   - Schema: the JSON Schema of the application data, indented, in one cell.
//   - Hinweise: these conventions in German, for the administrator.
//
// An empty cell means "not set" (a variant inherits the base's value); the
// text "" (two quotation marks) sets a text or a list explicitly empty.
// Position orders the steps within one document; a variant's steps are
// matched to the base's by step id and new ones are appended, as in
// definitions.LoadCatalog. Deleting a row removes that entry; deleting a
// document means deleting its rows in every sheet (rows left behind are
// reported as naming an unknown Kennung).
//
// Export writes nothing it could not read back unchanged and fails instead,
// naming the document and field. Two things are normalised on the way: a
// YAML null or a number in a text field becomes text ("" or its digits), and
// an empty notices or vars mapping is dropped; neither changes the resolved
// definition. YAML comments are not part of a Document and do not survive.
package xlsx

-- Internal notes of case workers on a case: shown to colleagues, never sent
-- to the applicant; their text (and the author's name) encrypted like the
-- documents, erased with the case's personal data.
CREATE TABLE case_notes (
    note_id    TEXT PRIMARY KEY,
    case_id    TEXT NOT NULL,
    at         BIGINT NOT NULL,
    author     TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    sealed     BYTEA NOT NULL
);
CREATE INDEX case_notes_by_case ON case_notes (case_id, at);

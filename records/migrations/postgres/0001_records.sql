-- Documents: the encrypted bytes once per content (blobs), and which case
-- holds them under what name (case_documents).
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    size   BIGINT NOT NULL,
    sealed BYTEA NOT NULL
);
CREATE TABLE case_documents (
    case_id      TEXT NOT NULL,
    sha256       TEXT NOT NULL REFERENCES blobs (sha256),
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (case_id, sha256)
);
CREATE INDEX case_documents_by_sha ON case_documents (sha256);

-- The audit trail: append-only, refused changes by triggers.
CREATE TABLE trail (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    role      TEXT NOT NULL,
    authority TEXT NOT NULL,
    case_id   TEXT NOT NULL,
    account   TEXT NOT NULL,
    action    TEXT NOT NULL,
    detail    TEXT NOT NULL,
    address   TEXT NOT NULL
);
CREATE INDEX trail_by_case ON trail (case_id, id);
CREATE INDEX trail_by_actor ON trail (actor, id);
CREATE INDEX trail_by_account ON trail (account, id);
CREATE INDEX trail_by_time ON trail (at);
CREATE FUNCTION trail_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
END $$;
CREATE TRIGGER trail_no_change BEFORE UPDATE OR DELETE ON trail
    FOR EACH ROW EXECUTE FUNCTION trail_append_only();
CREATE TRIGGER trail_no_truncate BEFORE TRUNCATE ON trail
    FOR EACH STATEMENT EXECUTE FUNCTION trail_append_only();

-- Read marks of the portal mailbox.
CREATE TABLE read_marks (
    account   TEXT NOT NULL,
    notice_id TEXT NOT NULL,
    read_at   BIGINT NOT NULL,
    PRIMARY KEY (account, notice_id)
);

-- Closed cases: the final record (encrypted, removed at erasure) and the
-- statistics that stay.
CREATE TABLE closed_cases (
    case_id        TEXT PRIMARY KEY,
    revision       BIGINT NOT NULL,
    service        TEXT NOT NULL,
    service_name   TEXT NOT NULL,
    authority      TEXT NOT NULL,
    definition     TEXT NOT NULL,
    status         TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    submitted_at   BIGINT NOT NULL,
    decided_at     BIGINT NOT NULL,
    fee_cents      BIGINT NOT NULL DEFAULT 0,
    fee_currency   TEXT NOT NULL DEFAULT '',
    payment_status TEXT NOT NULL DEFAULT '',
    closed_at      BIGINT NOT NULL,
    retain_until   BIGINT NOT NULL,
    account        TEXT NOT NULL,
    key_id         TEXT NOT NULL,
    sealed         BYTEA,
    erased_at      BIGINT NOT NULL DEFAULT 0,
    erased_because TEXT NOT NULL DEFAULT ''
);
CREATE INDEX closed_cases_by_authority ON closed_cases (authority, closed_at);
CREATE INDEX closed_cases_due ON closed_cases (erased_at, retain_until);
CREATE INDEX closed_cases_by_account ON closed_cases (account);

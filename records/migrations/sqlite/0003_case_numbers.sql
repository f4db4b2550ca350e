-- Short case numbers (GEW-2026-000123): one counter per prefix, authority
-- and year, and the number each case drew, by its workflow, so that a
-- retried draw returns the same number.
CREATE TABLE case_number_sequences (
    seq_key TEXT PRIMARY KEY,
    last    BIGINT NOT NULL
);
CREATE TABLE case_numbers (
    workflow_id TEXT PRIMARY KEY,
    seq_key     TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    number      TEXT NOT NULL,
    assigned_at BIGINT NOT NULL,
    UNIQUE (seq_key, seq)
);

-- FIT-Connect submissions sent for a case, one per case, target and round:
-- a repeated delivery activity finds what the first attempt announced or
-- submitted and sends nothing twice. The body holds IDs and authentication
-- tags, no personal data. (Numbered with room for other changes.)
CREATE TABLE IF NOT EXISTS sent_submissions (
    send_key   TEXT PRIMARY KEY,
    submitted  INTEGER NOT NULL,
    body       TEXT NOT NULL,
    at         BIGINT NOT NULL
);

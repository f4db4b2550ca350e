-- Notices the portal has taken, so that a rebuild of Redis sends none twice.
CREATE TABLE portal_deliveries (
    notice_id    TEXT PRIMARY KEY,
    delivered_at BIGINT NOT NULL
);

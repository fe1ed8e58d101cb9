-- One row per running server process, written by GET /readyz: a real write through the
-- database's writer, so readiness fails while the disk is full and passes once it is not.
CREATE TABLE readiness_probes (
    node TEXT PRIMARY KEY,
    checked_at BIGINT NOT NULL
);

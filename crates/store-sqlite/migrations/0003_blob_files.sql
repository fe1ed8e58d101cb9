-- Attachment content moves out of the database into the content-addressed blob store (files
-- under the data directory): `content_sha256` names the blob. Rows written before keep their
-- bytes in `blobs` through `sha256`, and stay readable.

ALTER TABLE attachments ADD COLUMN content_sha256 TEXT;

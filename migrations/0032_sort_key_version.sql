-- 0032: versioned IMAP SORT keys (issue 13). The keys of message_sort_keys
-- (0009) are computed in C, so a change in how they are computed cannot be
-- applied here: SQL cannot parse an ENVELOPE. Instead every row records the
-- version of the key scheme it was computed with; the rows that exist now
-- were computed with version 1 (group start markers skipped when looking for
-- the first address). server/store/store-mail-sort.c writes the current
-- version (STORE_SORT_KEY_VERSION) and treats an older row as stale: a SORT
-- or THREAD that meets one computes its keys again and replaces the row, and
-- `cairnctl mail reindex-sort` does it for every stale row ahead of time.
-- Never edit this file once it has landed: add a new migration instead.

ALTER TABLE message_sort_keys ADD COLUMN key_version smallint NOT NULL DEFAULT 1;

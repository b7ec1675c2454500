-- The photo a person submitted with a self-enrolment link, sealed with the
-- template key like the template (XChaCha20-Poly1305, associated data bound
-- to the order), kept only while the link is pending so that an officer
-- sees it when deciding. Set to NULL on approval, rejection, the order's end
-- and the retention purge of undecided templates (SQLite).
ALTER TABLE enrollment_links ADD COLUMN photo_ciphertext BLOB;
ALTER TABLE enrollment_links ADD COLUMN photo_nonce BLOB;

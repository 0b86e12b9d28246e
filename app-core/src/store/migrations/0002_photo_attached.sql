-- A photo uploads once a saved record refers to it: photos taken for a form
-- that was never saved (a discarded draft) stay on the device and cost no
-- bytes on a billed link. Photos already on the device keep uploading as
-- before.
ALTER TABLE photos ADD COLUMN attached INTEGER NOT NULL DEFAULT 1;
DROP INDEX photos_to_upload;
CREATE INDEX photos_to_upload ON photos(uploaded, attached, created_at);

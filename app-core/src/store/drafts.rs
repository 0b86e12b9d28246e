//! Form drafts (草稿箱): what a user is typing, saved as they type so that
//! killing the app loses at most the last second. Drafts are local only:
//! they are not documents, never enter the outbox and never sync.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store};

impl Store {
    /// Saves (replaces) the draft of form `key` (e.g. `new_log`, or
    /// `edit_log:<id>`); `json` is the form's state.
    pub fn save_form_draft(&self, key: &str, json: &str) -> Result<()> {
        let now = self.clock.now().as_millis();
        self.conn().execute(
            "INSERT INTO form_drafts(key, json, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(key) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at",
            params![key, json, now],
        )?;
        Ok(())
    }

    /// The draft of form `key`, if any.
    pub fn form_draft(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row("SELECT json FROM form_drafts WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Discards the draft of form `key` (after the record is saved).
    pub fn delete_form_draft(&self, key: &str) -> Result<()> {
        self.conn()
            .execute("DELETE FROM form_drafts WHERE key = ?1", [key])?;
        Ok(())
    }

    /// Keys of all drafts, most recent first.
    pub fn form_drafts(&self) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT key FROM form_drafts ORDER BY updated_at DESC")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

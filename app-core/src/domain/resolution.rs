//! What a person decided about a record's merge: conflict resolutions
//! (冲突处理) and duplicate marks (重复标记), and what "possibly the same
//! visit" means ([`text_similarity`]).
//!
//! A resolution is an ordinary change to the record: it writes the chosen
//! value over every concurrent value and appends a [`Resolution`] to the
//! record's append-only list, so every device converges on it and the record
//! keeps who resolved what, when, and which values it superseded. A
//! duplicate mark leaves the record in place and takes it out of statistics.

use serde::{Deserialize, Serialize};

use super::{DocId, ResolutionId, Role, Timestamp, UserId};

/// One resolved conflict (冲突处理记录): the field, the value chosen, the
/// values it superseded, and who chose when. Never edited or removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "doc", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct Resolution {
    /// Stable ID (UUIDv7).
    #[cfg_attr(feature = "doc", key)]
    pub id: ResolutionId,
    /// Where the field is: `farmers_served`, `farmer.name`, `served.2.name`.
    pub path: String,
    /// The chosen value as JSON text.
    pub chosen: String,
    /// The values it superseded, each as JSON text.
    pub superseded: Vec<String>,
    /// Who resolved.
    pub by: UserId,
    /// In which role (the author, the team lead, a sync admin).
    pub role: Role,
    /// When, by the resolver's device clock.
    pub at: Timestamp,
}

impl Resolution {
    /// The top-level field of the path (`farmer` for `farmer.name`).
    pub fn field(&self) -> &str {
        top_field(&self.path)
    }

    /// Whether the entry is well formed: a non-empty path and JSON texts.
    pub fn is_well_formed(&self) -> bool {
        !self.path.is_empty()
            && serde_json::from_str::<serde_json::Value>(&self.chosen).is_ok()
            && self
                .superseded
                .iter()
                .all(|s| serde_json::from_str::<serde_json::Value>(s).is_ok())
    }
}

/// The top-level field of a dotted path.
pub fn top_field(path: &str) -> &str {
    path.split('.').next().unwrap_or(path)
}

/// A record marked as a duplicate of another (重复记录): it stays, visible
/// and synced, but no longer counts in statistics or waits for review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "doc", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct DuplicateMark {
    /// The record this one duplicates (the one kept).
    pub of: DocId,
    /// Who marked it.
    pub by: UserId,
    /// When, by the marker's device clock.
    pub at: Timestamp,
}

/// Two descriptions are "similar" (possibly the same visit) when
/// [`text_similarity`] is at least this.
pub const DUPLICATE_SIMILARITY: f64 = 0.6;

/// The characters of `s` that carry meaning: full-width forms folded to
/// ASCII, letters lower-cased, whitespace and punctuation dropped.
pub fn normalise_text(s: &str) -> Vec<char> {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        })
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// How alike two texts are, from 0 (nothing shared) to 1 (the same after
/// [`normalise_text`]): the Sørensen–Dice coefficient of their multisets of
/// character pairs (bigrams), which suits Chinese, where a word is two or
/// three characters and there are no spaces. Texts shorter than two
/// characters are alike only when equal.
pub fn text_similarity(a: &str, b: &str) -> f64 {
    let a = normalise_text(a);
    let b = normalise_text(b);
    if a == b {
        return 1.0;
    }
    if a.len() < 2 || b.len() < 2 {
        return 0.0;
    }
    let mut pairs: Vec<(char, char)> = a.windows(2).map(|w| (w[0], w[1])).collect();
    pairs.sort_unstable();
    let total = pairs.len() + b.len() - 1;
    let mut shared = 0usize;
    for w in b.windows(2) {
        if let Ok(i) = pairs.binary_search(&(w[0], w[1])) {
            pairs.remove(i);
            shared += 1;
        }
    }
    (2 * shared) as f64 / total as f64
}

/// Whether two descriptions are similar enough to be one visit logged twice.
pub fn similar_texts(a: &str, b: &str) -> bool {
    text_similarity(a, b) >= DUPLICATE_SIMILARITY
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRAINING: &str = "在村委会开展茶园冬季管理培训，讲解修剪、施肥和病虫害绿色防控。";

    #[test]
    fn the_same_text_written_differently_is_the_same() {
        assert_eq!(text_similarity(TRAINING, TRAINING), 1.0);
        assert_eq!(
            text_similarity(
                "在村委会开展茶园冬季管理培训 讲解修剪，施肥和病虫害绿色防控",
                TRAINING
            ),
            1.0,
            "spaces and punctuation do not count"
        );
        assert_eq!(text_similarity("ＡＢＣ１２３", "abc123"), 1.0);
        assert_eq!(text_similarity("", "  。"), 1.0, "both empty");
    }

    #[test]
    fn one_visit_typed_twice_is_similar_and_other_work_is_not() {
        // The phone's text and the tablet's retyped text of the same visit.
        let retyped = "村委会开展茶园冬季管理培训，讲了修剪、施肥、病虫害绿色防控。";
        assert!(
            similar_texts(TRAINING, retyped),
            "{}",
            text_similarity(TRAINING, retyped)
        );
        // The same visit with a sentence added afterwards.
        let longer = format!("{TRAINING}会后到两户茶农家中查看修剪情况。");
        assert!(
            similar_texts(TRAINING, &longer),
            "{}",
            text_similarity(TRAINING, &longer)
        );
        // Another day's work in the same village.
        let other = "指导猕猴桃园冬季清园，剪除病枝并涂白树干。";
        assert!(
            !similar_texts(TRAINING, other),
            "{}",
            text_similarity(TRAINING, other)
        );
        // Same topic, different work.
        let topic = "茶园施肥现场示范，演示测土配方施肥方法。";
        assert!(
            !similar_texts(TRAINING, topic),
            "{}",
            text_similarity(TRAINING, topic)
        );
        assert_eq!(text_similarity("茶", "猕"), 0.0);
        assert!(text_similarity("茶", "茶园") < DUPLICATE_SIMILARITY);
    }

    #[test]
    fn similarity_is_symmetric_and_bounded() {
        for (a, b) in [
            (TRAINING, "茶园"),
            ("修剪修剪修剪", "修剪"),
            ("abcd", "dcba"),
        ] {
            let s = text_similarity(a, b);
            assert_eq!(s, text_similarity(b, a));
            assert!((0.0..=1.0).contains(&s));
        }
    }

    #[test]
    fn the_top_field_of_a_path() {
        assert_eq!(top_field("farmer.name"), "farmer");
        assert_eq!(top_field("farmers_served"), "farmers_served");
    }
}

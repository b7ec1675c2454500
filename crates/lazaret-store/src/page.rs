//! Cursor paging: stable (ordered by primary key), opaque to clients.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;

use crate::error::StoreError;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    /// The cursor a previous page returned.
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

impl PageRequest {
    pub(crate) fn limit(&self) -> i64 {
        i64::from(self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT))
    }

    /// A request for the page after the record with key `key` (what a
    /// cursor of a page ending there says), for tools that start a walk
    /// in the middle of a list, like `lazaret bench lists`.
    pub fn after(key: &str, limit: Option<u32>) -> Self {
        Self {
            cursor: Some(encode_cursor(key)),
            limit,
        }
    }

    pub(crate) fn after_key(&self) -> Result<Option<String>, StoreError> {
        self.cursor.as_deref().map(decode_cursor).transpose()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass back as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows: the extra row only says
    /// that more exist.
    pub(crate) fn from_rows(mut items: Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Self {
        let more = items.len() as i64 > limit;
        if more {
            items.truncate(limit as usize);
        }
        let next_cursor = if more {
            items.last().map(|t| encode_cursor(&key(t)))
        } else {
            None
        };
        Page { items, next_cursor }
    }
}

fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key.as_bytes())
}

fn decode_cursor(c: &str) -> Result<String, StoreError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(c)
        .map_err(|_| StoreError::InvalidCursor)?;
    String::from_utf8(bytes).map_err(|_| StoreError::InvalidCursor)
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
pub(crate) fn like_contains(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for c in s.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip() {
        assert_eq!(decode_cursor(&encode_cursor("P-01")).unwrap(), "P-01");
        assert!(decode_cursor("***").is_err());
    }

    #[test]
    fn page_detects_more() {
        let p = Page::from_rows(vec![1, 2, 3], 2, |i| i.to_string());
        assert_eq!(p.items, vec![1, 2]);
        assert!(p.next_cursor.is_some());
        let p = Page::from_rows(vec![1, 2], 2, |i| i.to_string());
        assert!(p.next_cursor.is_none());
    }

    #[test]
    fn like_escapes() {
        assert_eq!(like_contains("A_b%"), "%a\\_b\\%%");
    }
}

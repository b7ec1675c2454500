//! Surveillance exports: the cases of a period and district, or the contacts
//! traced from them, as a CSV or FHIR file streamed page by page from the
//! store (keyset pagination: memory stays flat and a large export never
//! waits for its whole result). The JSON API (`routes/exports.rs`) and the
//! console's download both call [`export`].
//!
//! Safeguards: only the officer's districts (a district outside them is
//! refused, none means all of theirs, filtered in SQL); least data (see
//! `crate::surveillance`: no name, phone, e-mail, address or coordinate);
//! audited: `export.surveillance` with kind, format, period and districts
//! before the first byte, `export.surveillance.end` with the number of rows
//! once the last one is written (an export cut off has no end event).

use std::future::Future;

use chrono::{DateTime, Duration, Utc};
use futures_util::stream::{self, BoxStream, StreamExt as _};
use lazaret_core::district::{District, DistrictScope};
use lazaret_core::ValidationError;
use lazaret_store::{
    CaseCursor, CaseLine, ContactCursor, ContactLine, Store, StoreError, SurveillanceFilter,
};

use crate::services::{Actor, ServiceError};
use crate::state::AppState;
use crate::surveillance::{Format, Kind, Line, Writer};

/// The longest period one export may cover.
pub const MAX_DAYS: i64 = 366;
/// The default period: the 30 days up to `to`.
pub const DEFAULT_DAYS: i64 = 30;
/// Rows read from the store at a time.
pub const PAGE_ROWS: u32 = 500;

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    pub kind: Kind,
    pub format: Format,
    /// Start of the period (inclusive); default [`DEFAULT_DAYS`] before `to`.
    pub from: Option<DateTime<Utc>>,
    /// End (exclusive); default now.
    pub to: Option<DateTime<Utc>>,
    /// One of the officer's districts; default all of them.
    pub district: Option<District>,
}

/// A file being exported: its name and type, and its bytes as a stream.
/// A store failure after the first page ends the stream with the error
/// (the transfer is cut off, never completed with rows missing).
pub struct ExportFile {
    pub file_name: String,
    pub content_type: &'static str,
    pub body: BoxStream<'static, Result<Vec<u8>, StoreError>>,
}

/// The period of a request, checked: `from` before `to`, at most
/// [`MAX_DAYS`] days.
pub fn period(
    now: DateTime<Utc>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ValidationError> {
    checked_period(
        now,
        from,
        to,
        DEFAULT_DAYS,
        MAX_DAYS,
        &format!("an export covers at most {MAX_DAYS} days; split it into shorter periods"),
    )
}

/// `[from, to)` with the defaults filled in (`to`: now; `from`: `default_days`
/// before `to`), checked: `from` before `to`, at most `max_days` apart
/// (else `too_long`, on `from`). The analysts' statistics and exports share it.
pub fn checked_period(
    now: DateTime<Utc>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    default_days: i64,
    max_days: i64,
    too_long: &str,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ValidationError> {
    let to = to.unwrap_or(now);
    let from = from.unwrap_or(to - Duration::days(default_days));
    if from >= to {
        return Err(ValidationError::new("to", "must be after from"));
    }
    if to - from > Duration::days(max_days) {
        return Err(ValidationError::new("from", too_long));
    }
    Ok((from, to))
}

/// Starts an export for `actor`: checks the request, audits it, reads the
/// first page (so that a failing store answers an error, not a cut file)
/// and returns the file whose stream reads the rest.
pub async fn export(
    state: &AppState,
    actor: &Actor,
    req: ExportRequest,
) -> Result<ExportFile, ServiceError> {
    let (from, to) = period(state.now(), req.from, req.to)?;
    let districts = match &req.district {
        Some(d) if actor.districts().covers(d) => DistrictScope::Only([d.clone()].into()),
        Some(_) => {
            return Err(ValidationError::new("district", "is not one of your districts").into())
        }
        None => actor.districts().clone(),
    };
    let filter = SurveillanceFilter {
        from,
        to,
        districts,
    };
    let file_name = format!(
        "lazaret-{}-{}-{}-{}.{}",
        req.kind.as_str(),
        req.district.as_ref().map_or("all", |d| d.as_str()),
        from.format("%Y%m%dT%H%MZ"),
        to.format("%Y%m%dT%H%MZ"),
        req.format.extension()
    );
    let details = format!(
        "kind={} format={} from={} to={} districts={}",
        req.kind.as_str(),
        req.format.as_str(),
        from.to_rfc3339(),
        to.to_rfc3339(),
        filter.districts
    );
    let audit = actor.audit(
        state.now(),
        "export.surveillance",
        "export",
        req.kind.as_str(),
        details.clone(),
    );
    state.store.record_audit(&audit).await?;
    let run = Run {
        state: state.clone(),
        actor: actor.clone(),
        kind: req.kind,
        details,
        filter,
        writer: Writer::new(req.format),
    };
    let body = match req.kind {
        Kind::Cases => run.start::<CaseLine>().await?,
        Kind::Contacts => run.start::<ContactLine>().await?,
    };
    Ok(ExportFile {
        file_name,
        content_type: req.format.content_type(),
        body,
    })
}

/// A line list the store reads a page at a time.
trait Source: Line + Sized + Send + Sync + 'static {
    type Cursor: Send + Sync + 'static;

    fn cursor(&self) -> Self::Cursor;

    fn page<'a>(
        store: &'a Store,
        filter: &'a SurveillanceFilter,
        after: Option<&'a Self::Cursor>,
    ) -> impl Future<Output = Result<Vec<Self>, StoreError>> + Send + 'a;
}

impl Source for CaseLine {
    type Cursor = CaseCursor;

    fn cursor(&self) -> CaseCursor {
        CaseLine::cursor(self)
    }

    fn page<'a>(
        store: &'a Store,
        filter: &'a SurveillanceFilter,
        after: Option<&'a CaseCursor>,
    ) -> impl Future<Output = Result<Vec<Self>, StoreError>> + Send + 'a {
        store.surveillance_cases(filter, after, PAGE_ROWS)
    }
}

impl Source for ContactLine {
    type Cursor = ContactCursor;

    fn cursor(&self) -> ContactCursor {
        ContactLine::cursor(self)
    }

    fn page<'a>(
        store: &'a Store,
        filter: &'a SurveillanceFilter,
        after: Option<&'a ContactCursor>,
    ) -> impl Future<Output = Result<Vec<Self>, StoreError>> + Send + 'a {
        store.surveillance_contacts(filter, after, PAGE_ROWS)
    }
}

/// What the stream does next.
enum Step<C> {
    /// Read the page after this cursor.
    Page(C),
    /// Audit the end, then write the file's tail.
    End,
    Done,
}

struct Run {
    state: AppState,
    actor: Actor,
    kind: Kind,
    details: String,
    filter: SurveillanceFilter,
    writer: Writer,
}

impl Run {
    /// The step after a page of `rows`: a short page is the last.
    fn after<L: Source>(rows: &[L]) -> Step<L::Cursor> {
        match rows.last() {
            Some(last) if rows.len() >= PAGE_ROWS as usize => Step::Page(last.cursor()),
            _ => Step::End,
        }
    }

    /// Reads the first page and returns the stream: the head and that page
    /// first, then each further page, then the tail.
    async fn start<L: Source>(
        mut self,
    ) -> Result<BoxStream<'static, Result<Vec<u8>, StoreError>>, ServiceError> {
        let rows = L::page(&self.state.store, &self.filter, None).await?;
        let mut first = self.writer.head::<L>(self.state.now());
        first.extend(self.writer.rows(&rows));
        let step = Self::after(&rows);
        let rest = stream::unfold((self, step), |(mut run, step)| async move {
            match step {
                Step::Done => None,
                Step::Page(cursor) => {
                    match L::page(&run.state.store, &run.filter, Some(&cursor)).await {
                        Ok(rows) => {
                            let bytes = run.writer.rows(&rows);
                            let next = Self::after(&rows);
                            Some((Ok(bytes), (run, next)))
                        }
                        Err(e) => Some((Err(e), (run, Step::Done))),
                    }
                }
                Step::End => {
                    let audit = run.actor.audit(
                        run.state.now(),
                        "export.surveillance.end",
                        "export",
                        run.kind.as_str(),
                        format!("{} rows={}", run.details, run.writer.written()),
                    );
                    match run.state.store.record_audit(&audit).await {
                        Ok(_) => {
                            let tail = run.writer.tail();
                            Some((Ok(tail), (run, Step::Done)))
                        }
                        Err(e) => Some((Err(e), (run, Step::Done))),
                    }
                }
            }
        });
        Ok(stream::once(async move { Ok(first) })
            .chain(rest)
            .filter(|chunk| {
                let keep = !matches!(chunk, Ok(bytes) if bytes.is_empty());
                async move { keep }
            })
            .boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_period_is_checked() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        assert_eq!(
            period(now, None, None).unwrap(),
            (now - Duration::days(30), now)
        );
        let e = period(now, Some(now), Some(now)).unwrap_err();
        assert_eq!(e.field, "to");
        let e = period(now, Some(now - Duration::days(367)), None).unwrap_err();
        assert_eq!(e.field, "from");
        assert!(period(now, Some(now - Duration::days(366)), None).is_ok());
    }
}

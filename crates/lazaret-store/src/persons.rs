//! Persons repository.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::contact_info::{Email, Language, Phone};
use lazaret_core::district::{District, DistrictScope, UNASSIGNED};
use lazaret_core::ids::PersonId;
use lazaret_core::person::{FullName, Person};
use sqlx::Row;

use crate::audit::append_audit;
use crate::db::BeginWrite as _;
use crate::db::{on_pool, to_ms, BackendKind, Store};
use crate::error::StoreError;
use crate::page::{like_contains, Page, PageRequest};
use crate::scope;

/// Filters for listing persons.
#[derive(Debug, Clone, Default)]
pub struct PersonFilter {
    /// Case-insensitive substring of the name.
    pub name_contains: Option<String>,
    /// Only these districts (an officer's list always sets it); `None`
    /// for the system's own work.
    pub districts: Option<DistrictScope>,
}

const COLUMNS: &str = "id, full_name, phone, email, language, district";

macro_rules! person_from_row {
    ($r:expr) => {{
        let r = $r;
        let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("persons", e);
        Person {
            id: PersonId::parse(r.try_get::<&str, _>("id")?).map_err(bad)?,
            full_name: FullName::parse(r.try_get::<&str, _>("full_name")?).map_err(bad)?,
            phone: r
                .try_get::<Option<&str>, _>("phone")?
                .map(Phone::parse)
                .transpose()
                .map_err(bad)?,
            email: r
                .try_get::<Option<&str>, _>("email")?
                .map(Email::parse)
                .transpose()
                .map_err(bad)?,
            language: Language::parse(r.try_get::<&str, _>("language")?).map_err(bad)?,
            district: District::parse(r.try_get::<&str, _>("district")?).map_err(bad)?,
        }
    }};
}

impl Store {
    /// Stores a new person; `Conflict` if the id is taken.
    pub async fn insert_person(
        &self,
        p: &Person,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        const SQL: &str =
            "INSERT INTO persons (id, full_name, phone, email, language, created_at, updated_at, \
             district) VALUES ($1, $2, $3, $4, $5, $6, $6, $7)";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(SQL)
                .bind(p.id.as_str())
                .bind(p.full_name.as_str())
                .bind(p.phone.as_ref().map(Phone::as_str))
                .bind(p.email.as_ref().map(Email::as_str))
                .bind(p.language.as_str())
                .bind(to_ms(now))
                .bind(p.district.as_str())
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::on_insert(e, "person", p.id.as_str()))?;
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(())
        })
    }

    /// Replaces the stored details of `p` (name, phone, e-mail, language,
    /// district: their `unassigned` orders and alerts follow them)
    /// and appends `audit`, in one transaction; `NotFound` for an unknown id.
    pub async fn update_person(
        &self,
        p: &Person,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE persons SET full_name = $1, phone = $2, email = $3, \
                           language = $4, updated_at = $5, district = $7 WHERE id = $6";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(SQL)
                .bind(p.full_name.as_str())
                .bind(p.phone.as_ref().map(Phone::as_str))
                .bind(p.email.as_ref().map(Email::as_str))
                .bind(p.language.as_str())
                .bind(to_ms(now))
                .bind(p.id.as_str())
                .bind(p.district.as_str())
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::NotFound { entity: "person", id: p.id.to_string() });
            }
            // Placing a person from before districts places what was
            // theirs with them; records already in a district stay there.
            if p.district.as_str() != UNASSIGNED {
                for table in ["orders", "alerts"] {
                    sqlx::query(&format!(
                        "UPDATE {table} SET district = $1 WHERE person_id = $2 AND district = '{UNASSIGNED}'"
                    ))
                    .bind(p.district.as_str())
                    .bind(p.id.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
            }
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(())
        })
    }

    /// The districts of `ids` (unknown ids are left out), for showing where
    /// contacts live without reading their details.
    pub async fn person_districts(
        &self,
        ids: &[PersonId],
    ) -> Result<HashMap<PersonId, District>, StoreError> {
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let params = scope::numbered(chunk.len());
            let sql = format!("SELECT id, district FROM persons WHERE id IN ({})", params);
            on_pool!(self, pool => {
                let mut q = sqlx::query(&sql);
                for id in chunk {
                    q = q.bind(id.as_str());
                }
                for r in q.fetch_all(pool).await? {
                    let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("persons", e);
                    out.insert(
                        PersonId::parse(r.try_get::<&str, _>("id")?).map_err(bad)?,
                        District::parse(r.try_get::<&str, _>("district")?).map_err(bad)?,
                    );
                }
            });
        }
        Ok(out)
    }

    /// The persons of `ids` that belong to one of `districts` (unknown ids
    /// and other districts' persons are left out), in one query per 500
    /// ids: the names a page of alerts shows.
    pub async fn persons_in(
        &self,
        ids: &[PersonId],
        districts: &DistrictScope,
    ) -> Result<HashMap<PersonId, Person>, StoreError> {
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let params = scope::numbered(chunk.len());
            let (limit, values) = scope::clause("district", districts, chunk.len() + 1);
            let sql = format!(
                "SELECT {COLUMNS} FROM persons WHERE id IN ({}){limit}",
                params
            );
            on_pool!(self, pool => {
                let mut q = sqlx::query(&sql);
                for id in chunk {
                    q = q.bind(id.as_str());
                }
                for v in &values {
                    q = q.bind(v.as_str());
                }
                for r in q.fetch_all(pool).await? {
                    let p = person_from_row!(&r);
                    out.insert(p.id.clone(), p);
                }
            });
        }
        Ok(out)
    }

    /// The end of the active order of each of `ids` that has one in
    /// `districts` (a person has at most one active order), in one query
    /// per 500 ids: the persons list's column.
    pub async fn active_order_ends(
        &self,
        ids: &[PersonId],
        districts: &DistrictScope,
    ) -> Result<HashMap<PersonId, DateTime<Utc>>, StoreError> {
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let params = scope::numbered(chunk.len());
            let (limit, values) = scope::clause("district", districts, chunk.len() + 1);
            let sql = format!(
                "SELECT person_id, MAX(ends_at) AS ends_at FROM orders \
                 WHERE status = 'active' AND person_id IN ({}){limit} GROUP BY person_id",
                params
            );
            on_pool!(self, pool => {
                let mut q = sqlx::query(&sql);
                for id in chunk {
                    q = q.bind(id.as_str());
                }
                for v in &values {
                    q = q.bind(v.as_str());
                }
                for r in q.fetch_all(pool).await? {
                    let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("orders", e);
                    out.insert(
                        PersonId::parse(r.try_get::<&str, _>("person_id")?).map_err(bad)?,
                        crate::db::from_ms("orders", r.try_get("ends_at")?)?,
                    );
                }
            });
        }
        Ok(out)
    }

    /// Person `id` whatever its district (the system's own work and the
    /// person's own routes).
    pub async fn get_person(&self, id: &PersonId) -> Result<Option<Person>, StoreError> {
        self.get_person_in(id, &DistrictScope::All).await
    }

    /// Person `id` if it belongs to one of `districts` (an officer's read).
    pub async fn get_person_in(
        &self,
        id: &PersonId,
        districts: &DistrictScope,
    ) -> Result<Option<Person>, StoreError> {
        let (limit, values) = scope::clause("district", districts, 2);
        let sql = format!("SELECT {COLUMNS} FROM persons WHERE id = $1{limit}");
        on_pool!(self, pool => {
            let mut q = sqlx::query(&sql).bind(id.as_str());
            for v in &values {
                q = q.bind(v.as_str());
            }
            let row = q.fetch_optional(pool).await?;
            Ok(match row {
                Some(r) => Some(person_from_row!(&r)),
                None => None,
            })
        })
    }

    pub async fn list_persons(
        &self,
        filter: &PersonFilter,
        page: &PageRequest,
    ) -> Result<Page<Person>, StoreError> {
        let limit = page.limit();
        let mut w = scope::Where::default();
        if let Some(after) = page.after_key()? {
            w.bind("id > ?", after);
        }
        if let Some(name) = filter.name_contains.as_deref() {
            let (clause, value) = match name_search(self.kind(), name) {
                NameSearch::Trigrams(phrase) => (
                    "id IN (SELECT k.person_id FROM person_search_keys k \
                     WHERE k.k IN (SELECT rowid FROM person_names WHERE person_names MATCH ?))",
                    phrase,
                ),
                NameSearch::Like(pattern) => ("LOWER(full_name) LIKE ? ESCAPE '\\'", pattern),
            };
            w.bind(clause, value);
        }
        if let Some(d) = &filter.districts {
            w.scope("district", d);
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM persons{} ORDER BY id LIMIT ${}",
            w.sql(),
            w.next()
        );
        on_pool!(self, pool => {
            let mut q = sqlx::query(&sql);
            for v in &w.values {
                q = q.bind(v.as_str());
            }
            let rows = q.bind(limit + 1).fetch_all(pool).await?;
            let items = rows
                .iter()
                .map(|r| Ok(person_from_row!(r)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(Page::from_rows(items, limit, |p: &Person| p.id.to_string()))
        })
    }
}

/// How a name search runs on a backend.
#[derive(Debug, PartialEq, Eq)]
enum NameSearch {
    /// SQLite's trigram index (migration 0019): the needle as one FTS5
    /// phrase, which matches exactly where it occurs as a substring.
    Trigrams(String),
    /// `LOWER(full_name) LIKE '%…%'`: PostgreSQL's trigram index serves it;
    /// on SQLite, a needle under three characters has no trigram and scans.
    Like(String),
}

fn name_search(kind: BackendKind, needle: &str) -> NameSearch {
    let needle = needle.trim();
    if kind == BackendKind::Sqlite && needle.chars().count() >= 3 {
        NameSearch::Trigrams(format!("\"{}\"", needle.replace('"', "\"\"")))
    } else {
        NameSearch::Like(like_contains(needle))
    }
}

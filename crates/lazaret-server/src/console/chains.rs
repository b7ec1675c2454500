//! Transmission chains drawn by the server: `GET /chains` (the page: a case
//! or a range of days, the drawing inline) and `GET /chains.svg?case=…` or
//! `?from=…&to=…` (the drawing alone, `image/svg+xml`, under the console's
//! security headers; no script, presentation attributes only, so the CSP
//! holds without inline style). Chains come from `services::tracing::
//! select_chains` (the officer's cases only, audited `chains.read`).
//!
//! Layout (ours, no crate): each chain is a tree (a member has one
//! `exposed_by`), so a tidy tree layout has no crossing edges. Generations
//! are columns; a case sits at the top of its block, its descendant cases
//! stacked below and to the right, and the contacts that are not cases
//! (the bulk: a flight's passengers) are packed as a grid of up to six
//! columns under them, joined by one bracket, so a few hundred contacts
//! stay a block of readable height. Cases of the officer's districts are
//! links to their case page, their other members to the person page; a
//! member outside the officer's districts is drawn without name or link.

use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate};
use lazaret_core::chains::{Chain, ChainMember};
use lazaret_core::contact::RiskTier;
use lazaret_core::ids::PersonId;
use lazaret_core::user::Permission;
use maud::{html, Markup};

use super::layout::{page, respond, Nav, Tr};
use super::ConsoleOfficer;
use crate::services::tracing::{self as service, ChainSelect, SelectedChains};
use crate::state::AppState;

const NODE_W: f64 = 170.0;
const NODE_H: f64 = 24.0;
const ROW: f64 = 30.0;
const COL: f64 = 200.0;
const LEAF_COL: f64 = 180.0;
const PAD: f64 = 16.0;
const CHAIN_GAP: f64 = 44.0;
/// More members than this are not drawn (the page says how many chains were left out).
const MAX_NODES: usize = 2_000;

/// Refuses a role that does not trace (the API's 403).
fn refuse_role(officer: &ConsoleOfficer) -> Option<Response> {
    super::refuse_without(officer, Permission::Trace, "c.err.role_cases")
}

/// The query of both routes: `case`, or `from`/`to` (days, inclusive);
/// neither: the last 14 days. Dates that do not parse are an error text.
struct Query {
    case: String,
    from: String,
    to: String,
}

impl Query {
    fn parse(raw: Option<&str>) -> Query {
        let mut q = Query {
            case: String::new(),
            from: String::new(),
            to: String::new(),
        };
        for (k, v) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            let v = v.trim().chars().take(100).collect::<String>();
            match &*k {
                "case" => q.case = v,
                "from" => q.from = v,
                "to" => q.to = v,
                _ => {}
            }
        }
        q
    }

    fn select(&self, today: NaiveDate) -> Result<ChainSelect, &'static str> {
        if !self.case.is_empty() {
            return Ok(ChainSelect::Case(self.case.clone()));
        }
        let day = |s: &str, default: NaiveDate| {
            if s.is_empty() {
                Ok(default)
            } else {
                s.parse::<NaiveDate>().map_err(|_| "c.err.bad_date")
            }
        };
        let to = day(&self.to, today)?;
        let from = day(&self.from, to - Duration::days(13))?;
        if from > to {
            return Err("c.err.bad_range");
        }
        Ok(ChainSelect::Days { from, to })
    }

    fn svg_href(&self, sel: &ChainSelect) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        match sel {
            ChainSelect::Case(c) => {
                s.append_pair("case", c);
            }
            ChainSelect::Days { from, to } => {
                s.append_pair("from", &from.to_string());
                s.append_pair("to", &to.to_string());
            }
            ChainSelect::All => {}
        }
        format!("/chains.svg?{}", s.finish())
    }
}

fn bad_request(officer: &ConsoleOfficer, key: &'static str) -> Response {
    super::layout::error_page(
        officer.tr,
        Some(&officer.session),
        StatusCode::UNPROCESSABLE_ENTITY,
        officer.tr.t(key),
    )
}

/// `GET /chains`: the chains page.
pub async fn page_get(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Some(r) = refuse_role(&officer) {
        return r;
    }
    let q = Query::parse(raw.as_deref());
    let sel = match q.select(state.now().date_naive()) {
        Ok(s) => s,
        Err(key) => return bad_request(&officer, key),
    };
    let chains = match service::select_chains(&state, &officer.as_actor(), &sel).await {
        Ok(c) => c,
        Err(e) => return super::failure_page(&officer, e, "c.err.case_not_found"),
    };
    let tr = officer.tr;
    let (from, to) = match &sel {
        ChainSelect::Days { from, to } => (from.to_string(), to.to_string()),
        _ => (q.from.clone(), q.to.clone()),
    };
    let members: usize = chains.chains.iter().map(|c| c.members.len()).sum();
    let body = html! {
        div.page-head {
            h1 { (tr.t("c.chains")) }
            p.keys { (tr.t("c.chains_lead")) }
        }
        form.filters method="get" action="/chains" aria-label=(tr.t("c.chains_filter")) {
            div.field {
                label for="ch-case" { (tr.t("c.case_id")) }
                input #ch-case type="text" name="case" value=(q.case) maxlength="100" autocomplete="off";
            }
            div.field {
                label for="ch-from" { (tr.t("c.from_day")) }
                input #ch-from type="date" name="from" value=(from);
            }
            div.field {
                label for="ch-to" { (tr.t("c.to_day")) }
                input #ch-to type="date" name="to" value=(to);
            }
            div.field.buttons {
                button type="submit" { (tr.t("c.show")) }
                @if !q.case.is_empty() || !q.from.is_empty() || !q.to.is_empty() { a.reset href="/chains" { (tr.t("c.clear_search")) } }
            }
        }
        p #chains-summary {
            (tr.f("c.chains_summary", &[("chains", &chains.chains.len().to_string()), ("members", &members.to_string())]))
            " · " a href=(q.svg_href(&sel)) { (tr.t("c.open_svg")) }
        }
        @if chains.chains.is_empty() {
            p.empty #no-chains { (tr.t("c.no_chains")) }
        } @else {
            (legend(tr))
            div.chain-box { (draw(tr, &chains, false)) }
        }
    };
    respond(
        StatusCode::OK,
        page(
            tr,
            Some(&officer.session),
            Some(Nav::Chains),
            tr.t("c.chains"),
            body,
        ),
        &[],
    )
}

/// `GET /chains.svg`: the drawing alone.
pub async fn svg(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Some(r) = refuse_role(&officer) {
        return r;
    }
    let q = Query::parse(raw.as_deref());
    let sel = match q.select(state.now().date_naive()) {
        Ok(s) => s,
        Err(key) => return bad_request(&officer, key),
    };
    let chains = match service::select_chains(&state, &officer.as_actor(), &sel).await {
        Ok(c) => c,
        Err(e) => return super::failure_page(&officer, e, "c.err.case_not_found"),
    };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
        draw(officer.tr, &chains, true).into_string()
    );
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
        body,
    )
        .into_response()
}

fn legend(tr: Tr) -> Markup {
    html! {
        ul.chain-legend aria-label=(tr.t("c.legend")) {
            li { span.sw.sw-case {} (tr.t("c.legend.case")) }
            li { span.sw.sw-close {} (tr.t("c.tier.close")) }
            li { span.sw.sw-notify {} (tr.t("c.tier.notify")) }
            li { span.sw.sw-other {} (tr.t("c.other_district")) }
        }
    }
}

/// A member placed on the drawing.
struct Placed<'a> {
    m: &'a ChainMember,
    x: f64,
    y: f64,
}

/// An edge: a curve from a case to a descendant case, or a bracket from a
/// case to its grid of contacts (`rows` row centres).
enum Edge {
    Curve {
        x1: f64,
        y1: f64,
        x2: f64,
        y2: f64,
        close: bool,
    },
    Bracket {
        x1: f64,
        y1: f64,
        bx: f64,
        rows: Vec<f64>,
    },
}

struct Layout<'a> {
    nodes: Vec<Placed<'a>>,
    edges: Vec<Edge>,
    captions: Vec<(f64, &'a Chain)>,
    width: f64,
    height: f64,
    left_out: usize,
}

/// Lays the chains out, one below the other.
fn layout(chains: &[Chain]) -> Layout<'_> {
    let mut out = Layout {
        nodes: Vec::new(),
        edges: Vec::new(),
        captions: Vec::new(),
        width: 0.0,
        height: 0.0,
        left_out: 0,
    };
    let mut y = PAD;
    for chain in chains {
        if out.nodes.len() + chain.members.len() > MAX_NODES && !out.nodes.is_empty() {
            out.left_out += 1;
            continue;
        }
        let mut children: HashMap<&PersonId, Vec<&ChainMember>> = HashMap::new();
        let mut root = None;
        for m in &chain.members {
            match &m.exposed_by {
                Some(p) => children.entry(p).or_default().push(m),
                None => root = Some(m),
            }
        }
        let Some(root) = root else { continue };
        out.captions.push((y, chain));
        y += 22.0;
        y = place(root, 0, y, &children, &mut out) + CHAIN_GAP;
    }
    out.height = y - CHAIN_GAP + PAD;
    out.width += PAD;
    out
}

/// Places `m` (a case) at column `col`, top `top`, with its block; returns
/// the block's bottom.
fn place<'a>(
    m: &'a ChainMember,
    col: usize,
    top: f64,
    children: &HashMap<&PersonId, Vec<&'a ChainMember>>,
    out: &mut Layout<'a>,
) -> f64 {
    let x = PAD + col as f64 * COL;
    out.nodes.push(Placed { m, x, y: top });
    out.width = out.width.max(x + NODE_W);
    let kids = children.get(&m.person_id).map_or(&[][..], Vec::as_slice);
    let (mut cases, mut leaves): (Vec<&ChainMember>, Vec<&ChainMember>) =
        kids.iter().partition(|k| k.is_case);
    cases.sort_by(|a, b| a.person_id.cmp(&b.person_id));
    leaves.sort_by(|a, b| {
        (std::cmp::Reverse(a.tier), &a.person_id).cmp(&(std::cmp::Reverse(b.tier), &b.person_id))
    });
    let mut bottom = top + ROW;
    let mut y = top;
    let cx = x + COL;
    for k in cases {
        out.edges.push(Edge::Curve {
            x1: x + NODE_W,
            y1: top + NODE_H / 2.0,
            x2: cx,
            y2: y + NODE_H / 2.0,
            close: k.tier == Some(RiskTier::Close),
        });
        y = place(k, col + 1, y, children, out);
        bottom = bottom.max(y);
    }
    if !leaves.is_empty() {
        let cols = leaves.len().div_ceil(12).clamp(1, 6);
        let rows = leaves.len().div_ceil(cols);
        let gx = cx + 14.0;
        let mut centres = Vec::with_capacity(rows);
        for (i, leaf) in leaves.iter().enumerate() {
            let (r, c) = (i / cols, i % cols);
            let lx = gx + c as f64 * LEAF_COL;
            let ly = y + r as f64 * ROW;
            out.nodes.push(Placed {
                m: leaf,
                x: lx,
                y: ly,
            });
            out.width = out.width.max(lx + NODE_W);
            if c == 0 {
                centres.push(ly + NODE_H / 2.0);
            }
        }
        out.edges.push(Edge::Bracket {
            x1: x + NODE_W,
            y1: top + NODE_H / 2.0,
            bx: cx,
            rows: centres,
        });
        bottom = bottom.max(y + rows as f64 * ROW);
    }
    bottom
}

fn f(v: f64) -> String {
    format!("{v:.1}")
}

/// A label that fits a node: at most 22 characters.
fn fit(s: &str) -> String {
    if s.chars().count() <= 22 {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(21).collect();
        t.push('…');
        t
    }
}

/// The drawing of `sel`'s chains: an `<svg>` element (with its namespace,
/// so it stands alone as a file or inline in a page).
pub fn draw(tr: Tr, sel: &SelectedChains, standalone: bool) -> Markup {
    let l = layout(&sel.chains);
    let (w, h) = (l.width.max(320.0), l.height.max(60.0));
    let name_of = |id: &PersonId| sel.visible.get(id).map(|p| p.full_name.as_str().to_owned());
    html! {
        svg xmlns="http://www.w3.org/2000/svg" class="chains" viewBox={ "0 0 " (f(w)) " " (f(h)) }
            width=(f(w)) height=(f(h)) font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="12"
            aria-labelledby=(if standalone { "chains-title" } else { "chains-inline-title" }) {
            title id=(if standalone { "chains-title" } else { "chains-inline-title" }) { (tr.t("c.chains")) }
            @if standalone { rect x="0" y="0" width=(f(w)) height=(f(h)) fill="#ffffff" {} }
            @if sel.chains.is_empty() {
                text x=(f(PAD)) y="36" fill="#444746" { (tr.t("c.no_chains")) }
            }
            @for (y, chain) in &l.captions {
                text x=(f(PAD)) y=(f(y + 13.0)) fill="#444746" font-weight="600" {
                    (tr.f("c.chain_caption", &[
                        ("index", &name_of(&chain.index_case).unwrap_or_else(|| tr.t("c.other_district").to_owned())),
                        ("n", &chain.members.len().to_string()),
                        ("cases", &chain.members.iter().filter(|m| m.is_case).count().to_string()),
                        ("depth", &chain.depth.to_string()),
                    ]))
                }
            }
            g fill="none" stroke-width="1.5" {
                @for e in &l.edges {
                    @match e {
                        Edge::Curve { x1, y1, x2, y2, close } => {
                            path d=(format!("M{} {} C{} {} {} {} {} {}", f(*x1), f(*y1), f((x1 + x2) / 2.0), f(*y1), f((x1 + x2) / 2.0), f(*y2), f(*x2), f(*y2)))
                                stroke=(if *close { "#3c4043" } else { "#80868b" })
                                stroke-dasharray=[(!close).then_some("5 3")] {}
                        }
                        Edge::Bracket { x1, y1, bx, rows } => {
                            @let last = rows.last().copied().unwrap_or(*y1);
                            // The bus runs between the case and the next
                            // column, so it never crosses a descendant case.
                            @let bus = x1 + 12.0;
                            path d=(format!("M{} {} H{} V{}", f(*x1), f(*y1), f(bus), f(last))) stroke="#5f6368" {}
                            @for r in rows {
                                path d=(format!("M{} {} H{}", f(bus), f(*r), f(bx + 14.0))) stroke="#5f6368" {}
                            }
                        }
                    }
                }
            }
            @for n in &l.nodes {
                (node(tr, n, sel))
            }
        }
    }
}

fn node(tr: Tr, n: &Placed<'_>, sel: &SelectedChains) -> Markup {
    let m = n.m;
    let person = sel.visible.get(&m.person_id);
    let district = sel.districts.get(&m.person_id).map_or("—", |d| d.as_str());
    let label = match person {
        Some(p) => fit(p.full_name.as_str()),
        None => fit(&format!("{} · {district}", tr.t("c.other_district"))),
    };
    let (fill, stroke, dash, text_fill, weight) = match (person.is_some(), m.is_case, m.tier) {
        (false, _, _) => ("#f1f3f4", "#9aa0a6", Some("2 2"), "#5f6368", "400"),
        (true, true, _) => ("#fce8e6", "#b3261e", None, "#1f1f1f", "700"),
        (true, false, Some(RiskTier::Close)) => ("#ffffff", "#b3261e", None, "#1f1f1f", "400"),
        (true, false, _) => ("#ffffff", "#80868b", Some("4 3"), "#1f1f1f", "400"),
    };
    let tier = match m.tier {
        Some(RiskTier::Close) => tr.t("c.tier.close"),
        Some(RiskTier::Notify) => tr.t("c.tier.notify"),
        None => tr.t("c.index_case"),
    };
    let tip = format!(
        "{} · {} · {} · {} {}",
        person.map_or_else(
            || tr.t("c.other_district").to_owned(),
            |p| p.full_name.as_str().to_owned()
        ),
        if m.is_case {
            tr.t("c.legend.case")
        } else {
            tier
        },
        district,
        tr.t("c.generation"),
        m.generation
    );
    let shape = html! {
        title { (tip) }
        rect x=(f(n.x)) y=(f(n.y)) width=(f(NODE_W)) height=(f(NODE_H)) rx=(if m.is_case { "3" } else { "11" })
            fill=(fill) stroke=(stroke) stroke-width=(if m.is_case { "2" } else { "1.2" }) stroke-dasharray=[dash] {}
        text x=(f(n.x + 9.0)) y=(f(n.y + 16.0)) fill=(text_fill) font-weight=(weight) { (label) }
    };
    let href = person.map(|_| {
        let id: String = form_urlencoded::byte_serialize(m.person_id.as_str().as_bytes()).collect();
        if m.is_case {
            format!("/cases/{id}")
        } else {
            format!("/persons/{id}")
        }
    });
    html! {
        @match href {
            Some(h) => a href=(h) class="node" { (shape) },
            None => g class="node" { (shape) },
        }
    }
}

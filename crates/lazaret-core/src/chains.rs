//! Transmission chains: which case was exposed by which earlier case, and
//! how many generations deep each person sits.
//!
//! A case B descends from case A when B is a recorded contact of A and A's
//! d0 comes first (ties broken by person id). Ordering by d0 guarantees the
//! result is a forest even when two cases list each other as contacts
//! (a household where both test positive).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::contact::RiskTier;
use crate::ids::PersonId;

/// A person with a positive test in force, and its d0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseNode {
    pub person_id: PersonId,
    pub day_zero: DateTime<Utc>,
}

/// "`contact_id` was a contact of `case_id`".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactEdge {
    pub case_id: PersonId,
    pub contact_id: PersonId,
    pub tier: RiskTier,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainMember {
    pub person_id: PersonId,
    /// 0 for the index case, 1 for its contacts, 2 for contacts of those
    /// of them who became cases, and so on.
    pub generation: u32,
    pub is_case: bool,
    /// The case whose contact this person was (none for the index case).
    pub exposed_by: Option<PersonId>,
    /// Tier of that exposure (none for the index case).
    pub tier: Option<RiskTier>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chain {
    pub index_case: PersonId,
    /// Highest generation in the chain.
    pub depth: u32,
    /// Cases first in generation order, then contacts; each person once.
    pub members: Vec<ChainMember>,
}

/// Builds the chains, largest first (then by index case id).
pub fn build_chains(cases: &[CaseNode], edges: &[ContactEdge]) -> Vec<Chain> {
    let mut order: Vec<&CaseNode> = cases.iter().collect();
    order.sort_by(|a, b| (a.day_zero, &a.person_id).cmp(&(b.day_zero, &b.person_id)));
    let rank: HashMap<&PersonId, usize> = order
        .iter()
        .enumerate()
        .map(|(i, c)| (&c.person_id, i))
        .collect();

    // For every case, the earliest-ranked earlier case that listed it.
    let mut parent: HashMap<&PersonId, (usize, &ContactEdge)> = HashMap::new();
    for e in edges {
        let (Some(&to), Some(&from)) = (rank.get(&e.contact_id), rank.get(&e.case_id)) else {
            continue;
        };
        if from < to {
            let slot = parent.entry(&e.contact_id).or_insert((from, e));
            if from < slot.0 || (from == slot.0 && e.tier > slot.1.tier) {
                *slot = (from, e);
            }
        }
    }

    // One pass in rank order: a parent always comes before its child.
    let mut gen_root: Vec<(u32, usize)> = Vec::with_capacity(order.len());
    for (i, c) in order.iter().enumerate() {
        gen_root.push(match parent.get(&c.person_id) {
            Some(&(p, _)) => (gen_root[p].0 + 1, gen_root[p].1),
            None => (0, i),
        });
    }

    let mut chains: HashMap<usize, Chain> = HashMap::new();
    for (i, c) in order.iter().enumerate() {
        let (generation, root) = gen_root[i];
        let edge = parent.get(&c.person_id).map(|(_, e)| *e);
        let chain = chains.entry(root).or_insert_with(|| Chain {
            index_case: order[root].person_id.clone(),
            depth: 0,
            members: Vec::new(),
        });
        chain.depth = chain.depth.max(generation);
        chain.members.push(ChainMember {
            person_id: c.person_id.clone(),
            generation,
            is_case: true,
            exposed_by: edge.map(|e| e.case_id.clone()),
            tier: edge.map(|e| e.tier),
        });
    }

    // Contacts who are not cases: in each chain, once, at their lowest
    // generation (closest tier on a tie).
    let mut contacts: HashMap<(usize, &PersonId), ChainMember> = HashMap::new();
    for e in edges {
        if rank.contains_key(&e.contact_id) {
            continue;
        }
        let Some(&from) = rank.get(&e.case_id) else {
            continue;
        };
        let (g, root) = gen_root[from];
        let m = ChainMember {
            person_id: e.contact_id.clone(),
            generation: g + 1,
            is_case: false,
            exposed_by: Some(e.case_id.clone()),
            tier: Some(e.tier),
        };
        contacts
            .entry((root, &e.contact_id))
            .and_modify(|old| {
                if (m.generation, std::cmp::Reverse(m.tier))
                    < (old.generation, std::cmp::Reverse(old.tier))
                {
                    *old = m.clone();
                }
            })
            .or_insert(m);
    }
    let mut extra: Vec<((usize, &PersonId), ChainMember)> = contacts.into_iter().collect();
    extra.sort_by(|a, b| (a.1.generation, &a.1.person_id).cmp(&(b.1.generation, &b.1.person_id)));
    for ((root, _), m) in extra {
        let chain = chains.get_mut(&root).expect("root has a chain");
        chain.depth = chain.depth.max(m.generation);
        chain.members.push(m);
    }

    let mut out: Vec<Chain> = chains.into_values().collect();
    for c in &mut out {
        c.members.sort_by(|a, b| {
            (!a.is_case, a.generation, &a.person_id).cmp(&(!b.is_case, b.generation, &b.person_id))
        });
    }
    out.sort_by(|a, b| {
        b.members
            .len()
            .cmp(&a.members.len())
            .then_with(|| a.index_case.cmp(&b.index_case))
    });
    out
}

/// Graphviz rendering: cases are boxes, edges point from case to contact.
pub fn to_dot(chains: &[Chain]) -> String {
    let mut s = String::from("digraph chains {\n  rankdir=LR;\n  node [shape=ellipse];\n");
    for c in chains {
        for m in &c.members {
            let shape = if m.is_case { "box" } else { "ellipse" };
            s.push_str(&format!(
                "  \"{}\" [shape={shape}, label=\"{}\\ngen {}\"];\n",
                m.person_id, m.person_id, m.generation
            ));
            if let (Some(from), Some(tier)) = (&m.exposed_by, m.tier) {
                let style = if tier == RiskTier::Close {
                    "solid"
                } else {
                    "dashed"
                };
                s.push_str(&format!(
                    "  \"{from}\" -> \"{}\" [style={style}];\n",
                    m.person_id
                ));
            }
        }
    }
    s.push_str("}\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid(s: &str) -> PersonId {
        PersonId::parse(s).unwrap()
    }

    fn case(p: &str, day: u32) -> CaseNode {
        CaseNode {
            person_id: pid(p),
            day_zero: format!("2026-03-{day:02}T00:00:00Z").parse().unwrap(),
        }
    }

    fn edge(a: &str, b: &str, tier: RiskTier) -> ContactEdge {
        ContactEdge {
            case_id: pid(a),
            contact_id: pid(b),
            tier,
        }
    }

    fn gens(c: &Chain) -> Vec<(String, u32, bool)> {
        c.members
            .iter()
            .map(|m| (m.person_id.to_string(), m.generation, m.is_case))
            .collect()
    }

    #[test]
    fn two_generations() {
        use RiskTier::*;
        let cases = [case("A", 1), case("B", 5), case("Z", 3)];
        let edges = [
            edge("A", "B", Close),
            edge("A", "C", Notify),
            edge("B", "D", Close),
            edge("B", "A", Close), // back-edge: A came first, so ignored
            edge("Z", "Y", Close),
        ];
        let chains = build_chains(&cases, &edges);
        assert_eq!(chains.len(), 2);
        assert_eq!(chains[0].index_case, pid("A"));
        assert_eq!(chains[0].depth, 2);
        assert_eq!(
            gens(&chains[0]),
            vec![
                ("A".into(), 0, true),
                ("B".into(), 1, true),
                ("C".into(), 1, false),
                ("D".into(), 2, false),
            ]
        );
        assert_eq!(chains[0].members[1].exposed_by, Some(pid("A")));
        assert_eq!(
            gens(&chains[1]),
            vec![("Z".into(), 0, true), ("Y".into(), 1, false)]
        );
        let dot = to_dot(&chains);
        assert!(dot.contains("\"A\" -> \"B\" [style=solid]"));
        assert!(dot.contains("\"A\" -> \"C\" [style=dashed]"));
    }

    #[test]
    fn contact_listed_once_per_chain_at_lowest_generation() {
        use RiskTier::*;
        let cases = [case("A", 1), case("B", 2)];
        let edges = [
            edge("A", "B", Close),
            edge("B", "X", Close),
            edge("A", "X", Notify),
        ];
        let chains = build_chains(&cases, &edges);
        assert_eq!(chains.len(), 1);
        let x: Vec<_> = chains[0]
            .members
            .iter()
            .filter(|m| m.person_id == pid("X"))
            .collect();
        assert_eq!(x.len(), 1);
        assert_eq!(x[0].generation, 1);
        assert_eq!(x[0].tier, Some(Notify));
    }

    #[test]
    fn a_case_with_no_earlier_case_is_an_index_case() {
        let chains = build_chains(&[case("A", 3)], &[edge("B", "A", RiskTier::Close)]);
        assert_eq!(gens(&chains[0]), vec![("A".into(), 0, true)]);
    }
}

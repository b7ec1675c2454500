//! `lazaret chains`: transmission chains across generations, from the stored
//! contacts of every case with a positive test in force.

use anyhow::{bail, Result};
use clap::Args;
use lazaret_core::chains::{build_chains, to_dot};
use lazaret_store::Store;
use std::io::{BufWriter, Write};

#[derive(Debug, Args)]
pub struct ChainsArgs {
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
    /// Print a Graphviz digraph on stdout
    #[arg(long, conflicts_with = "json")]
    pub dot: bool,
}

pub async fn run(args: ChainsArgs, store: &Store) -> Result<()> {
    let (cases, edges) = store.chain_graph().await?;
    let chains = build_chains(&cases, &edges);
    if args.dot {
        print!("{}", to_dot(&chains));
        return Ok(());
    }
    if args.json {
        // Serialised straight into a buffered stdout: a `json!` value tree of
        // a quarter of a million members costs more than building the chains.
        // Keys in the order `json!` used to print them.
        let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        write!(out, "{{\"cases\":{},\"chains\":", cases.len())?;
        serde_json::to_writer(&mut out, &chains)?;
        writeln!(out, ",\"contact_edges\":{}}}", edges.len())?;
        out.flush()?;
        return Ok(());
    }
    if cases.is_empty() && !edges.is_empty() {
        bail!("contacts are stored but no case has a positive test in force");
    }
    println!(
        "{} case(s), {} contact edge(s), {} chain(s)",
        cases.len(),
        edges.len(),
        chains.len()
    );
    for c in chains.iter().filter(|c| c.depth > 1).take(20) {
        let n_cases = c.members.iter().filter(|m| m.is_case).count();
        println!(
            "  index {}: {} case(s), {} member(s), {} generation(s)",
            c.index_case,
            n_cases,
            c.members.len(),
            c.depth
        );
    }
    Ok(())
}

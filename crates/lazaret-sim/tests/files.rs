//! The region and policy files shipped in docs/sim parse, and the region file
//! states the built-in defaults (so the documented numbers are the ones used).

use std::path::PathBuf;

use lazaret_sim::params::RegionConfig;
use lazaret_sim::policy::SimPolicy;

fn sim_docs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/sim")
}

#[test]
fn the_documented_region_is_the_default_region() {
    let text = std::fs::read_to_string(sim_docs().join("region.toml")).unwrap();
    let file = RegionConfig::from_toml(&text).unwrap();
    let default = RegionConfig {
        name: file.name.clone(),
        ..RegionConfig::default()
    };
    assert_eq!(file, default);
}

#[test]
fn every_shipped_policy_parses_with_production_rules() {
    let region = RegionConfig::default();
    let mut seen = 0;
    for dir in ["policies", "checks"] {
        let Ok(entries) = std::fs::read_dir(sim_docs().join(dir)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") && !path.ends_with("region.toml") {
                let text = std::fs::read_to_string(&path).unwrap();
                if text.contains("[households]") || text.contains("population") {
                    RegionConfig::from_toml(&text)
                        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                } else {
                    SimPolicy::from_toml("p", &text, &region.response)
                        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                }
                seen += 1;
            }
        }
    }
    assert!(seen >= 4, "{seen} files");
}

//! The transmission model against closed forms, and the response against
//! what it must do: tracing averts infections on the same seeds, a false
//! positive's orders are released by the correction.

use lazaret_sim::params::RegionConfig;
use lazaret_sim::policy::SimPolicy;
use lazaret_sim::region::Region;
use lazaret_sim::runner::{simulate, Plan, Results};

/// Households of `size` alone: no buildings shared, no groups, no community,
/// no rides or flights, everyone symptomatic.
fn households_only(population: u32, size: usize) -> RegionConfig {
    let mut c = RegionConfig {
        population,
        days: 60,
        initial_infections: 1,
        ..RegionConfig::default()
    };
    c.households.size_shares = (1..=size)
        .map(|k| if k == size { 1.0 } else { 0.0 })
        .collect();
    c.buildings.units = vec![1];
    c.buildings.shares = vec![1.0];
    c.workplaces.share = 0.0;
    c.schools.share = 0.0;
    c.community.contacts_per_day = 0.0;
    c.rides.per_1000_per_day = 0.0;
    c.flights.per_100k_per_day = 0.0;
    c.flights.infected_share = 0.0;
    c.disease.asymptomatic_share = 0.0;
    c
}

fn run(config: &RegionConfig, policies: &[&str], runs: u32) -> Results {
    config.validate().unwrap();
    let region = Region::generate(config);
    let policies = policies
        .iter()
        .map(|p| SimPolicy::builtin(p, &config.response).unwrap())
        .collect();
    let plan = Plan {
        policies,
        runs,
        seed: 11,
        threads: 2,
    };
    simulate(&region, &plan, &|_, _| {})
}

fn outcomes<'a>(r: &'a Results, name: &str) -> &'a [lazaret_sim::model::RunOutcome] {
    let k = r.policies.iter().position(|p| p.name == name).unwrap();
    &r.outcomes[k]
}

/// In a household of three with one index case, each pair's chance over a
/// whole course is the attack rate p (q = 1 - p), so the final size follows
/// Reed–Frost: 1 with q², 2 with 2pq², 3 otherwise.
#[test]
fn household_final_size_follows_reed_frost() {
    let mut c = households_only(12, 3);
    c.transmission.household = 0.4;
    let runs = 4_000;
    let r = run(&c, &["none"], runs);
    let mut sizes = [0u32; 4];
    for o in outcomes(&r, "none") {
        assert_eq!(o.introduced, 1);
        sizes[1 + o.infections as usize] += 1;
    }
    let (p, q) = (0.4, 0.6);
    let expected = [q * q, 2.0 * p * q * q, 1.0 - q * q - 2.0 * p * q * q];
    for (k, e) in expected.iter().enumerate() {
        let seen = f64::from(sizes[k + 1]) / f64::from(runs);
        // Four standard errors of a share from 4,000 runs.
        let se = (e * (1.0 - e) / f64::from(runs)).sqrt();
        assert!(
            (seen - e).abs() < 4.0 * se,
            "final size {}: {seen:.3} vs {e:.3}",
            k + 1
        );
    }
}

/// Random mixing in a large population early on is a branching process with
/// mean offspring R0; the pooled case reproduction number recovers it.
#[test]
fn the_r_estimate_recovers_a_branching_process() {
    let mut c = households_only(400_000, 1);
    c.community.contacts_per_day = 8.0;
    c.disease.r0 = 1.5;
    c.initial_infections = 200;
    c.days = 50;
    let r = run(&c, &["none"], 2);
    assert!((r.calibration.r0 - 1.5).abs() < 1e-9);
    let (mut infected, mut secondary) = (0u64, 0u64);
    for o in outcomes(&r, "none") {
        for d in 0..25 {
            infected += u64::from(o.cohort_infected[d]);
            secondary += u64::from(o.cohort_secondary[d]);
        }
    }
    let estimate = secondary as f64 / infected as f64;
    assert!(infected > 1_000, "{infected}");
    assert!(
        (estimate - 1.5).abs() < 0.08,
        "R estimate {estimate:.3} from {infected} cases"
    );
}

fn town() -> RegionConfig {
    let mut c = RegionConfig {
        population: 20_000,
        days: 60,
        ..RegionConfig::default()
    };
    c.flights.per_100k_per_day = 10.0;
    c
}

#[test]
fn tracing_averts_infections_on_the_same_seeds() {
    let r = run(&town(), &["none", "isolation", "default"], 6);
    let none = outcomes(&r, "none");
    let iso = outcomes(&r, "isolation");
    let traced = outcomes(&r, "default");
    let total = |o: &[lazaret_sim::model::RunOutcome]| o.iter().map(|x| x.infections).sum::<u32>();
    assert!(
        total(none) > total(iso),
        "{} vs {}",
        total(none),
        total(iso)
    );
    assert!(
        total(iso) > total(traced),
        "{} vs {}",
        total(iso),
        total(traced)
    );
    for o in traced {
        assert!(o.contact_orders > 0 && o.quarantine_person_days > 0);
        assert!(o.orders_infected > 0 && o.orders_infected < o.contact_orders);
        assert!(
            o.found_by_setting.household > 0,
            "households are in the register"
        );
        assert_eq!(o.infections_by_setting.total(), u64::from(o.infections));
    }
    for o in none {
        assert_eq!(
            (o.confirmed_cases, o.contact_orders, o.isolation_person_days),
            (0, 0, 0)
        );
    }
}

/// Nobody is infected; a lab error rate makes cases of healthy people. Their
/// contacts are ordered into quarantine, and the correction three days later
/// releases every such order through production's revision rule.
#[test]
fn false_positives_are_corrected_and_release_their_contacts() {
    let mut c = town();
    c.initial_infections = 0;
    c.flights.infected_share = 0.0;
    c.response.false_positive_rate = 0.2;
    c.response.background_tests_per_1000_per_day = 2.0;
    let r = run(&c, &["default"], 2);
    for o in outcomes(&r, "default") {
        assert_eq!((o.infections, o.confirmed_cases), (0, 0));
        assert!(o.false_positive_cases > 50, "{}", o.false_positive_cases);
        assert!(o.contact_orders > 20, "{}", o.contact_orders);
        // Every order rested on a lab error; those ordered in the run's last two
        // days are corrected after it ends.
        let due: u32 = o.daily_new_orders[..c.days as usize - 2].iter().sum();
        assert!(
            o.orders_revised >= due && o.orders_revised <= o.contact_orders,
            "{} revised, {due} due, {} ordered",
            o.orders_revised,
            o.contact_orders
        );
        // Ordered a day after the result, released two days later: never 14 days.
        let max_days = u64::from(c.response.correction_delay_days - c.response.trace_delay_days);
        assert!(o.quarantine_person_days <= u64::from(o.contact_orders) * max_days);
        assert_eq!(o.orders_infected, 0);
    }
}

/// A test taken the day symptoms start and a trace the day of the result run
/// that same day (events scheduled for today are not lost).
#[test]
fn same_day_steps_are_not_lost() {
    let mut c = town();
    c.response.test_delay_days = 0;
    c.response.trace_delay_days = 0;
    let r = run(&c, &["default"], 1);
    let o = &outcomes(&r, "default")[0];
    assert!(
        o.confirmed_cases > 0 && o.traced_cases > 0,
        "{} {}",
        o.confirmed_cases,
        o.traced_cases
    );
    assert!(o.contact_orders > 0);
}

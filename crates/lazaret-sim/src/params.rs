//! The region file (`region.toml`): the synthetic region, the disease, the
//! transmission per setting and the response of the authority. Every number
//! has a default taken from a published estimate or a stated assumption
//! (`docs/simulator.md` lists each with its source); unknown keys are errors,
//! and every value is range-checked when the file loads.

use serde::{Deserialize, Serialize};

use crate::error::SimError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegionConfig {
    pub name: String,
    /// The region's own seed: the same seed and numbers give the same region.
    pub seed: u64,
    pub population: u32,
    /// Days simulated.
    pub days: u32,
    /// People infected on day 0 (besides travellers arriving infected).
    pub initial_infections: u32,
    pub households: HouseholdParams,
    pub buildings: BuildingParams,
    pub workplaces: GroupParams,
    pub schools: GroupParams,
    pub community: CommunityParams,
    pub rides: RideParams,
    pub flights: FlightParams,
    pub disease: DiseaseParams,
    pub transmission: TransmissionParams,
    pub response: ResponseParams,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HouseholdParams {
    /// Share of households with 1, 2, 3, … people.
    pub size_shares: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BuildingParams {
    /// Units (one household each) per building, with the share of buildings
    /// of each size in `shares`.
    pub units: Vec<u32>,
    pub shares: Vec<f64>,
}

/// Workplaces or school classes: who spends the day together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroupParams {
    /// Share of the population in such a group.
    pub share: f64,
    /// Mean people per group.
    pub mean_size: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CommunityParams {
    /// People met per day outside home, work and school, at random in the
    /// region: the contacts no register records.
    pub contacts_per_day: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RideParams {
    pub per_1000_per_day: f64,
    /// Drivers per 1,000 people (each drives one vehicle).
    pub drivers_per_1000: f64,
    /// Share of rides with two passengers rather than one.
    pub two_passenger_share: f64,
    pub min_minutes: u32,
    pub max_minutes: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlightParams {
    /// Arriving flights per day per 100,000 people (a Poisson mean).
    pub per_100k_per_day: f64,
    pub rows: u32,
    pub seats_per_row: u32,
    pub crew: u32,
    pub load_factor: f64,
    /// Share of arriving passengers infected when they board.
    pub infected_share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiseaseParams {
    /// Basic reproduction number the community contacts are calibrated to
    /// (the settings with published attack rates give the rest).
    pub r0: f64,
    pub incubation_median_days: f64,
    pub incubation_sdlog: f64,
    /// Days of infectiousness before symptom onset.
    pub presymptomatic_days: u32,
    /// Days of infectiousness from onset on.
    pub symptomatic_days: u32,
    /// Daily decline of infectiousness after onset (exponential rate).
    pub infectiousness_decay: f64,
    pub asymptomatic_share: f64,
    /// Infectiousness of an asymptomatic case relative to a symptomatic one.
    pub asymptomatic_relative: f64,
}

/// Attack rates: the chance that one susceptible person in the setting is
/// infected over a symptomatic case's whole infectious period, or in one
/// event (a flight, an hour of a ride) on an average infectious day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TransmissionParams {
    pub household: f64,
    pub workplace: f64,
    pub school: f64,
    /// Another unit of the same building.
    pub building: f64,
    /// A flight, within `flight_near_rows` rows of the case.
    pub flight_near: f64,
    pub flight_near_rows: u32,
    /// A flight, further away (and crew).
    pub flight_far: f64,
    /// A shared ride, per hour together.
    pub ride_per_hour: f64,
}

/// What the authority does: testing, isolation, quarantine compliance,
/// interviews, lab errors. A policy file may override any of these in its
/// own `[response]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResponseParams {
    /// Share of symptomatic people who get tested of their own accord.
    pub test_seeking: f64,
    /// Days from symptom onset to the sample.
    pub test_delay_days: u32,
    /// Days from onset to the sample for a contact already quarantined or
    /// monitored (they are asked about symptoms every day).
    pub traced_test_delay_days: u32,
    pub result_delay_days: u32,
    /// Days from a positive result to the contacts' orders.
    pub trace_delay_days: u32,
    pub test_sensitivity: f64,
    /// Chance that a test of an uninfected person comes back positive (the
    /// seed's lab error).
    pub false_positive_rate: f64,
    /// Uninfected people tested per 1,000 per day (other illnesses,
    /// screening): where false positives come from.
    pub background_tests_per_1000_per_day: f64,
    /// Days until a false positive is found and corrected.
    pub correction_delay_days: u32,
    /// Cases isolate at symptom onset, not only once positive.
    pub isolate_at_onset: bool,
    pub isolation_days: u32,
    pub isolation_compliance: f64,
    pub quarantine_compliance: f64,
    /// What a compliant person in isolation or quarantine still transmits
    /// outside the household, relative to going about as usual.
    pub leak: f64,
    /// Share of a case's contacts outside the registers (work, school, other
    /// people met) the case names in the interview.
    pub interview_reach: f64,
    /// Check-in prompts per day per order (production's default is 3).
    pub prompts_per_day: u32,
    /// Share of prompts a compliant person misses (each opens an alert).
    pub prompt_miss_rate: f64,
}

impl Default for RegionConfig {
    fn default() -> Self {
        Self {
            name: "synthetic region".into(),
            seed: 1,
            population: 100_000,
            days: 120,
            initial_infections: 10,
            households: HouseholdParams::default(),
            buildings: BuildingParams::default(),
            workplaces: GroupParams {
                share: 0.5,
                mean_size: 12.0,
            },
            schools: GroupParams {
                share: 0.15,
                mean_size: 25.0,
            },
            community: CommunityParams::default(),
            rides: RideParams::default(),
            flights: FlightParams::default(),
            disease: DiseaseParams::default(),
            transmission: TransmissionParams::default(),
            response: ResponseParams::default(),
        }
    }
}

impl Default for HouseholdParams {
    fn default() -> Self {
        // A European city: many single households, few of 5 or more.
        Self {
            size_shares: vec![0.33, 0.32, 0.15, 0.13, 0.05, 0.02],
        }
    }
}

impl Default for BuildingParams {
    fn default() -> Self {
        Self {
            units: vec![1, 6, 24, 120],
            shares: vec![0.45, 0.30, 0.20, 0.05],
        }
    }
}

impl Default for GroupParams {
    fn default() -> Self {
        Self {
            share: 0.0,
            mean_size: 10.0,
        }
    }
}

impl Default for CommunityParams {
    fn default() -> Self {
        Self {
            contacts_per_day: 6.0,
        }
    }
}

impl Default for RideParams {
    fn default() -> Self {
        Self {
            per_1000_per_day: 10.0,
            drivers_per_1000: 2.0,
            two_passenger_share: 0.25,
            min_minutes: 8,
            max_minutes: 45,
        }
    }
}

impl Default for FlightParams {
    fn default() -> Self {
        Self {
            per_100k_per_day: 0.5,
            rows: 32,
            seats_per_row: 6,
            crew: 6,
            load_factor: 0.85,
            infected_share: 0.002,
        }
    }
}

impl Default for DiseaseParams {
    fn default() -> Self {
        Self {
            r0: 2.5,
            incubation_median_days: 5.1,
            incubation_sdlog: 0.415,
            presymptomatic_days: 2,
            symptomatic_days: 8,
            infectiousness_decay: 0.3,
            asymptomatic_share: 0.2,
            asymptomatic_relative: 0.35,
        }
    }
}

impl Default for TransmissionParams {
    fn default() -> Self {
        Self {
            household: 0.166,
            workplace: 0.012,
            school: 0.012,
            building: 0.001,
            flight_near: 0.038,
            flight_near_rows: 2,
            flight_far: 0.0005,
            ride_per_hour: 0.017,
        }
    }
}

impl Default for ResponseParams {
    fn default() -> Self {
        Self {
            test_seeking: 0.7,
            test_delay_days: 2,
            traced_test_delay_days: 0,
            result_delay_days: 1,
            trace_delay_days: 1,
            test_sensitivity: 0.9,
            false_positive_rate: 0.001,
            background_tests_per_1000_per_day: 1.0,
            correction_delay_days: 3,
            isolate_at_onset: false,
            isolation_days: 10,
            isolation_compliance: 0.9,
            quarantine_compliance: 0.8,
            leak: 0.1,
            interview_reach: 0.2,
            prompts_per_day: 3,
            prompt_miss_rate: 0.05,
        }
    }
}

/// Checks `value` lies in `range`, naming the key when it does not.
fn check(key: &str, value: f64, lo: f64, hi: f64) -> Result<(), SimError> {
    if value.is_finite() && (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(SimError::Invalid(format!(
            "{key} must be {lo} to {hi}, not {value}"
        )))
    }
}

fn share(key: &str, value: f64) -> Result<(), SimError> {
    check(key, value, 0.0, 1.0)
}

/// The largest region: 4 bytes per agent in a dozen arrays stays far below
/// 2 GB; beyond, ids no longer fit the u32 the arrays use.
pub const MAX_POPULATION: u32 = 20_000_000;
pub const MAX_DAYS: u32 = 730;

impl RegionConfig {
    pub fn from_toml(text: &str) -> Result<Self, SimError> {
        let c: Self = toml::from_str(text).map_err(|e| SimError::Parse(e.to_string()))?;
        c.validate()?;
        Ok(c)
    }

    pub fn validate(&self) -> Result<(), SimError> {
        check(
            "population",
            f64::from(self.population),
            10.0,
            f64::from(MAX_POPULATION),
        )?;
        check("days", f64::from(self.days), 1.0, f64::from(MAX_DAYS))?;
        check(
            "initial_infections",
            f64::from(self.initial_infections),
            0.0,
            f64::from(self.population),
        )?;
        weights("households.size_shares", &self.households.size_shares)?;
        weights("buildings.shares", &self.buildings.shares)?;
        if self.buildings.units.len() != self.buildings.shares.len()
            || self.buildings.units.iter().any(|&u| u == 0 || u > 10_000)
        {
            return Err(SimError::Invalid(
                "buildings.units must give 1 to 10000 units for each entry of buildings.shares"
                    .into(),
            ));
        }
        share("workplaces.share", self.workplaces.share)?;
        share("schools.share", self.schools.share)?;
        share(
            "workplaces.share + schools.share",
            self.workplaces.share + self.schools.share,
        )?;
        check(
            "workplaces.mean_size",
            self.workplaces.mean_size,
            1.0,
            10_000.0,
        )?;
        check("schools.mean_size", self.schools.mean_size, 1.0, 10_000.0)?;
        check(
            "community.contacts_per_day",
            self.community.contacts_per_day,
            0.0,
            100.0,
        )?;
        let r = &self.rides;
        check("rides.per_1000_per_day", r.per_1000_per_day, 0.0, 1000.0)?;
        check("rides.drivers_per_1000", r.drivers_per_1000, 0.001, 100.0)?;
        share("rides.two_passenger_share", r.two_passenger_share)?;
        if r.min_minutes == 0 || r.min_minutes > r.max_minutes || r.max_minutes > 600 {
            return Err(SimError::Invalid(
                "rides: 1 <= min_minutes <= max_minutes <= 600".into(),
            ));
        }
        let f = &self.flights;
        check("flights.per_100k_per_day", f.per_100k_per_day, 0.0, 1000.0)?;
        check("flights.rows", f64::from(f.rows), 1.0, 120.0)?;
        check(
            "flights.seats_per_row",
            f64::from(f.seats_per_row),
            1.0,
            10.0,
        )?;
        check("flights.crew", f64::from(f.crew), 0.0, 40.0)?;
        share("flights.load_factor", f.load_factor)?;
        share("flights.infected_share", f.infected_share)?;
        let d = &self.disease;
        check("disease.r0", d.r0, 0.0, 20.0)?;
        check(
            "disease.incubation_median_days",
            d.incubation_median_days,
            1.0,
            30.0,
        )?;
        check("disease.incubation_sdlog", d.incubation_sdlog, 0.0, 2.0)?;
        check(
            "disease.presymptomatic_days",
            f64::from(d.presymptomatic_days),
            0.0,
            14.0,
        )?;
        check(
            "disease.symptomatic_days",
            f64::from(d.symptomatic_days),
            1.0,
            60.0,
        )?;
        check(
            "disease.infectiousness_decay",
            d.infectiousness_decay,
            0.0,
            5.0,
        )?;
        share("disease.asymptomatic_share", d.asymptomatic_share)?;
        check(
            "disease.asymptomatic_relative",
            d.asymptomatic_relative,
            0.0,
            2.0,
        )?;
        let t = &self.transmission;
        for (k, v) in [
            ("transmission.household", t.household),
            ("transmission.workplace", t.workplace),
            ("transmission.school", t.school),
            ("transmission.building", t.building),
            ("transmission.flight_near", t.flight_near),
            ("transmission.flight_far", t.flight_far),
            ("transmission.ride_per_hour", t.ride_per_hour),
        ] {
            check(k, v, 0.0, 0.99)?;
        }
        check(
            "transmission.flight_near_rows",
            f64::from(t.flight_near_rows),
            0.0,
            20.0,
        )?;
        self.response.validate()
    }
}

fn weights(key: &str, w: &[f64]) -> Result<(), SimError> {
    if w.is_empty() || w.iter().any(|x| !x.is_finite() || *x < 0.0) || w.iter().sum::<f64>() <= 0.0
    {
        return Err(SimError::Invalid(format!(
            "{key} must be non-negative numbers with a positive sum"
        )));
    }
    Ok(())
}

impl ResponseParams {
    pub fn validate(&self) -> Result<(), SimError> {
        for (k, v) in [
            ("response.test_seeking", self.test_seeking),
            ("response.test_sensitivity", self.test_sensitivity),
            ("response.false_positive_rate", self.false_positive_rate),
            ("response.isolation_compliance", self.isolation_compliance),
            ("response.quarantine_compliance", self.quarantine_compliance),
            ("response.leak", self.leak),
            ("response.interview_reach", self.interview_reach),
            ("response.prompt_miss_rate", self.prompt_miss_rate),
        ] {
            share(k, v)?;
        }
        for (k, v) in [
            ("response.test_delay_days", self.test_delay_days),
            (
                "response.traced_test_delay_days",
                self.traced_test_delay_days,
            ),
            ("response.result_delay_days", self.result_delay_days),
            ("response.trace_delay_days", self.trace_delay_days),
            ("response.correction_delay_days", self.correction_delay_days),
        ] {
            check(k, f64::from(v), 0.0, 30.0)?;
        }
        check(
            "response.isolation_days",
            f64::from(self.isolation_days),
            1.0,
            60.0,
        )?;
        check(
            "response.prompts_per_day",
            f64::from(self.prompts_per_day),
            0.0,
            24.0,
        )?;
        check(
            "response.background_tests_per_1000_per_day",
            self.background_tests_per_1000_per_day,
            0.0,
            1000.0,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_is_the_default_region() {
        assert_eq!(
            RegionConfig::from_toml("").unwrap(),
            RegionConfig::default()
        );
    }

    #[test]
    fn unknown_keys_and_bad_numbers_are_named() {
        let e = RegionConfig::from_toml("populaton = 5\n").unwrap_err();
        assert!(e.to_string().contains("populaton"), "{e}");
        let e = RegionConfig::from_toml("[disease]\nr0 = -1\n").unwrap_err();
        assert!(e.to_string().contains("disease.r0"), "{e}");
        let e = RegionConfig::from_toml("[response]\nleak = 2\n").unwrap_err();
        assert!(e.to_string().contains("response.leak"), "{e}");
        let e =
            RegionConfig::from_toml("[buildings]\nunits = [1]\nshares = [0.5, 0.5]\n").unwrap_err();
        assert!(e.to_string().contains("buildings.units"), "{e}");
        let e = RegionConfig::from_toml("[workplaces]\nshare = 0.9\n[schools]\nshare = 0.2\n")
            .unwrap_err();
        assert!(e.to_string().contains("schools.share"), "{e}");
    }
}

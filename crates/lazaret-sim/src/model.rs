//! One stochastic run of an outbreak under one policy: day steps, agents
//! infecting each other in their households, buildings, workplaces, school
//! classes, rides, flights and the unrecorded community; symptomatic people
//! tested after a delay; positive cases isolated and traced by the real
//! engine; close contacts ordered into quarantine (some do not comply);
//! false positives corrected later with production's revision rule.
//!
//! Only infectious agents are visited each day, so a day costs what the
//! epidemic does, not what the population is.

use chrono::Duration;
use lazaret_core::contact::{ExposureRule, RiskTier};
use lazaret_core::exposure::{ContactSetting, NamedContact, Residence};
use lazaret_core::exposure_rules::{find_contacts, infectious_window};
use lazaret_core::order::OrderBasis;
use lazaret_core::revision::{plan_basis_revision, OrderRevision};
use lazaret_core::test_result::{TestOutcome, TestResult};
use lazaret_core::tracing_policy::TracingPolicy;
use serde::Serialize;

use crate::disease::{hazard, Calibration, Course};
use crate::engine_bridge::{self as bridge, agent_of, at, day_of, person, test_id};
use crate::policy::SimPolicy;
use crate::random::{Purpose, Stream};
use crate::region::{GroupKind, Region, NONE};

const NEVER: i32 = i32::MAX;

/// Where an infection happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    Household,
    Building,
    Workplace,
    School,
    Community,
    Ride,
    Flight,
    /// Infected before the run or abroad.
    Introduced,
}

/// A count per setting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct BySetting {
    pub household: u64,
    pub building: u64,
    pub workplace: u64,
    pub school: u64,
    pub community: u64,
    pub ride: u64,
    pub flight: u64,
}

impl BySetting {
    fn add(&mut self, s: Setting, k: u64) {
        match s {
            Setting::Household => self.household += k,
            Setting::Building => self.building += k,
            Setting::Workplace => self.workplace += k,
            Setting::School => self.school += k,
            Setting::Community => self.community += k,
            Setting::Ride => self.ride += k,
            Setting::Flight => self.flight += k,
            Setting::Introduced => {}
        }
    }

    pub fn entries(&self) -> [(&'static str, u64); 7] {
        [
            ("household", self.household),
            ("building", self.building),
            ("workplace", self.workplace),
            ("school", self.school),
            ("community", self.community),
            ("ride", self.ride),
            ("flight", self.flight),
        ]
    }

    pub fn total(&self) -> u64 {
        self.household
            + self.building
            + self.workplace
            + self.school
            + self.community
            + self.ride
            + self.flight
    }
}
/// Days at the end of a run with no local infection for the outbreak to
/// count as controlled (Hellewell et al. use weeks 12 to 16).
pub const CONTROL_DAYS: u32 = 28;
/// An outbreak that reached this many infections is not controlled, even if
/// it burnt out (Hellewell et al.: 5,000), nor one that reached a tenth of a
/// smaller region.
pub const CONTROL_MAX_INFECTIONS: u32 = 5_000;

/// What one run produced. Daily series are indexed by simulation day.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunOutcome {
    /// Infections passed on inside the region.
    pub infections: u32,
    /// Travellers who arrived infected and people infected on day 0.
    pub introduced: u32,
    pub daily_infections: Vec<u32>,
    pub infections_by_setting: BySetting,
    /// Infections found by a trace of the person who infected them (ordered
    /// into quarantine), by where they happened.
    pub found_by_setting: BySetting,
    /// Contact quarantine person-days by the rule that first ordered them
    /// (`flight-seat`, `household`, `ride`, `interview`, …).
    pub quarantine_days_by_rule: std::collections::BTreeMap<&'static str, u64>,
    /// By day of infection: people infected, and the people they infected
    /// in turn (the case reproduction number is their ratio).
    pub cohort_infected: Vec<u32>,
    pub cohort_secondary: Vec<u32>,
    pub confirmed_cases: u32,
    pub false_positive_cases: u32,
    pub traced_cases: u32,
    pub contact_orders: u32,
    /// Contact orders whose person was infected before the order ended.
    pub orders_infected: u32,
    pub notified_contacts: u32,
    pub quarantine_person_days: u64,
    pub isolation_person_days: u64,
    /// Contact orders released or shortened by a corrected test.
    pub orders_revised: u32,
    pub daily_new_orders: Vec<u32>,
    pub daily_traced_cases: Vec<u32>,
    /// Check-in prompts per day (active orders of every kind × prompts a day).
    pub daily_checkins: Vec<f64>,
    /// Expected alerts per day: missed prompts of compliant people, every
    /// prompt of those who left.
    pub daily_alerts: Vec<f64>,
    /// No local infection in the last `CONTROL_DAYS` days, and fewer than
    /// `CONTROL_MAX_INFECTIONS` (or a tenth of the region) in all.
    pub controlled: bool,
}

#[derive(Debug, Clone, Copy)]
enum Event {
    Infectious(u32),
    Onset(u32),
    Sample(u32),
    Result(u32),
    Trace(u32),
    Correct(u32),
}

#[derive(Debug, Clone)]
struct Test {
    agent: u32,
    sample: i32,
    positive: bool,
    contact_orders: Vec<u32>,
}

#[derive(Debug, Clone)]
struct Order {
    agent: u32,
    start: i32,
    /// Exclusive: the first day free again.
    end: i32,
    compliant: bool,
    isolation: bool,
    /// The tests it rests on, each with the end it calls for.
    bases: Vec<(u32, i32)>,
    /// The rule that first ordered it (contact orders).
    rule: Option<ExposureRule>,
    /// A correction released or shortened it.
    revised: bool,
}

impl Order {
    fn active(&self, t: i32) -> bool {
        self.start <= t && t < self.end
    }
}

const PENDING: u8 = 1;
const POSITIVE: u8 = 2;

struct Run<'a> {
    region: &'a Region,
    policy: &'a SimPolicy,
    tracing: Option<&'a TracingPolicy>,
    seed: u64,
    days: i32,
    now: i32,
    decay: f64,
    beta_household: f64,
    beta_work: f64,
    beta_school: f64,
    beta_building: f64,
    beta_ride_hour: f64,
    beta_flight_near: f64,
    beta_flight_far: f64,
    community_hazard: f64,
    course: Vec<Course>,
    secondary: Vec<u32>,
    infector: Vec<u32>,
    setting: Vec<Setting>,
    flags: Vec<u8>,
    quarantine: Vec<u32>,
    isolation: Vec<u32>,
    monitored_until: Vec<i32>,
    /// Each building's residence register once built (a trace borrows it).
    registers: Vec<Option<Vec<Residence>>>,
    /// Community contacts met while infectious, kept for the interview.
    met: Vec<Vec<(u32, i32)>>,
    record_met: bool,
    active: Vec<u32>,
    events: Vec<Vec<Event>>,
    tests: Vec<Test>,
    orders: Vec<Order>,
    out: RunOutcome,
}

/// Runs one outbreak of `region` under `policy` with random `seed`.
pub fn run(
    region: &Region,
    calibration: &Calibration,
    policy: &SimPolicy,
    seed: u64,
) -> RunOutcome {
    let c = &region.config;
    let n = region.population() as usize;
    let days = c.days as i32;
    let t = &c.transmission;
    let tracing = policy.tracing();
    let record_met = tracing.is_some() && policy.response.interview_reach > 0.0;
    let mut r = Run {
        region,
        policy,
        tracing,
        seed,
        days,
        now: 0,
        decay: c.disease.infectiousness_decay,
        beta_household: hazard(t.household),
        beta_work: hazard(t.workplace),
        beta_school: hazard(t.school),
        beta_building: hazard(t.building),
        beta_ride_hour: hazard(t.ride_per_hour),
        beta_flight_near: hazard(t.flight_near),
        beta_flight_far: hazard(t.flight_far),
        community_hazard: calibration.community_hazard,
        course: vec![
            Course {
                infected: NEVER,
                start: NEVER,
                peak: NEVER,
                end: NEVER,
                symptomatic: false,
                scale: 0.0,
            };
            n
        ],
        secondary: vec![0; n],
        infector: vec![NONE; n],
        setting: vec![Setting::Introduced; n],
        flags: vec![0; n],
        quarantine: vec![NONE; n],
        isolation: vec![NONE; n],
        monitored_until: vec![i32::MIN; n],
        registers: vec![None; region.building_start.len() - 1],
        met: if record_met {
            vec![Vec::new(); n]
        } else {
            Vec::new()
        },
        record_met,
        active: Vec::new(),
        events: vec![Vec::new(); days as usize + 1],
        tests: Vec::new(),
        orders: Vec::new(),
        out: RunOutcome {
            daily_infections: vec![0; days as usize],
            cohort_infected: vec![0; days as usize],
            cohort_secondary: vec![0; days as usize],
            daily_new_orders: vec![0; days as usize],
            daily_traced_cases: vec![0; days as usize],
            ..RunOutcome::default()
        },
    };
    r.simulate();
    r.finish()
}

impl Run<'_> {
    fn simulate(&mut self) {
        let n = u64::from(self.region.population());
        let mut s = Stream::keyed(self.seed, Purpose::Seed, 0, 0);
        for _ in 0..self.region.config.initial_infections {
            let a = s.below(n) as u32;
            let day = -(s.below(3) as i32);
            if self.susceptible(a) {
                self.infect(a, day, NONE, Setting::Introduced);
                self.out.introduced += 1;
            }
        }
        let flights_by_day = &self.region.flights;
        let mut next_flight = 0;
        for t in 0..self.days {
            self.now = t;
            // An event may schedule another for the same day (a test taken at
            // onset, a trace the day of the result): drain until none is left.
            loop {
                let today = std::mem::take(&mut self.events[t as usize]);
                if today.is_empty() {
                    break;
                }
                for ev in today {
                    self.handle(ev);
                }
            }
            // Travellers arriving infected today.
            let share = self.region.config.flights.infected_share;
            while next_flight < flights_by_day.len() && flights_by_day[next_flight].day as i32 == t
            {
                for o in &flights_by_day[next_flight].occupants {
                    let mut s =
                        Stream::keyed(self.seed, Purpose::Import, u64::from(o.agent), t as u64);
                    if o.row > 0 && s.chance(share) && self.susceptible(o.agent) {
                        let day = t - s.between(1, 5) as i32;
                        self.infect(o.agent, day, NONE, Setting::Introduced);
                        self.out.introduced += 1;
                    }
                }
                next_flight += 1;
            }
            self.background_tests(t);
            let active = std::mem::take(&mut self.active);
            for &i in &active {
                self.transmit(i, t);
            }
            let mut active = active;
            active.extend(std::mem::take(&mut self.active));
            active.retain(|&a| self.course[a as usize].end > t + 1);
            self.active = active;
        }
    }

    fn susceptible(&self, a: u32) -> bool {
        self.course[a as usize].infected == NEVER
    }

    fn schedule(&mut self, day: i32, ev: Event) {
        let day = day.max(self.now);
        if day < self.days {
            self.events[day as usize].push(ev);
        }
    }

    fn infect(&mut self, a: u32, day: i32, infector: u32, setting: Setting) {
        let mut s = Stream::keyed(self.seed, Purpose::History, u64::from(a), 0);
        let c = Course::draw(&self.region.config.disease, day, &mut s);
        self.course[a as usize] = c;
        self.infector[a as usize] = infector;
        self.setting[a as usize] = setting;
        if infector != NONE {
            self.secondary[infector as usize] += 1;
            self.out.infections += 1;
            self.out.infections_by_setting.add(setting, 1);
            if let Some(d) = self.out.daily_infections.get_mut(day as usize) {
                *d += 1;
            }
        }
        if c.start <= self.now {
            self.active.push(a);
        } else {
            self.schedule(c.start, Event::Infectious(a));
        }
        if c.symptomatic {
            self.schedule(c.peak, Event::Onset(a));
        }
    }

    /// 1 for someone going about as usual; `leak` for someone isolating or
    /// in quarantine who complies.
    fn out_factor(&self, a: u32, t: i32) -> f64 {
        let home = |o: u32| {
            o != NONE && {
                let o = &self.orders[o as usize];
                o.compliant && o.active(t)
            }
        };
        if home(self.isolation[a as usize]) || home(self.quarantine[a as usize]) {
            self.policy.response.leak
        } else {
            1.0
        }
    }

    fn transmit(&mut self, i: u32, t: i32) {
        let course = self.course[i as usize];
        let w = course.weight(t, self.decay);
        if w <= 0.0 {
            return;
        }
        let region = self.region;
        let mut s = Stream::keyed(self.seed, Purpose::Transmit, u64::from(i), t as u64);
        let mut infected: Vec<(u32, Setting)> = Vec::new();
        // Household: nobody leaves it for isolation or quarantine.
        let household = region.household_members(region.household[i as usize]);
        let p = 1.0 - (-self.beta_household * w).exp();
        for j in household.clone() {
            if s.chance(p) && j != i {
                infected.push((j, Setting::Household));
            }
        }
        let out = self.out_factor(i, t);
        // The day's group, then the rest of the building, walked by skips.
        if let Some(g) = region.group_of(i) {
            let (beta, setting) = match region.group_kind[g as usize] {
                GroupKind::Workplace => (self.beta_work, Setting::Workplace),
                GroupKind::School => (self.beta_school, Setting::School),
            };
            let p = (1.0 - (-beta * w).exp()) * out;
            let members = region.groups.get(g).iter().copied();
            self.walk(members, p, (i, t, setting), &mut s, &mut infected);
        }
        let building = region.building_members(region.building_of(i));
        let p = (1.0 - (-self.beta_building * w).exp()) * out;
        let others = building.filter(|a| !household.contains(a));
        self.walk(others, p, (i, t, Setting::Building), &mut s, &mut infected);
        // The community: people met at random, none of them in a register.
        let contacts = s.poisson(region.config.community.contacts_per_day * out);
        let p = 1.0 - (-self.community_hazard * w).exp();
        let n = u64::from(region.population());
        for _ in 0..contacts {
            let j = s.below(n) as u32;
            let u = s.unit();
            if j == i {
                continue;
            }
            if self.record_met {
                self.met[i as usize].push((j, t));
            }
            if u < p * self.out_factor(j, t) {
                infected.push((j, Setting::Community));
            }
        }
        // Today's rides and flights.
        let rel = course.relative(t, self.decay);
        for &k in region.rides_of.get(i) {
            let ride = &region.rides[k as usize];
            if ride.day as i32 != t {
                continue;
            }
            let p =
                (1.0 - (-self.beta_ride_hour * f64::from(ride.minutes) / 60.0 * rel).exp()) * out;
            for &j in ride.occupants() {
                let u = s.unit();
                if j != i && u < p * self.out_factor(j, t) {
                    infected.push((j, Setting::Ride));
                }
            }
        }
        let tr = &region.config.transmission;
        for &k in region.flights_of.get(i) {
            let flight = &region.flights[k as usize];
            if flight.day as i32 != t {
                continue;
            }
            let me = flight
                .occupants
                .iter()
                .find(|o| o.agent == i)
                .map_or(0, |o| o.row);
            for o in &flight.occupants {
                let near = me > 0 && o.row > 0 && me.abs_diff(o.row) <= tr.flight_near_rows as u16;
                let beta = if near {
                    self.beta_flight_near
                } else {
                    self.beta_flight_far
                };
                let p = 1.0 - (-beta * rel).exp();
                if s.chance(p) && o.agent != i {
                    infected.push((o.agent, Setting::Flight));
                }
            }
        }
        for (j, setting) in infected {
            if self.susceptible(j) {
                self.infect(j, t, i, setting);
            }
        }
    }

    /// Each member in `members` (but the infectious `i`) is reached with
    /// chance `p`, then kept by their own out-of-home factor.
    fn walk(
        &self,
        members: impl Iterator<Item = u32>,
        p: f64,
        (i, t, setting): (u32, i32, Setting),
        s: &mut Stream,
        infected: &mut Vec<(u32, Setting)>,
    ) {
        if p <= 0.0 {
            return;
        }
        let mut members = members;
        loop {
            let skip = s.skip(p);
            let Some(j) = members.nth(skip) else {
                return;
            };
            if j != i && s.unit() < self.out_factor(j, t) {
                infected.push((j, setting));
            }
        }
    }

    fn background_tests(&mut self, t: i32) {
        let r = &self.policy.response;
        if !self.policy.acts() || r.background_tests_per_1000_per_day <= 0.0 {
            return;
        }
        let n = self.region.population();
        let mut s = Stream::keyed(self.seed, Purpose::Background, 0, t as u64);
        let k = s.poisson(f64::from(n) * r.background_tests_per_1000_per_day / 1000.0);
        for _ in 0..k {
            let a = s.below(u64::from(n)) as u32;
            if self.flags[a as usize] & (PENDING | POSITIVE) == 0 {
                self.flags[a as usize] |= PENDING;
                self.sample(a, t);
            }
        }
    }

    fn handle(&mut self, ev: Event) {
        let t = self.now;
        match ev {
            Event::Infectious(a) => self.active.push(a),
            Event::Onset(a) => self.onset(a, t),
            Event::Sample(a) => self.sample(a, t),
            Event::Result(test) => self.result(test, t),
            Event::Trace(test) => self.trace(test, t),
            Event::Correct(test) => self.correct(test, t),
        }
    }

    fn order_active(&self, o: u32, t: i32) -> bool {
        o != NONE && self.orders[o as usize].active(t)
    }

    fn onset(&mut self, a: u32, t: i32) {
        let r = &self.policy.response;
        if !self.policy.acts() || self.flags[a as usize] & (PENDING | POSITIVE) != 0 {
            return;
        }
        let traced = self.order_active(self.quarantine[a as usize], t)
            || self.monitored_until[a as usize] > t;
        let seeks =
            Stream::keyed(self.seed, Purpose::TestSeeking, u64::from(a), 0).chance(r.test_seeking);
        if !(traced || seeks) {
            return;
        }
        let delay = if traced {
            r.traced_test_delay_days
        } else {
            r.test_delay_days
        };
        if r.isolate_at_onset {
            let end = t + r.isolation_days as i32;
            self.isolate(a, t, end, None);
        }
        self.flags[a as usize] |= PENDING;
        self.schedule(t + delay as i32, Event::Sample(a));
    }

    fn sample(&mut self, a: u32, t: i32) {
        let r = &self.policy.response;
        let c = self.course[a as usize];
        let mut s = Stream::keyed(self.seed, Purpose::TestResult, u64::from(a), t as u64);
        // PCR finds an infection from the first infectious day to a week after the last.
        let detectable = c.infected != NEVER && t >= c.start && t < c.end + 7;
        let positive = if detectable {
            s.chance(r.test_sensitivity)
        } else {
            s.chance(r.false_positive_rate)
        };
        let test = self.tests.len() as u32;
        self.tests.push(Test {
            agent: a,
            sample: t,
            positive,
            contact_orders: Vec::new(),
        });
        self.schedule(t + r.result_delay_days as i32, Event::Result(test));
    }

    /// Isolation from `start` to `end` (exclusive) for `a`, on `test` if
    /// any; extends an isolation already running.
    fn isolate(&mut self, a: u32, start: i32, end: i32, test: Option<u32>) {
        let current = self.isolation[a as usize];
        if self.order_active(current, start) {
            let o = &mut self.orders[current as usize];
            o.end = o.end.max(end);
            if let Some(test) = test {
                o.bases.push((test, end));
            }
            return;
        }
        let compliant = Stream::keyed(self.seed, Purpose::Comply, u64::from(a), start as u64)
            .chance(self.policy.response.isolation_compliance);
        self.isolation[a as usize] = self.orders.len() as u32;
        self.orders.push(Order {
            agent: a,
            start,
            end,
            compliant,
            isolation: true,
            bases: test.map(|t| (t, end)).into_iter().collect(),
            rule: None,
            revised: false,
        });
    }

    fn result(&mut self, test: u32, t: i32) {
        let Test {
            agent: a, positive, ..
        } = self.tests[test as usize];
        self.flags[a as usize] &= !PENDING;
        let r = &self.policy.response;
        if !positive {
            // Isolated at onset, freed by the negative result.
            let iso = self.isolation[a as usize];
            if self.order_active(iso, t) && self.orders[iso as usize].bases.is_empty() {
                self.orders[iso as usize].end = t;
            }
            return;
        }
        self.flags[a as usize] |= POSITIVE;
        let c = self.course[a as usize];
        let infected = c.infected != NEVER;
        if infected {
            self.out.confirmed_cases += 1;
        } else {
            self.out.false_positive_cases += 1;
            self.schedule(t + r.correction_delay_days as i32, Event::Correct(test));
        }
        let from = if infected && c.symptomatic {
            c.peak.max(t - 3)
        } else {
            t
        };
        let end = from.max(t) + r.isolation_days as i32;
        self.isolate(a, t, end, Some(test));
        if self.tracing.is_some() {
            self.schedule(t + r.trace_delay_days as i32, Event::Trace(test));
        }
    }

    /// The test as production stores it: onset when the case had symptoms.
    fn test_result(&self, test: u32) -> TestResult {
        let Test { agent, sample, .. } = self.tests[test as usize];
        let c = self.course[agent as usize];
        TestResult {
            id: test_id(test),
            person_id: person(agent),
            sampled_at: at(sample, 9 * 60),
            result: TestOutcome::Positive,
            lab: "SIM".into(),
            symptom_onset: (c.infected != NEVER && c.symptomatic && c.peak <= sample)
                .then(|| bridge::date(c.peak)),
            revisions: Vec::new(),
        }
    }

    fn trace(&mut self, test: u32, t: i32) {
        let Some(policy) = self.tracing else { return };
        let case = self.tests[test as usize].agent;
        if self.flags[case as usize] & POSITIVE == 0 {
            return; // corrected before the trace ran
        }
        let result = self.test_result(test);
        let window = infectious_window(&result, &policy.window);
        let (from, to) = (day_of(window.start), day_of(window.end).min(t));
        let named = self.interview(case, test, from, to);
        let building = self.region.building_of(case);
        let register = self.registers[building as usize]
            .take()
            .unwrap_or_else(|| bridge::building_register(self.region, building));
        let mut exposures = bridge::case_exposures(self.region, case, (from, to), register, named);
        let contacts = find_contacts(&result.person_id, &window, &exposures, policy, 1);
        // The building's register serves its next case too.
        self.registers[building as usize] =
            exposures.residence.take().map(|r| r.building_residents);
        self.out.traced_cases += 1;
        self.out.daily_traced_cases[t as usize] += 1;
        let q = &policy.quarantine;
        for contact in contacts {
            let Some(j) = agent_of(&contact.person_id) else {
                continue;
            };
            let last = day_of(contact.last_exposure).min(t);
            match contact.tier {
                RiskTier::Close => {
                    let end = last + q.days_after_last_exposure as i32;
                    // A known case is isolating already; a period over is not ordered.
                    if end > t && self.flags[j as usize] & POSITIVE == 0 {
                        self.quarantine_contact(j, t, end, test, contact.rules[0]);
                        if self.infector[j as usize] == case {
                            let setting = self.setting[j as usize];
                            self.out.found_by_setting.add(setting, 1);
                        }
                    }
                }
                RiskTier::Notify => {
                    self.out.notified_contacts += 1;
                    let until = last + q.monitoring_days_after_last_exposure as i32;
                    let m = &mut self.monitored_until[j as usize];
                    *m = (*m).max(until);
                }
            }
        }
    }

    /// The contacts outside the registers the case names: each of the day's
    /// group and of the people met, with the policy's interview reach.
    fn interview(&self, case: u32, test: u32, from: i32, to: i32) -> Vec<NamedContact> {
        let reach = self.policy.response.interview_reach;
        if reach <= 0.0 {
            return Vec::new();
        }
        let sample = self.tests[test as usize].sample;
        let last = to.min(sample);
        let mut s = Stream::keyed(
            self.seed,
            Purpose::Interview,
            u64::from(case),
            sample as u64,
        );
        let mut named = Vec::new();
        let mut name = |j: u32, setting: ContactSetting, day: i32, s: &mut Stream| {
            if s.chance(reach) && j != case && (from..=last).contains(&day) {
                named.push(NamedContact {
                    person_id: person(j),
                    setting,
                    last_exposure: at(day, 12 * 60),
                    named_by: "interview".into(),
                });
            }
        };
        if let Some(g) = self.region.group_of(case) {
            let setting = match self.region.group_kind[g as usize] {
                GroupKind::Workplace => ContactSetting::Workplace,
                GroupKind::School => ContactSetting::School,
            };
            for &j in self.region.groups.get(g) {
                name(j, setting, last, &mut s);
            }
        }
        if self.record_met {
            for &(j, day) in &self.met[case as usize] {
                name(j, ContactSetting::Social, day, &mut s);
            }
        }
        named
    }

    fn quarantine_contact(&mut self, j: u32, t: i32, end: i32, test: u32, rule: ExposureRule) {
        let current = self.quarantine[j as usize];
        let o = if self.order_active(current, t) {
            // A further basis folds into the order in force (production's add_basis).
            let o = &mut self.orders[current as usize];
            o.end = o.end.max(end);
            o.bases.push((test, end));
            current
        } else {
            let compliant = Stream::keyed(self.seed, Purpose::Comply, u64::from(j), t as u64)
                .chance(self.policy.response.quarantine_compliance);
            let o = self.orders.len() as u32;
            self.orders.push(Order {
                agent: j,
                start: t,
                end,
                compliant,
                isolation: false,
                bases: vec![(test, end)],
                rule: Some(rule),
                revised: false,
            });
            self.quarantine[j as usize] = o;
            self.out.contact_orders += 1;
            self.out.daily_new_orders[t as usize] += 1;
            o
        };
        self.tests[test as usize].contact_orders.push(o);
    }

    /// A false positive found out: production's revision rule releases or
    /// shortens every order that rested on the test.
    fn correct(&mut self, test: u32, t: i32) {
        let case = self.tests[test as usize].agent;
        self.flags[case as usize] &= !POSITIVE;
        let tid = test_id(test);
        let mut orders = std::mem::take(&mut self.tests[test as usize].contact_orders);
        orders.push(self.isolation[case as usize]);
        for o in orders {
            if o == NONE || !self.orders[o as usize].active(t) {
                continue;
            }
            let order = &self.orders[o as usize];
            let bases: Vec<OrderBasis> = order
                .bases
                .iter()
                .map(|&(b, _)| {
                    if order.isolation {
                        OrderBasis::PositiveTest {
                            test_id: test_id(b),
                        }
                    } else {
                        OrderBasis::Contact {
                            case_id: person(self.tests[b as usize].agent),
                            test_id: test_id(b),
                        }
                    }
                })
                .collect();
            let ends: Vec<(lazaret_core::ids::TestId, i32)> =
                order.bases.iter().map(|&(b, e)| (test_id(b), e)).collect();
            let basis_end = |b: &OrderBasis| {
                let id = b.test_id()?;
                ends.iter().find(|(t, _)| t == id).map(|&(_, e)| at(e, 0))
            };
            let plan = plan_basis_revision(&bases, at(order.end, 0), &tid, "lab error", basis_end);
            let order = &mut self.orders[o as usize];
            match plan {
                Some(OrderRevision::Release { .. }) => order.end = t,
                Some(OrderRevision::Keep { ends_at, .. }) => {
                    order.end = day_of(ends_at + Duration::hours(1)).max(t);
                    order.bases.retain(|&(b, _)| b != test);
                }
                None => continue,
            }
            if !order.isolation && !order.revised {
                self.out.orders_revised += 1;
            }
            order.revised = true;
        }
    }

    fn finish(mut self) -> RunOutcome {
        let days = self.days;
        let r = &self.policy.response;
        let prompts = f64::from(r.prompts_per_day);
        let mut checkins = vec![0.0; days as usize + 1];
        let mut alerts = vec![0.0; days as usize + 1];
        for o in &self.orders {
            let (start, end) = (o.start.clamp(0, days), o.end.clamp(0, days));
            if end <= start {
                continue;
            }
            let length = u64::from((end - start) as u32);
            if o.isolation {
                self.out.isolation_person_days += length;
            } else {
                self.out.quarantine_person_days += length;
                if let Some(rule) = o.rule {
                    *self
                        .out
                        .quarantine_days_by_rule
                        .entry(rule.as_str())
                        .or_default() += length;
                }
                let c = self.course[o.agent as usize];
                if c.infected != NEVER && c.infected < o.end {
                    self.out.orders_infected += 1;
                }
            }
            let miss = if o.compliant { r.prompt_miss_rate } else { 1.0 };
            checkins[start as usize] += prompts;
            checkins[end as usize] -= prompts;
            alerts[start as usize] += prompts * miss;
            alerts[end as usize] -= prompts * miss;
        }
        let running = |v: Vec<f64>| -> Vec<f64> {
            v.iter()
                .take(days as usize)
                .scan(0.0, |acc, x| {
                    *acc += x;
                    Some(*acc)
                })
                .collect()
        };
        self.out.daily_checkins = running(checkins);
        self.out.daily_alerts = running(alerts);
        for (a, c) in self.course.iter().enumerate() {
            if c.infected >= 0 && c.infected < days {
                self.out.cohort_infected[c.infected as usize] += 1;
                self.out.cohort_secondary[c.infected as usize] += self.secondary[a];
            }
        }
        let tail = (CONTROL_DAYS as usize).min(days as usize / 4).max(1);
        let cap = CONTROL_MAX_INFECTIONS.min(self.region.population() / 10);
        self.out.controlled = self.out.infections < cap
            && self.out.daily_infections[days as usize - tail..]
                .iter()
                .all(|&x| x == 0);
        self.out
    }
}

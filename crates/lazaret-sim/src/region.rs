//! The synthetic region: who lives with whom, in which building, who works
//! or learns together, who rode in which taxi and who sat where on which
//! arriving flight. Generated once from the region's seed; the epidemic runs
//! on it read-only, so every run and policy shares one region.
//!
//! Agents are numbered building by building, household by household, so a
//! household and a building are each one range of agent ids. Agents have no
//! attribute at all besides where they live, work, ride and fly.

use crate::params::RegionConfig;
use crate::random::{Purpose, Stream};

/// Lists of agents per key (compressed rows): `items[offsets[k]..offsets[k + 1]]`.
#[derive(Debug, Clone, Default)]
pub struct Lists {
    offsets: Vec<u32>,
    items: Vec<u32>,
}

impl Lists {
    /// Groups `(key, item)` pairs by key (a counting sort; items keep their
    /// order within a key).
    pub fn from_pairs(keys: usize, pairs: &[(u32, u32)]) -> Self {
        let mut offsets = vec![0u32; keys + 1];
        for &(k, _) in pairs {
            offsets[k as usize + 1] += 1;
        }
        for k in 0..keys {
            offsets[k + 1] += offsets[k];
        }
        let mut next = offsets.clone();
        let mut items = vec![0u32; pairs.len()];
        for &(k, item) in pairs {
            items[next[k as usize] as usize] = item;
            next[k as usize] += 1;
        }
        Self { offsets, items }
    }

    pub fn get(&self, key: u32) -> &[u32] {
        let k = key as usize;
        &self.items[self.offsets[k] as usize..self.offsets[k + 1] as usize]
    }

    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where an agent spends the day, when not at home.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    Workplace,
    School,
}

/// A seat on an arriving flight (`row` 0 for crew).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occupant {
    pub agent: u32,
    pub row: u16,
    /// 0-based seat letter.
    pub seat: u8,
    /// Travellers booked together share it (0 for crew).
    pub booking: u32,
}

#[derive(Debug, Clone)]
pub struct SimFlight {
    pub day: u32,
    pub minute: u32,
    pub occupants: Vec<Occupant>,
}

#[derive(Debug, Clone, Copy)]
pub struct SimRide {
    pub day: u32,
    pub minute: u32,
    pub minutes: u32,
    pub vehicle: u32,
    /// The driver, then one or two passengers.
    pub occupants: [u32; 3],
    pub count: u8,
}

impl SimRide {
    pub fn occupants(&self) -> &[u32] {
        &self.occupants[..usize::from(self.count)]
    }
}

pub const NONE: u32 = u32::MAX;

#[derive(Debug, Clone)]
pub struct Region {
    pub config: RegionConfig,
    /// Agent → household.
    pub household: Vec<u32>,
    /// Household → its first agent; one more entry closes the last.
    pub household_start: Vec<u32>,
    /// Household → building, and its unit number there.
    pub household_building: Vec<u32>,
    pub household_unit: Vec<u32>,
    /// Building → its first agent; one more entry closes the last.
    pub building_start: Vec<u32>,
    /// Agent → workplace or school class, or `NONE`.
    pub group: Vec<u32>,
    pub group_kind: Vec<GroupKind>,
    pub groups: Lists,
    pub flights: Vec<SimFlight>,
    /// Agent → indices into `flights` (ascending day).
    pub flights_of: Lists,
    pub rides: Vec<SimRide>,
    /// Agent → indices into `rides` (ascending day).
    pub rides_of: Lists,
}

impl Region {
    pub fn population(&self) -> u32 {
        self.household.len() as u32
    }

    pub fn household_members(&self, h: u32) -> std::ops::Range<u32> {
        self.household_start[h as usize]..self.household_start[h as usize + 1]
    }

    pub fn building_of(&self, agent: u32) -> u32 {
        self.household_building[self.household[agent as usize] as usize]
    }

    pub fn building_members(&self, b: u32) -> std::ops::Range<u32> {
        self.building_start[b as usize]..self.building_start[b as usize + 1]
    }

    /// The workplace or school class an agent spends the day in, if any.
    pub fn group_of(&self, agent: u32) -> Option<u32> {
        let g = self.group[agent as usize];
        (g != NONE).then_some(g)
    }

    /// Generates the region of `config` (deterministic by `config.seed`).
    pub fn generate(config: &RegionConfig) -> Self {
        let n = config.population;
        let mut s = Stream::keyed(config.seed, Purpose::Region, 0, 0);

        // Buildings of units, one household per unit, until everyone lives somewhere.
        let mut household = Vec::with_capacity(n as usize);
        let mut household_start = Vec::new();
        let mut household_building = Vec::new();
        let mut household_unit = Vec::new();
        let mut building_start = Vec::new();
        let mut next = 0u32;
        'fill: while next < n {
            let b = building_start.len() as u32;
            building_start.push(next);
            let units = config.buildings.units[s.weighted(&config.buildings.shares)];
            for unit in 0..units {
                if next >= n {
                    break 'fill;
                }
                let size = (s.weighted(&config.households.size_shares) as u32 + 1).min(n - next);
                let h = household_start.len() as u32;
                household_start.push(next);
                household_building.push(b);
                household_unit.push(unit);
                household.extend(std::iter::repeat_n(h, size as usize));
                next += size;
            }
        }
        household_start.push(n);
        building_start.push(n);

        // Workplaces and school classes: members drawn across the whole region.
        let mut group = vec![NONE; n as usize];
        let mut group_kind = Vec::new();
        let mut pairs = Vec::new();
        let mut workers = Vec::new();
        let mut pupils = Vec::new();
        for a in 0..n {
            let u = s.unit();
            if u < config.schools.share {
                pupils.push(a);
            } else if u < config.schools.share + config.workplaces.share {
                workers.push(a);
            }
        }
        for (members, kind, params) in [
            (&mut workers, GroupKind::Workplace, &config.workplaces),
            (&mut pupils, GroupKind::School, &config.schools),
        ] {
            shuffle(members, &mut s);
            let mut i = 0;
            while i < members.len() {
                // Sizes vary around the mean (geometric-like spread, at least 1).
                let size = if kind == GroupKind::School {
                    params.mean_size.round() as usize
                } else {
                    1 + s.poisson((params.mean_size - 1.0).max(0.0)) as usize
                };
                let g = group_kind.len() as u32;
                group_kind.push(kind);
                for &a in &members[i..(i + size.max(1)).min(members.len())] {
                    group[a as usize] = g;
                    pairs.push((g, a));
                }
                i += size.max(1);
            }
        }
        let groups = Lists::from_pairs(group_kind.len(), &pairs);

        // Arriving flights: households travelling together, seated side by side.
        let f = &config.flights;
        let mut flights = Vec::new();
        let mut booking = 1u32;
        let households = household_building.len() as u64;
        for day in 0..config.days {
            for _ in 0..s.poisson(f.per_100k_per_day * f64::from(n) / 100_000.0) {
                let seats = f.rows * f.seats_per_row;
                let passengers = (f64::from(seats) * f.load_factor).round() as u32;
                let mut occupants = Vec::with_capacity((passengers + f.crew) as usize);
                let mut seat = 0u32;
                while seat < passengers {
                    let h = s.below(households) as u32;
                    let range = household_start[h as usize]..household_start[h as usize + 1];
                    let travel =
                        (s.between(1, u64::from(range.len() as u32)) as u32).min(passengers - seat);
                    for a in range.start..range.start + travel {
                        occupants.push(Occupant {
                            agent: a,
                            row: (seat / f.seats_per_row + 1) as u16,
                            seat: (seat % f.seats_per_row) as u8,
                            booking,
                        });
                        seat += 1;
                    }
                    booking += 1;
                }
                for _ in 0..f.crew {
                    occupants.push(Occupant {
                        agent: s.below(u64::from(n)) as u32,
                        row: 0,
                        seat: 0,
                        booking: 0,
                    });
                }
                // One person cannot hold two seats: the later seat goes unused.
                occupants.sort_by_key(|o| (o.agent, o.row == 0));
                occupants.dedup_by_key(|o| o.agent);
                flights.push(SimFlight {
                    day,
                    minute: s.below(24 * 60) as u32,
                    occupants,
                });
            }
        }
        let mut pairs: Vec<(u32, u32)> = flights
            .iter()
            .enumerate()
            .flat_map(|(i, fl)| fl.occupants.iter().map(move |o| (o.agent, i as u32)))
            .collect();
        pairs.sort_unstable();
        let flights_of = Lists::from_pairs(n as usize, &pairs);

        // Rides: a driver (one vehicle each) and one or two passengers.
        let r = &config.rides;
        let drivers = ((f64::from(n) * r.drivers_per_1000 / 1000.0).ceil() as u32).clamp(1, n);
        let driver_agents: Vec<u32> = (0..drivers).map(|_| s.below(u64::from(n)) as u32).collect();
        let mut rides = Vec::new();
        for day in 0..config.days {
            for _ in 0..s.poisson(f64::from(n) * r.per_1000_per_day / 1000.0) {
                let vehicle = s.below(u64::from(drivers)) as u32;
                let mut occupants = [driver_agents[vehicle as usize], 0, 0];
                let count = if s.chance(r.two_passenger_share) {
                    3
                } else {
                    2
                };
                for slot in occupants.iter_mut().take(count).skip(1) {
                    *slot = s.below(u64::from(n)) as u32;
                }
                let distinct = occupants[1] != occupants[0]
                    && (count == 2
                        || (occupants[2] != occupants[0] && occupants[2] != occupants[1]));
                if !distinct {
                    continue;
                }
                rides.push(SimRide {
                    day,
                    minute: s.below(24 * 60 - u64::from(r.max_minutes)) as u32,
                    minutes: s.between(u64::from(r.min_minutes), u64::from(r.max_minutes)) as u32,
                    vehicle,
                    occupants,
                    count: count as u8,
                });
            }
        }
        let pairs: Vec<(u32, u32)> = rides
            .iter()
            .enumerate()
            .flat_map(|(i, ride)| ride.occupants().iter().map(move |&a| (a, i as u32)))
            .collect();
        let rides_of = Lists::from_pairs(n as usize, &pairs);

        Self {
            config: config.clone(),
            household,
            household_start,
            household_building,
            household_unit,
            building_start,
            group,
            group_kind,
            groups,
            flights,
            flights_of,
            rides,
            rides_of,
        }
    }
}

fn shuffle(v: &mut [u32], s: &mut Stream) {
    for i in (1..v.len()).rev() {
        let j = s.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> RegionConfig {
        let mut c = RegionConfig {
            population: 5_000,
            days: 20,
            ..RegionConfig::default()
        };
        c.flights.per_100k_per_day = 40.0;
        c
    }

    #[test]
    fn everyone_lives_in_one_household_of_one_building() {
        let r = Region::generate(&small());
        assert_eq!(r.population(), 5_000);
        for a in 0..r.population() {
            let h = r.household[a as usize];
            assert!(r.household_members(h).contains(&a));
            assert!(r.building_members(r.building_of(a)).contains(&a));
        }
        // Household sizes follow the shares: mean = Σ k·share_k / Σ share_k.
        let c = small();
        let shares = &c.households.size_shares;
        let expected: f64 = shares
            .iter()
            .enumerate()
            .map(|(k, s)| (k + 1) as f64 * s)
            .sum::<f64>()
            / shares.iter().sum::<f64>();
        let mean = 5_000.0 / (r.household_start.len() - 1) as f64;
        assert!((mean - expected).abs() < 0.1, "{mean} vs {expected}");
    }

    #[test]
    fn the_same_seed_gives_the_same_region() {
        let a = Region::generate(&small());
        let b = Region::generate(&small());
        assert_eq!(a.household, b.household);
        assert_eq!(a.group, b.group);
        assert_eq!(a.rides.len(), b.rides.len());
        let c = Region::generate(&RegionConfig { seed: 2, ..small() });
        assert_ne!(a.group, c.group);
    }

    #[test]
    fn flights_seat_each_traveller_once_and_index_them() {
        let r = Region::generate(&small());
        assert!(!r.flights.is_empty());
        for (i, f) in r.flights.iter().enumerate() {
            let mut agents: Vec<u32> = f.occupants.iter().map(|o| o.agent).collect();
            agents.sort_unstable();
            agents.dedup();
            assert_eq!(agents.len(), f.occupants.len(), "one seat per person");
            for o in &f.occupants {
                assert!(r.flights_of.get(o.agent).contains(&(i as u32)));
            }
        }
        for (i, ride) in r.rides.iter().enumerate() {
            for &a in ride.occupants() {
                assert!(r.rides_of.get(a).contains(&(i as u32)));
            }
        }
        let in_groups = r.group.iter().filter(|g| **g != NONE).count() as f64 / 5_000.0;
        assert!((in_groups - 0.65).abs() < 0.03, "{in_groups}");
    }
}

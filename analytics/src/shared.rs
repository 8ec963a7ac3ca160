//! What the figures need that no set of tiers changes: teams, restore times, each gate's
//! first result, improvement actions, freeze overrides, and releases' types, plans and
//! status entries for forecasts. Derived once from the tables as they arrive and shared by
//! every set of tiers; the tables they come from are not kept, since a replacement brings
//! the rows it changes.

use crate::derive::{
    Gone, NONE, Values, heap, keep, make_room, merged, order_by, reorder, unordered,
};
use crate::index::{ById, NO_RELEASE, Numbering, Numbers, Slots};
use crate::model::{
    Coded, GateResults, GateStatus, Gates as GateRows, Incidents, Severities, Tables,
};

/// The teams of releases, each team's name held once: one row per (release, team), for the
/// team filter. Releases here and in every row below are release numbers ([`Numbering`]),
/// through which rows of a release find its program.
#[derive(Default, Clone)]
pub struct ReleaseTeams {
    pub names: Numbers<String>,
    pub release: Vec<u32>,
    /// The team's name by its number in `names`.
    pub team: Vec<u32>,
}

impl ReleaseTeams {
    fn add(&mut self, rows: impl IntoIterator<Item = (u32, String)>) {
        let rows: Vec<(u32, String)> = rows.into_iter().collect();
        make_room(&mut self.release, rows.len());
        make_room(&mut self.team, rows.len());
        for (release, name) in rows {
            self.release.push(release);
            self.team.push(self.names.number(name));
        }
    }

    /// The releases of the team named `name`.
    pub fn releases(&self, name: &str) -> Vec<u32> {
        let Some(team) = self.names.get(name) else {
            return Vec::new();
        };
        self.release
            .iter()
            .zip(&self.team)
            .filter(|(_, t)| **t == team)
            .map(|(r, _)| *r)
            .collect()
    }
}

/// The first result of every gate.
#[derive(Default, Clone)]
pub struct Gates {
    pub time: Vec<i64>,
    pub release: Vec<u32>,
    pub passed: Vec<bool>,
}

/// Improvement actions.
#[derive(Default, Clone)]
pub struct Actions {
    pub release: Vec<u32>,
    pub created: Vec<i64>,
    /// [`NONE`] while open.
    pub closed: Vec<i64>,
    /// Days since 1970-01-01, or [`NONE`].
    pub due: Vec<i64>,
}

/// Times of something that belongs to a release (freeze overrides).
#[derive(Default, Clone)]
pub struct Stamps {
    pub time: Vec<i64>,
    pub release: Vec<u32>,
}

/// Hours from opening to resolution of resolved incidents, with each one's incident and
/// severity (an incident may name no release: then its release is [`NO_RELEASE`]).
#[derive(Default, Clone)]
pub struct Restores {
    pub incident: Vec<i64>,
    /// [`Severities`] bit of each.
    pub severity: Vec<u8>,
    pub hours: Values,
}

/// What forecasts read of each release besides its delivery (metrics.md, *Forecast*), in
/// the order of the releases table.
#[derive(Default, Clone)]
pub struct Stages {
    pub release: Vec<u32>,
    /// [`ReleaseType`] code.
    pub kind: Vec<u8>,
    pub created: Vec<i64>,
    /// [`NONE`] without one.
    pub planned_end: Vec<i64>,
}

/// When releases entered a status: one row per event with a `toStatus`.
#[derive(Default, Clone)]
pub struct Moves {
    pub release: Vec<u32>,
    /// [`crate::model::ReleaseStatus`] code.
    pub status: Vec<u8>,
    pub time: Vec<i64>,
}

#[derive(Default, Clone)]
pub struct Shared {
    pub teams: ReleaseTeams,
    pub restores: Restores,
    pub gates: Gates,
    pub actions: Actions,
    pub overrides: Stamps,
    pub stages: Stages,
    pub moves: Moves,
}

/// Each gate's first result: earliest checkedAt, then first recorded; PENDING ignored.
fn first_results(r: &GateResults, gates: &GateRows, numbering: &mut Numbering) -> Gates {
    let release = ById::new(&gates.id, gates.release.iter().copied());
    let slots = Slots::new(&r.gate);
    let mut first: Vec<Option<usize>> = vec![None; slots.len()];
    for row in 0..r.id.len() {
        if r.status[row] == GateStatus::Pending {
            continue;
        }
        if let Some(slot) = slots.of(r.gate[row]) {
            let key = |row: usize| (r.checked_at[row], r.id[row]);
            if first[slot].is_none_or(|best| key(row) < key(best)) {
                first[slot] = Some(row);
            }
        }
    }
    // A result of a gate that was not read has no release, and no figure to count in.
    let rows: Vec<(usize, i64)> = first
        .into_iter()
        .flatten()
        .filter_map(|row| Some((row, release.get(r.gate[row])?)))
        .collect();
    Gates {
        time: rows.iter().map(|(row, _)| r.checked_at[*row]).collect(),
        release: rows
            .iter()
            .map(|(_, release)| numbering.release(*release))
            .collect(),
        passed: rows
            .iter()
            .map(|(row, _)| r.status[*row] == GateStatus::Passed)
            .collect(),
    }
}

/// Resolved incidents, with the hours they took to resolve, sorted.
fn restores(i: &Incidents, numbering: &mut Numbering) -> Restores {
    let (mut incident, mut severity, mut v) = (Vec::new(), Vec::new(), Values::default());
    for row in 0..i.id.len() {
        let Some(resolved) = i.resolved_at[row] else {
            continue;
        };
        incident.push(i.id[row]);
        severity.push(Severities::bit(i.severity[row]));
        v.time.push(i.opened_at[row]);
        v.program.push(numbering.programs.number(i.program[row]));
        v.release
            .push(i.release[row].map_or(NO_RELEASE, |id| numbering.release(id)));
        v.value
            .push((resolved - i.opened_at[row]) as f64 / 3_600_000_000.0);
    }
    let order = order_by(&v.value);
    Restores {
        incident: reorder(&incident, &order),
        severity: reorder(&severity, &order),
        hours: v.reordered(&order),
    }
}

impl Shared {
    /// Derives what no set of tiers changes, taking the tables only it reads (teams, gates
    /// and their results, actions, overrides) out of `tables`, and numbering their releases.
    pub fn take(tables: &mut Tables, numbering: &mut Numbering) -> Self {
        let t = std::mem::take(&mut tables.teams);
        let gates = std::mem::take(&mut tables.gates);
        let results = std::mem::take(&mut tables.gate_results);
        let a = std::mem::take(&mut tables.actions);
        let o = std::mem::take(&mut tables.overrides);
        let e = std::mem::take(&mut tables.entries);
        let r = &tables.releases;
        let mut teams = ReleaseTeams::default();
        teams.add(numbering.releases(&t.release).into_iter().zip(t.team));
        Self {
            teams,
            restores: restores(&tables.incidents, numbering),
            gates: first_results(&results, &gates, numbering),
            actions: Actions {
                release: numbering.releases(&a.release),
                created: a.created_at,
                closed: a.closed_at.into_iter().map(|c| c.unwrap_or(NONE)).collect(),
                due: a
                    .due_date
                    .into_iter()
                    .map(|d| d.map_or(NONE, i64::from))
                    .collect(),
            },
            overrides: Stamps {
                time: o.at,
                release: numbering.releases(&o.release),
            },
            stages: Stages {
                release: numbering.releases(&r.id),
                kind: r.kind.iter().map(|k| k.code() as u8).collect(),
                created: r.created_at.clone(),
                planned_end: r.planned_end.iter().map(|p| p.unwrap_or(NONE)).collect(),
            },
            moves: Moves {
                release: numbering.releases(&e.release),
                status: e.status.iter().map(|s| s.code() as u8).collect(),
                time: e.at,
            },
        }
    }

    /// Replaces what belongs to `releases` and the `incidents` by `fresh`, derived from
    /// exactly their current rows.
    pub fn splice(&mut self, releases: &[u32], incidents: &[i64], fresh: &Shared) {
        let gone = Gone::new(releases.iter().copied());
        let t = &mut self.teams;
        let keys = t.release.clone();
        keep(&mut t.team, &keys, &gone);
        keep(&mut t.release, &keys, &gone);
        let f = &fresh.teams;
        t.add(
            f.release
                .iter()
                .zip(&f.team)
                .filter_map(|(release, team)| Some((*release, f.names.key(*team)?.clone()))),
        );
        unordered!(
            self.gates,
            fresh.gates,
            &gone,
            release,
            [time, passed, release]
        );
        unordered!(
            self.actions,
            fresh.actions,
            &gone,
            release,
            [created, closed, due, release]
        );
        unordered!(
            self.overrides,
            fresh.overrides,
            &gone,
            release,
            [time, release]
        );
        unordered!(
            self.stages,
            fresh.stages,
            &gone,
            release,
            [kind, created, planned_end, release]
        );
        unordered!(
            self.moves,
            fresh.moves,
            &gone,
            release,
            [status, time, release]
        );
        let gone = Gone::new(incidents.iter().chain(&fresh.restores.incident).copied());
        let r = &mut self.restores;
        let keys = r.incident.clone();
        let order = r.hours.splice(&keys, &fresh.restores.hours, &gone);
        keep(&mut r.incident, &keys, &gone);
        keep(&mut r.severity, &keys, &gone);
        r.incident = merged(&order, &r.incident, &fresh.restores.incident);
        r.severity = merged(&order, &r.severity, &fresh.restores.severity);
    }

    /// Bytes these rows hold on the heap.
    pub fn heap_bytes(&self) -> usize {
        heap!(self.teams, [release, team])
            + self.teams.names.heap_bytes(String::capacity)
            + heap!(self.restores, [incident, severity])
            + self.restores.hours.heap_bytes()
            + heap!(self.gates, [time, release, passed])
            + heap!(self.actions, [release, created, closed, due])
            + heap!(self.overrides, [time, release])
            + heap!(self.stages, [release, kind, created, planned_end])
            + heap!(self.moves, [release, status, time])
    }
}

//! The iCalendar text of a calendar feed (RFC 5545; communication.md, *Calendar feeds*),
//! written with the `icalendar` crate, which escapes text values and folds lines at 75
//! octets.

use chrono::{DateTime, Utc};
use entity::enums::ReleaseStatus;
use icalendar::{Calendar, Component, Event, EventLike, EventStatus, Property};

use crate::config::release_link;
use crate::ids::{self, NodeType};
use crate::queries::calendar_feeds::{FeedContent, FeedRelease};

/// The feed's VCALENDAR named `name`, stamped `now`; releases link to the dashboard when
/// `public_url` is set.
pub fn render(name: &str, content: &FeedContent, now: i64, public_url: Option<&str>) -> String {
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", "-//relm//release calendar//EN"))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", "PUBLISH"))
        .append_property(Property::new("X-WR-CALNAME", one_line(name)));
    let stamp = utc(now);
    for release in &content.releases {
        if let Some(event) = release_event(release, stamp, public_url) {
            calendar.push(event);
        }
    }
    for window in &content.freeze_windows {
        let id = ids::encode(NodeType::FreezeWindow, window.id);
        calendar.push(
            Event::new()
                .uid(&format!("freeze-{id}@relm"))
                .timestamp(stamp)
                .summary(&format!("Freeze: {}", one_line(&window.name)))
                .starts(utc(window.starts_at))
                .ends(utc(window.ends_at))
                .add_property("TRANSP", "OPAQUE")
                .done(),
        );
    }
    calendar.done().to_string()
}

fn release_event(
    feed: &FeedRelease,
    stamp: DateTime<Utc>,
    public_url: Option<&str>,
) -> Option<Event> {
    let release = &feed.release;
    let end = release.planned_end?;
    let start = release
        .planned_start
        .filter(|start| *start < end)
        .unwrap_or(end);
    let id = ids::encode(NodeType::Release, release.id);
    let status = match release.status {
        ReleaseStatus::Cancelled => EventStatus::Cancelled,
        ReleaseStatus::Planned => EventStatus::Tentative,
        _ => EventStatus::Confirmed,
    };
    let mut description = format!("Status: {}", release.status.as_str());
    if !feed.blockers.is_empty() {
        description.push_str("\nBlockers:");
        for blocker in &feed.blockers {
            description.push_str("\n- ");
            description.push_str(&one_line(blocker));
        }
    }
    let mut event = Event::new();
    event
        .uid(&format!("release-{id}@relm"))
        .timestamp(stamp)
        .summary(&one_line(&format!(
            "{} {}: {}",
            feed.program_key, release.version, release.name
        )))
        .starts(utc(start))
        .status(status)
        .sequence(u32::try_from(release.revision).unwrap_or_default())
        .description(&description);
    if end > start {
        event.ends(utc(end));
    }
    if let Some(base) = public_url {
        event.url(&release_link(base, &feed.program_key, &id));
    }
    Some(event.done())
}

/// UTC time of Unix microseconds.
fn utc(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

/// Text on one line: a carriage return would end the content line early.
fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

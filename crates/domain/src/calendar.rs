//! Business calendars: when a support team works, in its own time zone, for SLA clocks and
//! "business hours" conditions. Several intervals a day (a lunch break), intervals that cross
//! midnight (a night shift), holidays, and extra working days (Russia's and Poland's transferred
//! working Saturdays), with daylight-saving changes taken from the IANA time-zone database
//! (jiff). Pure arithmetic on instants: callers pass the time.

use crate::time::Timestamp;
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use std::collections::BTreeSet;

/// Minutes from a day's local midnight: `[start, end)`; `end` may exceed 1440 (the interval
/// ends on the next day: `22:00`–`02:00` is `[1320, 1560)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Interval {
    pub start: u16,
    pub end: u16,
}

/// Why a calendar is refused: the field at fault and what it should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarError {
    pub field: String,
    pub message: String,
}

fn error(field: impl Into<String>, message: impl Into<String>) -> CalendarError {
    CalendarError { field: field.into(), message: message.into() }
}

/// Weekdays as the API names them, Monday first.
pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Most intervals one day may have.
pub const MAX_INTERVALS_A_DAY: usize = 8;
/// Most holidays and extra working days a calendar lists (each).
pub const MAX_DATES: usize = 2000;
/// How far `add_business` looks ahead for open time before it gives up (days): a calendar
/// closed for longer than this has no deadline to offer.
pub const HORIZON_DAYS: i64 = 3 * 366;

/// `HH:MM` as minutes from midnight, `24:00` allowed (for an end).
pub fn parse_time(raw: &str) -> Option<u16> {
    let (h, m) = raw.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

/// An interval from `HH:MM` to `HH:MM`; an end before the start crosses midnight.
pub fn interval(start: &str, end: &str) -> Option<Interval> {
    let (s, e) = (parse_time(start)?, parse_time(end)?);
    if s >= 1440 || s == e {
        return None;
    }
    Some(if e > s { Interval { start: s, end: e } } else { Interval { start: s, end: e + 1440 } })
}

/// Reads the API's weekly hours, `{"mon": [["09:00", "18:00"], ...], ...}`: a day left out is
/// closed; an end before its start crosses midnight. Errors name the field (`hours.mon[1]`).
pub fn weekly_from_json(hours: &serde_json::Value) -> Result<[Vec<Interval>; 7], CalendarError> {
    let Some(days) = hours.as_object() else { return Err(error("hours", "an object of weekdays: {\"mon\": [[\"09:00\", \"18:00\"]]}")) };
    let mut weekly: [Vec<Interval>; 7] = Default::default();
    for (day, list) in days {
        let Some(i) = DAYS.iter().position(|d| d == day) else {
            return Err(error(format!("hours.{day}"), "not a weekday: mon, tue, wed, thu, fri, sat, sun"));
        };
        let Some(list) = list.as_array() else { return Err(error(format!("hours.{day}"), "a list of [\"HH:MM\", \"HH:MM\"]")) };
        if list.len() > MAX_INTERVALS_A_DAY {
            return Err(error(format!("hours.{day}"), format!("at most {MAX_INTERVALS_A_DAY} intervals a day")));
        }
        for (j, pair) in list.iter().enumerate() {
            let parsed = pair.as_array().filter(|p| p.len() == 2).and_then(|p| interval(p[0].as_str()?, p[1].as_str()?));
            let Some(parsed) = parsed else {
                return Err(error(format!("hours.{day}[{j}]"), "[\"HH:MM\", \"HH:MM\"], start and end different"));
            };
            weekly[i].push(parsed);
        }
    }
    Ok(weekly)
}

/// The weekly hours as the API shows them.
pub fn weekly_to_json(weekly: &[Vec<Interval>; 7]) -> serde_json::Value {
    let hm = |m: u16| format!("{:02}:{:02}", (m / 60) % 24, m % 60);
    let mut out = serde_json::Map::new();
    for (i, day) in weekly.iter().enumerate() {
        if !day.is_empty() {
            out.insert(
                DAYS[i].into(),
                day.iter().map(|iv| serde_json::json!([hm(iv.start), if iv.end == 1440 { "24:00".into() } else { hm(iv.end) }])).collect(),
            );
        }
    }
    serde_json::Value::Object(out)
}

/// A team's working time.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    zone: TimeZone,
    /// Monday first.
    weekly: [Vec<Interval>; 7],
    holidays: BTreeSet<Date>,
    /// Worked although their weekday is not (or is short): with the hours of the first weekday
    /// that has any, Monday first.
    working_days: BTreeSet<Date>,
}

impl Calendar {
    /// A calendar in the IANA time zone `zone` (`Europe/Warsaw`). Intervals of a day must not
    /// overlap; dates are `YYYY-MM-DD`. A date both a holiday and a working day is refused.
    pub fn new(zone: &str, weekly: [Vec<Interval>; 7], holidays: &[&str], working_days: &[&str]) -> Result<Self, CalendarError> {
        let zone = TimeZone::get(zone).map_err(|_| error("time_zone", "an IANA time zone such as Europe/Warsaw"))?;
        let mut weekly = weekly;
        for (i, day) in weekly.iter_mut().enumerate() {
            if day.len() > MAX_INTERVALS_A_DAY {
                return Err(error(format!("hours.{}", DAYS[i]), format!("at most {MAX_INTERVALS_A_DAY} intervals a day")));
            }
            day.sort();
            if day.windows(2).any(|w| w[0].end > w[1].start) {
                return Err(error(format!("hours.{}", DAYS[i]), "intervals overlap"));
            }
        }
        // A Sunday night shift running into Monday must not overlap Monday's first interval.
        for i in 0..7 {
            let spill = weekly[i].last().map_or(0, |last| last.end.saturating_sub(1440));
            if spill > weekly[(i + 1) % 7].first().map_or(u16::MAX, |first| first.start) {
                return Err(error(format!("hours.{}", DAYS[i]), "an interval crossing midnight overlaps the next day's"));
            }
        }
        let dates = |list: &[&str], field: &str| -> Result<BTreeSet<Date>, CalendarError> {
            if list.len() > MAX_DATES {
                return Err(error(field, format!("at most {MAX_DATES} dates")));
            }
            list.iter()
                .enumerate()
                .map(|(i, raw)| raw.parse::<Date>().map_err(|_| error(format!("{field}[{i}]"), "a date YYYY-MM-DD")))
                .collect()
        };
        let holidays = dates(holidays, "holidays")?;
        let working_days = dates(working_days, "working_days")?;
        if let Some(both) = holidays.intersection(&working_days).next() {
            return Err(error("working_days", format!("{both} is also a holiday")));
        }
        Ok(Self { zone, weekly, holidays, working_days })
    }

    /// Every day of the week 00:00–24:00 in `zone` (an SLA "around the clock").
    pub fn always(zone: &str) -> Result<Self, CalendarError> {
        Self::new(zone, std::array::from_fn(|_| vec![Interval { start: 0, end: 1440 }]), &[], &[])
    }

    fn weekday_index(day: Weekday) -> usize {
        day.to_monday_zero_offset() as usize
    }

    /// The intervals that start on local date `date`.
    fn intervals_of(&self, date: Date) -> &[Interval] {
        if self.holidays.contains(&date) {
            return &[];
        }
        let own = &self.weekly[Self::weekday_index(date.weekday())];
        if self.working_days.contains(&date) && own.is_empty() {
            return self.weekly.iter().find(|d| !d.is_empty()).map_or(&[], Vec::as_slice);
        }
        own
    }

    /// The instant of `minutes` after local midnight of `date` (past 1440: on the next day).
    /// A local time that does not exist (skipped by a DST change) is read as the time after
    /// the gap; an ambiguous one (repeated) as its first occurrence.
    fn instant(&self, date: Date, minutes: u16) -> Option<Timestamp> {
        let (date, minutes) = if minutes >= 1440 { (date.tomorrow().ok()?, minutes - 1440) } else { (date, minutes) };
        let time = Time::new((minutes / 60) as i8, (minutes % 60) as i8, 0, 0).ok()?;
        let zoned = date.to_datetime(time).to_zoned_datetime(self.zone.clone()).ok()?;
        Some(Timestamp(zoned.timestamp().as_millisecond()))
    }

    fn local_date(&self, at: Timestamp) -> Option<Date> {
        let ts = jiff::Timestamp::from_millisecond(at.millis()).ok()?;
        Some(ts.to_zoned_datetime(self.zone.clone()).date())
    }

    /// Open periods as instants, in order, from those starting on the day before `from`'s local
    /// date (which may run into it) for `days` days.
    fn periods(&self, from: Timestamp, days: i64) -> impl Iterator<Item = (Timestamp, Timestamp)> + '_ {
        let first = self.local_date(from).and_then(|d| d.yesterday().ok());
        (0..days).filter_map(move |i| first?.checked_add(jiff::Span::new().days(i)).ok()).flat_map(move |date| {
            self.intervals_of(date)
                .iter()
                .filter_map(move |iv| Some((self.instant(date, iv.start)?, self.instant(date, iv.end)?)))
                .filter(|(s, e)| s < e)
        })
    }

    /// Whether the team works at `at`.
    pub fn is_open(&self, at: Timestamp) -> bool {
        self.periods(at, 3).any(|(s, e)| s <= at && at < e)
    }

    /// The instant `business_ms` of working time after `start` (a deadline): `start` itself when
    /// 0 and open, else the next opening. `None` when the calendar has no working time within
    /// `HORIZON_DAYS` (every day closed) or `business_ms` is negative.
    pub fn add_business(&self, start: Timestamp, business_ms: i64) -> Option<Timestamp> {
        if business_ms < 0 {
            return None;
        }
        let mut left = business_ms;
        for (s, e) in self.periods(start, HORIZON_DAYS + 2) {
            if e <= start {
                continue;
            }
            let from = s.max(start);
            let open = e.since(from);
            if left <= open {
                return Some(from.plus_millis(left));
            }
            left -= open;
        }
        None
    }

    /// Working time between `a` and `b` (ms); 0 when `b` is not after `a`.
    pub fn business_between(&self, a: Timestamp, b: Timestamp) -> i64 {
        if b <= a {
            return 0;
        }
        let days = (b.since(a) / crate::time::DAY_MS) + 3;
        self.periods(a, days).take_while(|(s, _)| *s < b).map(|(s, e)| e.min(b).since(s.max(a)).max(0)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::HOUR_MS;

    fn at(zone: &str, local: &str) -> Timestamp {
        let dt: jiff::civil::DateTime = local.parse().expect("local time");
        Timestamp(dt.to_zoned_datetime(TimeZone::get(zone).expect("zone")).expect("zoned").timestamp().as_millisecond())
    }

    fn office(zone: &str, holidays: &[&str], working: &[&str]) -> Calendar {
        let day = || vec![interval("09:00", "13:00").expect("am"), interval("14:00", "18:00").expect("pm")];
        Calendar::new(zone, [day(), day(), day(), day(), day(), vec![], vec![]], holidays, working).expect("calendar")
    }

    #[test]
    fn a_deadline_skips_lunch_nights_weekends_and_holidays() {
        let c = office("Europe/Warsaw", &["2026-12-24"], &[]);
        // Wednesday 2026-12-23 12:00 + 3 working hours: 1 h before lunch, 2 h after.
        assert_eq!(c.add_business(at("Europe/Warsaw", "2026-12-23T12:00"), 3 * HOUR_MS), Some(at("Europe/Warsaw", "2026-12-23T16:00")));
        // Wednesday 17:00 + 2 h: 1 h on Wednesday, Thursday is a holiday, 1 h on Friday.
        assert_eq!(c.add_business(at("Europe/Warsaw", "2026-12-23T17:00"), 2 * HOUR_MS), Some(at("Europe/Warsaw", "2026-12-25T10:00")));
        // Friday 17:30 + 1 h: 30 min on Friday, then Monday 09:30.
        assert_eq!(c.add_business(at("Europe/Warsaw", "2026-12-25T17:30"), HOUR_MS), Some(at("Europe/Warsaw", "2026-12-28T09:30")));
        // Saturday: closed, and nothing is due before Monday's opening.
        assert!(!c.is_open(at("Europe/Warsaw", "2026-12-26T11:00")));
        assert_eq!(c.add_business(at("Europe/Warsaw", "2026-12-26T11:00"), 0), Some(at("Europe/Warsaw", "2026-12-28T09:00")));
        assert_eq!(c.business_between(at("Europe/Warsaw", "2026-12-23T00:00"), at("Europe/Warsaw", "2026-12-29T00:00")), 24 * HOUR_MS);
    }

    #[test]
    fn a_transferred_working_saturday_is_worked_with_a_weekdays_hours() {
        // Russia, 2025: Saturday 1 November was worked (the holiday of 4 November moved).
        let c = office("Europe/Moscow", &["2025-11-03", "2025-11-04"], &["2025-11-01"]);
        assert!(c.is_open(at("Europe/Moscow", "2025-11-01T10:00")));
        assert_eq!(c.business_between(at("Europe/Moscow", "2025-11-01T00:00"), at("Europe/Moscow", "2025-11-05T00:00")), 8 * HOUR_MS);
        assert!(Calendar::new("Europe/Moscow", Default::default(), &["2025-11-01"], &["2025-11-01"]).is_err(), "holiday and working day");
    }

    #[test]
    fn daylight_saving_changes_shorten_and_lengthen_a_day_in_warsaw_not_in_moscow() {
        let warsaw = Calendar::always("Europe/Warsaw").expect("calendar");
        let moscow = Calendar::always("Europe/Moscow").expect("calendar");
        let day = |c: &Calendar, zone: &str, d: &str, next: &str| {
            c.business_between(at(zone, &format!("{d}T00:00")), at(zone, &format!("{next}T00:00")))
        };
        assert_eq!(day(&warsaw, "Europe/Warsaw", "2026-03-29", "2026-03-30"), 23 * HOUR_MS, "spring forward");
        assert_eq!(day(&warsaw, "Europe/Warsaw", "2026-10-25", "2026-10-26"), 25 * HOUR_MS, "fall back");
        assert_eq!(day(&moscow, "Europe/Moscow", "2026-03-29", "2026-03-30"), 24 * HOUR_MS);
        // An interval over the skipped hour ends when the clock says 03:00: one hour later than
        // 01:00 in elapsed time.
        let night = Calendar::new("Europe/Warsaw", std::array::from_fn(|_| vec![interval("01:00", "03:00").expect("iv")]), &[], &[])
            .expect("calendar");
        assert_eq!(day(&night, "Europe/Warsaw", "2026-03-29", "2026-03-30"), HOUR_MS);
    }

    #[test]
    fn a_night_shift_crosses_midnight() {
        let mut weekly: [Vec<Interval>; 7] = Default::default();
        weekly[4] = vec![interval("22:00", "02:00").expect("night")]; // Friday night
        let c = Calendar::new("Europe/Warsaw", weekly, &[], &[]).expect("calendar");
        assert!(c.is_open(at("Europe/Warsaw", "2026-12-05T01:30")), "Saturday 01:30 is Friday's shift");
        assert_eq!(c.add_business(at("Europe/Warsaw", "2026-12-04T23:00"), 2 * HOUR_MS), Some(at("Europe/Warsaw", "2026-12-05T01:00")));
        let mut overlapping: [Vec<Interval>; 7] = Default::default();
        overlapping[4] = vec![interval("22:00", "02:00").expect("night")];
        overlapping[5] = vec![interval("01:00", "05:00").expect("early")];
        assert_eq!(Calendar::new("Europe/Warsaw", overlapping, &[], &[]).map(|_| ()).err().map(|e| e.field), Some("hours.fri".into()));
    }

    #[test]
    fn bad_input_names_its_field() {
        assert_eq!(parse_time("9:00"), None);
        assert_eq!(parse_time("24:00"), Some(1440));
        assert_eq!(parse_time("24:01"), None);
        assert_eq!(interval("10:00", "10:00"), None);
        assert_eq!(Calendar::new("Mars/Olympus", Default::default(), &[], &[]).err().map(|e| e.field), Some("time_zone".into()));
        assert_eq!(Calendar::new("UTC", Default::default(), &["2026-13-01"], &[]).err().map(|e| e.field), Some("holidays[0]".into()));
        let closed = Calendar::new("UTC", Default::default(), &[], &[]).expect("closed");
        assert_eq!(closed.add_business(Timestamp(0), HOUR_MS), None, "no working time, no deadline");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn any_calendar() -> impl Strategy<Value = Calendar> {
            let day = proptest::collection::vec((0u16..1440, 15u16..600), 0..3).prop_map(|mut ivs| {
                ivs.sort();
                let mut out: Vec<Interval> = Vec::new();
                for (start, len) in ivs {
                    let start = out.last().map_or(start, |l: &Interval| start.max(l.end));
                    let end = (start + len).min(1440);
                    if start < end {
                        out.push(Interval { start, end });
                    }
                }
                out
            });
            (
                proptest::array::uniform7(day),
                prop::sample::select(vec!["Europe/Warsaw", "Europe/Moscow", "UTC"]),
                proptest::collection::btree_set(0i64..60, 0..5),
            )
                .prop_filter_map("a valid calendar", |(weekly, zone, holidays)| {
                    let dates: Vec<String> = holidays
                        .iter()
                        .filter_map(|d| Date::constant(2026, 3, 1).checked_add(jiff::Span::new().days(*d)).ok())
                        .map(|d| d.to_string())
                        .collect();
                    let refs: Vec<&str> = dates.iter().map(String::as_str).collect();
                    Calendar::new(zone, weekly, &refs, &[]).ok()
                })
        }

        proptest! {
            /// Adding working time and measuring it back agree; deadlines never move backwards;
            /// a deadline after work falls in working time or at its end.
            #[test]
            fn adding_and_measuring_working_time_agree(
                c in any_calendar(),
                start_minutes in 0i64..(70 * 24 * 60),
                a in 0i64..(20 * HOUR_MS),
                b in 0i64..(20 * HOUR_MS),
            ) {
                // From 2026-02-25 (across the March DST change in Warsaw).
                let start = Timestamp(1_771_977_600_000 + start_minutes * 60_000);
                let (small, large) = (a.min(b), a.max(b));
                match (c.add_business(start, small), c.add_business(start, large)) {
                    (Some(d1), Some(d2)) => {
                        prop_assert!(d1 >= start && d2 >= d1);
                        prop_assert_eq!(c.business_between(start, d1), small);
                        prop_assert_eq!(c.business_between(start, d2), large);
                        prop_assert_eq!(c.business_between(d1, d2), large - small);
                        if small > 0 {
                            prop_assert!(c.is_open(d1.plus_millis(-1)), "the last moment counted is a working one");
                        }
                    }
                    (None, Some(_)) => prop_assert!(false, "a shorter deadline must exist when a longer does"),
                    _ => {}
                }
            }
        }
    }
}

//! Sigma correlation rules over the records their rules matched: `event_count`, `value_count`,
//! `value_sum`, `value_avg`, `value_percentile`, `value_median`, `temporal` and
//! `temporal_ordered`, per group and within a timespan (docs/sigma.md).
//!
//! Each group's records are taken in time order; a window opens at each record and reaches
//! `timespan` after it. Where the window satisfies the condition, it is one correlated hit naming
//! every record in it, and the next window opens after its last record (so the same records are
//! not reported twice).

/// One record a correlated rule matched.
#[derive(Debug, Clone)]
pub struct Event {
    /// Its time, in milliseconds since the epoch.
    pub millis: i64,
    /// Which of the correlation's rules matched it (its position in the rule list).
    pub rule: usize,
    /// Its values of the group-by fields (empty text where the record has none).
    pub group: Vec<String>,
    /// Its value of the correlation's field (`value_count`, `value_sum`, …).
    pub value: Option<String>,
    /// Where the record is (an index into the caller's records).
    pub record: usize,
}

/// What the correlation measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Records in the window.
    Count,
    /// Distinct values of the field in the window.
    DistinctValues,
    /// The sum of the field's numeric values in the window.
    Sum,
    /// Their mean.
    Average,
    /// Their percentile (0–100), interpolated between the closest ranks; the median is the 50th.
    Percentile(u64),
    /// Distinct rules that matched in the window.
    Rules,
    /// All rules, in the order listed.
    RulesInOrder,
}

/// A comparison of the measure with a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// <
    Lt,
    /// <=
    Lte,
    /// >
    Gt,
    /// >=
    Gte,
    /// ==
    Eq,
    /// !=
    Neq,
}

impl Compare {
    fn holds(self, measured: f64, wanted: u64) -> bool {
        let wanted = wanted as f64;
        match self {
            Compare::Lt => measured < wanted,
            Compare::Lte => measured <= wanted,
            Compare::Gt => measured > wanted,
            Compare::Gte => measured >= wanted,
            Compare::Eq => measured == wanted,
            Compare::Neq => measured != wanted,
        }
    }
}

/// One correlated hit: the group and the records of its window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correlated {
    /// The group's values.
    pub group: Vec<String>,
    /// The window's records (indices into the events given), in time order.
    pub events: Vec<usize>,
}

/// How a correlation's windows are cut (Sigma's `window`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Windows {
    /// A window opens at each record and reaches `timespan` after it; after a hit, the next opens
    /// after the hit's last record.
    Sliding,
    /// Fixed windows of `timespan`, aligned to the epoch (00:00:00 UTC for a day, the hour for
    /// an hour).
    Tumbling,
    /// A window runs while each record follows the one before it within the gap (milliseconds),
    /// and for at most `timespan` from its first record; a longer silence closes it.
    Session(i64),
}

/// The windows of `events` that satisfy every one of `predicates` (`rules`: how many rules the
/// correlation names, for the temporal measures), sliding.
pub fn evaluate(
    events: &[Event],
    measure: Measure,
    span_millis: i64,
    predicates: &[(Compare, u64)],
    rules: usize,
) -> Vec<Correlated> {
    evaluate_windows(events, Windows::Sliding, span_millis, &|window| {
        satisfied(events, window, measure, predicates, rules)
    })
}

/// The records of `window` that make it a hit: all of them when its measure satisfies every one
/// of `predicates` (for `temporal_ordered`, when the rules follow in order).
pub fn satisfied(
    events: &[Event],
    window: &[usize],
    measure: Measure,
    predicates: &[(Compare, u64)],
    rules: usize,
) -> Option<Vec<usize>> {
    match measure {
        Measure::RulesInOrder => in_order(events, window, rules),
        _ => measured(events, window, measure)
            .filter(|measured| predicates.iter().all(|(op, n)| op.holds(*measured, *n)))
            .map(|_| window.to_vec()),
    }
}

/// The windows of each group of `events`, cut as `windows` says, for which `hit` gives records.
pub fn evaluate_windows(
    events: &[Event],
    windows: Windows,
    span_millis: i64,
    hit: &dyn Fn(&[usize]) -> Option<Vec<usize>>,
) -> Vec<Correlated> {
    let mut groups: std::collections::BTreeMap<&[String], Vec<usize>> =
        std::collections::BTreeMap::new();
    for (i, event) in events.iter().enumerate() {
        groups.entry(&event.group).or_default().push(i);
    }
    let span = span_millis.max(1);
    let mut found = Vec::new();
    for (group, mut members) in groups {
        members.sort_by_key(|&i| (events[i].millis, events[i].record));
        let mut push = |records: Vec<usize>| {
            found.push(Correlated {
                group: group.to_vec(),
                events: records,
            });
        };
        match windows {
            Windows::Sliding => {
                let mut start = 0;
                while start < members.len() {
                    let opened = events[members[start]].millis;
                    let end = members[start..]
                        .iter()
                        .position(|&i| events[i].millis > opened.saturating_add(span_millis))
                        .map_or(members.len(), |p| start + p);
                    match hit(&members[start..end]) {
                        Some(records) => {
                            push(records);
                            start = end;
                        }
                        None => start += 1,
                    }
                }
            }
            Windows::Tumbling | Windows::Session(_) => {
                let mut start = 0;
                while start < members.len() {
                    let bucket = events[members[start]].millis.div_euclid(span);
                    let mut end = start + 1;
                    while end < members.len() {
                        let (previous, next) =
                            (events[members[end - 1]].millis, events[members[end]].millis);
                        let opened = events[members[start]].millis;
                        let same = match windows {
                            Windows::Session(gap) => {
                                next.saturating_sub(previous) <= gap
                                    && next.saturating_sub(opened) <= span_millis
                            }
                            _ => next.div_euclid(span) == bucket,
                        };
                        if !same {
                            break;
                        }
                        end += 1;
                    }
                    if let Some(records) = hit(&members[start..end]) {
                        push(records);
                    }
                    start = end;
                }
            }
        }
    }
    found
}

/// The window's measure; `None` for a numeric measure when no record of the window has a number
/// in the field (values that are not numbers are left out of sums, means and percentiles).
fn measured(events: &[Event], window: &[usize], measure: Measure) -> Option<f64> {
    let numbers = || -> Vec<f64> {
        window
            .iter()
            .filter_map(|&i| events[i].value.as_deref())
            .filter_map(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite())
            .collect()
    };
    match measure {
        Measure::Count => Some(window.len() as f64),
        Measure::DistinctValues => Some(
            window
                .iter()
                .filter_map(|&i| events[i].value.as_deref())
                .collect::<std::collections::BTreeSet<_>>()
                .len() as f64,
        ),
        Measure::Rules | Measure::RulesInOrder => Some(
            window
                .iter()
                .map(|&i| events[i].rule)
                .collect::<std::collections::BTreeSet<_>>()
                .len() as f64,
        ),
        Measure::Sum => {
            let values = numbers();
            (!values.is_empty()).then(|| values.iter().sum())
        }
        Measure::Average => {
            let values = numbers();
            (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
        }
        Measure::Percentile(rank) => percentile(numbers(), rank),
    }
}

/// The `rank`th percentile (0–100) of `values`, interpolated linearly between the two closest
/// ranks (as PostgreSQL's `percentile_cont`): the median of 1, 2, 3, 4 is 2.5.
fn percentile(mut values: Vec<f64>, rank: u64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let position = (rank.min(100) as f64 / 100.0) * (values.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let fraction = position - below as f64;
    Some(values[below] + (values[above] - values[below]) * fraction)
}

/// The window's records when its first record is of the first rule and the others follow in the
/// order the rules are listed; `None` otherwise.
fn in_order(events: &[Event], window: &[usize], rules: usize) -> Option<Vec<usize>> {
    let first = *window.first()?;
    if events[first].rule != 0 {
        return None;
    }
    let mut next = 1;
    for &i in &window[1..] {
        if next < rules && events[i].rule == next {
            next += 1;
        }
    }
    (next == rules).then(|| window.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(minute: i64, rule: usize, group: &str, value: &str) -> Event {
        Event {
            millis: minute * 60_000,
            rule,
            group: vec![group.into()],
            value: Some(value.into()),
            record: minute as usize,
        }
    }

    #[test]
    fn event_count_fires_per_group_within_the_span_and_not_across_it() {
        let events = vec![
            event(0, 0, "185.220.101.47", "a"),
            event(2, 0, "185.220.101.47", "b"),
            event(4, 0, "185.220.101.47", "c"),
            // The office: three failures, but an hour apart.
            event(0, 0, "203.0.113.10", "x"),
            event(60, 0, "203.0.113.10", "y"),
            event(120, 0, "203.0.113.10", "z"),
        ];
        let hits = evaluate(
            &events,
            Measure::Count,
            10 * 60_000,
            &[(Compare::Gte, 3)],
            1,
        );
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].group, vec!["185.220.101.47"]);
        assert_eq!(hits[0].events, vec![0, 1, 2]);
        assert!(
            evaluate(
                &events,
                Measure::Count,
                10 * 60_000,
                &[(Compare::Gte, 4)],
                1
            )
            .is_empty()
        );
    }

    #[test]
    fn value_count_counts_distinct_values() {
        let events = vec![
            event(0, 0, "ip", "alice"),
            event(1, 0, "ip", "alice"),
            event(2, 0, "ip", "bob"),
        ];
        let two = evaluate(
            &events,
            Measure::DistinctValues,
            600_000,
            &[(Compare::Gte, 2)],
            1,
        );
        assert_eq!(two.len(), 1);
        assert!(
            evaluate(
                &events,
                Measure::DistinctValues,
                600_000,
                &[(Compare::Gte, 3)],
                1
            )
            .is_empty()
        );
    }

    #[test]
    fn sums_means_and_percentiles_of_the_fields_numbers() {
        // One identity's responses in bytes within ten minutes; a text value is left out.
        let events = vec![
            event(0, 0, "alice", "1000"),
            event(1, 0, "alice", "3000"),
            event(2, 0, "alice", "n/a"),
            event(3, 0, "alice", "4000"),
            event(4, 0, "alice", "2000"),
        ];
        let span = 10 * 60_000;
        let fires = |measure, op, n| !evaluate(&events, measure, span, &[(op, n)], 1).is_empty();
        assert!(fires(Measure::Sum, Compare::Gte, 10_000));
        assert!(!fires(Measure::Sum, Compare::Gt, 10_000));
        // Windows open at each record: the whole run's mean is 2500, the later windows' 3000.
        assert!(fires(Measure::Average, Compare::Eq, 2_500));
        assert!(fires(Measure::Average, Compare::Gte, 3_000));
        assert!(!fires(Measure::Average, Compare::Gt, 3_000));
        // The median of 1000, 2000, 3000, 4000 is 2500 and their 90th percentile 3700; the
        // highest 90th percentile of any window is 3800 (2000, 3000, 4000).
        assert!(fires(Measure::Percentile(50), Compare::Eq, 2_500));
        assert!(fires(Measure::Percentile(90), Compare::Eq, 3_700));
        assert!(fires(Measure::Percentile(90), Compare::Gte, 3_800));
        assert!(!fires(Measure::Percentile(90), Compare::Gt, 3_800));
        assert_eq!(percentile(vec![5.0], 90), Some(5.0));
        assert_eq!(percentile(vec![1.0, 2.0, 3.0, 4.0], 50), Some(2.5));
        assert_eq!(percentile(vec![4.0, 1.0, 3.0, 2.0], 100), Some(4.0));
        // A window without a number satisfies no numeric condition, not even `lt`.
        let words = vec![event(0, 0, "bob", "none"), event(1, 0, "bob", "")];
        assert!(evaluate(&words, Measure::Sum, span, &[(Compare::Lt, 1)], 1).is_empty());
    }

    #[test]
    fn tumbling_windows_are_fixed_and_session_windows_close_on_a_silence() {
        // Failures at 00:50, 00:55, 01:05, 01:10: two in each clock hour, four within twenty
        // minutes; then two more after a silence of three hours.
        let events: Vec<Event> = [50, 55, 65, 70, 250, 255]
            .iter()
            .map(|&m| event(m, 0, "ip", ""))
            .collect();
        let hour = 60 * 60_000;
        let count_within = |windows, span, n| {
            evaluate_windows(&events, windows, span, &|w| {
                satisfied(&events, w, Measure::Count, &[(Compare::Gte, n)], 1)
            })
        };
        let count = |windows, n| count_within(windows, hour, n);
        // Sliding: the four are within an hour.
        assert_eq!(
            evaluate(&events, Measure::Count, hour, &[(Compare::Gte, 4)], 1).len(),
            1
        );
        // Tumbling: no clock hour holds more than two.
        assert!(count(Windows::Tumbling, 3).is_empty());
        assert_eq!(count(Windows::Tumbling, 2).len(), 3);
        // Session (a silence of more than an hour closes it): the four, then the two.
        let day = 24 * hour;
        let sessions = count_within(Windows::Session(hour), day, 2);
        assert_eq!(sessions.len(), 2);
        assert_eq!(sessions[0].events, vec![0, 1, 2, 3]);
        assert_eq!(sessions[1].events, vec![4, 5]);
        assert_eq!(count_within(Windows::Session(hour), day, 3).len(), 1);
        // A session lasts at most its timespan: fifteen minutes holds 00:50 to 01:05.
        let capped = count_within(Windows::Session(hour), 15 * 60_000, 1);
        let cut: Vec<Vec<usize>> = capped.into_iter().map(|c| c.events).collect();
        assert_eq!(cut, vec![vec![0, 1, 2], vec![3], vec![4, 5]]);
    }

    #[test]
    fn temporal_needs_every_rule_and_ordered_needs_their_order() {
        // A read, then an export, five minutes apart in one session.
        let read_then_export = vec![event(0, 0, "s1", ""), event(5, 1, "s1", "")];
        let export_then_read = vec![event(0, 1, "s2", ""), event(5, 0, "s2", "")];
        let only_read = vec![event(0, 0, "s3", "")];
        let span = 10 * 60_000;
        let all = |events: &[Event], m| evaluate(events, m, span, &[(Compare::Gte, 2)], 2);
        assert_eq!(all(&read_then_export, Measure::Rules).len(), 1);
        assert_eq!(all(&export_then_read, Measure::Rules).len(), 1);
        assert!(all(&only_read, Measure::Rules).is_empty());
        assert_eq!(all(&read_then_export, Measure::RulesInOrder).len(), 1);
        assert!(all(&export_then_read, Measure::RulesInOrder).is_empty());
        // Too far apart.
        let late = vec![event(0, 0, "s4", ""), event(30, 1, "s4", "")];
        assert!(all(&late, Measure::Rules).is_empty());
    }
}

//! Sigma correlation rules over the records their rules matched: `event_count`, `value_count`,
//! `temporal` and `temporal_ordered`, per group and within a timespan (docs/sigma.md).
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
    /// Its value of the counted field (`value_count`).
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
    fn holds(self, measured: u64, wanted: u64) -> bool {
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

/// The windows of `events` that satisfy every one of `predicates` (`rules`: how many rules the
/// correlation names, for the temporal measures).
pub fn evaluate(
    events: &[Event],
    measure: Measure,
    span_millis: i64,
    predicates: &[(Compare, u64)],
    rules: usize,
) -> Vec<Correlated> {
    let mut groups: std::collections::BTreeMap<&[String], Vec<usize>> =
        std::collections::BTreeMap::new();
    for (i, event) in events.iter().enumerate() {
        groups.entry(&event.group).or_default().push(i);
    }
    let mut found = Vec::new();
    for (group, mut members) in groups {
        members.sort_by_key(|&i| (events[i].millis, events[i].record));
        let mut start = 0;
        while start < members.len() {
            let opened = events[members[start]].millis;
            let end = members[start..]
                .iter()
                .position(|&i| events[i].millis > opened.saturating_add(span_millis))
                .map_or(members.len(), |p| start + p);
            let window = &members[start..end];
            let hit = match measure {
                Measure::RulesInOrder => in_order(events, window, rules),
                _ => {
                    let measured = measured(events, window, measure);
                    predicates
                        .iter()
                        .all(|(op, n)| op.holds(measured, *n))
                        .then(|| window.to_vec())
                }
            };
            match hit {
                Some(records) => {
                    found.push(Correlated {
                        group: group.to_vec(),
                        events: records,
                    });
                    start = end;
                }
                None => start += 1,
            }
        }
    }
    found
}

fn measured(events: &[Event], window: &[usize], measure: Measure) -> u64 {
    match measure {
        Measure::Count => window.len() as u64,
        Measure::DistinctValues => window
            .iter()
            .filter_map(|&i| events[i].value.as_deref())
            .collect::<std::collections::BTreeSet<_>>()
            .len() as u64,
        Measure::Rules | Measure::RulesInOrder => window
            .iter()
            .map(|&i| events[i].rule)
            .collect::<std::collections::BTreeSet<_>>()
            .len() as u64,
    }
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

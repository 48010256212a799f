//! Sigma rules on a case (`mcpforensics sigma`, docs/sigma.md): rule files are read and parsed
//! by `rsigma-parser` ([`rules`]), each rule's log source names its tables ([`logsource`]), its
//! detection becomes a SQL predicate ([`compile`]), and every rule of a table runs in one scan of
//! it: each rule is a column of the same query. A rule that cannot be parsed, mapped, compiled or
//! run is reported with the reason and the rest still run; none is run half.

pub mod cidr;
pub mod compile;
pub mod correlate;
pub mod logsource;
pub mod rules;

use std::collections::BTreeMap;

use arrow::array::{Array, BooleanArray, Int64Array, StringArray, TimestampMillisecondArray};
use arrow::datatypes::{DataType, TimeUnit};
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::case::Case;
use crate::query::{QueryEngine, QueryError};
use crate::time::format_utc;
use compile::{TableColumns, ident, literal};
use logsource::LogSourceMap;
use rules::Loaded;

/// Sigma's levels, lowest first.
pub const LEVELS: [&str; 5] = ["informational", "low", "medium", "high", "critical"];

/// What became of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleState {
    /// It ran on every table of its log source.
    Ran,
    /// Its tables hold no record in the case: nothing can be said.
    NoEvidence,
    /// Below `--min-level`: not run.
    BelowMinLevel,
    /// It could not be parsed, mapped, compiled or run (the reason says which).
    Refused,
}

/// One rule and what it found.
#[derive(Debug, Clone, Serialize)]
pub struct RuleSummary {
    /// The file it came from.
    pub path: String,
    /// Its title (the file name when it could not be parsed).
    pub title: String,
    /// Its id.
    pub id: Option<String>,
    /// Its level.
    pub level: Option<String>,
    /// Its status.
    pub status: Option<String>,
    /// Its tags (ATT&CK techniques and tactics among them).
    pub tags: Vec<String>,
    /// What became of it.
    pub state: RuleState,
    /// Why, when it did not run.
    pub reason: Option<String>,
    /// The tables it read.
    pub tables: Vec<String>,
    /// Its hits.
    pub hits: u64,
    /// Its first hit.
    pub first: Option<String>,
    /// Its last hit.
    pub last: Option<String>,
}

/// One record a rule matched.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// The rule's title.
    pub rule: String,
    /// The rule's id.
    pub rule_id: Option<String>,
    /// The rule's level.
    pub level: Option<String>,
    /// The rule's status.
    pub status: Option<String>,
    /// The rule's tags, comma-separated.
    pub tags: String,
    /// The record's time.
    pub time: Option<String>,
    /// The record's table.
    pub table: String,
    /// Who acted, where the table says.
    pub identity: Option<String>,
    /// From where, where the table says.
    pub address: Option<String>,
    /// The source blob of the record.
    pub blob: Option<String>,
    /// Its line in the blob.
    pub line: Option<i64>,
    /// The blob's SHA-256 (from the manifest).
    pub blob_sha256: Option<String>,
    /// For a correlation: every record it correlated (`table blob:line`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub correlated: Vec<String>,
    /// The rule's place among the rules read.
    #[serde(skip)]
    pub rule_index: usize,
}

/// Every rule and every hit.
#[derive(Debug, Clone, Serialize)]
pub struct SigmaReport {
    /// The window the rules ran on.
    pub since: Option<String>,
    /// Its end.
    pub until: Option<String>,
    /// Every rule, in the order read.
    pub rules: Vec<RuleSummary>,
    /// Every hit, by time.
    pub hits: Vec<Hit>,
}

impl SigmaReport {
    /// Rules that could not be run (parsed, mapped, compiled).
    pub fn refused(&self) -> usize {
        self.rules
            .iter()
            .filter(|r| r.state == RuleState::Refused)
            .count()
    }

    /// Rules whose tables hold nothing.
    pub fn without_evidence(&self) -> usize {
        self.rules
            .iter()
            .filter(|r| r.state == RuleState::NoEvidence)
            .count()
    }
}

/// What to run, and where.
#[derive(Debug, Clone, Default)]
pub struct SigmaRequest {
    /// Records from this time on.
    pub since: Option<DateTime<Utc>>,
    /// Records before this time.
    pub until: Option<DateTime<Utc>>,
    /// Rules below this level are not run.
    pub min_level: Option<String>,
    /// How its query session runs (memory).
    pub settings: crate::query::QuerySettings,
}

fn level_rank(level: Option<&str>) -> usize {
    level
        .and_then(|l| LEVELS.iter().position(|x| x.eq_ignore_ascii_case(l)))
        .unwrap_or(0)
}

/// The rules' summaries and hits as the scans fill them.
struct Outcome {
    summaries: Vec<RuleSummary>,
    hits: Vec<Hit>,
    /// Rules one of whose tables held records in the window.
    seen: std::collections::BTreeSet<usize>,
    /// The records of rules that correlations read, by rule.
    matched: BTreeMap<usize, Vec<Matched>>,
}

/// One compiled rule on one table.
struct Compiled {
    rule: usize,
    predicate: String,
    /// The fields correlations read of its records, as SQL text.
    extras: Vec<String>,
    /// Whether a correlation reads its records.
    feeds: bool,
}

/// A record a correlated rule matched, with the fields its correlations read.
struct Matched {
    millis: i64,
    fields: Vec<Option<String>>,
    /// The evidence it stands for (`table blob:line`): one record, or every record a correlated
    /// hit read when a correlation reads another's hits.
    records: Vec<String>,
    identity: Option<String>,
    address: Option<String>,
}

/// How a table is read for its rules.
struct TablePlan<'a> {
    source: &'a logsource::Source,
    rules: Vec<Compiled>,
}

/// Runs `loaded` on the case.
pub async fn run(
    case: &Case,
    loaded: Vec<Loaded>,
    map: &LogSourceMap,
    request: &SigmaRequest,
) -> Result<SigmaReport, QueryError> {
    let engine = QueryEngine::open(case, &request.settings).await?;
    engine.context().register_udf(cidr::udf());
    let hashes = case.blob_hashes().ok();
    // The fields each detection rule's records must carry for the correlations that read it.
    let needs = correlation_needs(&loaded);
    let mut summaries = Vec::new();
    let mut plans: BTreeMap<String, TablePlan<'_>> = BTreeMap::new();
    let mut correlations = Vec::new();
    let mut references: BTreeMap<String, usize> = BTreeMap::new();
    let mut unreadable: BTreeMap<usize, String> = BTreeMap::new();
    // The fields each rule's records carry, in the order they are read.
    let mut rule_fields: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for item in loaded {
        let index = summaries.len();
        match item {
            Loaded::Refused { path, reason } => summaries.push(refused_summary(&path, reason)),
            Loaded::Correlation { path, rule } => {
                // A correlation can be read by another (Sigma's chained correlations): its hits
                // are then that correlation's records, carrying its group-by values.
                for name in rule.id.iter().chain(rule.name.iter()) {
                    references.entry(name.clone()).or_insert(index);
                    for field in needs.get(name).into_iter().flatten() {
                        let fields = rule_fields.entry(index).or_default();
                        if !fields.contains(field) {
                            fields.push(field.clone());
                        }
                    }
                }
                let mut summary = refused_summary(&path, String::new());
                summary.title = rule.title.clone();
                summary.id = rule.id.clone();
                summary.level = rule.level.map(|l| l.as_str().to_string());
                summary.status = rule.status.map(|s| format!("{s:?}").to_ascii_lowercase());
                summary.tags = rule.tags.clone();
                summaries.push(summary);
                correlations.push((index, rule));
            }
            Loaded::Rule { path, rule } => {
                for name in rule.id.iter().chain(rule.name.iter()) {
                    references.entry(name.clone()).or_insert(index);
                }
                let mut fields: Vec<String> = Vec::new();
                for name in rule.id.iter().chain(rule.name.iter()) {
                    for field in needs.get(name).into_iter().flatten() {
                        if !fields.contains(field) {
                            fields.push(field.clone());
                        }
                    }
                }
                rule_fields.insert(index, fields.clone());
                let feeds = rule
                    .id
                    .iter()
                    .chain(rule.name.iter())
                    .any(|name| needs.contains_key(name));
                let (summary, compiled, missing) =
                    plan_rule(&engine, map, request, &path, &rule, &fields);
                if let Some(missing) = missing {
                    unreadable.insert(index, missing);
                }
                for (table, source, predicate, extras) in compiled {
                    plans
                        .entry(table)
                        .or_insert_with(|| TablePlan {
                            source,
                            rules: Vec::new(),
                        })
                        .rules
                        .push(Compiled {
                            rule: index,
                            predicate,
                            extras,
                            feeds,
                        });
                }
                summaries.push(summary);
            }
        }
    }
    let mut outcome = Outcome {
        summaries,
        hits: Vec::new(),
        seen: std::collections::BTreeSet::new(),
        matched: BTreeMap::new(),
    };
    for (table, plan) in &plans {
        scan_table(&engine, table, plan, request, hashes.as_ref(), &mut outcome).await?;
    }
    let (order, looped) = correlation_order(&correlations, &references);
    for position in looped {
        let summary = &mut outcome.summaries[correlations[position].0];
        summary.state = RuleState::Refused;
        summary.reason =
            Some("it reads a correlation that reads it back (a loop of correlations)".into());
    }
    for position in order {
        let (index, rule) = &correlations[position];
        let feeds = rule
            .id
            .iter()
            .chain(rule.name.iter())
            .any(|name| needs.contains_key(name));
        correlate_rule(
            *index,
            rule,
            &references,
            &unreadable,
            &rule_fields,
            feeds,
            &mut outcome,
        );
    }
    let (summaries, mut hits) = listed(outcome, &correlations, &references);
    hits.sort_by(|a, b| {
        a.time
            .cmp(&b.time)
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.blob.cmp(&b.blob))
            .then_with(|| a.line.cmp(&b.line))
    });
    Ok(SigmaReport {
        since: request.since.map(format_utc),
        until: request.until.map(format_utc),
        rules: summaries,
        hits,
    })
}

/// The rules' summaries and the hits to list: a correlated rule's own matches are listed only if
/// a correlation reading it says `generate: true` (Sigma's correlation specification), and its
/// summary says why they are not.
fn listed(
    outcome: Outcome,
    correlations: &[(usize, Box<rsigma_parser::CorrelationRule>)],
    references: &BTreeMap<String, usize>,
) -> (Vec<RuleSummary>, Vec<Hit>) {
    let mut generated = std::collections::BTreeSet::new();
    let mut hidden = std::collections::BTreeSet::new();
    for (_, rule) in correlations {
        for reference in &rule.rules {
            if let Some(&target) = references.get(reference) {
                if rule.generate {
                    generated.insert(target);
                } else {
                    hidden.insert(target);
                }
            }
        }
    }
    let Outcome {
        mut summaries,
        mut hits,
        ..
    } = outcome;
    hits.retain(|hit| !hidden.contains(&hit.rule_index) || generated.contains(&hit.rule_index));
    for &index in hidden.difference(&generated) {
        let summary = &mut summaries[index];
        if summary.state == RuleState::Ran {
            summary.reason = Some(
                "its matches feed correlation rules and are not listed on their own \
                 (generate: false)"
                    .into(),
            );
        }
    }
    (summaries, hits)
}

/// The order correlations are evaluated in (positions in `correlations`): each after every
/// correlation it reads; and those in a loop of correlations reading each other, which cannot be.
fn correlation_order(
    correlations: &[(usize, Box<rsigma_parser::CorrelationRule>)],
    references: &BTreeMap<String, usize>,
) -> (Vec<usize>, Vec<usize>) {
    let indices: std::collections::BTreeSet<usize> =
        correlations.iter().map(|(index, _)| *index).collect();
    let mut done: std::collections::BTreeSet<usize> = std::collections::BTreeSet::new();
    let mut order = Vec::new();
    loop {
        let ready: Vec<usize> = (0..correlations.len())
            .filter(|&p| !order.contains(&p))
            .filter(|&p| {
                correlations[p].1.rules.iter().all(|reference| {
                    references
                        .get(reference)
                        .is_none_or(|target| !indices.contains(target) || done.contains(target))
                })
            })
            .collect();
        if ready.is_empty() {
            break;
        }
        for p in ready {
            done.insert(correlations[p].0);
            order.push(p);
        }
    }
    let looped = (0..correlations.len())
        .filter(|p| !order.contains(p))
        .collect();
    (order, looped)
}

/// Per name a correlation references a rule by: every field the correlations read of its records
/// (their group-by fields through their aliases, then the counted field), each once.
fn correlation_needs(loaded: &[Loaded]) -> BTreeMap<String, Vec<String>> {
    let mut needs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for item in loaded {
        let Loaded::Correlation { rule, .. } = item else {
            continue;
        };
        for reference in &rule.rules {
            let fields = needs.entry(reference.clone()).or_default();
            for field in correlation_fields(rule, reference) {
                if !fields.contains(&field) {
                    fields.push(field);
                }
            }
        }
    }
    needs
}

/// Checks that an extended condition names only rules the correlation lists, by name, without
/// selectors (`1 of rule_*`).
fn rules_named(expression: &rsigma_parser::ConditionExpr, rules: &[String]) -> Result<(), String> {
    use rsigma_parser::ConditionExpr;
    match expression {
        ConditionExpr::And(parts) | ConditionExpr::Or(parts) => {
            parts.iter().try_for_each(|p| rules_named(p, rules))
        }
        ConditionExpr::Not(inner) => rules_named(inner, rules),
        ConditionExpr::Identifier(name) if rules.contains(name) => Ok(()),
        ConditionExpr::Identifier(name) => Err(format!(
            "its condition names `{name}`, which is not among the rules it correlates"
        )),
        ConditionExpr::Selector { .. } => {
            Err("its condition selects rules by pattern (`1 of …`), which is not compiled".into())
        }
    }
}

/// Whether an extended condition holds for a window in which the rules at `present` (positions
/// in `rules`) matched.
fn rules_hold(
    expression: &rsigma_parser::ConditionExpr,
    rules: &[String],
    present: &std::collections::BTreeSet<usize>,
) -> bool {
    use rsigma_parser::ConditionExpr;
    match expression {
        ConditionExpr::And(parts) => parts.iter().all(|p| rules_hold(p, rules, present)),
        ConditionExpr::Or(parts) => parts.iter().any(|p| rules_hold(p, rules, present)),
        ConditionExpr::Not(inner) => !rules_hold(inner, rules, present),
        ConditionExpr::Identifier(name) => rules
            .iter()
            .position(|r| r == name)
            .is_some_and(|p| present.contains(&p)),
        ConditionExpr::Selector { .. } => false,
    }
}

/// The fields a correlation reads of one of its rules' records: the group-by fields (through its
/// aliases), then the counted field of `value_count`.
fn correlation_fields(rule: &rsigma_parser::CorrelationRule, reference: &str) -> Vec<String> {
    let mut fields: Vec<String> = rule
        .group_by
        .iter()
        .map(|field| {
            rule.aliases
                .iter()
                .find(|a| &a.alias == field)
                .and_then(|a| a.mapping.get(reference).cloned())
                .unwrap_or_else(|| field.clone())
        })
        .collect();
    if let rsigma_parser::CorrelationCondition::Threshold {
        field: Some(counted),
        ..
    } = &rule.condition
        && let Some(first) = counted.first()
    {
        fields.push(first.clone());
    }
    fields
}

/// A rule's summary and its compiled predicate per table (with the SQL of the fields
/// correlations read), and the fields its tables lack, if any.
#[allow(
    clippy::type_complexity,
    reason = "the per-table plan is a tuple used once, by run"
)]
fn plan_rule<'m>(
    engine: &QueryEngine,
    map: &'m LogSourceMap,
    request: &SigmaRequest,
    path: &str,
    rule: &rsigma_parser::SigmaRule,
    fields: &[String],
) -> (
    RuleSummary,
    Vec<(String, &'m logsource::Source, String, Vec<String>)>,
    Option<String>,
) {
    let mut summary = RuleSummary {
        path: path.to_string(),
        title: rule.title.clone(),
        id: rule.id.clone(),
        level: rule.level.map(|l| l.as_str().to_string()),
        status: rule.status.map(|s| format!("{s:?}").to_ascii_lowercase()),
        tags: rule.tags.clone(),
        state: RuleState::Ran,
        reason: None,
        tables: Vec::new(),
        hits: 0,
        first: None,
        last: None,
    };
    if request.min_level.is_some()
        && level_rank(summary.level.as_deref()) < level_rank(request.min_level.as_deref())
    {
        summary.state = RuleState::BelowMinLevel;
        return (summary, Vec::new(), None);
    }
    let Some(source) = map.resolve(&rule.logsource) else {
        summary.state = RuleState::Refused;
        summary.reason = Some(format!(
            "its log source ({}) is not in the log-source map (docs/sigma.md lists what is)",
            describe(&rule.logsource)
        ));
        return (summary, Vec::new(), None);
    };
    let mut compiled = Vec::new();
    let mut missing = Vec::new();
    let mut unreadable = None;
    summary.tables = source.tables.clone();
    for table in &source.tables {
        let Some(info) = engine
            .tables()
            .iter()
            .find(|t| &t.name == table && t.kind != "empty")
        else {
            missing.push(table.clone());
            continue;
        };
        let columns = TableColumns {
            table,
            columns: info
                .schema
                .fields()
                .iter()
                .map(|f| (f.name().clone(), f.data_type().clone()))
                .collect(),
            renames: &source.fields,
        };
        match compile::rule_predicate(rule, &columns) {
            Ok(predicate) => {
                let mut extras = Vec::new();
                for field in fields {
                    match columns.field_text(field) {
                        Some(sql) => extras.push(sql),
                        None => {
                            unreadable = Some(format!("`{field}` is not a column of {table}"));
                            extras.push("CAST(NULL AS VARCHAR)".into());
                        }
                    }
                }
                compiled.push((table.clone(), source, predicate, extras));
            }
            Err(reason) => {
                summary.state = RuleState::Refused;
                summary.reason = Some(format!("{table}: {reason}"));
                return (summary, Vec::new(), None);
            }
        }
    }
    if compiled.is_empty() {
        summary.state = RuleState::NoEvidence;
        summary.reason = Some(format!(
            "the case holds no {} records",
            missing.join(" or ")
        ));
    }
    (summary, compiled, unreadable)
}

/// Evaluates one correlation rule over the records its rules matched, and adds its hits.
// Long: one arm per correlation type, each its grouping and its condition.
fn correlate_rule(
    index: usize,
    rule: &rsigma_parser::CorrelationRule,
    references: &BTreeMap<String, usize>,
    unreadable: &BTreeMap<usize, String>,
    rule_fields: &BTreeMap<usize, Vec<String>>,
    feeds: bool,
    outcome: &mut Outcome,
) {
    use correlate::{Compare, Measure};
    use rsigma_parser::{ConditionOperator, CorrelationCondition, CorrelationType};
    let refuse = |outcome: &mut Outcome, reason: String| {
        let summary = &mut outcome.summaries[index];
        summary.state = RuleState::Refused;
        summary.reason = Some(reason);
    };
    let measure = match rule.correlation_type {
        CorrelationType::EventCount => Measure::Count,
        CorrelationType::ValueCount => Measure::DistinctValues,
        CorrelationType::ValueSum => Measure::Sum,
        CorrelationType::ValueAvg => Measure::Average,
        CorrelationType::ValueMedian => Measure::Percentile(50),
        CorrelationType::ValuePercentile => match &rule.condition {
            CorrelationCondition::Threshold { percentile, .. } => {
                Measure::Percentile(percentile.unwrap_or(50))
            }
            CorrelationCondition::Extended(_) => Measure::Percentile(50),
        },
        CorrelationType::Temporal => Measure::Rules,
        CorrelationType::TemporalOrdered => Measure::RulesInOrder,
    };
    let needs_field = !matches!(
        measure,
        Measure::Count | Measure::Rules | Measure::RulesInOrder
    );
    let has_field = matches!(
        &rule.condition,
        CorrelationCondition::Threshold { field: Some(fields), .. } if !fields.is_empty()
    );
    if needs_field && !has_field {
        return refuse(
            outcome,
            format!(
                "a `{}` correlation names the field it measures (`condition: field:`)",
                rule.correlation_type.as_str()
            ),
        );
    }
    let windows = match rule.window {
        rsigma_parser::WindowMode::Sliding => correlate::Windows::Sliding,
        rsigma_parser::WindowMode::Tumbling => correlate::Windows::Tumbling,
        // The parser refuses a session window without its gap.
        rsigma_parser::WindowMode::Session => {
            correlate::Windows::Session(rule.gap.as_ref().map_or(i64::MAX, |gap| {
                i64::try_from(gap.seconds.saturating_mul(1000)).unwrap_or(i64::MAX)
            }))
        }
    };
    // An extended condition (`failed and not ok`) of a temporal correlation: which of its rules
    // must and must not have matched in the window.
    let expression = match &rule.condition {
        CorrelationCondition::Extended(expression) => {
            if measure != Measure::Rules {
                return refuse(
                    outcome,
                    format!(
                        "an extended condition applies to `temporal` correlations, not `{}`",
                        rule.correlation_type.as_str()
                    ),
                );
            }
            if let Err(why) = rules_named(expression, &rule.rules) {
                return refuse(outcome, why);
            }
            Some(expression.clone())
        }
        CorrelationCondition::Threshold { .. } => None,
    };
    let predicates: Vec<(Compare, u64)> = match &rule.condition {
        CorrelationCondition::Threshold { predicates, .. } => predicates
            .iter()
            .map(|(op, n)| {
                let op = match op {
                    ConditionOperator::Lt => Compare::Lt,
                    ConditionOperator::Lte => Compare::Lte,
                    ConditionOperator::Gt => Compare::Gt,
                    ConditionOperator::Gte => Compare::Gte,
                    ConditionOperator::Eq => Compare::Eq,
                    ConditionOperator::Neq => Compare::Neq,
                };
                (op, *n)
            })
            .collect(),
        CorrelationCondition::Extended(_) => Vec::new(),
    };
    // Temporal correlations without a condition need every rule (Sigma's correlation
    // specification). The parser fills an absent condition in as `gte: 1`, which for a temporal
    // correlation would be any one rule alone, so that is read as absent too.
    let temporal = matches!(measure, Measure::Rules | Measure::RulesInOrder);
    let predicates =
        if predicates.is_empty() || (temporal && predicates.as_slice() == [(Compare::Gte, 1)]) {
            vec![(Compare::Gte, rule.rules.len() as u64)]
        } else {
            predicates
        };
    let mut events = Vec::new();
    let mut records = Vec::new();
    let mut tables = Vec::new();
    for (position, reference) in rule.rules.iter().enumerate() {
        let Some(&target) = references.get(reference) else {
            return refuse(
                outcome,
                format!("it correlates `{reference}`, which is not among the rules given"),
            );
        };
        if let Some(why) = unreadable.get(&target) {
            return refuse(outcome, format!("its field {why}"));
        }
        let target_summary = &outcome.summaries[target];
        if target_summary.state == RuleState::Refused {
            return refuse(
                outcome,
                format!(
                    "the rule it correlates, {}, did not run",
                    target_summary.title
                ),
            );
        }
        tables.extend(target_summary.tables.iter().cloned());
        // Where each field this correlation reads sits among the fields the rule's records carry.
        let carried = rule_fields.get(&target).map_or(&[][..], Vec::as_slice);
        let positions: Vec<Option<usize>> = correlation_fields(rule, reference)
            .iter()
            .map(|field| carried.iter().position(|c| c == field))
            .collect();
        let group_width = rule.group_by.len().min(positions.len());
        for matched in outcome.matched.get(&target).into_iter().flatten() {
            let field = |position: Option<usize>| {
                position
                    .and_then(|p| matched.fields.get(p).cloned().flatten())
                    .unwrap_or_default()
            };
            events.push(correlate::Event {
                millis: matched.millis,
                rule: position,
                group: positions[..group_width].iter().map(|&p| field(p)).collect(),
                value: positions.get(group_width).map(|&p| field(p)),
                record: records.len(),
            });
            records.push(matched);
        }
    }
    let span = i64::try_from(rule.timespan.seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
    let found = correlate::evaluate_windows(&events, windows, span, &|window| match &expression {
        Some(expression) => {
            let present: std::collections::BTreeSet<usize> =
                window.iter().map(|&i| events[i].rule).collect();
            rules_hold(expression, &rule.rules, &present).then(|| window.to_vec())
        }
        None => correlate::satisfied(&events, window, measure, &predicates, rule.rules.len()),
    });
    let mut hits = Vec::new();
    // Each hit's group and time, for a correlation that reads this one's hits.
    let mut chained: Vec<(Vec<String>, i64)> = Vec::new();
    for correlated in found {
        let first = &records[events[correlated.events[0]].record];
        chained.push((correlated.group.clone(), first.millis));
        let group = rule
            .group_by
            .iter()
            .zip(&correlated.group)
            .map(|(field, value)| format!("{field}={value}"))
            .collect::<Vec<_>>()
            .join(" ");
        hits.push(Hit {
            rule: rule.title.clone(),
            rule_id: rule.id.clone(),
            level: rule.level.map(|l| l.as_str().to_string()),
            status: rule.status.map(|s| format!("{s:?}").to_ascii_lowercase()),
            tags: rule.tags.join(","),
            time: DateTime::from_timestamp_millis(first.millis).map(format_utc),
            table: if group.is_empty() {
                "correlation".into()
            } else {
                format!("correlation {group}")
            },
            identity: shared(
                correlated
                    .events
                    .iter()
                    .map(|&e| &records[events[e].record].identity),
            ),
            address: shared(
                correlated
                    .events
                    .iter()
                    .map(|&e| &records[events[e].record].address),
            ),
            blob: None,
            line: None,
            blob_sha256: None,
            correlated: correlated
                .events
                .iter()
                .flat_map(|&e| records[events[e].record].records.iter().cloned())
                .collect(),
            rule_index: index,
        });
    }
    tables.sort();
    tables.dedup();
    if feeds {
        // Its hits are the records of a correlation that reads it: each carries this
        // correlation's group-by values for the fields that one reads.
        let carried = rule_fields.get(&index).map_or(&[][..], Vec::as_slice);
        let matched = chained
            .iter()
            .zip(&hits)
            .map(|((group, millis), hit)| Matched {
                millis: *millis,
                fields: carried
                    .iter()
                    .map(|field| {
                        rule.group_by
                            .iter()
                            .position(|g| g == field)
                            .and_then(|p| group.get(p).cloned())
                    })
                    .collect(),
                records: hit.correlated.clone(),
                identity: hit.identity.clone(),
                address: hit.address.clone(),
            })
            .collect();
        outcome.matched.insert(index, matched);
    }
    let summary = &mut outcome.summaries[index];
    summary.state = RuleState::Ran;
    summary.reason = None;
    summary.tables = tables;
    summary.hits = hits.len() as u64;
    summary.first = hits.iter().filter_map(|h| h.time.clone()).min();
    summary.last = hits.iter().filter_map(|h| h.time.clone()).max();
    outcome.hits.extend(hits);
}

/// The value every correlated record shares, if they share one.
fn shared<'a>(mut values: impl Iterator<Item = &'a Option<String>>) -> Option<String> {
    let first = values.next()?.clone()?;
    values
        .all(|v| v.as_deref() == Some(first.as_str()))
        .then_some(first)
}

fn refused_summary(path: &str, reason: String) -> RuleSummary {
    RuleSummary {
        path: path.to_string(),
        title: std::path::Path::new(path)
            .file_name()
            .map_or_else(|| path.to_string(), |n| n.to_string_lossy().into_owned()),
        id: None,
        level: None,
        status: None,
        tags: Vec::new(),
        state: RuleState::Refused,
        reason: Some(reason),
        tables: Vec::new(),
        hits: 0,
        first: None,
        last: None,
    }
}

fn describe(logsource: &rsigma_parser::LogSource) -> String {
    let mut parts = Vec::new();
    for (key, value) in [
        ("product", &logsource.product),
        ("service", &logsource.service),
        ("category", &logsource.category),
    ] {
        if let Some(value) = value {
            parts.push(format!("{key}: {value}"));
        }
    }
    let mut custom: Vec<_> = logsource.custom.iter().collect();
    custom.sort();
    parts.extend(custom.into_iter().map(|(k, v)| format!("{k}: {v}")));
    if parts.is_empty() {
        "none given".into()
    } else {
        parts.join(", ")
    }
}

/// The SQL that reads `table` once for `rules`: the columns a hit shows and one boolean column
/// per rule.
fn table_sql(
    table: &str,
    source: &logsource::Source,
    columns: &[(String, DataType)],
    rules: &[&Compiled],
    request: &SigmaRequest,
) -> String {
    let find = |name: &str| {
        columns
            .iter()
            .find(|(c, _)| c == name)
            .or_else(|| columns.iter().find(|(c, _)| c.eq_ignore_ascii_case(name)))
            .map(|(c, _)| ident(c))
    };
    let text = |name: Option<&String>| {
        name.and_then(|n| find(source.fields.get(n).unwrap_or(n)))
            .map_or("CAST(NULL AS VARCHAR)".to_string(), |c| {
                format!("CAST({c} AS VARCHAR)")
            })
    };
    let time = find(source.time_column());
    let mut select = vec![
        time.as_ref()
            .map_or("CAST(NULL AS TIMESTAMP)".to_string(), |t| {
                format!("CAST({t} AS TIMESTAMP)")
            })
            + " AS sigma_time",
        text(source.identity.as_ref()) + " AS sigma_identity",
        text(source.address.as_ref()) + " AS sigma_address",
        find("_blob").map_or("CAST(NULL AS VARCHAR)".into(), |c| {
            format!("CAST({c} AS VARCHAR)")
        }) + " AS sigma_blob",
        find("_line").map_or("CAST(NULL AS BIGINT)".into(), |c| {
            format!("CAST({c} AS BIGINT)")
        }) + " AS sigma_line",
    ];
    for (i, rule) in rules.iter().enumerate() {
        select.push(format!("({}) AS sigma_rule_{i}", rule.predicate));
    }
    // Then the fields correlations read, rule after rule.
    for (i, rule) in rules.iter().enumerate() {
        for (k, extra) in rule.extras.iter().enumerate() {
            select.push(format!("{extra} AS sigma_field_{i}_{k}"));
        }
    }
    let mut filters = vec![format!(
        "({})",
        rules
            .iter()
            .map(|r| format!("({})", r.predicate))
            .collect::<Vec<_>>()
            .join(" OR ")
    )];
    if let Some(time) = &time {
        if let Some(since) = request.since {
            filters.push(format!("{time} >= {}", timestamp(since)));
        }
        if let Some(until) = request.until {
            filters.push(format!("{time} < {}", timestamp(until)));
        }
    }
    format!(
        "SELECT {} FROM {} WHERE {}",
        select.join(", "),
        ident(table),
        filters.join(" AND ")
    )
}

fn timestamp(t: DateTime<Utc>) -> String {
    format!(
        "CAST({} AS TIMESTAMP)",
        literal(&t.format("%Y-%m-%dT%H:%M:%S%.f").to_string())
    )
}

/// Runs every rule of one table in one scan; when that fails, each rule alone, so that one
/// rule's failure (a regular expression too large, a type the data refuses) refuses that rule
/// only.
async fn scan_table(
    engine: &QueryEngine,
    table: &str,
    plan: &TablePlan<'_>,
    request: &SigmaRequest,
    hashes: Option<&crate::case::manifest::BlobHashes>,
    outcome: &mut Outcome,
) -> Result<(), QueryError> {
    let Outcome {
        summaries,
        hits,
        seen,
        matched,
    } = outcome;
    let Some(info) = engine.tables().iter().find(|t| t.name == table) else {
        return Ok(());
    };
    let columns: Vec<(String, DataType)> = info
        .schema
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect();
    let all: Vec<&Compiled> = plan.rules.iter().collect();
    if records_in_window(engine, table, plan.source, &columns, request).await? == 0 {
        for rule in &all {
            let summary = &mut summaries[rule.rule];
            // A rule with another table that holds records keeps its verdict from that one.
            if summary.state == RuleState::Ran && !seen.contains(&rule.rule) {
                summary.state = RuleState::NoEvidence;
                summary.reason = Some(format!("the case holds no {table} records in the window"));
            }
        }
        return Ok(());
    }
    for rule in &all {
        seen.insert(rule.rule);
        let summary = &mut summaries[rule.rule];
        if summary.state == RuleState::NoEvidence {
            summary.state = RuleState::Ran;
            summary.reason = None;
        }
    }
    let sql = table_sql(table, plan.source, &columns, &all, request);
    match engine.sql(&sql).await {
        Ok((_, batches)) => collect(&batches, table, &all, summaries, hits, matched, hashes),
        Err(_) => {
            for rule in &all {
                let one = [*rule];
                let sql = table_sql(table, plan.source, &columns, &one, request);
                match engine.sql(&sql).await {
                    Ok((_, batches)) => {
                        collect(&batches, table, &one, summaries, hits, matched, hashes)
                    }
                    Err(e) => {
                        let summary = &mut summaries[rule.rule];
                        summary.state = RuleState::Refused;
                        summary.reason = Some(format!("{table}: the query failed: {e}"));
                    }
                }
            }
        }
    }
    Ok(())
}

/// How many records of `table` fall in the window.
async fn records_in_window(
    engine: &QueryEngine,
    table: &str,
    source: &logsource::Source,
    columns: &[(String, DataType)],
    request: &SigmaRequest,
) -> Result<i64, QueryError> {
    let time = columns
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(source.time_column()))
        .map(|(c, _)| ident(c));
    let mut filters = vec!["TRUE".to_string()];
    if let Some(time) = &time {
        if let Some(since) = request.since {
            filters.push(format!("{time} >= {}", timestamp(since)));
        }
        if let Some(until) = request.until {
            filters.push(format!("{time} < {}", timestamp(until)));
        }
    }
    let (_, batches) = engine
        .sql(&format!(
            "SELECT count(*) FROM {} WHERE {}",
            ident(table),
            filters.join(" AND ")
        ))
        .await?;
    Ok(batches
        .first()
        .and_then(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .map(|a| a.value(0))
        })
        .unwrap_or(0))
}

fn collect(
    batches: &[RecordBatch],
    table: &str,
    rules: &[&Compiled],
    summaries: &mut [RuleSummary],
    hits: &mut Vec<Hit>,
    records: &mut BTreeMap<usize, Vec<Matched>>,
    hashes: Option<&crate::case::manifest::BlobHashes>,
) {
    for batch in batches {
        // The correlations' fields follow the rules' columns, rule after rule.
        let mut offsets = Vec::with_capacity(rules.len());
        let mut next = 5 + rules.len();
        for rule in rules {
            offsets.push(next);
            next += rule.extras.len();
        }
        let text = |i: usize| {
            arrow::compute::cast(batch.column(i), &DataType::Utf8)
                .ok()
                .and_then(|a| a.as_any().downcast_ref::<StringArray>().cloned())
        };
        let times = arrow::compute::cast(
            batch.column(0),
            &DataType::Timestamp(TimeUnit::Millisecond, None),
        )
        .ok()
        .and_then(|a| {
            a.as_any()
                .downcast_ref::<TimestampMillisecondArray>()
                .cloned()
        });
        let (identities, addresses, blobs) = (text(1), text(2), text(3));
        let lines = arrow::compute::cast(batch.column(4), &DataType::Int64)
            .ok()
            .and_then(|a| a.as_any().downcast_ref::<Int64Array>().cloned());
        let value = |array: &Option<StringArray>, row: usize| {
            array
                .as_ref()
                .filter(|a| !a.is_null(row))
                .map(|a| a.value(row).to_string())
        };
        for (i, rule) in rules.iter().enumerate() {
            let Some(matched) = batch.column(5 + i).as_any().downcast_ref::<BooleanArray>() else {
                continue;
            };
            let extra_columns: Vec<Option<StringArray>> = (0..rule.extras.len())
                .map(|k| text(offsets[i] + k))
                .collect();
            for row in 0..batch.num_rows() {
                if matched.is_null(row) || !matched.value(row) {
                    continue;
                }
                let time = times
                    .as_ref()
                    .filter(|t| !t.is_null(row))
                    .and_then(|t| DateTime::from_timestamp_millis(t.value(row)))
                    .map(format_utc);
                let blob = value(&blobs, row);
                let summary = &mut summaries[rule.rule];
                summary.hits += 1;
                if let Some(time) = &time {
                    if summary.first.as_ref().is_none_or(|f| time < f) {
                        summary.first = Some(time.clone());
                    }
                    if summary.last.as_ref().is_none_or(|l| time > l) {
                        summary.last = Some(time.clone());
                    }
                }
                hits.push(Hit {
                    rule: summary.title.clone(),
                    rule_id: summary.id.clone(),
                    level: summary.level.clone(),
                    status: summary.status.clone(),
                    tags: summary.tags.join(","),
                    time,
                    table: table.to_string(),
                    identity: value(&identities, row),
                    address: value(&addresses, row),
                    blob_sha256: blob.as_deref().and_then(|b| hashes.and_then(|h| h.get(b))),
                    blob,
                    line: lines
                        .as_ref()
                        .filter(|l| !l.is_null(row))
                        .map(|l| l.value(row)),
                    correlated: Vec::new(),
                    rule_index: rule.rule,
                });
                if rule.feeds
                    && let Some(hit) = hits.last()
                {
                    let fields = extra_columns.iter().map(|c| value(c, row)).collect();
                    records.entry(rule.rule).or_default().push(Matched {
                        millis: times
                            .as_ref()
                            .filter(|t| !t.is_null(row))
                            .map_or(0, |t| t.value(row)),
                        fields,
                        records: vec![format!(
                            "{} {}:{}",
                            table,
                            hit.blob.as_deref().unwrap_or("?"),
                            hit.line.unwrap_or(0)
                        )],
                        identity: hit.identity.clone(),
                        address: hit.address.clone(),
                    });
                }
            }
        }
    }
}

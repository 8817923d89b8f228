//! The widget with one address flooding it: twenty visitors, each from an
//! address of its own (127.0.0.10 and up: loopback addresses Linux routes
//! to itself, so the API sees twenty TCP peers), chat at a person's pace (a question three seconds after each answer),
//! first alone, then while one more address sends `init` and `chat` on
//! sixteen connections, `LOAD_FLOOD_RPS` requests a second in all (1,000 by
//! default, 300 times what the edge's rate rule lets one address send; 0
//! for as fast as the connections go). The visitors must never be refused,
//! and their p99 should stay within 1.2x of the run without the flood.

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

type Failure = Box<dyn std::error::Error + Send + Sync>;

pub const ORIGIN: &str = "https://load.example";
const VISITORS: u8 = 20;
const FLOOD_CONNECTIONS: usize = 16;
/// Alone, then flooded: this many times each.
const ROUNDS: u8 = 2;
/// A person reads the answer and types the next question.
const VISITOR_PAUSE: Duration = Duration::from_secs(3);

/// Where the widget is.
#[derive(Clone)]
pub struct Widget {
    pub api: String,
    pub assistant: String,
}

/// What one phase saw.
#[derive(Default)]
struct Seen {
    visitor_chats: Vec<Duration>,
    /// Visitors' answers other than 201, by status.
    visitor_refusals: BTreeMap<u16, usize>,
    /// The flood's answers by route and status.
    flood: BTreeMap<(&'static str, u16), usize>,
}

impl Seen {
    fn add(&mut self, seen: Seen) {
        self.visitor_chats.extend(seen.visitor_chats);
        for (status, n) in seen.visitor_refusals {
            *self.visitor_refusals.entry(status).or_default() += n;
        }
        for (key, n) in seen.flood {
            *self.flood.entry(key).or_default() += n;
        }
    }
}

fn client_from(ip: Ipv4Addr) -> Result<reqwest::Client, Failure> {
    Ok(devtools::http_client_builder()
        .local_address(IpAddr::V4(ip))
        .timeout(Duration::from_secs(30))
        .build()?)
}

impl Widget {
    async fn post(
        &self,
        http: &reqwest::Client,
        route: &str,
        token: Option<&str>,
        body: Value,
    ) -> Result<(StatusCode, Value), Failure> {
        let mut request = http
            .post(format!(
                "{}/api/widget/{}/{route}",
                self.api, self.assistant
            ))
            .header("Origin", ORIGIN)
            .header("Accept", "application/json")
            .json(&body);
        if let Some(token) = token {
            request = request.header("Authorization", format!("Widget {token}"));
        }
        let response = request.send().await?;
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        Ok((status, body))
    }

    /// One visitor from `ip`: a session, then a question a second after
    /// each answer until `deadline`.
    async fn visit(self, ip: Ipv4Addr, deadline: Instant) -> Result<Seen, Failure> {
        let http = client_from(ip)?;
        let mut seen = Seen::default();
        let (status, session) = self.post(&http, "init", None, json!({})).await?;
        if status != StatusCode::CREATED {
            *seen.visitor_refusals.entry(status.as_u16()).or_default() += 1;
            return Ok(seen);
        }
        let token = session["token"].as_str().unwrap_or_default().to_owned();
        // The first answer also warms the connection and the caches: not
        // what a flood changes, so not counted.
        let mut warm = false;
        while Instant::now() < deadline {
            let started = Instant::now();
            let (status, _) = self
                .post(
                    &http,
                    "chat",
                    Some(&token),
                    json!({"content": "How long do refunds take?"}),
                )
                .await?;
            if status == StatusCode::CREATED {
                if warm {
                    seen.visitor_chats.push(started.elapsed());
                }
                warm = true;
            } else {
                *seen.visitor_refusals.entry(status.as_u16()).or_default() += 1;
            }
            tokio::time::sleep(VISITOR_PAUSE).await;
        }
        Ok(seen)
    }

    /// One of the flood's connections: a new session, then a question on
    /// the last token it got, over and over, `pairs_per_second` times a
    /// second (never waiting, for none).
    async fn flood(
        self,
        http: reqwest::Client,
        deadline: Instant,
        pairs_per_second: Option<f64>,
    ) -> Result<Seen, Failure> {
        let mut seen = Seen::default();
        let mut token: Option<String> = None;
        let mut pace = pairs_per_second.map(|rate| {
            let mut pace = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
            pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            pace
        });
        while Instant::now() < deadline {
            if let Some(pace) = &mut pace {
                pace.tick().await;
            }
            let (status, session) = self.post(&http, "init", None, json!({})).await?;
            *seen.flood.entry(("init", status.as_u16())).or_default() += 1;
            if let Some(new) = session["token"].as_str() {
                token = Some(new.to_owned());
            }
            let Some(token) = &token else { continue };
            let question = json!({"content": "Tell me everything."});
            let (status, _) = self.post(&http, "chat", Some(token), question).await?;
            *seen.flood.entry(("chat", status.as_u16())).or_default() += 1;
        }
        Ok(seen)
    }

    async fn phase(
        &self,
        seconds: u64,
        flood_rps: Option<Option<u32>>,
        first_ip: u8,
    ) -> Result<Seen, Failure> {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let mut running = tokio::task::JoinSet::new();
        for i in 0..VISITORS {
            let ip = Ipv4Addr::new(127, 0, 0, first_ip + i);
            running.spawn(self.clone().visit(ip, deadline));
        }
        if let Some(rps) = flood_rps {
            let http = client_from(Ipv4Addr::new(127, 0, 0, 250))?;
            // Each connection sends an init and a question per turn.
            let pairs = rps.map(|rps| f64::from(rps) / 2.0 / FLOOD_CONNECTIONS as f64);
            for _ in 0..FLOOD_CONNECTIONS {
                running.spawn(self.clone().flood(http.clone(), deadline, pairs));
            }
        }
        let mut all = Seen::default();
        while let Some(done) = running.join_next().await {
            all.add(done??);
        }
        Ok(all)
    }
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Both phases, printed; an error if a visitor was ever refused.
/// `flood_rps`: the flood's requests a second, `None` for unpaced.
pub async fn run(widget: Widget, seconds: u64, flood_rps: Option<u32>) -> Result<(), Failure> {
    // Alone and flooded in turn, twice, so neither is measured only on
    // the bigger table the other left (the local server's transactions
    // slow as the table grows); each phase's visitors on addresses of
    // their own, so every phase's counts start from zero.
    let mut alone = Seen::default();
    let mut flooded = Seen::default();
    for round in 0..ROUNDS {
        let first_ip = 10 + round * 2 * VISITORS;
        alone.add(widget.phase(seconds / 2, None, first_ip).await?);
        flooded.add(
            widget
                .phase(seconds / 2, Some(flood_rps), first_ip + VISITORS)
                .await?,
        );
    }
    alone.visitor_chats.sort();
    flooded.visitor_chats.sort();
    let rate = flood_rps.map_or("unpaced".to_owned(), |rps| format!("{rps} requests/s"));
    println!(
        "Widget flood: {VISITORS} visitors (one address each, a question 3 s after each answer) for {seconds} s alone and {seconds} s beside one address flooding init and chat on {FLOOD_CONNECTIONS} connections ({rate}), in turns of {} s",
        seconds / 2
    );
    println!(
        "{:<10} {:>7} {:>10} {:>10} {:>10}",
        "visitors", "chats", "p50", "p99", "refused"
    );
    for (name, seen) in [("alone", &alone), ("flooded", &flooded)] {
        println!(
            "{:<10} {:>7} {:>10} {:>10} {:>10}",
            name,
            seen.visitor_chats.len(),
            ms(quantile(&seen.visitor_chats, 0.5)),
            ms(quantile(&seen.visitor_chats, 0.99)),
            seen.visitor_refusals.values().sum::<usize>(),
        );
    }
    let flood: Vec<String> = flooded
        .flood
        .iter()
        .map(|((route, status), n)| format!("{route} {status}: {n}"))
        .collect();
    let sent: usize = flooded.flood.values().sum();
    println!(
        "the flood's answers ({:.0}/s): {}",
        sent as f64 / seconds as f64,
        flood.join(", ")
    );
    let ratio = quantile(&flooded.visitor_chats, 0.99).as_secs_f64()
        / quantile(&alone.visitor_chats, 0.99)
            .as_secs_f64()
            .max(f64::EPSILON);
    println!(
        "visitors' p99 flooded / alone: {ratio:.2}x ({} the 1.2x target)",
        if ratio <= 1.2 { "within" } else { "OVER" }
    );
    let refused: usize = alone
        .visitor_refusals
        .values()
        .chain(flooded.visitor_refusals.values())
        .sum();
    if refused > 0 {
        return Err(format!(
            "visitors were refused: alone {:?}, flooded {:?}",
            alone.visitor_refusals, flooded.visitor_refusals
        )
        .into());
    }
    Ok(())
}

//! Delivery attempts over HTTP, on a client of their own: a customer's
//! endpoint is neither a provider nor AWS, so it gets none of their
//! connections, and it may try to reach inside our network. Every name is
//! resolved by [`GuardedResolver`], which refuses an answer holding any
//! address the policy refuses (a name accepted last week may point at the
//! metadata service today); an address written in the URL, which the HTTP
//! client connects to without resolving, is checked before the request.
//! No redirect is followed and no proxy is used; the answer's body is never
//! read.

use crate::domain::webhook::ATTEMPT_TIMEOUT;
use crate::domain::webhook::target::{RefusedAddress, TargetPolicy};
use crate::ports::webhook_sender::{Attempt, AttemptReport, HostResolver, Outcome, WebhookSender};
use async_trait::async_trait;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// What receivers see as the sender.
pub const USER_AGENT: &str = concat!("IllumiChat-Webhooks/", env!("CARGO_PKG_VERSION"));

/// A resolver that answers only addresses the policy lets through.
#[derive(Clone, Copy, Debug)]
pub struct GuardedResolver {
    policy: TargetPolicy,
    /// Loopback only, whatever the policy says: tests and fuzz runs, which
    /// must never reach another machine even through a name or an address
    /// the code under test wrongly accepts.
    confined: bool,
}

/// Why an address may not be reached.
#[derive(Clone, Copy, Debug)]
enum Refusal {
    /// One the policy refuses.
    Class(RefusedAddress),
    /// Any but loopback, from a confined sender.
    OutsideLoopback,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Class(class) => class.fmt(f),
            Self::OutsideLoopback => {
                f.write_str("outside loopback (this sender is confined to it)")
            }
        }
    }
}

/// A name that resolved to an address webhooks may not reach.
#[derive(Debug, thiserror::Error)]
#[error("the endpoint's name resolves to {0}")]
struct Refused(Refusal);

impl GuardedResolver {
    /// The addresses, unless any is refused: one refused address refuses
    /// the name, rather than trying the others, so an answer that mixes a
    /// public address with a private one cannot steer a retry inside.
    fn checked(self, addresses: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, Refusal> {
        match addresses
            .iter()
            .find_map(|address| self.refusal(address.ip()))
        {
            Some(class) => Err(class),
            None => Ok(addresses),
        }
    }
}

impl GuardedResolver {
    fn refusal(self, address: IpAddr) -> Option<Refusal> {
        if self.confined && !address.to_canonical().is_loopback() {
            return Some(Refusal::OutsideLoopback);
        }
        self.policy.refusal(address).map(Refusal::Class)
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = *self;
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let addresses = guard.checked(found).map_err(Refused)?;
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

/// The system's resolver, as the sender's connections use it, bounded so
/// a slow name server cannot hold up an API call.
pub struct DnsHostResolver;

/// How long a webhook's name may take to resolve when it is saved.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(2);

#[async_trait]
impl HostResolver for DnsHostResolver {
    async fn addresses(&self, host: &str) -> Vec<IpAddr> {
        match tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, 0))).await {
            Ok(Ok(found)) => found.map(|address| address.ip()).collect(),
            _ => Vec::new(),
        }
    }
}

pub struct HttpWebhookSender {
    client: reqwest::Client,
    guard: GuardedResolver,
}

impl HttpWebhookSender {
    pub fn new(policy: TargetPolicy) -> Self {
        Self::with_timeout(policy, ATTEMPT_TIMEOUT)
    }

    /// A sender whose attempts end after `timeout` (connecting included).
    pub fn with_timeout(policy: TargetPolicy, timeout: Duration) -> Self {
        Self::guarded(
            GuardedResolver {
                policy,
                confined: false,
            },
            timeout,
        )
    }

    /// A sender that reaches loopback addresses only, whatever a URL or a
    /// name says: what tests and fuzz runs deliver with.
    pub fn confined_to_loopback(timeout: Duration) -> Self {
        Self::guarded(
            GuardedResolver {
                policy: TargetPolicy {
                    allow_loopback: true,
                },
                confined: true,
            },
            timeout,
        )
    }

    fn guarded(guard: GuardedResolver, timeout: Duration) -> Self {
        super::outbound_http::install_crypto();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(guard)
            .connect_timeout(timeout)
            .timeout(timeout)
            .user_agent(USER_AGENT)
            .build()
            .expect("a client with no custom TLS or proxy settings always builds");
        Self { client, guard }
    }

    async fn send(&self, attempt: Attempt<'_>) -> Outcome {
        let (host, _) = attempt.url.host_and_port();
        if let Some(class) = host
            .parse::<IpAddr>()
            .ok()
            .and_then(|address| self.guard.refusal(address))
        {
            return failed(None, format!("the endpoint is {class}"));
        }
        let sent = self
            .client
            .post(attempt.url.as_str())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", attempt.event_id)
            .header("webhook-timestamp", attempt.timestamp.to_string())
            .header("webhook-signature", attempt.signature)
            .body(attempt.body.to_vec())
            .send()
            .await;
        match sent {
            // Dropped unread: the answer's body is the receiver's business.
            Ok(answer) => match answer.status().as_u16() {
                status @ 200..=299 => Outcome::Delivered { status },
                410 => Outcome::Gone,
                status => failed(Some(status), format!("the endpoint answered {status}")),
            },
            Err(error) => failed(None, described(&error)),
        }
    }
}

fn failed(status: Option<u16>, error: String) -> Outcome {
    Outcome::Failed { status, error }
}

/// What went wrong, in words a customer can act on; never the URL (which
/// may hold a token in its query) or the body.
fn described(error: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(cause) = source {
        if let Some(Refused(class)) = cause.downcast_ref::<Refused>() {
            return format!("the endpoint's name resolves to {class}");
        }
        source = cause.source();
    }
    if error.is_timeout() {
        "the endpoint did not answer in time".into()
    } else if error.is_connect() {
        "the endpoint could not be reached".into()
    } else {
        "the request to the endpoint failed".into()
    }
}

#[async_trait]
impl WebhookSender for HttpWebhookSender {
    async fn attempt(&self, attempt: Attempt<'_>) -> AttemptReport {
        let started = Instant::now();
        let outcome = self.send(attempt).await;
        AttemptReport {
            outcome,
            duration: started.elapsed(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::webhook::target::WebhookUrl;
    use axum::Router;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const STRICT: TargetPolicy = TargetPolicy {
        allow_loopback: false,
    };
    const LOCAL: TargetPolicy = TargetPolicy {
        allow_loopback: true,
    };

    /// A receiver on loopback, counting the requests that reach it.
    async fn receiver(router: Router) -> (SocketAddr, Arc<AtomicUsize>) {
        let hits = Arc::new(AtomicUsize::new(0));
        let counted = hits.clone();
        let router = router.layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                counted.fetch_add(1, Ordering::SeqCst);
                next.run(request)
            },
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        (address, hits)
    }

    fn url(raw: &str) -> WebhookUrl {
        WebhookUrl::parse(raw, LOCAL).unwrap()
    }

    async fn attempt(sender: &HttpWebhookSender, url: &WebhookUrl) -> Outcome {
        sender
            .attempt(Attempt {
                url,
                event_id: "evt_1",
                timestamp: 1_614_265_330,
                signature: "v1,abc",
                body: br#"{"event":"webhook.test"}"#,
            })
            .await
            .outcome
    }

    #[tokio::test]
    async fn a_2xx_is_delivered_with_the_standard_headers_and_the_body() {
        let seen = Arc::new(std::sync::Mutex::new(None));
        let recorded = seen.clone();
        let (address, hits) = receiver(Router::new().route(
            "/in",
            post(move |headers: HeaderMap, body: String| async move {
                *recorded.lock().unwrap() = Some((headers, body));
                StatusCode::NO_CONTENT
            }),
        ))
        .await;
        let sender = HttpWebhookSender::new(LOCAL);
        let outcome = attempt(&sender, &url(&format!("http://{address}/in"))).await;
        assert_eq!(outcome, Outcome::Delivered { status: 204 });
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        let (headers, body) = seen.lock().unwrap().take().unwrap();
        assert_eq!(body, r#"{"event":"webhook.test"}"#);
        for (name, value) in [
            ("webhook-id", "evt_1"),
            ("webhook-timestamp", "1614265330"),
            ("webhook-signature", "v1,abc"),
            ("content-type", "application/json"),
            ("user-agent", USER_AGENT),
        ] {
            assert_eq!(headers[name], value, "{name}");
        }
    }

    #[tokio::test]
    async fn a_410_is_gone_and_any_other_status_is_a_failure_to_retry() {
        let (address, _) = receiver(
            Router::new()
                .route("/gone", post(|| async { StatusCode::GONE }))
                .route(
                    "/broken",
                    post(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
                )
                .route("/moved", post(|| async { StatusCode::MOVED_PERMANENTLY })),
        )
        .await;
        let sender = HttpWebhookSender::new(LOCAL);
        assert_eq!(
            attempt(&sender, &url(&format!("http://{address}/gone"))).await,
            Outcome::Gone
        );
        assert_eq!(
            attempt(&sender, &url(&format!("http://{address}/broken"))).await,
            failed(Some(500), "the endpoint answered 500".into())
        );
        assert_eq!(
            attempt(&sender, &url(&format!("http://{address}/moved"))).await,
            failed(Some(301), "the endpoint answered 301".into())
        );
    }

    #[tokio::test]
    async fn a_redirect_is_not_followed() {
        let (elsewhere, reached) =
            receiver(Router::new().route("/in", post(|| async { StatusCode::OK }))).await;
        let location = format!("http://{elsewhere}/in");
        let (address, _) = receiver(Router::new().route(
            "/in",
            post(move || async move {
                (
                    StatusCode::TEMPORARY_REDIRECT,
                    [(axum::http::header::LOCATION, location)],
                )
            }),
        ))
        .await;
        let sender = HttpWebhookSender::new(LOCAL);
        let outcome = attempt(&sender, &url(&format!("http://{address}/in"))).await;
        assert_eq!(
            outcome,
            failed(Some(307), "the endpoint answered 307".into())
        );
        assert_eq!(reached.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn an_endpoint_that_hangs_is_given_up_on_at_the_timeout() {
        let (address, _) = receiver(Router::new().route(
            "/in",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                StatusCode::OK
            }),
        ))
        .await;
        let sender = HttpWebhookSender::with_timeout(LOCAL, Duration::from_millis(300));
        let report = sender
            .attempt(Attempt {
                url: &url(&format!("http://{address}/in")),
                event_id: "evt_1",
                timestamp: 1,
                signature: "v1,abc",
                body: b"{}",
            })
            .await;
        assert_eq!(
            report.outcome,
            failed(None, "the endpoint did not answer in time".into())
        );
        assert!(
            report.duration < Duration::from_secs(5),
            "{:?}",
            report.duration
        );
    }

    #[tokio::test]
    async fn a_name_that_now_resolves_to_a_refused_address_is_never_connected_to() {
        let (address, hits) =
            receiver(Router::new().route("/in", post(|| async { StatusCode::OK }))).await;
        // Accepted where loopback was allowed, sent where it is not: the
        // name's addresses are checked at the attempt, not only when the
        // URL was taken.
        let sender = HttpWebhookSender::new(STRICT);
        let by_name = url(&format!("http://localhost:{}/in", address.port()));
        assert_eq!(
            attempt(&sender, &by_name).await,
            failed(
                None,
                "the endpoint's name resolves to a loopback address".into()
            )
        );
        let by_address = url(&format!("http://{address}/in"));
        assert_eq!(
            attempt(&sender, &by_address).await,
            failed(None, "the endpoint is a loopback address".into())
        );
        assert_eq!(hits.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn one_refused_address_refuses_the_whole_answer() {
        let public: SocketAddr = "93.184.215.14:0".parse().unwrap();
        let metadata: SocketAddr = "169.254.169.254:0".parse().unwrap();
        let strict = GuardedResolver {
            policy: STRICT,
            confined: false,
        };
        assert_eq!(strict.checked(vec![public]).ok(), Some(vec![public]));
        assert!(matches!(
            strict.checked(vec![public, metadata]),
            Err(Refusal::Class(RefusedAddress::LinkLocal))
        ));
    }

    #[tokio::test]
    async fn a_confined_sender_reaches_loopback_and_nothing_else() {
        let (address, hits) =
            receiver(Router::new().route("/in", post(|| async { StatusCode::OK }))).await;
        let sender = HttpWebhookSender::confined_to_loopback(Duration::from_secs(2));
        assert_eq!(
            attempt(&sender, &url(&format!("http://{address}/in"))).await,
            Outcome::Delivered { status: 200 }
        );
        // A public address, as a literal: refused before any connection.
        let public = WebhookUrl::parse("https://93.184.215.14/in", STRICT).unwrap();
        assert_eq!(
            attempt(&sender, &public).await,
            failed(
                None,
                "the endpoint is outside loopback (this sender is confined to it)".into()
            )
        );
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        let confined = GuardedResolver {
            policy: LOCAL,
            confined: true,
        };
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:0".parse().unwrap();
        let public: SocketAddr = "93.184.215.14:0".parse().unwrap();
        assert!(confined.checked(vec![mapped]).is_ok());
        assert!(confined.checked(vec![public]).is_err());
    }

    #[tokio::test]
    async fn the_resolver_answers_a_names_addresses_and_nothing_for_one_that_does_not_resolve() {
        let found = DnsHostResolver.addresses("localhost").await;
        assert!(
            !found.is_empty() && found.iter().all(IpAddr::is_loopback),
            "{found:?}"
        );
        assert!(
            DnsHostResolver
                .addresses("no-such-host.invalid")
                .await
                .is_empty()
        );
    }
}

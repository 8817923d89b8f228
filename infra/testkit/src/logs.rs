//! Every log line a test binary writes, captured from its first stack on,
//! and checked against every secret the tests hand out: API keys, the
//! Twilio Auth Token, the provider key, texters' numbers and the messages
//! people send. A line holding one is a leak, and the next request any test
//! makes fails on it ([`assert_clean`] runs after every call through
//! [`crate::Api`]). Lines are written with debug detail for our crates, more
//! than production logs, so a leak at any level is found.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Mutex, OnceLock};
use tracing_subscriber::fmt::MakeWriter;

/// How many recent lines a newly named secret is checked against: a secret
/// is named right after it is made, so only lines written meanwhile matter.
const RECENT_LINES: usize = 20_000;

#[derive(Default)]
struct Capture {
    recent: Mutex<VecDeque<String>>,
    secrets: Mutex<Vec<(String, String)>>,
    leaks: Mutex<Vec<String>>,
}

static CAPTURE: OnceLock<Capture> = OnceLock::new();

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Capture {
    fn record(&self, line: String) {
        for (label, secret) in lock(&self.secrets).iter() {
            if line.contains(secret.as_str()) {
                lock(&self.leaks).push(format!("{label} in: {line}"));
            }
        }
        let mut recent = lock(&self.recent);
        if recent.len() == RECENT_LINES {
            recent.pop_front();
        }
        recent.push_back(line);
    }

    fn forbid(&self, label: &str, secret: &str) {
        let mut secrets = lock(&self.secrets);
        if secrets.iter().any(|(_, known)| known == secret) {
            return;
        }
        secrets.push((label.to_owned(), secret.to_owned()));
        drop(secrets);
        for line in lock(&self.recent).iter() {
            if line.contains(secret) {
                lock(&self.leaks).push(format!("{label} in: {line}"));
            }
        }
    }
}

/// One event's formatted line, recorded whole when the formatter is done.
struct LineWriter(Vec<u8>);

impl Write for LineWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if let Some(capture) = CAPTURE.get() {
            capture.record(String::from_utf8_lossy(&self.0).into_owned());
        }
    }
}

struct Lines;

impl<'a> MakeWriter<'a> for Lines {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter(Vec::new())
    }
}

/// Installs the capture as the process's subscriber, once; the secrets
/// every stack shares are named here.
pub fn install() {
    CAPTURE.get_or_init(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "shared=debug,devtools=debug,info",
            ))
            .with_ansi(false)
            .with_writer(Lines)
            .finish();
        // A process-wide subscriber: a thread's own is not consulted by the
        // tasks other runtimes' threads run.
        tracing::subscriber::set_global_default(subscriber)
            .expect("nothing else installs a subscriber in a test binary");
        let capture = Capture::default();
        capture.forbid("the Twilio Auth Token", crate::twilio_account::AUTH_TOKEN);
        capture.forbid("the provider key", devtools::emulators::LOCAL_KEY);
        capture
    });
}

/// Names a secret no log line may hold from now on (and none written
/// lately may have held).
pub fn forbid(label: &str, secret: &str) {
    install();
    if let Some(capture) = CAPTURE.get() {
        capture.forbid(label, secret);
    }
}

/// Fails with every leak found so far.
pub fn assert_clean() {
    let Some(capture) = CAPTURE.get() else {
        return;
    };
    let leaks = lock(&capture.leaks);
    assert!(
        leaks.is_empty(),
        "secrets reached the logs:\n{}",
        leaks.join("\n")
    );
}

/// The recent lines holding `needle`: what a test reads to see that a flow
/// was logged at all.
pub fn lines_containing(needle: &str) -> Vec<String> {
    CAPTURE.get().map_or_else(Vec::new, |capture| {
        lock(&capture.recent)
            .iter()
            .filter(|line| line.contains(needle))
            .cloned()
            .collect()
    })
}

/// Fails if a response body holds a secret no response may carry: the Auth
/// Token and the provider key (API keys are shown once, when made).
pub fn assert_no_secret_in_response(body: &str) {
    for (label, secret) in [
        ("the Twilio Auth Token", crate::twilio_account::AUTH_TOKEN),
        ("the provider key", devtools::emulators::LOCAL_KEY),
    ] {
        assert!(!body.contains(secret), "{label} in a response: {body}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_caught_in_a_line_written_before_or_after_it_is_named() {
        let capture = Capture::default();
        capture.record("request answered user_id=usr_1".into());
        capture.record("key ic_early in a line".into());
        capture.forbid("a key", "ic_early");
        assert_eq!(lock(&capture.leaks).len(), 1);
        capture.forbid("a token", "tok_later");
        capture.record("sent with tok_later".into());
        capture.record("nothing here".into());
        assert_eq!(
            *lock(&capture.leaks),
            vec![
                "a key in: key ic_early in a line".to_owned(),
                "a token in: sent with tok_later".to_owned()
            ]
        );
    }
}

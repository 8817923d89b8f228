//! Twilio's request signature (`X-Twilio-Signature`), computed as the
//! reference SDKs compute it: the full URL Twilio requested, then every POST
//! parameter sorted by name as name + value (a repeated name: each distinct
//! value, sorted), HMAC-SHA1 keyed with the account's Auth Token, base64.
//!
//! Written here because no maintained crate does Twilio's scheme; the HMAC
//! and SHA-1 are the RustCrypto crates the AWS SDK already depends on.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha1::Sha1;
use std::collections::{BTreeMap, BTreeSet};

type HmacSha1 = Hmac<Sha1>;

fn mac_over(token: &SecretString, url: &str, params: &[(String, String)]) -> HmacSha1 {
    let mut sorted: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (name, value) in params {
        sorted.entry(name).or_default().insert(value);
    }
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = HmacSha1::new_from_slice(token.expose_secret().as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(url.as_bytes());
    for (name, values) in sorted {
        for value in values {
            mac.update(name.as_bytes());
            mac.update(value.as_bytes());
        }
    }
    mac
}

/// The signature Twilio sends for a request to `url` with `params`.
pub fn sign(token: &SecretString, url: &str, params: &[(String, String)]) -> String {
    BASE64.encode(mac_over(token, url, params).finalize().into_bytes())
}

/// Whether `signature` is Twilio's for this request. The URL is tried as
/// given, without its port and with the scheme's default port written out,
/// as the SDKs accept all three; the comparison is constant-time.
pub fn verify(
    token: &SecretString,
    url: &str,
    params: &[(String, String)],
    signature: &str,
) -> bool {
    let Ok(expected) = BASE64.decode(signature.trim()) else {
        return false;
    };
    url_variants(url).iter().any(|candidate| {
        mac_over(token, candidate, params)
            .verify_slice(&expected)
            .is_ok()
    })
}

/// The URL as given, with any port removed, and with the default port
/// added (`:443` for https, `:80` for http).
fn url_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_owned()];
    let Some((scheme, rest)) = url.split_once("://") else {
        return variants;
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((user, host)) => (format!("{user}@"), host),
        None => (String::new(), authority),
    };
    let host = match host_port.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => host_port,
    };
    variants.push(format!("{scheme}://{userinfo}{host}{tail}"));
    let default_port = if scheme.eq_ignore_ascii_case("https") {
        "443"
    } else {
        "80"
    };
    if host == host_port {
        variants.push(format!("{scheme}://{userinfo}{host}:{default_port}{tail}"));
    }
    variants.dedup();
    variants
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn token(value: &str) -> SecretString {
        SecretString::from(value.to_owned())
    }

    const SDK_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    fn sdk_params() -> Vec<(String, String)> {
        pairs(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ])
    }

    #[test]
    fn twilios_published_vector_signs_as_documented() {
        let params = pairs(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]);
        assert_eq!(
            sign(&token("12345"), SDK_URL, &params),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        );
    }

    #[test]
    fn the_reference_sdks_test_vector_verifies() {
        assert_eq!(
            sign(&token("12345"), SDK_URL, &sdk_params()),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        assert!(verify(
            &token("12345"),
            SDK_URL,
            &sdk_params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
    }

    #[test]
    fn a_default_port_written_out_or_left_out_still_verifies() {
        let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        assert_eq!(
            sign(&token("12345"), with_port, &sdk_params()),
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        );
        assert!(verify(
            &token("12345"),
            SDK_URL,
            &sdk_params(),
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        ));
        assert!(verify(
            &token("12345"),
            with_port,
            &sdk_params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        let http_port = "http://mycompany.com:1234/myapp.php?foo=1&bar=2";
        assert_eq!(
            sign(&token("12345"), http_port, &sdk_params()),
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
        );
    }

    #[test]
    fn repeated_parameters_count_each_distinct_value_once() {
        let params = pairs(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
            ("Digits", "1234"),
        ]);
        assert_eq!(
            sign(&token("12345"), SDK_URL, &params),
            "IK+Dwps556ElfBT0I3Rgjkr1wJU="
        );
    }

    #[test]
    fn blank_values_are_part_of_the_signature() {
        let body = "ToCountry=US&ToState=CA&SmsMessageSid=SM11111111111111111111111111111111&NumMedia=0&ToCity=&FromZip=&SmsSid=SM11111111111111111111111111111111&FromState=&SmsStatus=received&FromCity=&Body=Hello+there+%E2%9C%93&FromCountry=US&To=%2B15005550006&ToZip=&NumSegments=1&MessageSid=SM11111111111111111111111111111111&AccountSid=ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&From=%2B15551234567&ApiVersion=2010-04-01";
        let params: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
        let token = token("0123456789abcdef0123456789abcdef");
        assert_eq!(
            sign(&token, "https://example.com/twilio/sms", &params),
            "ZuSErqXtcqtbgAvESSa7YJbRJiA="
        );
        let without_blanks: Vec<_> = params.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        assert!(!verify(
            &token,
            "https://example.com/twilio/sms",
            &without_blanks,
            "ZuSErqXtcqtbgAvESSa7YJbRJiA="
        ));
    }

    #[test]
    fn garbage_and_empty_signatures_are_refused() {
        for bad in ["", "not base64!", "AAAA", "RSOYDt4T1cUTdK1PDd93/VVr8B8"] {
            assert!(
                !verify(&token("12345"), SDK_URL, &sdk_params(), bad),
                "{bad}"
            );
        }
    }

    proptest! {
        #[test]
        fn a_signed_request_verifies_and_any_change_breaks_it(
            secret in "[a-f0-9]{32}",
            path in "/[a-z]{1,12}",
            params in proptest::collection::vec(("[A-Za-z]{1,8}", "[ -~]{0,20}"), 0..8),
            tamper in 0usize..4,
        ) {
            let token = token(&secret);
            let url = format!("https://hooks.example.com{path}");
            let params: Vec<(String, String)> = params;
            let signature = sign(&token, &url, &params);
            prop_assert!(verify(&token, &url, &params, &signature));
            let refused = match tamper {
                0 => !verify(&SecretString::from(format!("{secret}x")), &url, &params, &signature),
                1 => !verify(&token, &format!("{url}x"), &params, &signature),
                2 => {
                    let mut more = params.clone();
                    more.push(("Injected".into(), "1".into()));
                    !verify(&token, &url, &more, &signature)
                }
                _ => {
                    let mut flipped = BASE64.decode(&signature).unwrap();
                    flipped[0] ^= 1;
                    !verify(&token, &url, &params, &BASE64.encode(flipped))
                }
            };
            prop_assert!(refused);
        }
    }
}

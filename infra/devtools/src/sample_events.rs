//! The sample events in `events/`: the placeholder ids and key they carry,
//! which a replay swaps for real ones, and the Twilio signature a webhook
//! event needs once its assistant is real.

/// The placeholder ids and key in `events/*.json`.
pub const EVENT_WORKSPACE: &str = "ws_wwwwwwwwwwwwwwww0001";
pub const EVENT_ASSISTANT: &str = "ast_aaaaaaaaaaaaaaaa0001";
pub const EVENT_USER: &str = "usr_uuuuuuuuuuuuuuuu0001";
pub const EVENT_KEY_ID: &str = "key_kkkkkkkkkkkkkkkk0001";
pub const EVENT_PROJECT: &str = "proj_pppppppppppppppp0001";
pub const EVENT_SPARE_PROJECT: &str = "proj_pppppppppppppppp0002";
pub const EVENT_DOCUMENT: &str = "doc_dddddddddddddddd0001";
/// Stands for the owner's conversation (the events act as the owner).
pub const EVENT_CONVERSATION: &str = "conv_cccccccccccccccc0001";
pub const EVENT_API_KEY: &str = "ic_EXAMPLEkeyEXAMPLEkeyEXAMPLEkeyEXAMPLEkey";
/// Stands for a widget token from `init` (the widget's events).
pub const EVENT_WIDGET_TOKEN: &str = "EXAMPLE_WIDGET_TOKEN";
/// Stand for the fixture's webhook and its test delivery.
pub const EVENT_WEBHOOK: &str = "wh_hhhhhhhhhhhhhhhh0001";
pub const EVENT_DELIVERY: &str = "dlv_vvvvvvvvvvvvvvvv0001";
/// Stands for an answer in the widget session's conversation.
pub const EVENT_MESSAGE: &str = "msg_mmmmmmmmmmmmmmmm0001";
/// Where a Function URL event's `X-Twilio-Signature` goes.
pub const EVENT_SIGNATURE: &str = "SIGNED_BY_THE_TEST_AS_TWILIO_WOULD=";

/// A Function URL event (text) with its signature filled in as Twilio signs
/// under `token`: over `https://{host}{rawPath}[?query]` and the form body,
/// the URL a Function URL without a custom domain is called on.
pub fn sign_webhook_event(event: &str, token: &str) -> Result<String, String> {
    use base64::Engine;
    let parsed: serde_json::Value =
        serde_json::from_str(event).map_err(|e| format!("the event is not JSON: {e}"))?;
    let body = parsed["body"].as_str().unwrap_or_default();
    let body = if parsed["isBase64Encoded"].as_bool() == Some(true) {
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|e| format!("the event's body is not base64: {e}"))?
    } else {
        body.as_bytes().to_vec()
    };
    let host = parsed["headers"]["host"]
        .as_str()
        .ok_or("the event has no host header")?;
    let path = parsed["rawPath"]
        .as_str()
        .ok_or("the event has no rawPath")?;
    let mut url = format!("https://{host}{path}");
    if let Some(query) = parsed["rawQueryString"].as_str().filter(|q| !q.is_empty()) {
        url.push('?');
        url.push_str(query);
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let signature = shared::domain::sms::signature::sign(
        &secrecy::SecretString::from(token.to_owned()),
        &url,
        &params,
    );
    Ok(event.replace(EVENT_SIGNATURE, &signature))
}

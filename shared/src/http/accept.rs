//! Which of its two forms an answer takes, from the `Accept` header: an
//! SSE stream (`text/event-stream`, the default) or one JSON body once it
//! is complete (`application/json`). Quality values are honoured; a tie,
//! a wildcard or no header at all means the stream. Hand-written: no
//! header crate in the tree negotiates media types, and this is a dozen
//! lines.

use super::error::ApiError;
use axum::http::HeaderMap;
use axum::http::header::ACCEPT;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnswerForm {
    Stream,
    Json,
}

const OFFERED: &str = "text/event-stream or application/json";

/// The quality the header gives `wanted` (`type/subtype`): the most
/// specific range that matches it decides.
fn quality(ranges: &[(String, f32)], wanted: &str) -> f32 {
    let kind = wanted.split('/').next().unwrap_or_default();
    let mut best: Option<(u8, f32)> = None;
    for (range, q) in ranges {
        let specificity = if range == wanted {
            2
        } else if range.strip_suffix("/*") == Some(kind) {
            1
        } else if range == "*/*" {
            0
        } else {
            continue;
        };
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, *q));
        }
    }
    best.map_or(0.0, |(_, q)| q)
}

pub fn answer_form(headers: &HeaderMap) -> Result<AnswerForm, ApiError> {
    let values: Vec<&str> = headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if values.iter().all(|v| v.trim().is_empty()) {
        return Ok(AnswerForm::Stream);
    }
    let ranges: Vec<(String, f32)> = values
        .iter()
        .flat_map(|v| v.split(','))
        .filter_map(|part| {
            let mut pieces = part.split(';');
            let range = pieces.next()?.trim().to_ascii_lowercase();
            let q = pieces
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (!range.is_empty()).then_some((range, q))
        })
        .collect();
    let stream = quality(&ranges, "text/event-stream");
    let json = quality(&ranges, "application/json");
    if stream <= 0.0 && json <= 0.0 {
        Err(ApiError::NotAcceptable(OFFERED))
    } else if json > stream {
        Ok(AnswerForm::Json)
    } else {
        Ok(AnswerForm::Stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn form(accept: Option<&'static str>) -> Result<AnswerForm, ApiError> {
        let mut headers = HeaderMap::new();
        if let Some(value) = accept {
            headers.insert(ACCEPT, HeaderValue::from_static(value));
        }
        answer_form(&headers)
    }

    #[test]
    fn the_stream_is_the_default_and_json_is_had_by_asking() {
        assert_eq!(form(None).unwrap(), AnswerForm::Stream);
        assert_eq!(form(Some("*/*")).unwrap(), AnswerForm::Stream);
        assert_eq!(form(Some("text/event-stream")).unwrap(), AnswerForm::Stream);
        assert_eq!(form(Some("application/json")).unwrap(), AnswerForm::Json);
        assert_eq!(
            form(Some("text/event-stream;q=0.5, application/json")).unwrap(),
            AnswerForm::Json
        );
        assert_eq!(
            form(Some("application/*;q=0.9, text/*;q=0.8")).unwrap(),
            AnswerForm::Json
        );
    }

    #[test]
    fn a_client_that_accepts_neither_form_is_told_which_there_are() {
        for accept in ["text/html", "application/json;q=0, text/event-stream;q=0"] {
            assert!(matches!(
                form(Some(accept)),
                Err(ApiError::NotAcceptable(_))
            ));
        }
    }
}

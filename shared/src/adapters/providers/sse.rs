//! Server-Sent Events as an OpenAI-compatible chat stream sends them, read
//! incrementally: events end at a blank line, `\r\n` and `\n` both end a
//! line, several `data:` lines join with `\n`, comments (`: keep-alive`) and
//! other fields are skipped, and an event may arrive split across any
//! number of reads. Hand-written (about forty lines) rather than a crate: the
//! maintained SSE parsers either pull a second HTTP stack or a second `nom`.

/// One event: its name (`event:`, if any) and its data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SseEvent {
    pub name: Option<String>,
    pub data: String,
}

#[derive(Debug, Default)]
pub struct SseDecoder {
    line: Vec<u8>,
    event: SseEvent,
    has_data: bool,
}

impl SseDecoder {
    /// Feeds bytes as they arrive; answers the events they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut done = Vec::new();
        for &byte in bytes {
            if byte == b'\n' {
                if self.line.last() == Some(&b'\r') {
                    self.line.pop();
                }
                let line = std::mem::take(&mut self.line);
                if let Some(event) = self.line_ended(&line) {
                    done.push(event);
                }
            } else {
                self.line.push(byte);
            }
        }
        done
    }

    fn line_ended(&mut self, line: &[u8]) -> Option<SseEvent> {
        if line.is_empty() {
            let event = std::mem::take(&mut self.event);
            return std::mem::replace(&mut self.has_data, false).then_some(event);
        }
        if line.starts_with(b":") {
            return None;
        }
        let text = String::from_utf8_lossy(line);
        let (field, value) = text.split_once(':').unwrap_or((&text, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "data" => {
                if self.has_data {
                    self.event.data.push('\n');
                }
                self.event.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event.name = Some(value.to_owned()),
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(events: &[SseEvent]) -> Vec<&str> {
        events.iter().map(|e| e.data.as_str()).collect()
    }

    #[test]
    fn events_split_across_reads_come_out_whole() {
        let mut decoder = SseDecoder::default();
        let stream = b"data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n";
        let mut events = Vec::new();
        for chunk in stream.chunks(3) {
            events.extend(decoder.feed(chunk));
        }
        assert_eq!(data(&events), vec!["{\"a\":1}", "{\"b\":2}", "[DONE]"]);
    }

    #[test]
    fn crlf_comments_multiline_data_and_names_are_understood() {
        let mut decoder = SseDecoder::default();
        let events = decoder
            .feed(b": keep-alive\r\n\r\nevent: error\r\ndata: one\r\ndata:two\r\nid: 7\r\n\r\n");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].name.as_deref(), Some("error"));
        assert_eq!(events[0].data, "one\ntwo");
    }

    #[test]
    fn an_unfinished_event_is_held_until_its_blank_line() {
        let mut decoder = SseDecoder::default();
        assert!(decoder.feed(b"data: partial").is_empty());
        assert_eq!(data(&decoder.feed(b"\n\n")), vec!["partial"]);
    }
}

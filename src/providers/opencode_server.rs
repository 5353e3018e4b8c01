//! opencode's own server, as ptyhub reads it: opencode started with
//! `--hostname 127.0.0.1 --port <port>` (as freshell starts it) answers
//! `GET /global/health`, lists which of its sessions work
//! (`GET /session/status`: `{"<sessionID>": {"type": "busy"|"retry"|"idle"}}`)
//! and streams what changes (`GET /event`, server-sent events whose `data:`
//! is one JSON event). Only what tells who works and which session is
//! whose child is read; everything else is skipped. Facts from freshell's
//! opencode activity tracker, checked there against opencode 1.18.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::time::Duration;

use serde_json::Value;

/// One change opencode's event stream reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpencodeEvent {
    /// A session started or stopped working (`session.status`, `session.idle`).
    Working { session_id: String, working: bool },
    /// A session was created; a child (a subtask) names its parent.
    Created {
        session_id: String,
        parent_id: Option<String>,
    },
}

/// The server of one opencode process, on 127.0.0.1.
pub struct OpencodeServer {
    base: String,
    agent: ureq::Agent,
}

impl OpencodeServer {
    pub fn new(port: u16) -> OpencodeServer {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .proxy(None)
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(2)))
            .build()
            .into();
        OpencodeServer {
            base: format!("http://127.0.0.1:{port}"),
            agent,
        }
    }

    /// Whether the server answers its health check.
    pub fn healthy(&self) -> bool {
        self.agent
            .get(&format!("{}/global/health", self.base))
            .config()
            .timeout_global(Some(Duration::from_secs(2)))
            .build()
            .call()
            .is_ok_and(|response| response.status().is_success())
    }

    /// Which sessions work now, by session id.
    pub fn working_sessions(&self) -> Result<HashMap<String, bool>, String> {
        let mut response = self
            .agent
            .get(&format!("{}/session/status", self.base))
            .config()
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .call()
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("/session/status answered {}", response.status()));
        }
        let text = response
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .map_err(|e| e.to_string())?;
        let body: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        let Value::Object(statuses) = body else {
            return Err("/session/status is not an object".into());
        };
        Ok(statuses
            .into_iter()
            .filter_map(|(id, status)| Some((id, works(status.get("type")?.as_str()?)?)))
            .collect())
    }

    /// The event stream, read as it comes (blocking), until the server
    /// closes it.
    pub fn events(&self) -> Result<EventStream, String> {
        let response = self
            .agent
            .get(&format!("{}/event", self.base))
            .header("accept", "text/event-stream")
            .call()
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("/event answered {}", response.status()));
        }
        Ok(EventStream {
            lines: BufReader::new(Box::new(response.into_body().into_reader())),
        })
    }
}

/// A status type as working or not; `None` for one ptyhub does not know.
fn works(status_type: &str) -> Option<bool> {
    match status_type {
        "busy" | "retry" => Some(true),
        "idle" => Some(false),
        _ => None,
    }
}

/// opencode's server-sent events, parsed one by one.
pub struct EventStream {
    lines: BufReader<Box<dyn Read + Send>>,
}

/// The longest event line read; a longer one ends the stream.
const LONGEST_LINE: usize = 1 << 20;

impl Iterator for EventStream {
    type Item = OpencodeEvent;

    /// The next event ptyhub reads; `None` when the stream ends.
    fn next(&mut self) -> Option<OpencodeEvent> {
        let mut data = String::new();
        loop {
            let mut line = String::new();
            let read = (&mut self.lines)
                .take(LONGEST_LINE as u64)
                .read_line(&mut line)
                .ok()?;
            if read == 0 || (read == LONGEST_LINE && !line.ends_with('\n')) {
                return None;
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if let Some(event) = parse_event(&data) {
                    return Some(event);
                }
                data.clear();
            } else if let Some(part) = line.strip_prefix("data:") {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(part.trim_start());
            }
        }
    }
}

/// One event's data as an event ptyhub reads, if it is one.
pub fn parse_event(data: &str) -> Option<OpencodeEvent> {
    let event: Value = serde_json::from_str(data).ok()?;
    let properties = event.get("properties")?;
    let session_id = |value: Option<&Value>| value?.as_str().map(str::to_owned);
    match event.get("type")?.as_str()? {
        "session.status" => Some(OpencodeEvent::Working {
            session_id: session_id(properties.get("sessionID"))?,
            working: works(properties.get("status")?.get("type")?.as_str()?)?,
        }),
        "session.idle" => Some(OpencodeEvent::Working {
            session_id: session_id(properties.get("sessionID"))?,
            working: false,
        }),
        "session.created" => {
            let info = properties.get("info")?;
            Some(OpencodeEvent::Created {
                session_id: session_id(info.get("id"))?,
                parent_id: session_id(info.get("parentID")),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_events_that_tell_who_works_are_read_and_others_skipped() {
        assert_eq!(
            parse_event(
                r#"{"type":"session.status","properties":{"sessionID":"ses_1","status":{"type":"busy"}}}"#
            ),
            Some(OpencodeEvent::Working {
                session_id: "ses_1".into(),
                working: true
            })
        );
        assert_eq!(
            parse_event(
                r#"{"type":"session.status","properties":{"sessionID":"ses_1","status":{"type":"retry","attempt":2}}}"#
            ),
            Some(OpencodeEvent::Working {
                session_id: "ses_1".into(),
                working: true
            })
        );
        assert_eq!(
            parse_event(r#"{"type":"session.idle","properties":{"sessionID":"ses_1"}}"#),
            Some(OpencodeEvent::Working {
                session_id: "ses_1".into(),
                working: false
            })
        );
        assert_eq!(
            parse_event(
                r#"{"type":"session.created","properties":{"sessionID":"ses_2","info":{"id":"ses_2","parentID":"ses_1"}}}"#
            ),
            Some(OpencodeEvent::Created {
                session_id: "ses_2".into(),
                parent_id: Some("ses_1".into())
            })
        );
        for skipped in [
            r#"{"type":"server.connected","properties":{}}"#,
            r#"{"type":"message.updated","properties":{"sessionID":"ses_1","info":{}}}"#,
            r#"{"type":"session.status","properties":{"sessionID":"ses_1","status":{"type":"dreaming"}}}"#,
            "not json",
        ] {
            assert_eq!(parse_event(skipped), None, "{skipped}");
        }
    }

    #[test]
    fn a_stream_yields_each_event_once_its_blank_line_ends_it() {
        let text = "data: {\"type\":\"server.connected\",\"properties\":{}}\n\n\
                    : a comment\n\
                    data: {\"type\":\"session.idle\",\n\
                    data: \"properties\":{\"sessionID\":\"ses_9\"}}\n\n\
                    data: {\"type\":\"session.idle\",\"properties\":{\"sessionID\":\"ses_unfinished\"}}\n";
        let stream = EventStream {
            lines: BufReader::new(Box::new(std::io::Cursor::new(text.as_bytes().to_vec()))),
        };
        assert_eq!(
            stream.collect::<Vec<_>>(),
            vec![OpencodeEvent::Working {
                session_id: "ses_9".into(),
                working: false
            }]
        );
    }
}

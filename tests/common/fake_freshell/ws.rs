//! The stand-in's WebSocket side: `/ws` with freshell's hello check, handshake and answers
//! (WS spec §2, §3), every text frame recorded; `/tunnel/echo`, a second WebSocket like
//! freshell's browser-pane tunnels; and the terminal traffic about its own terminal, marked
//! [`UPSTREAM_ONLY`], that ptyhub must drop.

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::{
    settings, AppState, Control, OpenSocket, ReceivedFrame, UPSTREAM_ONLY, UPSTREAM_TERMINAL_ID,
};

const TIMESTAMP: &str = "2026-11-25T12:00:00.000Z";
const MAX_WS_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

pub(super) async fn websocket(
    State(state): State<AppState>,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .max_message_size(MAX_WS_MESSAGE_BYTES)
        .max_frame_size(MAX_WS_MESSAGE_BYTES)
        .on_upgrade(move |socket| serve_socket(state, socket))
}

/// A WebSocket other than `/ws` (like freshell's browser-pane tunnels under
/// `/api/proxy/http/…`): answers each text frame with `echo: <frame>`.
pub(super) async fn tunnel_echo(upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(|mut socket| async move {
        while let Some(Ok(frame)) = socket.next().await {
            let reply = match frame {
                Message::Text(text) => Message::text(format!("echo: {}", text.as_str())),
                Message::Close(_) => break,
                _ => continue,
            };
            if socket.send(reply).await.is_err() {
                break;
            }
        }
    })
}

/// What the stand-in does in answer to one frame.
enum Reply {
    Send(Value),
    Close(u16, &'static str),
}

async fn serve_socket(state: AppState, socket: WebSocket) {
    let (control, mut controls) = mpsc::unbounded_channel();
    let connection = {
        let mut shared = state.shared.lock().unwrap();
        shared.connections_opened += 1;
        let connection = shared.connections_opened;
        shared.open.insert(
            connection,
            OpenSocket {
                authenticated: false,
                control,
            },
        );
        connection
    };
    let (mut sink, mut stream) = socket.split();
    let mut authenticated = false;
    'socket: loop {
        let replies = tokio::select! {
            frame = stream.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let text = text.as_str().to_owned();
                    let message: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    let replies = answer(&state, connection, &message, &mut authenticated);
                    state.shared.lock().unwrap().frames.push(ReceivedFrame {
                        connection,
                        incarnation: state.incarnation,
                        text,
                        message,
                    });
                    replies
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break 'socket,
                Some(Ok(_)) => continue 'socket, // pings are answered by the library
            },
            control = controls.recv() => match control {
                Some(Control::Send(message)) => vec![Reply::Send(message)],
                Some(Control::Close(code)) => vec![Reply::Close(code, "Server shutting down")],
                None => break 'socket,
            },
        };
        for reply in replies {
            let sent = match reply {
                Reply::Send(message) => sink.send(Message::text(message.to_string())).await,
                Reply::Close(code, reason) => {
                    let _ = sink
                        .send(Message::Close(Some(CloseFrame {
                            code,
                            reason: reason.into(),
                        })))
                        .await;
                    break 'socket;
                }
            };
            if sent.is_err() {
                break 'socket;
            }
        }
    }
    state.shared.lock().unwrap().open.remove(&connection);
}

/// freshell's handling of one client frame, reduced to what the bridge needs (WS spec §2, §3).
fn answer(
    state: &AppState,
    connection: u64,
    message: &Value,
    authenticated: &mut bool,
) -> Vec<Reply> {
    let kind = message["type"].as_str().unwrap_or_default();
    let request_id = message.get("requestId").cloned();
    if message.is_null() || kind.is_empty() {
        return vec![Reply::Send(error("INVALID_MESSAGE", "Invalid JSON", None))];
    }
    if kind == "hello" {
        if message["protocolVersion"] != 7 {
            return vec![
                Reply::Send(error(
                    "PROTOCOL_MISMATCH",
                    "Expected protocol version 7. Please reload the page.",
                    None,
                )),
                Reply::Close(4010, "Protocol version mismatch"),
            ];
        }
        let mut shared = state.shared.lock().unwrap();
        if message["token"].as_str() != Some(shared.token.as_str()) {
            return vec![
                Reply::Send(error("NOT_AUTHENTICATED", "Invalid token", None)),
                Reply::Close(4001, "Not authenticated"),
            ];
        }
        *authenticated = true;
        if let Some(socket) = shared.open.get_mut(&connection) {
            socket.authenticated = true;
        }
        return handshake(state.incarnation)
            .into_iter()
            .map(Reply::Send)
            .collect();
    }
    if kind == "ping" {
        return vec![Reply::Send(json!({"type": "pong", "timestamp": TIMESTAMP}))];
    }
    if !*authenticated {
        return vec![
            Reply::Send(error("NOT_AUTHENTICATED", "Send hello first", None)),
            Reply::Close(4001, "Not authenticated"),
        ];
    }
    match kind {
        "tabs.sync.query" => vec![Reply::Send(json!({
            "type": "tabs.sync.snapshot",
            "requestId": request_id.unwrap_or(json!("")),
            "data": {"localOpen": [], "remoteOpen": [], "closed": [], "devices": [], "sameDeviceOpen": []},
        }))],
        "tabs.sync.push" => vec![Reply::Send(json!({
            "type": "tabs.sync.ack", "accepted": true, "openRecords": 0, "closedRecords": 0,
        }))],
        "sessions.prefs" => vec![Reply::Send(
            json!({"type": "settings.updated", "settings": settings()}),
        )],
        "ui.layout.sync" | "ui.screenshot.result" | "tabs.sync.client.retire" => Vec::new(),
        _ if kind.ends_with(".activity.list") => {
            // freshell's trackers watch its own PTYs; a forwarded request would list this one.
            vec![Reply::Send(json!({
                "type": format!("{kind}.response"),
                "requestId": request_id.unwrap_or(json!("")),
                "terminals": [{"terminalId": UPSTREAM_TERMINAL_ID, "phase": "busy", "updatedAt": 1}],
            }))]
        }
        "terminal.create" => vec![Reply::Send(json!({
            "type": "terminal.created",
            "requestId": request_id.unwrap_or(json!("")),
            "terminalId": UPSTREAM_TERMINAL_ID,
            "createdAt": 1,
        }))],
        _ if kind.starts_with("terminal.") => vec![Reply::Send(error(
            "INVALID_TERMINAL_ID",
            &format!("{UPSTREAM_ONLY}: the stand-in got {kind}"),
            request_id,
        ))],
        _ => vec![Reply::Send(error(
            "INVALID_MESSAGE",
            &format!("Invalid message: unknown type {kind}"),
            request_id,
        ))],
    }
}

/// freshell's answer to a good hello (`ready`, then the handshake snapshot), plus terminal
/// traffic about the stand-in's own terminal that ptyhub must drop.
fn handshake(incarnation: u32) -> Vec<Value> {
    let boot_id = format!("boot-{UPSTREAM_ONLY}-{incarnation}");
    vec![
        json!({"type": "ready", "timestamp": TIMESTAMP, "serverInstanceId": format!("srv-{UPSTREAM_ONLY}"), "bootId": boot_id}),
        json!({"type": "settings.updated", "settings": settings()}),
        json!({"type": "perf.logging", "enabled": false}),
        json!({
            "type": "terminal.inventory",
            "bootId": boot_id,
            "terminals": [{
                "terminalId": UPSTREAM_TERMINAL_ID, "title": "Shell", "mode": "shell",
                "status": "running", "createdAt": 1, "lastActivityAt": 1,
            }],
            "terminalMeta": [],
        }),
        json!({"type": "terminals.changed", "revision": 1}),
        upstream_terminal_output(),
    ]
}

/// A `terminal.output` of the stand-in's own terminal (never for a browser).
pub fn upstream_terminal_output() -> Value {
    json!({
        "type": "terminal.output",
        "terminalId": UPSTREAM_TERMINAL_ID,
        "attachRequestId": format!("{UPSTREAM_ONLY}-attach"),
        "streamId": format!("{UPSTREAM_ONLY}-stream"),
        "seqStart": 1,
        "seqEnd": 1,
        "data": format!("{UPSTREAM_ONLY} output\r\n"),
    })
}

/// Every terminal-family message freshell might send about its own terminals; a test pushes
/// these to check ptyhub drops them.
pub fn upstream_terminal_traffic() -> Vec<Value> {
    vec![
        json!({"type": "ready", "timestamp": TIMESTAMP, "bootId": format!("boot-{UPSTREAM_ONLY}-pushed")}),
        json!({"type": "terminal.inventory", "bootId": format!("boot-{UPSTREAM_ONLY}"), "terminals": [], "terminalMeta": []}),
        json!({"type": "terminals.changed", "revision": 99, "recoverableTerminalIds": [UPSTREAM_TERMINAL_ID]}),
        json!({"type": "terminal.created", "requestId": format!("{UPSTREAM_ONLY}-req"), "terminalId": UPSTREAM_TERMINAL_ID, "createdAt": 1}),
        upstream_terminal_output(),
        json!({"type": "terminal.title.updated", "terminalId": UPSTREAM_TERMINAL_ID, "title": UPSTREAM_ONLY}),
        json!({"type": "terminal.meta.updated", "upsert": [{"terminalId": UPSTREAM_TERMINAL_ID, "updatedAt": 1}], "remove": []}),
        json!({"type": "terminal.exit", "terminalId": UPSTREAM_TERMINAL_ID, "exitCode": 0}),
    ]
}

fn error(code: &str, message: &str, request_id: Option<Value>) -> Value {
    let mut error =
        json!({"type": "error", "code": code, "message": message, "timestamp": TIMESTAMP});
    if let Some(request_id) = request_id {
        error["requestId"] = request_id;
    }
    error
}

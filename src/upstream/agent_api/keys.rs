//! `send-keys` input as freshell's agent API reads it: raw `data`, else
//! `keys` (tmux-style key names, joined into one write), else literal `text`.

use serde_json::Value;

/// Key names freshell's CLI and MCP tool know (case-insensitive).
const NAMED_KEYS: &[(&str, &str)] = &[
    ("ENTER", "\r"),
    ("ESCAPE", "\x1b"),
    ("TAB", "\t"),
    ("BSPACE", "\x7f"),
    ("UP", "\x1b[A"),
    ("DOWN", "\x1b[B"),
    ("RIGHT", "\x1b[C"),
    ("LEFT", "\x1b[D"),
    ("SPACE", " "),
];

/// One key name: a named key, `C-<letter>` (its control code), or itself.
fn translate_key(key: &str) -> String {
    let upper = key.to_uppercase();
    if let Some((_, bytes)) = NAMED_KEYS.iter().find(|(name, _)| *name == upper) {
        return (*bytes).to_owned();
    }
    if let Some(letter) = upper.strip_prefix("C-").filter(|l| l.len() == 1) {
        let letter = letter.as_bytes()[0];
        if letter.is_ascii_uppercase() {
            return char::from(letter - b'@').to_string();
        }
    }
    key.to_owned()
}

/// The bytes a `send-keys` body asks to write (empty if it names none).
pub fn input_of(body: &serde_json::Map<String, Value>) -> String {
    if let Some(Value::String(data)) = body.get("data") {
        return data.clone();
    }
    match body.get("keys") {
        Some(Value::Array(keys)) => {
            return keys
                .iter()
                .map(|key| match key {
                    Value::String(key) => translate_key(key),
                    other => translate_key(&other.to_string()),
                })
                .collect();
        }
        Some(Value::String(key)) => return translate_key(key),
        _ => {}
    }
    match body.get("text") {
        Some(Value::String(text)) => text.clone(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(body: Value) -> String {
        input_of(body.as_object().expect("object"))
    }

    #[test]
    fn key_names_become_their_bytes_and_other_words_pass_through() {
        assert_eq!(
            input(
                json!({"keys": ["echo hi", "Enter", "c-c", "C-d", "up", "Tab", "BSpace", "Space", "Escape"]})
            ),
            "echo hi\r\x03\x04\x1b[A\t\x7f \x1b"
        );
        assert_eq!(input(json!({"keys": "enter"})), "\r");
        assert_eq!(input(json!({"keys": ["C-1"]})), "C-1");
    }

    #[test]
    fn data_wins_over_keys_and_keys_over_text() {
        assert_eq!(
            input(json!({"data": "raw\r", "keys": ["ENTER"], "text": "t"})),
            "raw\r"
        );
        assert_eq!(input(json!({"keys": ["ENTER"], "text": "t"})), "\r");
        assert_eq!(input(json!({"text": "ENTER"})), "ENTER");
        assert_eq!(input(json!({})), "");
    }
}

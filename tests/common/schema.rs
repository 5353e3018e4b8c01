//! Validation of every server→client message against freshell's frozen contract.
//!
//! `tests/contract/ws-server-messages.schema.json` holds one JSON Schema (draft 2020-12) per
//! message type under `.messages["<type>"]`. A message whose type has no entry, or that fails
//! its entry, is a protocol violation: the browser client would misread or drop it.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

const SCHEMA_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/contract/ws-server-messages.schema.json"
);

fn validators() -> &'static HashMap<String, jsonschema::Validator> {
    static VALIDATORS: OnceLock<HashMap<String, jsonschema::Validator>> = OnceLock::new();
    VALIDATORS.get_or_init(|| {
        let text = std::fs::read_to_string(SCHEMA_FILE).expect("read the server-message schema");
        let contract: Value = serde_json::from_str(&text).expect("the schema file is JSON");
        let messages = contract["messages"]
            .as_object()
            .expect("schema has .messages");
        messages
            .iter()
            .map(|(kind, schema)| {
                let validator = jsonschema::validator_for(schema)
                    .unwrap_or_else(|e| panic!("schema for {kind} does not compile: {e}"));
                (kind.clone(), validator)
            })
            .collect()
    })
}

/// Checks one received message; `Err` carries every reason it is not a valid server message.
pub fn validate_server_message(message: &Value) -> Result<(), String> {
    let Some(kind) = message.get("type").and_then(Value::as_str) else {
        return Err("message has no string `type`".into());
    };
    let Some(validator) = validators().get(kind) else {
        return Err(format!(
            "`{kind}` is not a server message type of protocol 7"
        ));
    };
    let errors: Vec<String> = validator
        .iter_errors(message)
        .map(|e| format!("{} (at {})", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

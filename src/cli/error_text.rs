//! An error as the one line the CLI prints.
//!
//! Errors are built in layers (`cannot start a claude session` → `the
//! daemon refused` → the io error), and a layer often already quotes the
//! one below it; printing every layer then says "No such file or directory
//! (os error 2): No such file or directory (os error 2)". Each cause is
//! printed once.

/// `err` and its causes, outermost first, each once, joined by ": ".
pub fn error_text(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if part.is_empty() || text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read /x: {source}")]
    struct Quoting {
        source: std::io::Error,
    }

    #[test]
    fn a_cause_already_quoted_is_not_repeated() {
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        let err = anyhow::Error::new(Quoting { source: io }).context("cannot start");
        let text = error_text(&err);
        assert_eq!(text.matches("not found").count(), 1, "{text}");
        assert!(text.starts_with("cannot start: cannot read /x: "), "{text}");
    }
}

//! A strict reader of the Prometheus text exposition (0.0.4, and OpenMetrics 1.0 as
//! prometheus-client writes it), so a test can both say "this is valid" and ask for values.
//!
//! Checked: `# HELP`/`# TYPE`/`# UNIT` lines, one `# TYPE` per family before its samples,
//! samples of a family kept together, metric and label names, quoted label values with their
//! escapes, numeric values, no sample repeated, and `# EOF` (when present) as the last line.

use std::collections::{BTreeMap, HashSet};

/// One sample line.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// A parsed scrape.
#[derive(Debug, Default)]
pub struct Scrape {
    /// Family name → type (`counter`, `gauge`, …).
    pub families: BTreeMap<String, String>,
    pub samples: Vec<Sample>,
}

impl Scrape {
    /// Parses and validates `text`; the error names the offending line.
    pub fn parse(text: &str) -> Result<Scrape, String> {
        let mut scrape = Scrape::default();
        let mut seen_samples = HashSet::new();
        let mut closed_families = HashSet::new();
        let mut current_family: Option<String> = None;
        let mut eof_seen = false;
        for (index, line) in text.lines().enumerate() {
            let at = |why: String| format!("line {}: {why}: {line:?}", index + 1);
            if eof_seen {
                return Err(at("text after # EOF".into()));
            }
            if line == "# EOF" {
                eof_seen = true;
                continue;
            }
            if let Some(comment) = line.strip_prefix("# ") {
                let mut parts = comment.splitn(3, ' ');
                let (keyword, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                let rest = parts.next().unwrap_or("");
                if !is_metric_name(name) {
                    return Err(at(format!("bad metric name {name:?} in a # line")));
                }
                match keyword {
                    "HELP" | "UNIT" => {}
                    "TYPE" => {
                        const TYPES: &[&str] = &[
                            "counter",
                            "gauge",
                            "histogram",
                            "summary",
                            "untyped",
                            "unknown",
                            "info",
                            "stateset",
                            "gaugehistogram",
                        ];
                        if !TYPES.contains(&rest) {
                            return Err(at(format!("unknown metric type {rest:?}")));
                        }
                        if scrape
                            .families
                            .insert(name.to_owned(), rest.to_owned())
                            .is_some()
                        {
                            return Err(at(format!("a second # TYPE for {name}")));
                        }
                    }
                    other => return Err(at(format!("unknown # line {other:?}"))),
                }
                if let Some(previous) = current_family.replace(name.to_owned()) {
                    if previous != name {
                        closed_families.insert(previous);
                    }
                }
                continue;
            }
            if line.is_empty() {
                return Err(at("empty line".into()));
            }
            let sample = parse_sample(line).map_err(at)?;
            let family = scrape
                .family_of(&sample.name)
                .ok_or_else(|| at(format!("sample {} has no # TYPE", sample.name)))?;
            if current_family.as_deref() != Some(family.as_str()) {
                if closed_families.contains(&family) {
                    return Err(at(format!("samples of {family} are not kept together")));
                }
                if let Some(previous) = current_family.replace(family.clone()) {
                    closed_families.insert(previous);
                }
            }
            let key = format!("{}{:?}", sample.name, sample.labels);
            if !seen_samples.insert(key) {
                return Err(at("a sample repeated with the same labels".into()));
            }
            scrape.samples.push(sample);
        }
        Ok(scrape)
    }

    /// The family a sample name belongs to (`x_total` → counter `x`, `x_sum` → summary `x`…).
    fn family_of(&self, sample_name: &str) -> Option<String> {
        if self.families.contains_key(sample_name) {
            return Some(sample_name.to_owned());
        }
        const SUFFIXES: &[(&str, &[&str])] = &[
            ("_total", &["counter"]),
            (
                "_created",
                &["counter", "histogram", "summary", "gaugehistogram"],
            ),
            ("_bucket", &["histogram", "gaugehistogram"]),
            ("_sum", &["histogram", "summary"]),
            ("_count", &["histogram", "summary"]),
            ("_gcount", &["gaugehistogram"]),
            ("_gsum", &["gaugehistogram"]),
            ("_info", &["info"]),
        ];
        SUFFIXES.iter().find_map(|(suffix, types)| {
            let base = sample_name.strip_suffix(suffix)?;
            let kind = self.families.get(base)?;
            types.contains(&kind.as_str()).then(|| base.to_owned())
        })
    }

    /// Whether a family is declared (its `# TYPE` line), by its name as the docs write it:
    /// `ptyhub_processes_spawned_total` finds the counter `ptyhub_processes_spawned`.
    pub fn has_family(&self, documented_name: &str) -> bool {
        self.families.contains_key(documented_name)
            || documented_name
                .strip_suffix("_total")
                .is_some_and(|base| self.families.get(base).is_some_and(|t| t == "counter"))
    }

    /// The value of the sample `name` whose labels are exactly `labels`.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let wanted: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.samples
            .iter()
            .find(|s| s.name == name && s.labels == wanted)
            .map(|s| s.value)
    }

    /// Every sample of `name` whose labels include all of `labels`.
    pub fn matching(&self, name: &str, labels: &[(&str, &str)]) -> Vec<&Sample> {
        self.samples
            .iter()
            .filter(|s| s.name == name)
            .filter(|s| {
                labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect()
    }
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse_value(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => text.parse().ok(),
    }
}

/// `name{label="value",…} value [timestamp]`
fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line
        .find(['{', ' '])
        .ok_or_else(|| "a sample without a value".to_owned())?;
    let name = &line[..name_end];
    if !is_metric_name(name) {
        return Err(format!("bad metric name {name:?}"));
    }
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(mut inside) = rest.strip_prefix('{') {
        loop {
            if let Some(after) = inside.strip_prefix('}') {
                rest = after;
                break;
            }
            let eq = inside
                .find('=')
                .ok_or_else(|| "a label without '='".to_owned())?;
            let label = &inside[..eq];
            if !is_label_name(label) {
                return Err(format!("bad label name {label:?}"));
            }
            let mut chars = inside[eq + 1..].char_indices();
            if chars.next().map(|(_, c)| c) != Some('"') {
                return Err(format!("the value of label {label} is not quoted"));
            }
            let mut value = String::new();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' => {
                        end = Some(eq + 1 + i + 1);
                        break;
                    }
                    '\\' => match chars.next().map(|(_, c)| c) {
                        Some('\\') => value.push('\\'),
                        Some('"') => value.push('"'),
                        Some('n') => value.push('\n'),
                        other => return Err(format!("bad escape \\{other:?} in a label value")),
                    },
                    c => value.push(c),
                }
            }
            let end = end.ok_or_else(|| format!("label {label}'s value is not closed"))?;
            if labels.insert(label.to_owned(), value).is_some() {
                return Err(format!("label {label} given twice"));
            }
            inside = &inside[end..];
            if let Some(after) = inside.strip_prefix(',') {
                inside = after;
            } else if !inside.starts_with('}') {
                return Err("labels must be separated by ','".to_owned());
            }
        }
    }
    let mut fields = rest
        .strip_prefix(' ')
        .ok_or_else(|| "no space before the value".to_owned())?
        .split(' ');
    let value_text = fields.next().unwrap_or("");
    let value = parse_value(value_text).ok_or_else(|| format!("bad value {value_text:?}"))?;
    if let Some(timestamp) = fields.next() {
        if timestamp.parse::<f64>().is_err() {
            return Err(format!("bad timestamp {timestamp:?}"));
        }
    }
    if fields.next().is_some() {
        return Err("text after the timestamp".to_owned());
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

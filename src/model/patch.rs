//! Setting one field of a RON file by path, in its text: what `gameday sweep --set` varies.
//!
//! Editing the text (rather than a parsed value) keeps everything the file says as it was,
//! including enum variants such as `Synchronous(Any(1))` that a generic RON value cannot
//! represent, and the edited file goes through the normal validation with its usual errors.
//!
//! A path is dot-separated field names with optional list selectors:
//! `dns.ttl`, `datastores[postgres].replication`, `apps[0].capacity.workers`,
//! `backup_stores[cold-archive].throughput`. A selector is an index or the value of the
//! element's `name` (or `node`) field. `Some(…)` around a value is looked through.

use std::ops::Range;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    #[error("`{path}`: no field `{field}` there")]
    NoField { path: String, field: String },
    #[error("`{path}`: no element `{selector}` in that list")]
    NoElement { path: String, selector: String },
    #[error("`{path}`: `{segment}` is not a field name with an optional [selector]")]
    BadPath { path: String, segment: String },
    #[error("`{path}`: the file is not well-formed RON around byte {at}")]
    Malformed { path: String, at: usize },
}

/// Skips whitespace and comments from `i`.
fn skip_ws(t: &[u8], mut i: usize) -> usize {
    loop {
        while i < t.len() && t[i].is_ascii_whitespace() {
            i += 1;
        }
        if t[i..].starts_with(b"//") {
            while i < t.len() && t[i] != b'\n' {
                i += 1;
            }
        } else if t[i..].starts_with(b"/*") {
            let mut depth = 0;
            while i < t.len() {
                if t[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if t[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else {
            return i;
        }
    }
}

/// The end of the string literal starting at `i` (just past its closing quote).
fn string_end(t: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    while i < t.len() {
        match t[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The end of the bracketed group opening at `i`.
fn group_end(t: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    while i < t.len() {
        match t[i] {
            b'"' => {
                i = string_end(t, i)?;
                continue;
            }
            b'/' if t[i..].starts_with(b"//") || t[i..].starts_with(b"/*") => {
                i = skip_ws(t, i);
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The span of the value starting at (or after whitespace from) `i`.
fn value_span(t: &[u8], i: usize) -> Option<Range<usize>> {
    let start = skip_ws(t, i);
    let mut j = start;
    match *t.get(j)? {
        b'"' => return Some(start..string_end(t, j)?),
        b'(' | b'[' | b'{' => return Some(start..group_end(t, j)?),
        _ => {}
    }
    // An identifier or number, possibly followed by a parenthesised group (`Some(…)`).
    while j < t.len() && (t[j].is_ascii_alphanumeric() || matches!(t[j], b'_' | b'.' | b'-' | b'+'))
    {
        j += 1;
    }
    if j == start {
        return None;
    }
    let k = skip_ws(t, j);
    if t.get(k) == Some(&b'(') {
        return Some(start..group_end(t, k)?);
    }
    Some(start..j)
}

/// The inside of a struct-like or list value: past its name and opening bracket, looking
/// through `Some(…)`.
fn inside(t: &[u8], span: Range<usize>) -> Option<Range<usize>> {
    let mut s = span;
    loop {
        let text = &t[s.clone()];
        let open = text.iter().position(|&c| matches!(c, b'(' | b'[' | b'{'))?;
        let name = std::str::from_utf8(&text[..open]).ok()?.trim();
        let body = s.start + open + 1..s.end - 1;
        if name == "Some" {
            s = value_span(t, body.start)?;
            continue;
        }
        return Some(body);
    }
}

/// The top-level items of a bracketed body, as spans (`name: value` entries or values).
fn items(t: &[u8], body: Range<usize>) -> Option<Vec<Range<usize>>> {
    let mut out = Vec::new();
    let mut i = skip_ws(t, body.start);
    while i < body.end {
        let start = i;
        // An entry is `key: value` or just `value`.
        let first = value_span(t, i)?;
        let mut end = first.end;
        let k = skip_ws(t, end);
        if t.get(k) == Some(&b':') {
            end = value_span(t, k + 1)?.end;
        }
        out.push(start..end);
        i = skip_ws(t, end);
        if t.get(i) == Some(&b',') {
            i = skip_ws(t, i + 1);
        }
        if i == start {
            return None;
        }
    }
    Some(out)
}

/// `key: value` → (key, value span).
fn entry(t: &[u8], item: Range<usize>) -> Option<(String, Range<usize>)> {
    let key = value_span(t, item.start)?;
    let k = skip_ws(t, key.end);
    if t.get(k) != Some(&b':') {
        return None;
    }
    let name = std::str::from_utf8(&t[key.clone()])
        .ok()?
        .trim_matches('"')
        .to_string();
    Some((name, value_span(t, k + 1)?))
}

/// Replaces the value at `path` in `text` with `value` (RON text, written as is).
pub fn set(text: &str, path: &str, value: &str) -> Result<String, PatchError> {
    let t = text.as_bytes();
    let malformed = |at: usize| PatchError::Malformed {
        path: path.to_string(),
        at,
    };
    let mut span = value_span(t, 0).ok_or_else(|| malformed(0))?;
    for segment in path.split('.') {
        let (field, selector) = match segment.split_once('[') {
            Some((f, rest)) => match rest.strip_suffix(']') {
                Some(sel) => (f, Some(sel)),
                None => {
                    return Err(PatchError::BadPath {
                        path: path.into(),
                        segment: segment.into(),
                    });
                }
            },
            None => (segment, None),
        };
        if field.is_empty() || !field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(PatchError::BadPath {
                path: path.into(),
                segment: segment.into(),
            });
        }
        let body = inside(t, span.clone()).ok_or_else(|| malformed(span.start))?;
        let entries = items(t, body.clone()).ok_or_else(|| malformed(body.start))?;
        span = entries
            .iter()
            .filter_map(|it| entry(t, it.clone()))
            .find(|(k, _)| k == field)
            .map(|(_, v)| v)
            .ok_or_else(|| PatchError::NoField {
                path: path.into(),
                field: field.into(),
            })?;
        if let Some(sel) = selector {
            let list = inside(t, span.clone()).ok_or_else(|| malformed(span.start))?;
            let elements = items(t, list.clone()).ok_or_else(|| malformed(list.start))?;
            let found = match sel.parse::<usize>() {
                Ok(k) => elements.get(k).cloned(),
                Err(_) => elements.into_iter().find(|el| {
                    inside(t, el.clone())
                        .and_then(|b| items(t, b))
                        .is_some_and(|fields| {
                            fields
                                .into_iter()
                                .filter_map(|f| entry(t, f))
                                .any(|(k, v)| {
                                    (k == "name" || k == "node")
                                        && std::str::from_utf8(&t[v])
                                            .ok()
                                            .map(|s| s.trim_matches('"'))
                                            == Some(sel)
                                })
                        })
                }),
            };
            span = found.ok_or_else(|| PatchError::NoElement {
                path: path.into(),
                selector: sel.into(),
            })?;
        }
    }
    Ok(format!(
        "{}{}{}",
        &text[..span.start],
        value,
        &text[span.end..]
    ))
}

/// A value as typed on a command line, as RON: numbers, booleans, quoted strings and
/// structured values (`Synchronous(Any(1))`) as they are; anything else (`30s`, `250MiB/s`)
/// quoted.
pub fn ron_value(typed: &str) -> String {
    let t = typed.trim();
    let bare_word = !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let numeric = t.parse::<f64>().is_ok();
    let structured =
        t.starts_with('"') || t.contains('(') || t.starts_with('[') || t.starts_with('{');
    let keyword = matches!(t, "true" | "false" | "None");
    if numeric
        || structured
        || keyword
        || (bare_word && t.starts_with(|c: char| c.is_ascii_uppercase()))
    {
        t.to_string()
    } else {
        format!("\"{}\"", t.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOPO: &str = r#"// a comment with (brackets
Topology(
    name: "t",
    dns: Some(Dns(node: "gslb", ttl: "60s", /* inline ) */ phase: Random)),
    datastores: [
        Datastore(name: "pg", replication: Synchronous(Any(1))),
        Datastore(name: "redis", replication: Asynchronous(ship_interval: "250ms")),
    ],
    apps: [AppTier(nodes: ["a"], capacity: Some((workers: 4, service_time: "40ms")))],
)
"#;

    #[test]
    fn sets_fields_through_options_lists_and_selectors() {
        let out = set(TOPO, "dns.ttl", "\"300s\"").unwrap();
        assert!(out.contains("ttl: \"300s\", /* inline ) */ phase: Random"));
        let out = set(
            TOPO,
            "datastores[pg].replication",
            "Asynchronous(ship_interval: \"0s\")",
        )
        .unwrap();
        assert!(
            out.contains(
                "Datastore(name: \"pg\", replication: Asynchronous(ship_interval: \"0s\"))"
            )
        );
        assert!(!out.contains("Synchronous"));
        let out = set(TOPO, "datastores[1].replication", "X").unwrap();
        assert!(out.contains("name: \"redis\", replication: X)"));
        let out = set(TOPO, "apps[0].capacity.workers", "8").unwrap();
        assert!(out.contains("workers: 8, service_time"));
    }

    #[test]
    fn names_what_is_missing() {
        assert_eq!(
            set(TOPO, "dns.tll", "1"),
            Err(PatchError::NoField {
                path: "dns.tll".into(),
                field: "tll".into()
            })
        );
        assert!(matches!(
            set(TOPO, "datastores[mysql].replication", "1"),
            Err(PatchError::NoElement { .. })
        ));
        assert!(matches!(
            set(TOPO, "datastores[pg.x", "1"),
            Err(PatchError::BadPath { .. })
        ));
        assert!(matches!(
            set("Topology(name: \"x\"", "name", "1"),
            Err(PatchError::Malformed { .. })
        ));
    }

    #[test]
    fn command_line_values_become_ron() {
        assert_eq!(ron_value("30s"), "\"30s\"");
        assert_eq!(ron_value("250MiB/s"), "\"250MiB/s\"");
        assert_eq!(ron_value("8"), "8");
        assert_eq!(ron_value("0.5"), "0.5");
        assert_eq!(ron_value("true"), "true");
        assert_eq!(ron_value("Random"), "Random");
        assert_eq!(ron_value("Synchronous(Any(2))"), "Synchronous(Any(2))");
        assert_eq!(ron_value("\"x\""), "\"x\"");
    }
}

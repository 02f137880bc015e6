//! JUnit XML for CI systems: one test suite per scenario, one test case per gate (or per
//! service target) plus one for the safety checkers, with the measured figure in each
//! failure's message so a CI page says what missed by how much.

use super::summary::{GateResult, ScenarioReport, SuiteReport};
use std::fmt::Write;

/// Escapes text for an XML attribute or element.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

pub fn render(report: &SuiteReport) -> String {
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    // One case per gate, plus the safety checkers and whether every run reached its end.
    let cases = |s: &ScenarioReport| s.gates.len() + 2;
    let failures = |s: &ScenarioReport| {
        s.gates.iter().filter(|g| !g.passed).count()
            + usize::from(!s.safety_violations.is_empty())
            + usize::from(s.incomplete_runs > 0)
    };
    let total: usize = report.scenarios.iter().map(cases).sum();
    let failed: usize = report.scenarios.iter().map(failures).sum();
    let _ = writeln!(
        x,
        "<testsuites name=\"gameday\" tests=\"{total}\" failures=\"{failed}\" errors=\"0\">"
    );
    for s in &report.scenarios {
        let fails = failures(s);
        let _ = writeln!(
            x,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{fails}\" errors=\"0\">",
            esc(&s.name),
            cases(s)
        );
        let _ = writeln!(
            x,
            "    <properties><property name=\"topology\" value=\"{}\"/><property name=\"seed\" value=\"{}\"/><property name=\"runs\" value=\"{}\"/></properties>",
            esc(&s.topology),
            s.seed,
            s.runs
        );
        let class = format!("gameday.{}", s.name);
        for g in &s.gates {
            gate_case(&mut x, g, &class);
        }
        safety_case(&mut x, s, &class);
        complete_case(&mut x, s, &class);
        let _ = writeln!(x, "  </testsuite>");
    }
    let _ = writeln!(x, "</testsuites>");
    x
}

/// One gate (or target) as a test case: its figure in `system-out`, or in the failure.
fn gate_case(x: &mut String, g: &GateResult, class: &str) {
    let _ = write!(
        x,
        "    <testcase classname=\"{}\" name=\"{}\"",
        esc(class),
        esc(&g.name)
    );
    if g.passed {
        let _ = writeln!(
            x,
            ">\n      <system-out>{}</system-out>\n    </testcase>",
            esc(&g.measured)
        );
    } else {
        let _ = writeln!(
            x,
            ">\n      <failure message=\"{}\" type=\"TargetMissed\">{}: {}</failure>\n    </testcase>",
            esc(&g.measured),
            esc(&g.name),
            esc(&g.measured)
        );
    }
}

/// The safety checkers as one case, failing with every violation.
fn safety_case(x: &mut String, s: &ScenarioReport, class: &str) {
    let _ = write!(
        x,
        "    <testcase classname=\"{}\" name=\"safety checkers\"",
        esc(class)
    );
    if s.safety_violations.is_empty() {
        let _ = writeln!(x, "/>");
    } else {
        let _ = writeln!(
            x,
            ">\n      <failure message=\"{}\" type=\"SafetyViolation\">{}</failure>\n    </testcase>",
            esc(&s.safety_violations[0]),
            esc(&s.safety_violations.join("\n"))
        );
    }
}

/// The case that fails when a bound stopped a run before the scenario's end: its figures
/// judge nothing, so no gate above can be trusted.
fn complete_case(x: &mut String, s: &ScenarioReport, class: &str) {
    let _ = write!(
        x,
        "    <testcase classname=\"{}\" name=\"every run reached the end of the scenario\"",
        esc(class)
    );
    let stopped: Vec<String> = s
        .per_run
        .iter()
        .filter_map(|r| {
            r.stopped
                .as_ref()
                .map(|why| format!("seed {}: {why}", r.seed))
        })
        .collect();
    match stopped.first() {
        None => {
            let _ = writeln!(x, "/>");
        }
        Some(first) => {
            let _ = writeln!(
                x,
                ">\n      <failure message=\"not judged: {}\" type=\"RunIncomplete\">{} of {} runs stopped early and were not judged:\n{}</failure>\n    </testcase>",
                esc(first),
                s.incomplete_runs,
                s.runs,
                esc(&stopped.join("\n"))
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            esc("a<b & \"c\" 'd'>"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;"
        );
        assert_eq!(esc("x\u{1}y\nz"), "x y\nz");
    }
}

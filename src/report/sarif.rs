//! SARIF 2.1.0 for GitHub code scanning, built with serde-sarif.
//!
//! One run; the driver lists every rule (with or without results) so code scanning can show
//! rule help; each result has one location relative to `%SRCROOT%`, a region, and the
//! fingerprint as `partialFingerprints["preflight/v1"]` (GitHub computes its own
//! `primaryLocationLineHash`, so that key is left to it). Files that were skipped or only partly
//! analysed become `toolExecutionNotifications`.
//!
//! No `informationUri` or `helpUri`: preflight has no public home yet, and a link to another
//! project's page would send users to the wrong tool. Each rule's full help travels in the SARIF
//! itself (`help.text` and `help.markdown`: what, why, example, fix, references), which is what
//! code scanning shows. When the project has its own repository, add its URL as the driver's
//! `informationUri` and `{url}#<rule-id>` as each rule's `helpUri`.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;
use serde_sarif::sarif::{
    ArtifactContent, ArtifactLocation, Invocation, Location, Message, MultiformatMessageString, Notification,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor, Result as SarifResult,
    ResultLevel, Run, RunAutomationDetails, Sarif, Tool, ToolComponent, VersionControlDetails,
};

use crate::catalog::{RuleMeta, RULES};
use crate::engine::Outcome;
use crate::finding::Level;

pub(crate) const FINGERPRINT_KEY: &str = "preflight/v1";

/// Options that come from the command line and the environment.
#[derive(Default)]
pub(crate) struct SarifOptions {
    pub category: Option<String>,
    /// (repository URL, commit) when run in a git checkout.
    pub provenance: Option<(String, Option<String>, Option<String>)>,
    /// The config file the run used (`invocations[0].properties.configFile`, a file URI).
    pub config_file: Option<std::path::PathBuf>,
}

fn level_str(l: Level) -> &'static str {
    match l {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Note => "note",
    }
}

/// Percent-encodes a relative path for a URI reference (RFC 3986 unreserved + `/`). The bytes
/// of a name that is not UTF-8, written `\xNN` in the path (`fsread::path_text`), are encoded as
/// themselves: the URI names the file on disk.
pub(crate) fn uri_path(rel: &str) -> String {
    let mut bytes = Vec::with_capacity(rel.len());
    let mut rest = rel.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        let hex = |t: &[u8]| std::str::from_utf8(t).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, tail) {
            (b'\\', [b'x', h1, h2, after @ ..]) if hex(&[*h1, *h2]).is_some() => {
                bytes.extend(hex(&[*h1, *h2]));
                rest = after;
            }
            _ => {
                bytes.push(b);
                rest = tail;
            }
        }
    }
    let mut out = String::with_capacity(bytes.len());
    for b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) fn rule_markdown(r: &RuleMeta) -> String {
    let mut md = format!(
        "# {}\n\n{}\n\n**Level:** {} · **Checklist:** {}\n\n## What it finds\n\n{}\n\n## Why it matters\n\n{}\n\n## Example\n\n```\n{}\n```\n\n## Use instead\n\n```\n{}\n```\n",
        r.id, r.summary, r.level, r.checklist, r.what, r.why, r.example, r.use_instead
    );
    if !r.references.is_empty() {
        md.push_str("\n## References\n\n");
        for u in r.references {
            md.push_str(&format!("- <{u}>\n"));
        }
    }
    md.push_str(&format!(
        "\nSuppress one accepted finding with `# preflight: ignore[{}] <reason>` (or `//`) on the line or the line above.\n",
        r.id
    ));
    md
}

fn rule_descriptor(r: &RuleMeta) -> ReportingDescriptor {
    let mut props = BTreeMap::new();
    props.insert("precision".to_string(), json!(r.precision));
    props.insert(
        "problem.severity".to_string(),
        json!(match r.level {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "recommendation",
        }),
    );
    if let Some(s) = r.security_severity {
        props.insert("security-severity".to_string(), json!(s));
    }
    let mut tags: Vec<String> = r.tags.iter().map(|t| t.to_string()).collect();
    for cwe in r.cwe {
        // GitHub's convention for CWE tags.
        tags.push(format!("external/cwe/{}", cwe.to_lowercase()));
    }
    let mut help_text =
        format!("{}\n\nWhy: {}\n\nExample:\n{}\n\nUse instead:\n{}", r.what, r.why, r.example, r.use_instead);
    if !r.references.is_empty() {
        help_text.push_str("\n\nReferences:");
        for u in r.references {
            help_text.push_str(&format!("\n- {u}"));
        }
    }
    ReportingDescriptor::builder()
        .id(r.id)
        .name(r.name)
        .short_description(MultiformatMessageString::builder().text(r.summary).build())
        .full_description(MultiformatMessageString::builder().text(r.what).build())
        .help(MultiformatMessageString::builder().text(help_text).markdown(rule_markdown(r)).build())
        .default_configuration(ReportingConfiguration::builder().level(json!(level_str(r.level))).build())
        .properties(PropertyBag::builder().tags(tags).additional_properties(props).build())
        .build()
}

fn location(rel: &str, region: Option<Region>) -> Location {
    let artifact = ArtifactLocation::builder().uri(uri_path(rel)).uri_base_id("%SRCROOT%").build();
    let physical = match region {
        Some(r) => PhysicalLocation::builder().artifact_location(artifact).region(r).build(),
        None => PhysicalLocation::builder().artifact_location(artifact).build(),
    };
    Location::builder().physical_location(physical).build()
}

pub(crate) fn render(outcome: &Outcome, root: &Path, opts: &SarifOptions) -> String {
    let rules: Vec<ReportingDescriptor> = RULES.iter().map(rule_descriptor).collect();
    let driver = ToolComponent::builder()
        .name("preflight")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .rules(rules)
        .build();

    let results: Vec<SarifResult> = outcome
        .findings
        .iter()
        .map(|f| {
            let region = if f.end_line > f.line || f.end_col > f.col {
                Region::builder()
                    .start_line(f.line as i64)
                    .start_column(f.col as i64)
                    .end_line(f.end_line as i64)
                    .end_column(f.end_col as i64)
                    .snippet(ArtifactContent::builder().text(f.snippet.clone()).build())
                    .build()
            } else {
                Region::builder().start_line(f.line as i64).build()
            };
            let mut fps = BTreeMap::new();
            fps.insert(FINGERPRINT_KEY.to_string(), f.fingerprint.clone());
            SarifResult::builder()
                .rule_id(f.rule.id)
                .rule_index(crate::catalog::index_of(f.rule.id) as i64)
                .level(match f.level {
                    Level::Error => ResultLevel::Error,
                    Level::Warning => ResultLevel::Warning,
                    Level::Note => ResultLevel::Note,
                })
                .message(Message::builder().text(f.message.clone()).build())
                .locations(vec![location(&f.path, Some(region))])
                .partial_fingerprints(fps)
                .build()
        })
        .collect();

    let notifications: Vec<Notification> = outcome
        .notes
        .iter()
        .map(|n| {
            Notification::builder()
                .level(json!("warning"))
                .message(Message::builder().text(format!("{}: {}", n.path, n.message)).build())
                .locations(vec![location(&n.path, None)])
                .build()
        })
        .collect();
    let mut invocation = if notifications.is_empty() {
        Invocation::builder().execution_successful(true).build()
    } else {
        Invocation::builder().execution_successful(true).tool_execution_notifications(notifications).build()
    };
    if let Some(config) = &opts.config_file {
        let uri = format!("file://{}", uri_path(&config.to_string_lossy().replace('\\', "/")));
        let mut props = BTreeMap::new();
        props.insert("configFile".to_string(), json!(uri));
        invocation.properties = Some(PropertyBag::builder().additional_properties(props).build());
    }

    let mut base = BTreeMap::new();
    let root_uri = format!("file://{}/", uri_path(&crate::fsread::path_text(root)).trim_end_matches('/'));
    base.insert("%SRCROOT%".to_string(), ArtifactLocation::builder().uri(root_uri).build());

    let mut run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .invocations(vec![invocation])
        .original_uri_base_ids(base)
        .column_kind(json!("unicodeCodePoints"))
        .build();
    if let Some(cat) = &opts.category {
        run.automation_details =
            Some(RunAutomationDetails::builder().id(format!("{}/", cat.trim_end_matches('/'))).build());
    }
    if let Some((url, rev, branch)) = &opts.provenance {
        let mut vcd = VersionControlDetails::builder().repository_uri(url.clone()).build();
        vcd.revision_id = rev.clone();
        vcd.branch = branch.clone();
        vcd.mapped_to = Some(ArtifactLocation::builder().uri_base_id("%SRCROOT%").build());
        run.version_control_provenance = Some(vec![vcd]);
    }
    let log = Sarif::builder()
        .schema("https://json.schemastore.org/sarif-2.1.0.json")
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build();
    let mut s = super::escape_json_invisible(serde_json::to_string_pretty(&log).expect("sarif"));
    s.push('\n');
    s
}

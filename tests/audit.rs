//! Messages and shapes from the audit of findings on real repositories: each message names the
//! exact problem and a fix that works.

mod common;

use common::*;

const MODELS: &str = "from django.db import models\n\n\
class Machine(models.Model):\n    name = models.CharField(max_length=50)\n\n\
class Port(models.Model):\n    machine = models.ForeignKey(Machine, on_delete=models.CASCADE, related_name=\"ports\")\n";

fn n_plus_one(view: &str) -> serde_json::Value {
    let p = Project::new(&[("inv/__init__.py", ""), ("inv/models.py", MODELS), ("inv/filters.py", view)]);
    let o = p.run(&["check", "--format", "json", "--select", "django-n-plus-one"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// netbox's filter sets call `vm.interfaces.values_list("id", flat=True)` per row: the message
/// said to add `.prefetch_related("interfaces")`, which does not help (`.values_list()` on a
/// related manager queries even when it is prefetched).
#[test]
fn related_manager_query_per_row_names_a_fix_that_works() {
    let v = n_plus_one(
        "from inv.models import Machine\n\n\ndef port_ids():\n    ids = []\n    for m in Machine.objects.all():\n        \
         ids.extend(m.ports.values_list(\"id\", flat=True))\n    return ids\n",
    );
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v[0]["path"], "inv/filters.py");
    assert_eq!(v[0]["line"], 7);
    assert_eq!(
        v[0]["message"],
        "`m.ports.values_list(\"id\", flat=True)` runs one query per Machine in the loop over the queryset on line 6 \
         (N+1), and `.values_list()` on a related manager queries even when the relation is prefetched: prefetch \
         the rows it needs with `Prefetch(\"ports\", queryset=...)` and read them with `.all()`, or make one query \
         for all rows before the loop"
    );
    // `.all()` is what a prefetch serves: that fix stays.
    let v = n_plus_one(
        "from inv.models import Machine\n\n\ndef port_names():\n    out = []\n    for m in Machine.objects.all():\n        \
         out.append([p.name for p in m.ports.all()])\n    return out\n",
    );
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    assert_eq!(
        v[0]["message"],
        "`m.ports.all()` runs one query per Machine in the loop over the queryset on line 6 (N+1): add \
         `.prefetch_related(\"ports\")` to that queryset"
    );
}

/// DefectDojo's dashboards write chart data into scripts (`let punchcardData = {{ punchcard|safe }};`):
/// the advice "let Django escape it" breaks the script; `json_script` is the fix there. Outside
/// a script the advice stays. (A script value is reported only when a view builds it from the
/// request, as here.)
#[test]
fn safe_filter_in_a_script_block_names_json_script() {
    let p = Project::new(&[
        (
            "app/templates/app/dash.html",
            "<h1>{{ title }}</h1>\n<SCRIPT>\n  let data = {{ stats.week|safe }};\n</SCRIPT>\n\
             <script src=\"/s.js\"></script>\n<p>{{ note|safe }}</p>\n",
        ),
        (
            "app/views.py",
            "from django.shortcuts import render\n\n\ndef dash(request):\n    stats = weekly(request.GET[\"range\"])\n    \
             return render(request, \"app/dash.html\", {\"stats\": stats})\n",
        ),
        // `note` comes from nowhere the code shows: reported in an audit only.
        ("preflight.toml", "[xss-unsafe-html]\nreport-unknown-sources = true\n"),
    ]);
    let o = p.run(&["check", "--format", "json", "--select", "xss-unsafe-html"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v[0]["line"], 3);
    assert_eq!(
        v[0]["message"],
        "`{{ stats.week|safe }}` writes `stats.week` into a `<script>` block unescaped: a value holding `</script>` \
         ends the block and the rest runs as HTML (XSS): render it with \
         `{{ stats.week|json_script:\"stats-week\" }}` outside the script and read it with \
         `JSON.parse(document.getElementById(\"stats-week\").textContent)`"
    );
    assert_eq!(v[1]["line"], 6);
    assert_eq!(
        v[1]["message"],
        "`{{ note|safe }}` marks `note` safe, so the template does not escape it (XSS): let Django escape it, or \
         build the HTML in Python with `format_html()`"
    );
}

/// DefectDojo's and plane's compose files and scripts (`DD_SECRET_KEY: "${DD_SECRET_KEY:-…}"`)
/// and committed env files were told to read the value with `os.environ[...]`: they already
/// are the environment. Each place now gets the fix that applies there.
#[test]
fn hardcoded_credential_fix_fits_the_file() {
    let p = Project::new(&[
        (
            "docker-compose.yml",
            "services:\n  web:\n    environment:\n      APP_SECRET: \"${APP_SECRET:-q7Rz2mWx9Lk4Tb8N}\"\n",
        ),
        ("docker/Dockerfile", "FROM python:3.12\nENV APP_SECRET=${APP_SECRET:-q7Rz2mWx9Lk4Tb8N}\n"),
        ("deploy/variables.env", "APP_SECRET=q7Rz2mWx9Lk4Tb8N\n"),
        ("app/client.py", "API_TOKEN = \"q7Rz2mWx9Lk4Tb8N\"\n"),
    ]);
    let o = p.run(&["check", "--format", "json", "--select", "secret-hardcoded"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let got: Vec<(String, String)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap().to_string(), f["message"].as_str().unwrap().to_string()))
        .collect();
    let want = [
        (
            "app/client.py",
            "`API_TOKEN` is a hardcoded credential (\"q7Rz…\" (16 chars)): read it from the environment \
             (`os.environ[\"API_TOKEN\"]`) and rotate it",
        ),
        (
            "deploy/variables.env",
            "`APP_SECRET` is a hardcoded credential (\"q7Rz…\" (16 chars)) in a committed env file: set it in the \
             deployment's environment or a secrets manager instead, leave a placeholder here, and rotate it",
        ),
        (
            "docker-compose.yml",
            "`APP_SECRET` is a hardcoded credential (\"q7Rz…\" (16 chars)): it is the default of \
             `${APP_SECRET:-…}`, used whenever APP_SECRET is unset: drop the default (with `${APP_SECRET:?}` a \
             missing value stops with an error) and rotate it",
        ),
        (
            "docker/Dockerfile",
            "`APP_SECRET` is a hardcoded credential (\"q7Rz…\" (16 chars)): the default of `${APP_SECRET:-…}` is \
             baked into the image, where anyone with the image can read it: remove it from the Dockerfile, pass \
             APP_SECRET when the container starts, and rotate it",
        ),
    ];
    let want: Vec<(String, String)> = want.iter().map(|(p, m)| (p.to_string(), m.to_string())).collect();
    assert_eq!(got, want);
}

/// DefectDojo runs Ruff in CI with flake8-bandit's checks selected (`"S1", "S2", …` in
/// ruff.toml): that is a security scan, but was reported as missing.
#[test]
fn ruff_with_bandit_checks_is_a_security_scan() {
    let ruff_ci =
        "on: [pull_request]\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps:\n      - run: ruff check .\n";
    let run = |files: &[(&str, &str)]| {
        let p = Project::new(files);
        triples(&p.run(&["check", "--format", "json", "--select", "ci-security-scan-missing"]))
    };
    let reported = vec![t("ci-security-scan-missing", ".github/workflows/ruff.yml", 1)];
    for (rel, config) in [
        ("ruff.toml", "[lint]\nselect = [\n    \"E\",\n    \"S1\", \"S608\",\n]\n"),
        (".ruff.toml", "lint.extend-select = ['S']\n"),
        ("pyproject.toml", "[project]\nname = \"x\"\n\n[tool.ruff.lint]\nselect = [\"ALL\"]\n"),
    ] {
        assert_eq!(run(&[(".github/workflows/ruff.yml", ruff_ci), (rel, config)]), vec![], "{rel}");
    }
    // Ruff without the bandit checks, or commented out, or the checks with no Ruff in CI.
    for (ci, rel, config) in [
        (ruff_ci, "ruff.toml", "[lint]\nselect = [\"E\", \"F\", \"SIM\"]\n"),
        (ruff_ci, "ruff.toml", "[lint]\nselect = [\n    \"E\",\n    # \"S\",\n]\n"),
        (ruff_ci, "ruff.toml", "[lint]\nselect = [\"E\"]\nignore = [\"S101\"]\n"),
        (ruff_ci, "pyproject.toml", "[tool.black]\nselect = [\"S\"]\n"),
        ("jobs:\n  t:\n    steps:\n      - run: pytest\n", "ruff.toml", "[lint]\nselect = [\"S\"]\n"),
    ] {
        assert_eq!(run(&[(".github/workflows/ruff.yml", ci), (rel, config)]), reported, "{config}");
    }
}

/// cookiecutter-django's CI only names Ruff as an argument of a version script; that is not a
/// run, whatever pyproject.toml selects. pre-commit running a Ruff hook is.
#[test]
fn a_mention_of_ruff_is_not_a_run() {
    let config = ("pyproject.toml", "[tool.ruff]\nlint.select = [\"S\"]\n");
    let run = |files: &[(&str, &str)]| {
        let p = Project::new(files);
        triples(&p.run(&["check", "--format", "json", "--select", "ci-security-scan-missing"]))
    };
    let align = "jobs:\n  align:\n    steps:\n      - run: python scripts/version.py ruff\n";
    assert_eq!(
        run(&[(".github/workflows/align.yml", align), config]),
        vec![t("ci-security-scan-missing", ".github/workflows/align.yml", 1)]
    );
    let hooks = "repos:\n  - repo: https://github.com/astral-sh/ruff-pre-commit\n    hooks:\n      - id: ruff\n";
    let pre_commit = "jobs:\n  lint:\n    steps:\n      - run: pre-commit run --all-files\n";
    assert_eq!(run(&[(".github/workflows/lint.yml", pre_commit), (".pre-commit-config.yaml", hooks), config]), vec![]);
    // pre-commit.ci (a `ci:` section) runs the hooks on every pull request, outside the CI files.
    let hosted = format!("ci:\n  autoupdate_schedule: weekly\n{hooks}");
    assert_eq!(run(&[(".github/workflows/align.yml", align), (".pre-commit-config.yaml", &hosted), config]), vec![]);
    // A Ruff hook alone, run by nobody the repository shows.
    assert_eq!(
        run(&[(".github/workflows/align.yml", align), (".pre-commit-config.yaml", hooks), config]),
        vec![t("ci-security-scan-missing", ".github/workflows/align.yml", 1)]
    );
}

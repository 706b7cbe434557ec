//! `coffer scan`: finds hardcoded secrets in files, stdin, git history or staged changes. Runs
//! in-process (no server). Parsed on its own, before the main command line, because its
//! `--format` also accepts `sarif`. Exit codes: 0 nothing found, 1 findings, 2 error.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use coffer_scan::report::{Format, Report, Stats};
use coffer_scan::walk::{self, ScanOutcome, WalkOptions};
use coffer_scan::{Baseline, Config, RuleSet, ScanOptions, Scanner};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// No findings.
const EXIT_CLEAN: u8 = 0;
/// Findings reported.
const EXIT_FOUND: u8 = 1;
/// Bad arguments, unreadable path, bad rules or config.
const EXIT_FAIL: u8 = 2;

/// Find hardcoded secrets in files, directories, stdin (`-`) or git history.
#[derive(Debug, Parser)]
#[command(
    name = "coffer scan",
    about,
    after_help = "Exit codes: 0 no findings, 1 findings, 2 error."
)]
pub struct ScanArgs {
    /// Files or directories to scan (`-` for standard input); default `.`.
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// Output format: table, json or sarif.
    #[arg(long, default_value = "table", value_parser = parse_format)]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Report only findings whose fingerprints are not in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write the fingerprints of every finding to FILE (and exit 0).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Configuration file (default: `.coffer-scan.toml` in the scanned directory).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Extra rule file(s) (TOML): rules add to, or override by id, the built-in ones.
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,
    /// Skip files ignored by .gitignore (default: scan them, secrets live in ignored files).
    #[arg(long)]
    pub respect_gitignore: bool,
    /// Skip files larger than this (bytes; K, M, G suffixes accepted).
    #[arg(long, value_name = "SIZE", default_value = "10M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Worker threads (default: available parallelism).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Include the full secret values in JSON output.
    #[arg(long)]
    pub show_secrets: bool,
    /// Scan the git history of the repository at PATH instead of the working tree.
    #[arg(long, conflicts_with = "staged")]
    pub git: bool,
    /// With --git: only commits at or after this date (RFC 3339 or YYYY-MM-DD).
    #[arg(long, value_name = "DATE", requires = "git")]
    pub since: Option<String>,
    /// With --git: only commits reachable from this ref (default: all refs).
    #[arg(long, value_name = "REF", requires = "git")]
    pub branch: Option<String>,
    /// Scan the staged changes of the repository at PATH (for pre-commit hooks).
    #[arg(long)]
    pub staged: bool,
    /// Inventory SSH keys under PATH instead: private keys (unencrypted, DSA, short RSA),
    /// public keys and authorized_keys entries, and which authorised keys have no known owner.
    #[arg(long)]
    pub ssh: bool,
    /// Onboarding: store findings in Coffer and rewrite configuration files to references.
    #[command(flatten)]
    pub onboarding: super::onboard::OnboardFlags,
}

/// `coffer scan` as seen by the main parser (for `coffer --help`); [`main`] normally handles
/// the command line before that parser runs.
#[derive(Debug, clap::Args)]
pub struct ScanPassthrough {
    /// Arguments of `coffer scan` (see `coffer scan --help`).
    #[arg(num_args = 0.., allow_hyphen_values = true, trailing_var_arg = true)]
    args: Vec<OsString>,
}

impl ScanPassthrough {
    /// The command line `coffer scan ARGS…`.
    pub fn argv(self) -> Vec<OsString> {
        ["coffer", "scan"]
            .into_iter()
            .map(OsString::from)
            .chain(self.args)
            .collect()
    }
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

/// `1048576`, `512K`, `10M`, `1G` (binary multiples).
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim().to_ascii_uppercase();
    let t = t.trim_end_matches("IB").trim_end_matches('B');
    let (num, mult) = match t.chars().last() {
        Some('K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('G') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    num.trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("invalid size {s:?}: use bytes or a K/M/G suffix"))
}

/// True when the command line is `coffer scan …` (checked before the main parser runs).
pub fn is_scan(argv: &[OsString]) -> bool {
    argv.get(1).is_some_and(|a| a == "scan")
}

/// Runs `coffer scan` with the whole command line (`coffer scan …`); returns the exit code.
pub fn main(argv: Vec<OsString>) -> u8 {
    let rest = argv.into_iter().skip(2);
    let args = match ScanArgs::try_parse_from(std::iter::once(OsString::from("coffer scan")).chain(rest)) {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_FAIL } else { EXIT_CLEAN };
        }
    };
    match run(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("Error: {message}");
            EXIT_FAIL
        }
    }
}

/// The scan itself; `Err` is a message for standard error (exit 2).
pub fn run(args: &ScanArgs) -> Result<u8, String> {
    let paths: Vec<String> = if args.paths.is_empty() {
        vec![".".into()]
    } else {
        args.paths.clone()
    };
    if args.ssh {
        return ssh_inventory(args, &paths);
    }
    let scanner = build_scanner(args, &paths)?;
    let outcome = collect(args, &paths, &scanner)?;
    let mut findings = outcome.findings;
    if let Some(path) = &args.baseline {
        findings = Baseline::load(path).map_err(|e| e.to_string())?.new_findings(findings);
    }
    let report = Report {
        findings: &findings,
        skipped: &outcome.skipped,
        stats: (!args.git && !args.staged).then_some(Stats {
            files: outcome.files,
            bytes: outcome.bytes,
        }),
        show_secrets: args.show_secrets && args.format == Format::Json,
    };
    let text = report.render(args.format);
    match &args.output {
        Some(file) => std::fs::write(file, &text).map_err(|e| format!("cannot write {}: {e}", file.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| e.to_string())?;
        }
    }
    if args.format != Format::Table {
        for s in &outcome.skipped {
            eprintln!("skipped {}: {}", s.path, s.reason);
        }
    }
    if let Some(text) = super::onboard::after_scan(&findings, Path::new(&paths[0]), &args.onboarding)? {
        if args.format == Format::Table && args.output.is_none() {
            print!("{text}");
        } else {
            eprint!("{text}");
        }
    }
    if let Some(file) = &args.write_baseline {
        Baseline::from_findings(&findings)
            .write(file)
            .map_err(|e| e.to_string())?;
        eprintln!("Wrote {} fingerprint(s) to {}", findings.len(), file.display());
        return Ok(EXIT_CLEAN);
    }
    Ok(if findings.is_empty() { EXIT_CLEAN } else { EXIT_FOUND })
}

/// Rules (built-in, config, `--rules` files) and allowlist → a scanner.
fn build_scanner(args: &ScanArgs, paths: &[String]) -> Result<Scanner, String> {
    let config = match &args.config {
        Some(file) => Config::load(file).map_err(|e| e.to_string())?,
        None => {
            let root = Path::new(&paths[0]);
            Config::find(root).map_err(|e| e.to_string())?.unwrap_or_default()
        }
    };
    let mut rules = config.rule_set().map_err(|e| e.to_string())?;
    for file in &args.rules {
        let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let extra = RuleSet::from_toml(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        rules = rules.merge(extra);
    }
    let options = ScanOptions {
        allowlist: config.allowlist,
    };
    Scanner::new(rules, options).map_err(|e| e.to_string())
}

/// Runs the requested kind of scan: history, staged, stdin or the file walker.
fn collect(args: &ScanArgs, paths: &[String], scanner: &Scanner) -> Result<ScanOutcome, String> {
    if args.git || args.staged {
        let [repo] = paths else {
            return Err("--git and --staged take one repository path".into());
        };
        let repo = Path::new(repo);
        let findings = if args.staged {
            coffer_scan::git::scan_staged(repo, scanner)
        } else {
            let opts = coffer_scan::git::HistoryOptions {
                since: args.since.clone(),
                branch: args.branch.clone(),
            };
            coffer_scan::git::scan_history(repo, scanner, &opts)
        };
        let mut findings = findings.map_err(|e| e.to_string())?;
        walk::sort_findings(&mut findings);
        return Ok(ScanOutcome {
            findings,
            ..ScanOutcome::default()
        });
    }
    if paths.iter().any(|p| p == "-") {
        if paths.len() > 1 {
            return Err("`-` (standard input) cannot be combined with other paths".into());
        }
        return walk::scan_reader(scanner, "-", std::io::stdin().lock()).map_err(|e| e.to_string());
    }
    let options = WalkOptions {
        respect_gitignore: args.respect_gitignore,
        max_file_size: args.max_file_size,
        threads: args.threads,
    };
    let roots: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    let bar = progress_bar(args.no_progress);
    let tick = |bytes: u64| bar.inc(bytes);
    let outcome = walk::scan_paths(scanner, &roots, &options, Some(&tick));
    bar.finish_and_clear();
    outcome.map_err(|e| e.to_string())
}

/// A spinner with bytes scanned and speed, on stderr, only for an interactive terminal.
fn progress_bar(disabled: bool) -> ProgressBar {
    if disabled || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} scanning… {bytes} ({binary_bytes_per_sec}) {elapsed}")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// `coffer scan --ssh`: the key inventory as JSON, or a table of what needs attention.
/// Exit 1 when a key is flagged or an authorised key has no known owner.
fn ssh_inventory(args: &ScanArgs, paths: &[String]) -> Result<u8, String> {
    let roots: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    let inventory = coffer_scan::ssh::inventory(&roots).map_err(|e| e.to_string())?;
    let flagged: Vec<(String, String)> = inventory
        .flagged()
        .filter(|(_, weaknesses)| !weaknesses.is_empty())
        .map(|(location, weaknesses)| {
            let names: Vec<String> = weaknesses
                .iter()
                .map(|w| {
                    serde_json::to_value(w)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default()
                })
                .collect();
            (location, names.join(", "))
        })
        .collect();
    let unowned = inventory.unowned().count();
    let text = if args.format == Format::Json {
        serde_json::to_string_pretty(&inventory).map_err(|e| e.to_string())? + "\n"
    } else {
        let mut out = format!(
            "{} private keys, {} public keys, {} authorized_keys entries, {} distinct keys\n",
            inventory.private_keys.len(),
            inventory.public_keys.len(),
            inventory.authorized_keys.len(),
            inventory.keys.len()
        );
        for (location, weaknesses) in &flagged {
            out.push_str(&format!("FLAGGED  {location}  {weaknesses}\n"));
        }
        for key in inventory.unowned() {
            let fingerprint = serde_json::to_value(key.fingerprint)
                .map(|v| v.to_string())
                .unwrap_or_default();
            let places: Vec<String> = key
                .authorized_in
                .iter()
                .map(|l| format!("{}:{}", l.file, l.line))
                .collect();
            out.push_str(&format!(
                "UNOWNED  {} {}  authorised in {}\n",
                key.key_type,
                fingerprint.trim_matches('"'),
                places.join(", ")
            ));
        }
        out
    };
    match &args.output {
        Some(file) => std::fs::write(file, &text).map_err(|e| format!("cannot write {}: {e}", file.display()))?,
        None => print!("{text}"),
    }
    Ok(if flagged.is_empty() && unowned == 0 {
        EXIT_CLEAN
    } else {
        EXIT_FOUND
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1024").unwrap(), 1024);
        assert_eq!(parse_size("10M").unwrap(), 10 << 20);
        assert_eq!(parse_size("512KiB").unwrap(), 512 << 10);
        assert!(parse_size("ten").is_err());
    }

    #[test]
    fn arguments_parse() {
        use clap::CommandFactory;
        ScanArgs::command().debug_assert();
        let a = ScanArgs::try_parse_from([
            "coffer scan",
            "--format",
            "sarif",
            "--git",
            "--since",
            "2024-01-01",
            ".",
        ])
        .unwrap();
        assert_eq!(a.format, Format::Sarif);
        assert!(a.git);
        assert!(ScanArgs::try_parse_from(["coffer scan", "--since", "2024-01-01"]).is_err());
        assert!(ScanArgs::try_parse_from(["coffer scan", "--format", "xml"]).is_err());
        assert!(is_scan(&["coffer".into(), "scan".into()]));
        assert!(!is_scan(&["coffer".into(), "kv".into()]));
    }
}

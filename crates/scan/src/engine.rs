//! The detection engine: one Aho-Corasick automaton over every rule's keywords finds candidate
//! positions; only a small window around each hit is handed to the owning rules' regexes; the
//! matches then go through validators, non-secret filters and suppressions.
//!
//! Memory stays bounded whatever is scanned: a rule's regexes are compiled on its first keyword
//! hit; their search caches are shared by the scans and kept within a budget
//! ([`crate::caches`]); and a long input can be fed in pieces ([`Stream`]), with an overlap
//! that gives exactly the findings of one whole-buffer scan.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use regex_automata::Input;
use regex_automata::meta::Regex;
use regex_automata::util::iter::Searcher;

use crate::caches::{Caches, Private, RuleCache};
use crate::config::Allowlist;
use crate::context::{self, LineCounter};
use crate::filters;
use crate::rules::{Compiled, compile_regex};
use crate::{Finding, RuleSet, ScanError, SecretValue};

/// Bytes of one line looked at on each side of a keyword hit (bounds huge lines).
const LINE_LIMIT: usize = 2048;
/// Bytes a multiline window may span on each side of a keyword hit.
const MULTILINE_LIMIT: usize = 32 * 1024;
/// Bytes before a secret handed to the context filters and the key-name reader.
const BEFORE_LIMIT: usize = 256;
/// Default distance, in lines, between a finding and its related finding.
const RELATED_LINES: usize = 5;

/// Settings of a [`Scanner`] beyond its rules.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Paths, rules and values never reported (from `.coffer-scan.toml`).
    pub allowlist: Allowlist,
}

/// A compiled rule set, ready to scan any number of buffers from any number of threads.
pub struct Scanner {
    rules: RuleSet,
    keywords: AhoCorasick,
    /// For each keyword (automaton pattern), the rules that own it.
    keyword_rules: Vec<Vec<usize>>,
    /// For each rule, the index of its `related` rule.
    related: Vec<Option<usize>>,
    allow_paths: GlobSet,
    allow_regexes: Vec<Regex>,
    /// Bytes a [`Stream`] keeps on each side of the keyword hits it handles (see [`Stream`]).
    margin: usize,
    /// Longest keyword, in bytes.
    max_keyword: usize,
    /// The regexes' search caches.
    caches: Caches,
}

/// A regex match before filtering: byte spans in the scanned buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Candidate {
    start: usize,
    end: usize,
    rule: usize,
    key: Option<(usize, usize)>,
}

impl Scanner {
    /// Builds the keyword automaton and checks the allowlist.
    pub fn new(rules: RuleSet, options: ScanOptions) -> Result<Scanner, ScanError> {
        let allow = options.allowlist;
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        for (ri, rule) in rules.rules().iter().enumerate() {
            if allow.rules.contains(&rule.id) {
                continue;
            }
            for kw in &rule.keywords {
                let kw = kw.to_ascii_lowercase();
                let next = index.len();
                let ki = *index.entry(kw).or_insert(next);
                if ki == keyword_rules.len() {
                    keyword_rules.push(Vec::new());
                }
                if !keyword_rules[ki].contains(&ri) {
                    keyword_rules[ki].push(ri);
                }
            }
        }
        let mut patterns: Vec<(String, usize)> = index.into_iter().collect();
        patterns.sort_by_key(|(_, i)| *i);
        let patterns: Vec<String> = patterns.into_iter().map(|(p, _)| p).collect();
        let max_keyword = patterns.iter().map(String::len).max().unwrap_or(0).max(1);
        let build = |kind| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .kind(kind)
                .build(&patterns)
        };
        let keywords = build(Some(AhoCorasickKind::DFA))
            .or_else(|_| build(None))
            .map_err(|e| ScanError::Parse(format!("rule keywords: {e}")))?;
        let related = rules
            .rules()
            .iter()
            .map(|r| {
                r.related.as_ref().map(|id| {
                    rules
                        .rules()
                        .iter()
                        .position(|o| &o.id == id)
                        .ok_or_else(|| ScanError::Rule {
                            id: r.id.clone(),
                            message: format!("related rule {id:?} does not exist"),
                        })
                })
            })
            .map(Option::transpose)
            .collect::<Result<Vec<_>, _>>()?;
        let mut globs = GlobSetBuilder::new();
        for p in &allow.paths {
            let glob = GlobBuilder::new(p)
                .literal_separator(false)
                .build()
                .map_err(|e| ScanError::Parse(format!("allowlist path {p:?}: {e}")))?;
            globs.add(glob);
        }
        let allow_paths = globs
            .build()
            .map_err(|e| ScanError::Parse(format!("allowlist paths: {e}")))?;
        let allow_regexes = allow
            .regexes
            .iter()
            .map(|r| compile_regex(r).map_err(|e| ScanError::Parse(format!("allowlist regex {r:?}: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        // A hit's window reaches MULTILINE_LIMIT past it; a candidate in the window reads up to
        // ALLOW_LIMIT around itself (BEFORE_LIMIT and filters::AFTER_LIMIT are less); plus the
        // keyword itself.
        let margin = MULTILINE_LIMIT.max(LINE_LIMIT) + 2 * context::ALLOW_LIMIT + max_keyword + 1;
        Ok(Scanner {
            caches: Caches::new(rules.len()),
            rules,
            keywords,
            keyword_rules,
            related,
            allow_paths,
            allow_regexes,
            margin,
            max_keyword,
        })
    }

    /// The rules this scanner runs.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// True when `path` is allowlisted (not to be scanned).
    pub fn path_allowed(&self, path: &str) -> bool {
        !self.allow_paths.is_empty()
            && (self.allow_paths.is_match(path) || self.allow_paths.is_match(path.trim_start_matches("./")))
    }

    /// Every secret in `data`, reported under `path`, in order of position.
    pub fn scan_bytes(&self, path: &str, data: &[u8]) -> Vec<Finding> {
        let mut stream = self.stream(path);
        stream.feed(data, true);
        stream.finish()
    }

    /// Starts scanning an input that comes in pieces (see [`Stream`]).
    pub(crate) fn stream<'s>(&'s self, path: &'s str) -> Stream<'s> {
        let allowed = self.path_allowed(path);
        Stream {
            scanner: self,
            path,
            private: (!allowed).then(|| self.caches.begin()),
            covered: if allowed { Vec::new() } else { vec![0; self.rules.len()] },
            base: 0,
            done: 0,
            line: 1,
            column: 0,
            results: Vec::new(),
        }
    }

    /// Bytes of context a [`Stream`] keeps on each side of the hits it handles: a buffer
    /// passed to [`Stream::feed`] before the end of the input must be longer than twice this.
    pub(crate) fn margin(&self) -> usize {
        self.margin
    }

    /// Drops the regex caches of finished scans (at the end of a walk).
    pub(crate) fn release_caches(&self) {
        self.caches.release();
    }

    /// Runs the keyword automaton over `data[from..to]` and confirms each hit ending after
    /// stream offset `done` (`data[0]` is at stream offset `base`) with its rules' regexes.
    fn candidates(
        &self,
        data: &[u8],
        (from, to): (usize, usize),
        base: usize,
        done: usize,
        covered: &mut [usize],
        private: &mut Private,
    ) -> Vec<Candidate> {
        let mut out = Vec::new();
        for hit in self.keywords.find_overlapping_iter(&data[from..to]) {
            let (hs, he) = (from + hit.start(), from + hit.end());
            if base + he <= done {
                continue;
            }
            for &ri in &self.keyword_rules[hit.pattern().as_usize()] {
                if covered[ri] > base + hs {
                    continue;
                }
                let rule = &self.rules.rules()[ri];
                let Some(compiled) = rule.compiled() else { continue };
                let (before, after) = rule.window_lines();
                let own_end = context::line_end(data, he, LINE_LIMIT);
                let (ws, we) = if before == 0 && after == 0 {
                    (context::line_start(data, hs, LINE_LIMIT), own_end)
                } else {
                    (
                        context::lines_back(data, hs, before, MULTILINE_LIMIT),
                        context::lines_forward(data, he, after, MULTILINE_LIMIT),
                    )
                };
                // A whole line was seen: later hits on it add nothing. A clipped line: go on.
                let whole = own_end == data.len() || data[own_end] == b'\n';
                covered[ri] = base + if whole { own_end } else { he };
                self.caches.with(ri, &compiled.regex, private, |cache| {
                    confirm(ri, compiled, cache, data, ws, we, &mut out);
                });
            }
        }
        out
    }

    /// Filters, validates and locates one candidate.
    fn finish(&self, path: &str, data: &[u8], c: Candidate, lines: &mut LineCounter<'_>) -> Option<Finding> {
        let rule = &self.rules.rules()[c.rule];
        let compiled = rule.compiled()?;
        let raw = &data[c.start..c.end];
        let secret = std::str::from_utf8(raw).ok()?;
        let line_from = context::line_start(data, c.start, BEFORE_LIMIT);
        let before = &data[line_from..c.start];
        if filters::is_non_secret(secret, before) {
            return None;
        }
        let after = &data[c.end..data.len().min(c.end + filters::AFTER_LIMIT)];
        if filters::documentation_host_follows(after) {
            return None;
        }
        if let Some(v) = rule.validate
            && !v.check(secret)
        {
            return None;
        }
        if rule.min_entropy.is_some_and(|min| filters::entropy(secret) < min) {
            return None;
        }
        if compiled
            .allow
            .iter()
            .chain(&self.allow_regexes)
            .any(|r| r.is_match(raw))
        {
            return None;
        }
        let key_name = match c.key {
            Some((ks, ke)) => std::str::from_utf8(&data[ks..ke]).ok().map(str::to_string),
            None => context::key_name_before(before),
        };
        if rule.generic {
            let named_secret = key_name.as_deref().is_some_and(filters::secret_key_name);
            if !named_secret || filters::generic_value_rejected(secret) {
                return None;
            }
        }
        if context::inline_allowed(data, c.start, c.end) {
            return None;
        }
        let (line, column) = lines.locate(c.start);
        let end_line = line + memchr::memchr_iter(b'\n', raw).count();
        Some(Finding {
            rule_id: rule.id.clone(),
            description: rule.description.clone(),
            kind: rule.kind.clone(),
            path: path.to_string(),
            line,
            column,
            end_line,
            secret: SecretValue::new(secret),
            key_name,
            fingerprint: fingerprint(&rule.id, path, secret),
            commit: None,
            related: None,
        })
    }

    /// Attaches to each finding of a rule with `related` the nearest finding of that rule.
    fn attach_related(&self, findings: &mut [Finding]) {
        let index_of = |id: &str| self.rules.rules().iter().position(|r| r.id == id);
        for i in 0..findings.len() {
            let Some(ri) = index_of(&findings[i].rule_id) else {
                continue;
            };
            let Some(target) = self.related[ri] else { continue };
            let within = self.rules.rules()[ri].related_within_lines.unwrap_or(RELATED_LINES);
            let target_id = &self.rules.rules()[target].id;
            let line = findings[i].line;
            let nearest = findings
                .iter()
                .filter(|g| &g.rule_id == target_id && g.line.abs_diff(line) <= within)
                .min_by_key(|g| g.line.abs_diff(line))
                .map(|g| (g.rule_id.clone(), g.secret.clone()));
            findings[i].related = nearest;
        }
    }
}

/// Runs one rule's regex over `data[ws..we]` and records every match's secret span.
fn confirm(
    ri: usize,
    compiled: &Compiled,
    cache: &mut RuleCache,
    data: &[u8],
    ws: usize,
    we: usize,
    out: &mut Vec<Candidate>,
) {
    let RuleCache { cache, caps } = cache;
    let mut searcher = Searcher::new(Input::new(&data[ws..we]));
    while searcher
        .advance(|input| {
            compiled.regex.search_captures_with(cache, input, caps);
            Ok(caps.get_match())
        })
        .is_some()
    {
        let Some(secret) = caps.get_group(compiled.secret_group).or_else(|| caps.get_group(0)) else {
            continue;
        };
        if secret.is_empty() {
            continue;
        }
        let key = compiled
            .key_groups
            .iter()
            .find_map(|&g| caps.get_group(g))
            .map(|m| (ws + m.start, ws + m.end));
        out.push(Candidate {
            start: ws + secret.start,
            end: ws + secret.end,
            rule: ri,
            key,
        });
    }
}

/// Which findings survive overlaps: a generic finding overlapping a specific one goes, and of
/// findings with the same span only the first is kept. `spans` is sorted by start.
fn overlap_keep(spans: &[(usize, usize, bool)]) -> Vec<bool> {
    let mut keep = vec![true; spans.len()];
    for i in 0..spans.len() {
        let (s, e, generic) = spans[i];
        for j in i + 1..spans.len() {
            let (s2, e2, generic2) = spans[j];
            if s2 >= e {
                break;
            }
            if (s, e) == (s2, e2) && generic == generic2 {
                keep[j] = false;
            } else if generic && !generic2 {
                keep[i] = false;
            } else if generic2 && !generic {
                keep[j] = false;
            }
        }
    }
    keep
}

/// One input scanned in consecutive pieces, with the findings of a single [`Scanner::scan_bytes`]
/// over the whole of it.
///
/// Each [`Stream::feed`] gets a buffer holding the input from stream offset `base` on. It
/// handles the keyword hits that end after those already handled and at least
/// [`Scanner::margin`] bytes before the buffer's end (all of them at the end of the input),
/// in the automaton's order; hits ending just after the previous piece are found again by
/// re-running the automaton from one keyword length before it. A hit's regex window, and the
/// text around any match in it, stay within the margin on either side, so every hit sees
/// exactly the bytes a whole-input scan would. Candidates are deduplicated and filtered at
/// the end (a multiline window may reach back into the previous piece), and lines and
/// columns carry over from piece to piece.
pub(crate) struct Stream<'s> {
    scanner: &'s Scanner,
    path: &'s str,
    /// `None` for an allowlisted path (nothing is scanned).
    private: Option<Private>,
    /// For each rule, the stream offset up to which its hits are already covered.
    covered: Vec<usize>,
    /// Stream offset of the first byte of the next buffer.
    base: usize,
    /// Keyword hits ending at or before this stream offset are handled.
    done: usize,
    /// Line (1-based) of `base`, and the characters before it on that line.
    line: usize,
    column: usize,
    /// Every candidate (stream offsets) and what became of it.
    results: Vec<(Candidate, Option<Finding>)>,
}

impl Stream<'_> {
    /// Scans `buf`, the input from stream offset `base` (the previous piece's tail, then new
    /// bytes) to its end or, with `eof`, to the input's end. Returns how many bytes at the
    /// front of `buf` the next call no longer needs: the next buffer starts after them.
    pub(crate) fn feed(&mut self, buf: &[u8], eof: bool) -> usize {
        let Some(private) = self.private.as_mut() else {
            return buf.len();
        };
        let scanner = self.scanner;
        let (base, end) = (self.base, self.base + buf.len());
        let limit = if eof { end } else { end.saturating_sub(scanner.margin) };
        if limit > self.done {
            // One keyword length before `done`: the automaton's state there is the same as in
            // a whole-input run, so hits are found and ordered the same.
            let from = (self.done + 1).saturating_sub(scanner.max_keyword).max(base) - base;
            let range = (from, limit - base);
            let mut candidates = scanner.candidates(buf, range, base, self.done, &mut self.covered, private);
            candidates.sort_unstable();
            candidates.dedup_by_key(|c| (c.start, c.end, c.rule));
            let mut lines = LineCounter::with_origin(buf, self.line, self.column);
            for c in candidates {
                let found = scanner.finish(self.path, buf, c, &mut lines);
                let c = Candidate {
                    start: base + c.start,
                    end: base + c.end,
                    key: c.key.map(|(s, e)| (base + s, base + e)),
                    ..c
                };
                self.results.push((c, found));
            }
            self.done = limit;
            scanner.caches.trim(private);
        }
        let keep = self.done.saturating_sub(scanner.margin).clamp(base, end);
        let gone = &buf[..keep - base];
        match memchr::memrchr(b'\n', gone) {
            Some(i) => {
                self.line += memchr::memchr_iter(b'\n', gone).count();
                self.column = context::chars(&gone[i + 1..]);
            }
            None => self.column += context::chars(gone),
        }
        self.base = keep;
        keep - base
    }

    /// The findings, in order of position (what [`Scanner::scan_bytes`] returns).
    pub(crate) fn finish(mut self) -> Vec<Finding> {
        let mut results = std::mem::take(&mut self.results);
        if results.is_empty() {
            return Vec::new();
        }
        // Pieces are sorted one by one; the same span may come from two of them.
        results.sort_unstable_by_key(|(c, _)| *c);
        results.dedup_by_key(|(c, _)| (c.start, c.end, c.rule));
        let scanner = self.scanner;
        let mut findings = Vec::new();
        let mut spans = Vec::new();
        for (c, found) in results {
            if let Some(f) = found {
                spans.push((c.start, c.end, scanner.rules.rules()[c.rule].generic));
                findings.push(f);
            }
        }
        let keep = overlap_keep(&spans);
        let mut findings: Vec<Finding> = findings
            .into_iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|(f, _)| f)
            .collect();
        scanner.attach_related(&mut findings);
        findings
    }
}

impl Drop for Stream<'_> {
    fn drop(&mut self) {
        if let Some(private) = self.private.take() {
            self.scanner.caches.end(private);
        }
    }
}

/// Hex SHA-256 of `rule_id:path:secret`.
pub fn fingerprint(rule_id: &str, path: &str, secret: &str) -> String {
    hex::encode(coffer_crypto::sha256(format!("{rule_id}:{path}:{secret}").as_bytes()))
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;

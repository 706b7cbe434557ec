//! Path patterns: exact, `*` prefix glob, `+` segment wildcard, and Vault's priority order.

/// A validated path pattern as written in a policy (leading `/` removed).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Pattern {
    /// Matches only the identical path.
    Exact(String),
    /// `prefix*`: matches every path starting with `prefix` (which excludes the `*`).
    Prefix(String),
    /// Contains at least one `+` segment; may end in `*`.
    Segments(SegmentPattern),
}

impl Pattern {
    /// Validates and classifies a pattern. Errors say what is wrong with it.
    pub(crate) fn parse(raw: &str) -> Result<Pattern, String> {
        let text = raw.strip_prefix('/').unwrap_or(raw);
        let (body, prefix) = match text.strip_suffix('*') {
            Some(body) => (body, true),
            None => (text, false),
        };
        if body.contains('*') {
            return Err(format!(
                "invalid path \"{raw}\": \"*\" is only allowed as the last character"
            ));
        }
        if text.contains("+*") {
            return Err(format!(
                "invalid path \"{raw}\": \"+*\" is not allowed; write \"+/*\" or name the segment"
            ));
        }
        if !body.contains('+') {
            return Ok(if prefix {
                Pattern::Prefix(body.to_owned())
            } else {
                Pattern::Exact(body.to_owned())
            });
        }
        let parts: Vec<Box<str>> = body.split('/').map(Box::from).collect();
        if parts.iter().any(|p| p.contains('+') && &**p != "+") {
            return Err(format!(
                "invalid path \"{raw}\": \"+\" must stand for a whole segment, as in \"secret/+/config\""
            ));
        }
        Ok(Pattern::Segments(SegmentPattern {
            wildcards: parts.iter().filter(|p| &***p == "+").count(),
            first_wildcard: body.find('+').unwrap_or(body.len()),
            parts,
            prefix,
            text: text.into(),
        }))
    }

    /// The pattern as written (without a leading `/`, with any trailing `*`).
    pub(crate) fn text(&self) -> String {
        match self {
            Pattern::Exact(p) => p.clone(),
            Pattern::Prefix(p) => format!("{p}*"),
            Pattern::Segments(s) => s.text.to_string(),
        }
    }
}

/// A pattern with `+` segments, pre-split for matching without allocation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct SegmentPattern {
    parts: Vec<Box<str>>,
    prefix: bool,
    wildcards: usize,
    first_wildcard: usize,
    text: Box<str>,
}

impl SegmentPattern {
    /// Whether `path` matches: each `+` takes exactly one non-empty segment; with a
    /// trailing `*` the last literal part is a string prefix and anything may follow.
    pub(crate) fn matches(&self, path: &str) -> bool {
        let mut segments = path.split('/');
        let last = self.parts.len() - 1;
        for (i, part) in self.parts.iter().enumerate() {
            let Some(segment) = segments.next() else {
                return false;
            };
            let ok = if &**part == "+" {
                !segment.is_empty()
            } else if self.prefix && i == last {
                segment.starts_with(&**part)
            } else {
                segment == &**part
            };
            if !ok {
                return false;
            }
        }
        self.prefix || segments.next().is_none()
    }

    /// This pattern's rank among the non-exact patterns that match a path.
    pub(crate) fn rank(&self) -> Rank<'_> {
        Rank {
            first_wildcard: self.first_wildcard,
            prefix: self.prefix,
            wildcards: self.wildcards,
            text: &self.text,
        }
    }
}

/// Everything Vault's priority rules look at for a non-exact pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rank<'a> {
    /// Byte offset of the first `+` or `*`.
    pub first_wildcard: usize,
    /// Ends in `*`.
    pub prefix: bool,
    /// Number of `+` segments.
    pub wildcards: usize,
    /// The full pattern text, including any `*`.
    pub text: &'a str,
}

impl<'a> Rank<'a> {
    /// The rank of a `prefix*` pattern.
    pub(crate) fn of_prefix(text: &'a str) -> Rank<'a> {
        Rank {
            first_wildcard: text.len() - 1,
            prefix: true,
            wildcards: 0,
            text,
        }
    }

    /// Vault's order: P1 loses to P2 if (1) its first wildcard comes earlier, (2) it ends in
    /// `*` and P2 does not, (3) it has more `+` segments, (4) it is shorter, (5) it sorts
    /// lower lexicographically.
    pub(crate) fn outranks(&self, other: &Rank<'_>) -> bool {
        let key = |r: &Rank<'_>| {
            (
                r.first_wildcard,
                !r.prefix,
                std::cmp::Reverse(r.wildcards),
                r.text.len(),
            )
        };
        (key(self), self.text) > (key(other), other.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(p: &str) -> SegmentPattern {
        match Pattern::parse(p).unwrap() {
            Pattern::Segments(s) => s,
            other => panic!("{p} parsed as {other:?}"),
        }
    }

    #[test]
    fn classifies() {
        assert_eq!(Pattern::parse("secret/a").unwrap(), Pattern::Exact("secret/a".into()));
        assert_eq!(Pattern::parse("/secret/*").unwrap(), Pattern::Prefix("secret/".into()));
        assert_eq!(Pattern::parse("*").unwrap(), Pattern::Prefix(String::new()));
        assert_eq!(Pattern::parse("secret/+/x*").unwrap().text(), "secret/+/x*");
    }

    #[test]
    fn rejects_misplaced_wildcards() {
        for bad in [
            "secret/*/x",
            "se*cret",
            "**",
            "secret/+*",
            "secret/a+/x",
            "secret/+b",
            "+x",
        ] {
            assert!(Pattern::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn plus_matches_one_nonempty_segment() {
        let p = seg("secret/+/x");
        assert!(p.matches("secret/a/x"));
        assert!(!p.matches("secret/a/b/x"));
        assert!(!p.matches("secret//x"));
        assert!(!p.matches("secret/a/x/"));
        assert!(!p.matches("secret/a"));
        assert!(!p.matches("other/a/x"));
    }

    #[test]
    fn plus_with_trailing_glob() {
        let p = seg("secret/+/teamb/*");
        assert!(p.matches("secret/a/teamb/"));
        assert!(p.matches("secret/a/teamb/x/y"));
        assert!(!p.matches("secret/a/teamb"));
        assert!(!p.matches("secret/a/teamc/x"));
        let q = seg("+/conf*");
        assert!(q.matches("kv/config"));
        assert!(q.matches("kv/conf/deeper"));
        assert!(!q.matches("kv/other"));
    }

    #[test]
    fn rank_rules() {
        let r = |p: &'static str| match Pattern::parse(p).unwrap() {
            Pattern::Segments(s) => Box::leak(Box::new(s)).rank(),
            Pattern::Prefix(_) => Rank::of_prefix(p),
            Pattern::Exact(_) => unreachable!(),
        };
        // (1) later first wildcard wins
        assert!(r("secret/a/+").outranks(&r("secret/+/a")));
        assert!(r("secret/ab*").outranks(&r("secret/+/ab")));
        // (2) not ending in * wins
        assert!(r("secret/+/x").outranks(&r("secret/+/x*")));
        // (3) fewer + wins
        assert!(r("a/+/b/c").outranks(&r("a/+/+/c")));
        // (4) longer wins
        assert!(r("a/+/bbbb*").outranks(&r("a/+/bb*")));
        // (5) lexicographically larger wins
        assert!(r("a/+/b").outranks(&r("a/+/a")));
        assert!(!r("a/+/a").outranks(&r("a/+/b")));
    }
}
